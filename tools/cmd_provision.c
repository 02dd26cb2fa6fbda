/* valkeyaddon provision: the whole flow, idempotent. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "Usage: valkeyaddon provision --tenant T --app A [--plan P] [--no-wait] [--timeout DURATION]\n"
    "\n"
    "Create or converge the add-on: the auth Secret (its password is created once and never\n"
    "rotated), the Services, the StatefulSet, the app's REDIS_URL Secret; then wait until\n"
    "Ready (default 5m) unless --no-wait. Running it again converges and changes nothing\n"
    "that is right. An unknown plan falls back to free, with a warning.\n";

int cmd_provision(struct cli *cli, int argc, char **argv)
{
    valkeyaddon_ensure_result result = VALKEYADDON_ENSURE_RESULT_INIT;
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    struct addon_args args;
    yajl_gen g;
    int rc;

    args.accepts = ADDON_ARG_PLAN | ADDON_ARG_TIMEOUT | ADDON_ARG_NO_WAIT;
    if ((rc = cli_parse_addon_args(cli, argc, argv, &args, help)) != 0)
        return rc > 0 ? CLI_EXIT_OK : -rc;
    if ((rc = valkeyaddon_check_id(cli->ctx, "tenant_id", args.tenant)) < 0 ||
        (rc = valkeyaddon_check_id(cli->ctx, "app_id", args.app)) < 0)
        return cli_fail_library(cli, rc, "ids use a-z, 0-9 and '-', 1 to 63 characters");
    if ((rc = cli_connect(cli)) != CLI_EXIT_OK)
        return rc;
    if ((rc = ensure_valkey(&result, cli->ctx, cli->namespace_, args.tenant, args.app, args.plan)) < 0)
        return cli_fail_library(cli, rc, "fix the cause and run provision again: it converges");
    if (result.fell_back && !cli->quiet)
        fprintf(stderr, "valkeyaddon: provision: warning: unknown plan \"%s\", using \"free\" "
                        "(known plans: free, standard, pro)\n", args.plan);
    if ((rc = ensure_redis_url_secret(cli->ctx, cli->namespace_, args.tenant, args.app)) < 0)
        return cli_fail_library(cli, rc, "run provision again: it converges");
    /* The render transport printed the objects; there is no cluster to wait for. */
    if (strcmp(cli->transport, "render") == 0)
        return fflush(stdout) == 0 ? CLI_EXIT_OK
                                   : cli_fail(cli, CLI_EXIT_FAILURE, "could not write to standard output", NULL);
    if (!args.no_wait && (rc = cli_wait_and_report(cli, &args)) != CLI_EXIT_OK)
        return rc;
    rc = valkeyaddon_addon_status(&info, cli->ctx, cli->namespace_, args.tenant, args.app);
    if (rc < 0)
        return cli_fail_library(cli, rc, NULL);

    if (cli_format(cli, CLI_FORMAT_JSON) == CLI_FORMAT_TABLE) {
        printf("%s\t%s/%s\tplan %s\t%s\n", valkeyaddon_status_name(info.status), cli->namespace_, result.name,
               result.plan, info.message);
        return fflush(stdout) == 0 ? CLI_EXIT_OK
                                   : cli_fail(cli, CLI_EXIT_FAILURE, "could not write to standard output", NULL);
    }
    if (!(g = cli_json_begin()))
        return cli_fail(cli, CLI_EXIT_FAILURE, "out of memory", NULL);
    yajl_gen_map_open(g);
    cli_json_string(g, "tenant_id", args.tenant);
    cli_json_string(g, "app_id", args.app);
    cli_json_string(g, "namespace", cli->namespace_);
    cli_json_string(g, "name", result.name);
    cli_json_string(g, "auth_secret", result.auth_secret);
    cli_json_string(g, "plan", result.plan);
    cli_json_bool(g, "fell_back", result.fell_back);
    cli_json_bool(g, "password_created", result.password_created);
    cli_json_integer(g, "objects_written", result.objects_written);
    cli_json_string(g, "status", valkeyaddon_status_name(info.status));
    cli_json_string(g, "message", info.message);
    yajl_gen_map_close(g);
    return cli_print_json(cli, g);
}
