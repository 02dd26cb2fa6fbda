/* Arguments shared by the commands that act on one add-on, and the transport they go through. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_parse_duration(const char *text, long *ms)
{
    char *end;
    double value = strtod(text, &end);
    double unit = 1000;

    if (end == text || value < 0)
        return -1;
    if (strcmp(end, "ms") == 0)
        unit = 1;
    else if (strcmp(end, "s") == 0 || *end == '\0')
        unit = 1000;
    else if (strcmp(end, "m") == 0)
        unit = 60000;
    else if (strcmp(end, "h") == 0)
        unit = 3600000;
    else
        return -1;
    if (value * unit > 7 * 24 * 3600000.0)
        return -1;
    *ms = (long)(value * unit);
    return 0;
}

int cli_parse_addon_args(struct cli *cli, int argc, char **argv, struct addon_args *args, const char *help)
{
    int i, accepts = args->accepts;

    memset(args, 0, sizeof(*args));
    args->accepts = accepts;
    args->plan = "free";
    args->timeout_ms = 5 * 60 * 1000;
    for (i = 1; i < argc; i++) {
        const char *value = NULL;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(help, stdout);
            return 1;
        }
        if (strcmp(argv[i], "--no-wait") == 0 && (args->accepts & ADDON_ARG_NO_WAIT)) {
            args->no_wait = 1;
            continue;
        }
        if (strcmp(argv[i], "--allow-data-loss") == 0 && (args->accepts & ADDON_ARG_ALLOW_DATA_LOSS)) {
            args->allow_data_loss = 1;
            continue;
        }
        if (strcmp(argv[i], "--delete-data") == 0 && (args->accepts & ADDON_ARG_DELETE_DATA)) {
            args->delete_data = 1;
            continue;
        }
        if (strcmp(argv[i], "--no-network-policy") == 0 && (args->accepts & ADDON_ARG_PLAN)) {
            args->no_network_policy = 1;
            continue;
        }
        if (cli_take_value(argc, argv, &i, "--tenant", &value)) {
            args->tenant = value;
        } else if (cli_take_value(argc, argv, &i, "--app", &value)) {
            args->app = value;
        } else if ((args->accepts & ADDON_ARG_PLAN) && cli_take_value(argc, argv, &i, "--plan", &value)) {
            args->plan = value;
        } else if ((args->accepts & ADDON_ARG_TIMEOUT) && cli_take_value(argc, argv, &i, "--timeout", &value)) {
            if (value && cli_parse_duration(value, &args->timeout_ms) < 0)
                return -cli_usage_error(cli, "--timeout takes a duration such as 90s, 5m or 1h, not \"%s\"", value);
        } else {
            return -cli_usage_error(cli, "unknown argument \"%s\"", argv[i]);
        }
        if (!value)
            return -cli_usage_error(cli, "%s needs a value", argv[i]);
    }
    if (!args->tenant || !args->app)
        return -cli_usage_error(cli, "--tenant and --app are both required");
    if (args->no_network_policy && (i = cli_no_network_policy(cli)) != CLI_EXIT_OK)
        return -i;
    return 0;
}

int cli_no_network_policy(struct cli *cli)
{
    valkeyaddon_object_options options = VALKEYADDON_OBJECT_OPTIONS_INIT;
    int rc;

    options.no_network_policy = 1;
    if ((rc = valkeyaddon_ctx_set_object_options(cli->ctx, &options)) < 0)
        return cli_fail_library(cli, rc, NULL);
    return CLI_EXIT_OK;
}

int cli_print_rendered(const char *kind, const char *name, const char *text, size_t len, void *payload)
{
    const struct cli *cli = payload;

    (void)kind;
    (void)name;
    /* YAML documents are separated; JSON objects follow each other, one per write. */
    if (cli->format != CLI_FORMAT_JSON)
        fputs("---\n", stdout);
    fwrite(text, 1, len, stdout);
    if (len && text[len - 1] != '\n')
        fputc('\n', stdout);
    return ferror(stdout) ? 1 : 0;
}

/* --state-dir, else cli_default_state_dir() (the library creates it 0700). */
static int cli_connect_local(struct cli *cli)
{
    valkeyaddon_local_options options = VALKEYADDON_LOCAL_OPTIONS_INIT;
    valkeyaddon_transport *t = NULL;
    char dir[4096];
    int rc;

    if (cli->state_dir)
        options.state_dir = cli->state_dir;
    else if (cli_default_state_dir(dir, sizeof(dir)) == 0)
        options.state_dir = dir;
    else
        return cli_fail(cli, CLI_EXIT_USAGE, "the local transport needs a state directory",
                        "pass --state-dir DIR, or set XDG_STATE_HOME or HOME");
    if ((rc = valkeyaddon_transport_local_new(&t, cli->ctx, &options)) < 0)
        return cli_fail_library(cli, rc, "check --state-dir");
    if ((rc = valkeyaddon_ctx_set_transport(cli->ctx, t)) < 0) {
        t->free(t);
        return cli_fail_library(cli, rc, NULL);
    }
    if (!cli->namespace_)
        cli->namespace_ = "default";
    return CLI_EXIT_OK;
}

int cli_connect(struct cli *cli)
{
    valkeyaddon_kubernetes_options options = VALKEYADDON_KUBERNETES_OPTIONS_INIT;
    valkeyaddon_transport *t = NULL;
    int rc;

    if (strcmp(cli->transport, "render") == 0) {
        int format = cli->format == CLI_FORMAT_JSON ? VALKEYADDON_RENDER_JSON : VALKEYADDON_RENDER_YAML;
        if ((rc = valkeyaddon_transport_render_new(&t, format, cli_print_rendered, cli)) < 0 ||
            (rc = valkeyaddon_ctx_set_transport(cli->ctx, t)) < 0) {
            if (t)
                t->free(t);
            return cli_fail_library(cli, rc, NULL);
        }
        if (!cli->namespace_)
            cli->namespace_ = "default";
        return CLI_EXIT_OK;
    }
    if (strcmp(cli->transport, "local") == 0)
        return cli_connect_local(cli);
    if (strcmp(cli->transport, "kubernetes") != 0) {
        return cli_fail(cli, CLI_EXIT_USAGE, "this command needs a cluster",
                        "use --transport kubernetes; the render transport only prints objects (valkeyaddon render)");
    }
    options.kubeconfig = cli->kubeconfig;
    options.context = cli->kube_context;
    options.in_cluster = cli->in_cluster;
    options.allow_insecure_http = cli->allow_insecure_http;
    options.retry_deadline_ms = cli->retry_deadline_ms;
    if ((rc = valkeyaddon_transport_kubernetes_new(&t, cli->ctx, &options)) < 0)
        return cli_fail_library(cli, rc, "check --kubeconfig, --context or --in-cluster");
    if (!cli->namespace_)
        cli->namespace_ = valkeyaddon_transport_kubernetes_namespace(t);
    if ((rc = valkeyaddon_ctx_set_transport(cli->ctx, t)) < 0) {
        t->free(t);
        return cli_fail_library(cli, rc, NULL);
    }
    if (!cli->namespace_)
        cli->namespace_ = "default";
    return CLI_EXIT_OK;
}
