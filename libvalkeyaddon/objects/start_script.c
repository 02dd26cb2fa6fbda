/*
 * The valkey container's start script and probe checks.
 *
 * The script runs as `/bin/sh -c SCRIPT` (busybox ash in the alpine image;
 * tests also run it with dash): it sizes maxmemory from the cgroup memory
 * limit, writes /run/valkey/valkey.conf (mode 0600) and execs the server on
 * it, so the password never appears on a command line. Plan values are shell
 * assignments at the top (all from the plan table, checked by
 * valkeyaddon__check_addon() to be digits, letters, '-' and spaces); the body,
 * libvalkeyaddon/objects/start.sh, is the same for every plan.
 * docs/objects.md lists the environment it reads.
 */
#include "config.h"


#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "objects/builders.h"

/*
 * The script's body: start.sh, embedded at build time by sh2c.sh (comment and
 * blank lines left out), so what runs in the pod is the tree file that
 * shellcheck and the tests check.
 */
extern const char valkeyaddon__start_script_body[];

/*
 * Exec probes (the kubelet runs them in the container, with its environment):
 * valkey-cli authenticates with REDISCLI_AUTH, never -a. valkey-cli exits 0 on
 * an error reply such as NOAUTH, so the reply itself is checked, and its exit
 * status is not trusted either way. They stay C strings, unlike the script:
 * one-liners in the probe's argv (tests/objects/test_shellcheck.py checks them
 * as rendered).
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
        "\n", valkeyaddon__start_script_body,
    };
    char *script = valkeyaddon__concat(out_len, pieces, sizeof(pieces) / sizeof(pieces[0]));

    if (!script)
        return VALKEYADDON_ENOMEM;
    *out = script;
    return VALKEYADDON_OK;
}
