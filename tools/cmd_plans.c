/* valkeyaddon plans: what each plan gives an add-on. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "Usage: valkeyaddon plans [--plan P]\n"
    "\n"
    "Print every plan's configuration, or one plan's. An unknown plan falls back to\n"
    "free, as the platform does; the output says so (\"fell_back\": true) and a\n"
    "warning goes to stderr.\n";

static void plan_json(yajl_gen g, const valkeyaddon_plan_config *p, const char *requested)
{
    yajl_gen_map_open(g);
    cli_json_string(g, "plan", p->plan);
    if (requested) {
        cli_json_string(g, "requested", requested);
        cli_json_bool(g, "fell_back", p->fell_back);
    }
    cli_json_integer(g, "replicas", p->replicas);
    cli_json_string(g, "memory", p->memory_limit);
    cli_json_integer(g, "memory_bytes", p->memory_limit_bytes);
    cli_json_string(g, "memory_request", p->memory_request);
    cli_json_string(g, "persistence", p->persistence_name);
    cli_json_string(g, "save", p->save);
    cli_json_bool(g, "appendonly", p->appendonly);
    if (p->appendonly)
        cli_json_string(g, "appendfsync", p->appendfsync);
    else
        cli_json_null(g, "appendfsync");
    cli_json_integer(g, "maxmemory_percent", p->maxmemory_percent);
    cli_json_string(g, "maxmemory_policy", p->maxmemory_policy);
    cli_json_integer(g, "cpu_request_millicores", p->cpu_request_millis);
    cli_json_integer(g, "cpu_limit_millicores", p->cpu_limit_millis);
    if (p->volume_size_bytes) {
        cli_json_string(g, "volume_size", p->volume_size);
        cli_json_integer(g, "volume_size_bytes", p->volume_size_bytes);
    } else {
        cli_json_null(g, "volume_size");
        cli_json_null(g, "volume_size_bytes");
    }
    yajl_gen_map_close(g);
}

static void plan_row(const valkeyaddon_plan_config *p)
{
    char cpu[32];

    /* One column "request/limit", padded as a whole. */
    snprintf(cpu, sizeof(cpu), "%dm/%dm", (int)p->cpu_request_millis, (int)p->cpu_limit_millis);
    printf("%-9s %8d  %-7s %-11s %8d%%  %-10s %13s %s\n", p->plan, p->replicas, p->memory_limit,
           p->persistence_name, p->maxmemory_percent, p->maxmemory_policy, cpu,
           p->volume_size_bytes ? p->volume_size : "-");
}

static int load(struct cli *cli, valkeyaddon_plan_config *out, const char *name)
{
    int rc;

    out->version = VALKEYADDON_PLAN_CONFIG_VERSION;
    rc = valkey_plan_config(out, cli->ctx, name);
    if (rc == VALKEYADDON_PLAN_FELL_BACK && !cli->quiet)
        fprintf(stderr, "valkeyaddon: plans: warning: unknown plan \"%s\", using \"free\" "
                        "(known plans: free, standard, pro)\n", name);
    return rc;
}

int cmd_plans(struct cli *cli, int argc, char **argv)
{
    valkeyaddon_plan_config configs[8];
    const char *only = NULL;
    size_t count = 0, k;
    yajl_gen g;
    int i, rc;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(help, stdout);
            return CLI_EXIT_OK;
        }
        if (!cli_take_value(argc, argv, &i, "--plan", &only))
            return cli_usage_error(cli, "unknown argument \"%s\"", argv[i]);
        if (!only)
            return cli_usage_error(cli, "--plan needs a value");
    }
    if (only) {
        if ((rc = load(cli, &configs[0], only)) < 0)
            return cli_fail_library(cli, rc, NULL);
        count = 1;
    } else {
        for (k = 0; k < valkeyaddon_plan_count() && k < sizeof(configs) / sizeof(configs[0]); k++)
            if ((rc = load(cli, &configs[count++], valkeyaddon_plan_name(k))) < 0)
                return cli_fail_library(cli, rc, NULL);
    }

    if (cli_format(cli, CLI_FORMAT_JSON) == CLI_FORMAT_TABLE) {
        printf("%-9s %8s  %-7s %-11s %9s  %-10s %13s %s\n", "PLAN", "REPLICAS", "MEMORY", "PERSISTENCE",
               "MAXMEMORY", "POLICY", "CPU REQ/LIM", "VOLUME");
        for (k = 0; k < count; k++)
            plan_row(&configs[k]);
        return fflush(stdout) == 0 ? CLI_EXIT_OK
                                   : cli_fail(cli, CLI_EXIT_FAILURE, "could not write to standard output", NULL);
    }
    if (!(g = cli_json_begin()))
        return cli_fail(cli, CLI_EXIT_FAILURE, "out of memory", NULL);
    if (only) {
        plan_json(g, &configs[0], only);
    } else {
        yajl_gen_array_open(g);
        for (k = 0; k < count; k++)
            plan_json(g, &configs[k], NULL);
        yajl_gen_array_close(g);
    }
    return cli_print_json(cli, g);
}
