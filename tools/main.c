/* valkeyaddon: the command-line face of libvalkeyaddon (contract: docs/cli.md). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "cli.h"

static const char usage_text[] =
    "Usage: valkeyaddon [GLOBAL OPTIONS] COMMAND [OPTIONS]\n"
    "\n"
    "Give an app its own Redis-compatible Valkey.\n"
    "\n"
    "Commands:\n"
    "  name     --tenant T --app A     print the StatefulSet name\n"
    "  plans    [--plan P]             print plan configurations\n"
    "  render   --tenant T --app A [--plan P] [--out-dir DIR]\n"
    "                                  print (or write) the objects; no side effects\n"
    "  provision --tenant T --app A [--plan P] [--no-wait] [--timeout DURATION]\n"
    "                                  the whole flow; idempotent\n"
    "  status   --tenant T --app A     Ready / Creating / Failed (+ detail)\n"
    "  wait     --tenant T --app A [--timeout DURATION]\n"
    "  url      --tenant T --app A     print REDIS_URL (the only command that prints a secret)\n"
    "  deprovision --tenant T --app A  idempotent\n"
    "  version                         print the tool's and the library's version\n"
    "\n"
    "Global options:\n"
    "  --transport local|kubernetes|render   default: local\n"
    "  --kubeconfig PATH, --context NAME     kubeconfig selection (KUBECONFIG honoured)\n"
    "  --in-cluster                          service-account configuration\n"
    "  --allow-insecure-http                 accept an http:// API server (a local proxy); never with credentials\n"
    "  -n, --namespace NS                    default: the context's namespace, else \"default\"\n"
    "  --database URL                        sqlite:PATH, postgres://..., or libpq keywords\n"
    "  --database-file PATH                  the URL in a file (or $VALKEYADDON_DATABASE): keep a\n"
    "                                        password out of argv; libpq's PGPASSWORD/PGPASSFILE work\n"
    "  --state-dir DIR                       where the local transport keeps servers and data\n"
    "  -o, --output table|json|yaml          default: table on a terminal, json otherwise\n"
    "  --retry-deadline DURATION             stop retrying a failing API server after this (default 60s)\n"
    "  -q, --quiet / -v, --verbose\n"
    "  -h, --help                            this help; COMMAND --help for a command's\n"
    "\n"
    "Exit codes:\n"
    "  0 success, 1 any other failure, 2 usage error, 3 not found, 4 timed out,\n"
    "  5 the add-on reached Failed.\n";

static int parse_format(struct cli *cli, const char *value)
{
    if (!value)
        return cli_usage_error(cli, "-o needs a value: table, json or yaml");
    if (strcmp(value, "table") == 0)
        cli->format = CLI_FORMAT_TABLE;
    else if (strcmp(value, "json") == 0)
        cli->format = CLI_FORMAT_JSON;
    else if (strcmp(value, "yaml") == 0)
        cli->format = CLI_FORMAT_YAML;
    else
        return cli_usage_error(cli, "unknown output format \"%s\": use table, json or yaml", value);
    return CLI_EXIT_OK;
}

/* Consumes argv[*i] (and its value) if it is a global option: 1 taken, 0 not, <0 -exit code. */
static int take_global(struct cli *cli, int argc, char **argv, int *i)
{
    const char *arg = argv[*i], *value = NULL;
    const char **slot = NULL;
    const char *name = NULL;

    if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
        cli->quiet = 1;
        return 1;
    }
    if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
        cli->verbose = 1;
        return 1;
    }
    if (strcmp(arg, "--in-cluster") == 0) {
        cli->in_cluster = 1;
        return 1;
    }
    if (strcmp(arg, "--allow-insecure-http") == 0) {
        cli->allow_insecure_http = 1;
        return 1;
    }
    if (cli_take_value(argc, argv, i, "--output", &value) || cli_take_value(argc, argv, i, "-o", &value)) {
        int rc = parse_format(cli, value);
        return rc ? -rc : 1;
    }
    if (cli_take_value(argc, argv, i, "--retry-deadline", &value)) {
        if (!value || cli_parse_duration(value, &cli->retry_deadline_ms) < 0 || cli->retry_deadline_ms == 0)
            return -cli_usage_error(cli, "--retry-deadline takes a duration such as 10s or 2m");
        return 1;
    }
    if (cli_take_value(argc, argv, i, "--transport", &value))
        slot = &cli->transport, name = "--transport";
    else if (cli_take_value(argc, argv, i, "--kubeconfig", &value))
        slot = &cli->kubeconfig, name = "--kubeconfig";
    else if (cli_take_value(argc, argv, i, "--context", &value))
        slot = &cli->kube_context, name = "--context";
    else if (cli_take_value(argc, argv, i, "--namespace", &value) || cli_take_value(argc, argv, i, "-n", &value))
        slot = &cli->namespace_, name = "--namespace";
    else if (cli_take_value(argc, argv, i, "--database", &value))
        slot = &cli->database, name = "--database";
    else if (cli_take_value(argc, argv, i, "--database-file", &value))
        slot = &cli->database_file, name = "--database-file";
    else if (cli_take_value(argc, argv, i, "--state-dir", &value))
        slot = &cli->state_dir, name = "--state-dir";
    if (!slot)
        return 0;
    if (!value)
        return -cli_usage_error(cli, "%s needs a value", name);
    *slot = value;
    return 1;
}

static int check_transport(struct cli *cli)
{
    static const char *const known[] = { "local", "kubernetes", "render" };
    size_t k;

    for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
        if (strcmp(cli->transport, known[k]) == 0)
            return CLI_EXIT_OK;
    return cli_usage_error(cli, "unknown transport \"%s\": use local, kubernetes or render", cli->transport);
}

struct command {
    const char *name;
    int (*run)(struct cli *cli, int argc, char **argv);
};

static const struct command commands[] = {
    { "deprovision", cmd_deprovision },
    { "name", cmd_name },
    { "plans", cmd_plans },
    { "provision", cmd_provision },
    { "render", cmd_render },
    { "status", cmd_status },
    { "url", cmd_url },
    { "version", cmd_version },
    { "wait", cmd_wait },
};

int main(int argc, char **argv)
{
    struct cli cli;
    const struct command *command = NULL;
    int i, rc, sub_argc = 0;
    char **sub_argv;
    size_t k;

    /*
     * Passwords pass through this process (generated, read back, the database's):
     * no core file, and no ptrace or /proc/PID/mem by other processes of the same
     * user. Reset by execve, so the servers the local transport starts are not
     * affected (docs/secret-hygiene.md).
     */
#ifdef __linux__
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
    memset(&cli, 0, sizeof(cli));
    cli.command = "valkeyaddon";
    cli.transport = "local";
    cli.format = -1;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_text, stdout);
            return CLI_EXIT_OK;
        }
        if (argv[i][0] != '-')
            break;
        rc = take_global(&cli, argc, argv, &i);
        if (rc < 0)
            return -rc;
        if (rc == 0)
            return cli_usage_error(&cli, "unknown option \"%s\"", argv[i]);
    }
    if (i >= argc) {
        fputs(usage_text, stderr);
        return CLI_EXIT_USAGE;
    }
    for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
        if (strcmp(argv[i], commands[k].name) == 0)
            command = &commands[k];
    if (!command)
        return cli_usage_error(&cli, "unknown command \"%s\"", argv[i]);
    cli.command = command->name;

    /* Global options may also follow the command; take them out before the command parses. */
    sub_argv = argv + i;
    for (i = i + 1, sub_argc = 1; i < argc; i++) {
        int j = i;
        rc = take_global(&cli, argc, argv, &j);
        if (rc < 0)
            return -rc;
        if (rc == 0)
            sub_argv[sub_argc++] = argv[i];
        i = j;
    }
    if ((rc = check_transport(&cli)) != CLI_EXIT_OK)
        return rc;
    if ((rc = valkeyaddon_ctx_new(&cli.ctx, NULL)) < 0)
        return cli_fail(&cli, CLI_EXIT_FAILURE, valkeyaddon_strerror(rc), NULL);
    rc = command->run(&cli, sub_argc, sub_argv);
    valkeyaddon_ctx_free(cli.ctx);
    return rc;
}
