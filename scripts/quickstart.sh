#!/usr/bin/env bash
# The main job on a fresh machine: install, build, and run the command on its
# embedded defaults.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
bash "$src/scripts/setup-debian.sh"
BUILD_DIR="$src/_build" bash "$src/scripts/build.sh"
cli="$src/_build/tools/valkeyaddon"
echo "\$ valkeyaddon name --tenant acme --app web"
"$cli" -o table name --tenant acme --app web
echo "\$ valkeyaddon plans"
"$cli" -o table plans
echo "\$ valkeyaddon render --tenant acme --app web --plan standard --secrets exclude"
"$cli" render --tenant acme --app web --plan standard --secrets exclude
