/* valkeyaddon status and wait: the add-on's live status. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char status_help[] =
    "Usage: valkeyaddon status --tenant T --app A\n"
    "\n"
    "Print Ready, Creating or Failed, with the replica counts and what to do.\n"
    "Exit 3 when the add-on does not exist.\n";

static const char wait_help[] =
    "Usage: valkeyaddon wait --tenant T --app A [--timeout DURATION]\n"
    "\n"
    "Wait until the add-on is Ready (default timeout 5m; 90s, 5m, 1h accepted), watching\n"
    "the StatefulSet. Exit 4 when the time runs out while Creating, 5 when Failed.\n";

int cli_print_status(struct cli *cli, const struct addon_args *args, const valkeyaddon_status_info *info)
{
    const char *name = valkeyaddon_status_name(info->status);
    yajl_gen g;

    if (!name)
        name = "Unknown";
    if (cli_format(cli, CLI_FORMAT_JSON) == CLI_FORMAT_TABLE) {
        printf("%s\t%s\n", name, info->message);
        return fflush(stdout) == 0 ? CLI_EXIT_OK
                                   : cli_fail(cli, CLI_EXIT_FAILURE, "could not write to standard output", NULL);
    }
    if (!(g = cli_json_begin()))
        return cli_fail(cli, CLI_EXIT_FAILURE, "out of memory", NULL);
    yajl_gen_map_open(g);
    cli_json_string(g, "tenant_id", args->tenant);
    cli_json_string(g, "app_id", args->app);
    cli_json_string(g, "namespace", cli->namespace_);
    cli_json_string(g, "status", name);
    cli_json_integer(g, "ready", info->ready);
    cli_json_integer(g, "desired", info->desired);
    cli_json_integer(g, "updated", info->updated);
    cli_json_bool(g, "rollout_complete", info->rollout_complete);
    cli_json_string(g, "message", info->message);
    yajl_gen_map_close(g);
    return cli_print_json(cli, g);
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    struct addon_args args;
    int rc;

    args.accepts = 0;
    if ((rc = cli_parse_addon_args(cli, argc, argv, &args, status_help)) != 0)
        return rc > 0 ? CLI_EXIT_OK : -rc;
    if ((rc = cli_connect(cli)) != CLI_EXIT_OK)
        return rc;
    if ((rc = valkeyaddon_addon_status(&info, cli->ctx, cli->namespace_, args.tenant, args.app)) < 0)
        return cli_fail_library(cli, rc, rc == VALKEYADDON_ENOTFOUND ? "provision it first" : NULL);
    return cli_print_status(cli, &args, &info);
}

static int show_progress(const valkeyaddon_status_info *info, void *payload)
{
    struct cli *cli = payload;
    const char *name = valkeyaddon_status_name(info->status);

    if (cli->quiet)
        return 0;
    /* Animated only on a terminal; plain lines otherwise (CLI.md). */
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\r\033[K%s: %s", name ? name : "Unknown", info->message);
    else
        fprintf(stderr, "%s: %s\n", name ? name : "Unknown", info->message);
    return 0;
}

/* Wait and map the outcome to an exit code; prints the final status on success. */
int cli_wait_and_report(struct cli *cli, const struct addon_args *args)
{
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    int rc = valkeyaddon_wait_ready(&info, cli->ctx, cli->namespace_, args->tenant, args->app, args->timeout_ms,
                                    show_progress, cli);

    if (!cli->quiet && isatty(STDERR_FILENO))
        fputc('\n', stderr);
    if (rc == VALKEYADDON_ETIMEOUT && info.status == VALKEYADDON_STATUS_FAILED)
        return cli_fail(cli, CLI_EXIT_ADDON_FAILED, valkeyaddon_ctx_error_message(cli->ctx),
                        "see the message; then provision again");
    if (rc < 0)
        return cli_fail_library(cli, rc, rc == VALKEYADDON_ETIMEOUT ? "wait longer with --timeout" : NULL);
    return CLI_EXIT_OK;
}

int cmd_wait(struct cli *cli, int argc, char **argv)
{
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    struct addon_args args;
    int rc;

    args.accepts = ADDON_ARG_TIMEOUT;
    if ((rc = cli_parse_addon_args(cli, argc, argv, &args, wait_help)) != 0)
        return rc > 0 ? CLI_EXIT_OK : -rc;
    if ((rc = cli_connect(cli)) != CLI_EXIT_OK)
        return rc;
    if ((rc = cli_wait_and_report(cli, &args)) != CLI_EXIT_OK)
        return rc;
    if ((rc = valkeyaddon_addon_status(&info, cli->ctx, cli->namespace_, args.tenant, args.app)) < 0)
        return cli_fail_library(cli, rc, NULL);
    return cli_print_status(cli, &args, &info);
}
