# shellcheck shell=sh
# The valkey container's start script (docs/objects.md, "The start script").
#
# Not run on its own: the library (start_script.c) embeds this file at build
# time (sh2c.sh) and the StatefulSet runs it as `/bin/sh -c SCRIPT` (busybox
# ash in the alpine image; the tests also use dash), after these assignments,
# which it prepends from the plan (values checked by valkeyaddon__check_addon()
# to be only digits, letters, '-' and spaces):
#   plan plan_memory_bytes maxmemory_percent maxmemory_policy save_points
#   appendonly appendfsync replicas
# So shellcheck, reading this file alone, sees them used but never assigned:
# shellcheck disable=SC2154
#
# Comment lines and blank lines are not embedded (sh2c.sh leaves them out), so
# comments here change neither the rendered objects nor their config hash.
# Keep to POSIX sh, with no here-documents and no multi-line strings.
#
# It sizes maxmemory from the cgroup memory limit, writes
# $VALKEY_RUN_DIR/valkey.conf (mode 0600) and execs the server on it, so the
# password never appears on a command line.

set -eu
umask 077
cgroup_root=${VALKEY_CGROUP_ROOT:-/sys/fs/cgroup}
run_dir=${VALKEY_RUN_DIR:-/run/valkey}
data_dir=${VALKEY_DATA_DIR:-/data}
bind=${VALKEY_BIND:-* -::*}
port=${VALKEY_PORT:-6379}
server=${VALKEY_SERVER:-valkey-server}
cli=${VALKEY_CLI:-valkey-cli}
conf=$run_dir/valkey.conf
log() { printf 'valkey-start: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
case $port in ''|0*|*[!0-9]*) die 'VALKEY_PORT must be a port number' ;; esac
case $bind in ''|*[!0-9A-Za-z.:*%\ -]*) die 'VALKEY_BIND must be addresses separated by spaces' ;; esac
case $data_dir in /*) ;; *) die 'VALKEY_DATA_DIR must be an absolute path' ;; esac
case $data_dir in *[!A-Za-z0-9._/-]*) die 'VALKEY_DATA_DIR must use only A-Z a-z 0-9 . _ / -' ;; esac

# The password reaches nothing but the config file. printf is a builtin of
# dash and busybox ash (as are case, [ and read): no process is started for
# it, so its arguments never show in /proc/PID/cmdline or ps. Never echo it.
[ -n "${VALKEY_PASSWORD:-}" ] || die 'VALKEY_PASSWORD is not set'
case $VALKEY_PASSWORD in *[!A-Za-z0-9._~-]*) die 'VALKEY_PASSWORD must use only A-Z a-z 0-9 . _ ~ -' ;; esac

# cgroup v2 memory.max ("max": none), else v1 memory.limit_in_bytes.
limit=
for f in "$cgroup_root/memory.max" "$cgroup_root/memory/memory.limit_in_bytes" "$cgroup_root/memory.limit_in_bytes"; do
  if [ -r "$f" ]; then IFS= read -r limit < "$f" || :; break; fi
done

# v1 reports "no limit" as about 2^63; 19 digits and more (10^18 up, which
# includes everything from 2^60) count as none, and fit no shell arithmetic.
case $limit in
''|0*|*[!0-9]*) limit= ;;
*) [ "${#limit}" -le 18 ] || limit= ;;
esac
if [ -z "$limit" ]; then
  limit=$plan_memory_bytes
  log "no cgroup memory limit found; using the plan's $limit bytes"
fi

# limit * percent / 100 without overflowing 64-bit shell arithmetic: dividing
# first is the point, hence no SC2017 (a/b*c loses precision).
# shellcheck disable=SC2017
maxmemory=$((limit / 100 * maxmemory_percent + limit % 100 * maxmemory_percent / 100))

# Turning AOF on over an RDB-only dataset: a server started with
# `appendonly yes` and no AOF loads nothing and ignores dump.rdb (and its
# next save overwrites it). So start with AOF off, which loads dump.rdb,
# and switch AOF on once loaded: CONFIG SET appendonly yes rewrites the
# AOF from the dataset in memory.
appendonly_now=$appendonly
aof_after_load=
if [ "$appendonly" = yes ] && [ -f "$data_dir/dump.rdb" ] && [ ! -f "$data_dir/appendonlydir/appendonly.aof.manifest" ] && [ ! -f "$data_dir/appendonly.aof" ]; then
  appendonly_now=no
  aof_after_load=1
fi

# Pod 0 is the primary; the others replicate it.
replicaof=
if [ "$replicas" -gt 1 ]; then
  # The kubelet sets HOSTNAME to the pod's name (not POSIX, hence SC3028).
  # shellcheck disable=SC3028
  host=${HOSTNAME:-}
  ordinal=${host##*-}
  case $ordinal in ''|*[!0-9]*) die "cannot tell this pod's ordinal from HOSTNAME" ;; esac
  if [ "$ordinal" -ne 0 ]; then
    primary_host=${VALKEY_PRIMARY_HOST:-}
    primary_port=${VALKEY_PRIMARY_PORT:-$port}
    case $primary_host in ''|*[!A-Za-z0-9.:-]*) die 'VALKEY_PRIMARY_HOST must be a host name or address' ;; esac
    case $primary_port in ''|0*|*[!0-9]*) die 'VALKEY_PRIMARY_PORT must be a port number' ;; esac
    replicaof="$primary_host $primary_port"
  fi
fi
mkdir -p "$run_dir"
tmp=$conf.tmp
rm -f "$tmp"
{
  printf 'bind %s\n' "$bind"
  printf 'port %s\n' "$port"
  printf 'dir "%s"\n' "$data_dir"
  printf 'requirepass "%s"\n' "$VALKEY_PASSWORD"
  printf 'masterauth "%s"\n' "$VALKEY_PASSWORD"
  printf 'maxmemory %s\n' "$maxmemory"
  printf 'maxmemory-policy %s\n' "$maxmemory_policy"
  if [ -n "$save_points" ]; then printf 'save %s\n' "$save_points"; else printf 'save ""\n'; fi
  printf 'appendonly %s\n' "$appendonly_now"
  if [ -n "$appendfsync" ]; then printf 'appendfsync %s\n' "$appendfsync"; fi
  printf 'aof-use-rdb-preamble yes\n'
  if [ -n "$replicaof" ]; then
    printf 'replicaof %s\n' "$replicaof"
    printf 'replica-read-only yes\n'
  fi
} > "$tmp"
mv -f "$tmp" "$conf"
log "plan $plan: maxmemory $maxmemory bytes ($maxmemory_percent% of $limit)${replicaof:+, replica of $replicaof}"
if [ -n "$aof_after_load" ]; then
  log 'dump.rdb and no AOF: starting with appendonly no, turning it on once the dataset is loaded'
  # A child of the server once exec'd, polling it over loopback; exec keeps $$.
  (
    REDISCLI_AUTH=$VALKEY_PASSWORD
    export REDISCLI_AUTH
    while kill -0 $$ 2>/dev/null; do
      sleep 1
      reply=$("$cli" -h 127.0.0.1 -p "$port" ping 2>/dev/null) || reply=
      [ "$reply" = PONG ] || continue
      reply=$("$cli" -h 127.0.0.1 -p "$port" config set appendonly yes 2>&1) || reply=
      if [ "$reply" = OK ]; then log 'appendonly yes: the AOF is being rewritten from the dataset'; exit 0; fi
      log 'CONFIG SET appendonly yes failed; retrying'
    done
  ) &
fi

# The server reads the password from the config file, not from its environment.
unset VALKEY_PASSWORD REDISCLI_AUTH
exec "$server" "$conf"
