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

static int print_status(struct cli *cli, const struct addon_args *args, const valkeyaddon_status_info *info,
                        const valkeyaddon_addon_row *row)
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
    cli_json_addon_head(g, cli, args);
    cli_json_string(g, "status", name);
    cli_json_integer(g, "ready", info->ready);
    cli_json_integer(g, "desired", info->desired);
    cli_json_integer(g, "updated", info->updated);
    cli_json_bool(g, "rollout_complete", info->rollout_complete);
    cli_json_string(g, "message", info->message);
    /* The record in --database, as this command left it; null when the add-on has none. */
    if (row->version == 0) {
        cli_json_null(g, "record");
    } else {
        yajl_gen_string(g, (const unsigned char *)"record", 6);
        yajl_gen_map_open(g);
        cli_json_string(g, "addon_type", row->addon_type);
        cli_json_string(g, "plan", row->plan);
        cli_json_string(g, "status", row->status == VALKEYADDON_STATUS_READY    ? "ready"
                                     : row->status == VALKEYADDON_STATUS_FAILED ? "failed"
                                                                                : "creating");
        cli_json_string(g, "status_message", row->status_message);
        cli_json_string(g, "resource_name", row->resource_name);
        cli_json_integer(g, "created_at_ms", (long long)row->created_at);
        cli_json_integer(g, "updated_at_ms", (long long)row->updated_at);
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
    return cli_print_json(cli, g);
}

/*
 * The live status, recorded in the add-on's row. An add-on with no row (made
 * before records were kept, or by another control plane) still gets its live
 * status: the record is bookkeeping, the cluster is the truth.
 */
static int refresh(struct cli *cli, const struct addon_args *args, valkeyaddon_status_info *info,
                   valkeyaddon_addon_row *row)
{
    int rc;

    memset(row, 0, sizeof(*row));
    row->version = VALKEYADDON_ADDON_ROW_VERSION;
    rc = valkeyaddon_refresh_status(row, info, cli->ctx, cli->namespace_, args->tenant, args->app);
    if (rc == VALKEYADDON_ENOTFOUND) {
        row->version = 0;
        rc = valkeyaddon_addon_status(info, cli->ctx, cli->namespace_, args->tenant, args->app);
    }
    return rc;
}

int cmd_status(struct cli *cli, int argc, char **argv)
{
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    valkeyaddon_addon_row row;
    struct addon_args args;
    int rc;

    args.accepts = 0;
    if ((rc = cli_parse_addon_args(cli, argc, argv, &args, status_help)) != 0)
        return rc > 0 ? CLI_EXIT_OK : -rc;
    if ((rc = cli_connect(cli)) != CLI_EXIT_OK || (rc = cli_open_database(cli)) != CLI_EXIT_OK)
        return rc;
    if ((rc = refresh(cli, &args, &info, &row)) < 0)
        return cli_fail_library(cli, rc, rc == VALKEYADDON_ENOTFOUND ? "provision it first" : NULL);
    return print_status(cli, &args, &info, &row);
}

/* Wait and map the outcome to an exit code; prints the final status on success. */
int cli_wait_and_report(struct cli *cli, const struct addon_args *args)
{
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    int rc = valkeyaddon_wait_ready(&info, cli->ctx, cli->namespace_, args->tenant, args->app, args->timeout_ms,
                                    cli_show_progress, cli);

    cli_end_progress(cli);
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
    valkeyaddon_addon_row row;
    struct addon_args args;
    int rc;

    args.accepts = ADDON_ARG_TIMEOUT;
    if ((rc = cli_parse_addon_args(cli, argc, argv, &args, wait_help)) != 0)
        return rc > 0 ? CLI_EXIT_OK : -rc;
    if ((rc = cli_connect(cli)) != CLI_EXIT_OK || (rc = cli_open_database(cli)) != CLI_EXIT_OK)
        return rc;
    rc = cli_wait_and_report(cli, &args);
    /* Whatever the wait saw, the record learns it too. */
    valkeyaddon_ctx_clear_error(cli->ctx);
    if (refresh(cli, &args, &info, &row) < 0 && rc == CLI_EXIT_OK)
        return cli_fail_library(cli, valkeyaddon_ctx_error_code(cli->ctx), NULL);
    if (rc != CLI_EXIT_OK)
        return rc;
    return print_status(cli, &args, &info, &row);
}
