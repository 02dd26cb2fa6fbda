#!/bin/sh
# valkeyaddon render: byte-for-byte golden output, secrets selection, files, JSON.
set -eu
. "$top_srcdir/tests/cli/assert.sh"
golden="$top_srcdir/tests/golden"
# Not a real password: the golden files are rendered with it (reviewed by hand once).
export VALKEYADDON_PASSWORD=GoldenPassword0123456789abcdefXY
b64=$(printf %s "$VALKEYADDON_PASSWORD" | base64)

for plan in free standard pro; do
    run -n tenant-a render --tenant acme --app web --plan "$plan"
    expect_status 0 "render $plan"
    if cmp -s "$work/out" "$golden/render-$plan.yaml"; then ok; else
        bad "render $plan differs from tests/golden/render-$plan.yaml"; diff "$golden/render-$plan.yaml" "$work/out" | head -20; fi
done
run -n tenant-a -o json render --tenant acme --app web --plan pro
if cmp -s "$work/out" "$golden/render-pro.json"; then ok; else bad "render pro -o json differs from the golden file"; fi
expect_json "[i['kind'] for i in d['items']] == ['Secret', 'Service', 'Service', 'StatefulSet', 'NetworkPolicy', 'Secret'] and d['kind'] == 'List'" "render -o json lists every object"

# Without the secrets, the password appears nowhere, not even base64-encoded.
run -n tenant-a render --tenant acme --app web --plan pro --secrets exclude
expect_status 0 "render --secrets exclude"
if grep -q "kind: Secret" "$work/out" || grep -qF "$VALKEYADDON_PASSWORD" "$work/out" || grep -qF "$b64" "$work/out"
then bad "render --secrets exclude leaks a Secret or the password"; else ok; fi
run -n tenant-a render --tenant acme --app web --plan pro --secrets only
if [ "$(grep -c '^kind: Secret' "$work/out")" -eq 2 ] && ! grep -q "kind: StatefulSet" "$work/out"; then ok
else bad "render --secrets only gives the two Secrets"; fi

# A generated password: different on each run, never in the non-Secret objects.
unset VALKEYADDON_PASSWORD
run render --tenant acme --app web --plan free --secrets only
cp "$work/out" "$work/first"
run render --tenant acme --app web --plan free --secrets only
if cmp -s "$work/out" "$work/first"; then bad "two renders without a password share one"; else ok; fi
run render --tenant acme --app web --plan free --secrets exclude
cp "$work/out" "$work/first"
run render --tenant acme --app web --plan free --secrets exclude
if cmp -s "$work/out" "$work/first"; then ok; else bad "the non-Secret objects depend on the password"; fi

# One file per object; Secrets readable by the owner only.
printf 'FilePassword0123456789abcdefghij\n' > "$work/pw"
run -n tenant-a render --tenant acme --app web --plan standard --out-dir "$work/manifests" --password-file "$work/pw"
expect_status 0 "render --out-dir"
if [ "$(ls "$work/manifests" | tr '\n' ' ')" = "01-secret-valkey-acme-web-auth.yaml 02-service-valkey-acme-web-headless.yaml 03-service-valkey-acme-web.yaml 04-statefulset-valkey-acme-web.yaml 05-networkpolicy-valkey-acme-web-ingress.yaml 06-secret-app-web-redis-url.yaml " ]
then ok; else bad "render --out-dir file names: $(ls "$work/manifests")"; fi
if [ "$(stat -c %a "$work/manifests/01-secret-valkey-acme-web-auth.yaml")" = 600 ] &&
   [ "$(stat -c %a "$work/manifests/04-statefulset-valkey-acme-web.yaml")" = 600 ]; then ok
else bad "render --out-dir modes"; fi

# The files are written through unpredictable temporary names: a symlink planted at the
# old predictable NAME.tmp is not followed, and what it points to stays untouched.
mkdir -m 700 "$work/planted"
echo untouched > "$work/outside"
ln -s "$work/outside" "$work/planted/01-secret-valkey-acme-web-auth.yaml.tmp"
run -n tenant-a render --tenant acme --app web --plan standard --out-dir "$work/planted" --password-file "$work/pw"
if [ "$(cat "$work/outside")" = untouched ] && [ ! -L "$work/planted/01-secret-valkey-acme-web-auth.yaml" ] &&
   ! grep -rqF FilePassword "$work/outside"; then ok
else bad "render --out-dir followed a planted symlink at the temporary path"; fi
# Every file is 0600 whatever the umask (and a directory render creates is 0700).
old_umask=$(umask)
umask 000
run -n tenant-a render --tenant acme --app web --plan standard --out-dir "$work/open" --password-file "$work/pw"
umask "$old_umask"
expect_status 0 "render --out-dir with umask 000"
if [ "$(stat -c %a "$work/open"/* | sort -u)" = 600 ] && [ "$(stat -c %a "$work/open")" = 700 ]; then ok
else bad "render --out-dir modes under umask 000: $(stat -c '%a %n' "$work/open" "$work/open"/*)"; fi
# DIR must be a real directory of ours that nobody else can write to: not a symlink, not group/world-writable.
ln -s "$work/open" "$work/link"
run -n tenant-a render --tenant acme --app web --out-dir "$work/link" --password-file "$work/pw"
expect_status 1 "render --out-dir into a symlink"
expect_one_error_line "render --out-dir into a symlink"
mkdir -m 777 "$work/shared"
run -n tenant-a render --tenant acme --app web --out-dir "$work/shared" --password-file "$work/pw"
expect_status 1 "render --out-dir into a world-writable directory"
expect_err_has "writable by others" "render --out-dir into a world-writable directory"
if [ -z "$(ls "$work/shared")" ]; then ok; else bad "render wrote into a world-writable directory"; fi

# The render transport: provision writes the same objects as render, in the same order.
run -n tenant-a render --tenant acme --app web --plan pro --secrets exclude
cp "$work/out" "$work/rendered"
run --transport render -n tenant-a provision --tenant acme --app web --plan pro
expect_status 0 "provision through the render transport"
if [ "$(grep -c '^kind: ' "$work/out")" -eq 6 ] &&
   [ "$(grep '^kind: ' "$work/out" | tr '\n' ' ')" = "kind: Secret kind: Service kind: Service kind: StatefulSet kind: NetworkPolicy kind: Secret " ]
then ok; else bad "provision --transport render kinds: $(grep '^kind: ' "$work/out" | tr '\n' ' ')"; fi
# Its StatefulSet and Services are byte-identical to render's (only the Secrets carry the password).
"$PYTHON3" - "$work/out" "$work/rendered" > "$work/cmp" <<'PY'
import sys
def docs(path):
    # The credential id is random, made with each new auth Secret (render's fixed password has none),
    # and the StatefulSet's stamp covers it.
    text = "".join(l for l in open(path)
                   if "valkeyaddon.io/credential-id:" not in l and "valkeyaddon.io/applied-hash:" not in l)
    return [d for d in text.split("---\n") if d and not d.startswith("apiVersion: v1\nkind: Secret")]
print("same" if docs(sys.argv[1]) == docs(sys.argv[2]) else "different")
PY
if [ "$(cat "$work/cmp")" = same ]; then ok; else bad "provision --transport render differs from render"; fi
# The NetworkPolicy is the default; --no-network-policy (render and provision) is the explicit way out.
run --transport render -n tenant-a provision --tenant acme --app web --plan pro --no-network-policy
expect_status 0 "provision --no-network-policy through the render transport"
if [ "$(grep '^kind: ' "$work/out" | tr '\n' ' ')" = "kind: Secret kind: Service kind: Service kind: StatefulSet kind: Secret " ]
then ok; else bad "provision --no-network-policy kinds: $(grep '^kind: ' "$work/out" | tr '\n' ' ')"; fi
run -n tenant-a render --tenant acme --app web --plan free --no-network-policy
expect_status 0 "render --no-network-policy"
if grep -q '^kind: NetworkPolicy' "$work/out"; then bad "render --no-network-policy still renders a NetworkPolicy"; else ok; fi

# Bad input: one line, non-zero, and a rejected password is never echoed.
VALKEYADDON_PASSWORD='short pw!' run render --tenant acme --app web
expect_status 2 "render with an unusable password"
expect_one_error_line "render with an unusable password"
if grep -q "short pw" "$work/err"; then bad "the rejected password was echoed"; else ok; fi
run -o table render --tenant acme --app web
expect_status 2 "render -o table"
finish
