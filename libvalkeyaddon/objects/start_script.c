/*
 * The valkey container's start script and probe checks.
 *
 * The script runs as `/bin/sh -c SCRIPT` (busybox ash in the alpine image;
 * tests also run it with dash): it sizes maxmemory from the cgroup memory
 * limit, writes /run/valkey/valkey.conf (mode 0600) and execs the server on
 * it, so the password never appears on a command line. Plan values are shell
 * assignments at the top (all from the plan table, checked by
 * valkeyaddon__check_addon() to be digits, letters, '-' and spaces); the body
 * is the same for every plan. docs/objects.md lists the environment it reads.
 */
#include "config.h"


#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "objects/builders.h"

static const char body[] =
    "set -eu\n"
    "umask 077\n"
    "cgroup_root=${VALKEY_CGROUP_ROOT:-/sys/fs/cgroup}\n"
    "run_dir=${VALKEY_RUN_DIR:-/run/valkey}\n"
    "data_dir=${VALKEY_DATA_DIR:-/data}\n"
    "bind=${VALKEY_BIND:-* -::*}\n"
    "port=${VALKEY_PORT:-6379}\n"
    "server=${VALKEY_SERVER:-valkey-server}\n"
    "cli=${VALKEY_CLI:-valkey-cli}\n"
    "conf=$run_dir/valkey.conf\n"
    "log() { printf 'valkey-start: %s\\n' \"$*\" >&2; }\n"
    "die() { log \"$*\"; exit 1; }\n"
    "case $port in ''|0*|*[!0-9]*) die 'VALKEY_PORT must be a port number' ;; esac\n"
    "case $bind in ''|*[!0-9A-Za-z.:*%\\ -]*) die 'VALKEY_BIND must be addresses separated by spaces' ;; esac\n"
    "case $data_dir in /*) ;; *) die 'VALKEY_DATA_DIR must be an absolute path' ;; esac\n"
    "case $data_dir in *[!A-Za-z0-9._/-]*) die 'VALKEY_DATA_DIR must use only A-Z a-z 0-9 . _ / -' ;; esac\n"
    /*
     * The password reaches nothing but the config file. printf is a builtin of
     * dash and busybox ash (as are case, [ and read): no process is started for
     * it, so its arguments never show in /proc/PID/cmdline or ps. Never echo it.
     */
    "[ -n \"${VALKEY_PASSWORD:-}\" ] || die 'VALKEY_PASSWORD is not set'\n"
    "case $VALKEY_PASSWORD in *[!A-Za-z0-9._~-]*) die 'VALKEY_PASSWORD must use only A-Z a-z 0-9 . _ ~ -' ;; esac\n"
    /* cgroup v2 memory.max ("max": none), else v1 memory.limit_in_bytes. */
    "limit=\n"
    "for f in \"$cgroup_root/memory.max\" \"$cgroup_root/memory/memory.limit_in_bytes\" "
    "\"$cgroup_root/memory.limit_in_bytes\"; do\n"
    "  if [ -r \"$f\" ]; then IFS= read -r limit < \"$f\" || :; break; fi\n"
    "done\n"
    /*
     * v1 reports "no limit" as about 2^63; 19 digits and more (10^18 up, which
     * includes everything from 2^60) count as none, and fit no shell arithmetic.
     */
    "case $limit in\n"
    "''|0*|*[!0-9]*) limit= ;;\n"
    "*) [ \"${#limit}\" -le 18 ] || limit= ;;\n"
    "esac\n"
    "if [ -z \"$limit\" ]; then\n"
    "  limit=$plan_memory_bytes\n"
    "  log \"no cgroup memory limit found; using the plan's $limit bytes\"\n"
    "fi\n"
    /* limit * percent / 100 without overflowing 64-bit shell arithmetic. */
    "maxmemory=$((limit / 100 * maxmemory_percent + limit % 100 * maxmemory_percent / 100))\n"
    /*
     * Turning AOF on over an RDB-only dataset: a server started with
     * `appendonly yes` and no AOF loads nothing and ignores dump.rdb (and its
     * next save overwrites it). So start with AOF off, which loads dump.rdb,
     * and switch AOF on once loaded: CONFIG SET appendonly yes rewrites the
     * AOF from the dataset in memory.
     */
    "appendonly_now=$appendonly\n"
    "aof_after_load=\n"
    "if [ \"$appendonly\" = yes ] && [ -f \"$data_dir/dump.rdb\" ] && "
    "[ ! -f \"$data_dir/appendonlydir/appendonly.aof.manifest\" ] && [ ! -f \"$data_dir/appendonly.aof\" ]; then\n"
    "  appendonly_now=no\n"
    "  aof_after_load=1\n"
    "fi\n"
    /* Pod 0 is the primary; the others replicate it. */
    "replicaof=\n"
    "if [ \"$replicas\" -gt 1 ]; then\n"
    "  host=${HOSTNAME:-}\n"
    "  ordinal=${host##*-}\n"
    "  case $ordinal in ''|*[!0-9]*) die \"cannot tell this pod's ordinal from HOSTNAME\" ;; esac\n"
    "  if [ \"$ordinal\" -ne 0 ]; then\n"
    "    primary_host=${VALKEY_PRIMARY_HOST:-}\n"
    "    primary_port=${VALKEY_PRIMARY_PORT:-$port}\n"
    "    case $primary_host in ''|*[!A-Za-z0-9.:-]*) die 'VALKEY_PRIMARY_HOST must be a host name or address' ;; esac\n"
    "    case $primary_port in ''|0*|*[!0-9]*) die 'VALKEY_PRIMARY_PORT must be a port number' ;; esac\n"
    "    replicaof=\"$primary_host $primary_port\"\n"
    "  fi\n"
    "fi\n"
    "mkdir -p \"$run_dir\"\n"
    "tmp=$conf.tmp\n"
    "rm -f \"$tmp\"\n"
    "{\n"
    "  printf 'bind %s\\n' \"$bind\"\n"
    "  printf 'port %s\\n' \"$port\"\n"
    "  printf 'dir \"%s\"\\n' \"$data_dir\"\n"
    "  printf 'requirepass \"%s\"\\n' \"$VALKEY_PASSWORD\"\n"
    "  printf 'masterauth \"%s\"\\n' \"$VALKEY_PASSWORD\"\n"
    "  printf 'maxmemory %s\\n' \"$maxmemory\"\n"
    "  printf 'maxmemory-policy %s\\n' \"$maxmemory_policy\"\n"
    "  if [ -n \"$save_points\" ]; then printf 'save %s\\n' \"$save_points\"; else printf 'save \"\"\\n'; fi\n"
    "  printf 'appendonly %s\\n' \"$appendonly_now\"\n"
    "  if [ -n \"$appendfsync\" ]; then printf 'appendfsync %s\\n' \"$appendfsync\"; fi\n"
    "  printf 'aof-use-rdb-preamble yes\\n'\n"
    "  if [ -n \"$replicaof\" ]; then\n"
    "    printf 'replicaof %s\\n' \"$replicaof\"\n"
    "    printf 'replica-read-only yes\\n'\n"
    "  fi\n"
    "} > \"$tmp\"\n"
    "mv -f \"$tmp\" \"$conf\"\n"
    "log \"plan $plan: maxmemory $maxmemory bytes ($maxmemory_percent% of $limit)${replicaof:+, replica of $replicaof}\"\n"
    "if [ -n \"$aof_after_load\" ]; then\n"
    "  log 'dump.rdb and no AOF: starting with appendonly no, turning it on once the dataset is loaded'\n"
    /* A child of the server once exec'd, polling it over loopback; exec keeps $$. */
    "  (\n"
    "    REDISCLI_AUTH=$VALKEY_PASSWORD\n"
    "    export REDISCLI_AUTH\n"
    "    while kill -0 $$ 2>/dev/null; do\n"
    "      sleep 1\n"
    "      reply=$(\"$cli\" -h 127.0.0.1 -p \"$port\" ping 2>/dev/null) || reply=\n"
    "      [ \"$reply\" = PONG ] || continue\n"
    "      reply=$(\"$cli\" -h 127.0.0.1 -p \"$port\" config set appendonly yes 2>&1) || reply=\n"
    "      if [ \"$reply\" = OK ]; then log 'appendonly yes: the AOF is being rewritten from the dataset'; exit 0; fi\n"
    "      log 'CONFIG SET appendonly yes failed; retrying'\n"
    "    done\n"
    "  ) &\n"
    "fi\n"
    /* The server reads the password from the config file, not from its environment. */
    "unset VALKEY_PASSWORD REDISCLI_AUTH\n"
    "exec \"$server\" \"$conf\"\n";

/*
 * Exec probes (the kubelet runs them in the container, with its environment):
 * valkey-cli authenticates with REDISCLI_AUTH, never -a. valkey-cli exits 0 on
 * an error reply such as NOAUTH, so the reply itself is checked, and its exit
 * status is not trusted either way.
 */
const char valkeyaddon__readiness_check[] =
    "r=$(valkey-cli -h 127.0.0.1 -p \"${VALKEY_PORT:-6379}\" ping 2>/dev/null) || :; [ \"$r\" = PONG ]";

/* Loading a large dataset answers LOADING for a while: that server is alive, not wedged. */
const char valkeyaddon__liveness_check[] =
    "r=$(valkey-cli -h 127.0.0.1 -p \"${VALKEY_PORT:-6379}\" ping 2>&1) || :; "
    "case $r in PONG|*LOADING*) exit 0 ;; esac; exit 1";

int valkeyaddon__start_script(char **out, size_t *out_len, const struct valkeyaddon__addon *addon)
{
    const valkeyaddon_plan_config *plan = addon->plan;
    char memory[24], percent[24], replicas[24];
    const char *pieces[] = {
        "# libvalkeyaddon start script (docs/objects.md)\n"
        "plan=", plan->plan,
        "\nplan_memory_bytes=", valkeyaddon__int_text(memory, plan->memory_limit_bytes),
        "\nmaxmemory_percent=", valkeyaddon__int_text(percent, plan->maxmemory_percent),
        "\nmaxmemory_policy=", plan->maxmemory_policy,
        "\nsave_points='", plan->save,
        "'\nappendonly=", plan->appendonly ? "yes" : "no",
        "\nappendfsync=", plan->appendfsync,
        "\nreplicas=", valkeyaddon__int_text(replicas, plan->replicas),
        "\n", body,
    };
    char *script = valkeyaddon__concat(out_len, pieces, sizeof(pieces) / sizeof(pieces[0]));

    if (!script)
        return VALKEYADDON_ENOMEM;
    *out = script;
    return VALKEYADDON_OK;
}
