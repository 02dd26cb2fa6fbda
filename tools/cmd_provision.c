/* valkeyaddon provision: the whole flow, idempotent. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "Usage: valkeyaddon provision --tenant T --app A [--plan P] [--no-wait] [--timeout DURATION]\n"
    "                             [--allow-data-loss] [--no-network-policy]\n"
    "\n"
    "The whole flow: record the add-on as creating in --database, create or converge the\n"
    "auth Secret (its password is created once and never rotated), the Services, the\n"
    "StatefulSet and the app's REDIS_URL Secret, wait until Ready (default 5m) unless\n"
    "--no-wait, and record ready or failed. Running it again converges and changes nothing\n"
    "that is right. An unknown plan makes a new add-on free, with a warning; an existing\n"
    "add-on keeps its plan, and the command says so and exits 1.\n"
    "A plan change that would delete data (to free, or to a smaller volume) is refused\n"
    "unless --allow-data-loss is given.\n"
    "--no-network-policy leaves out the NetworkPolicy {name}-ingress (docs/objects.md).\n"
    "Exit 4 when still Creating at the timeout, 5 when only partly ready.\n";

/* Render prints the objects as the flow writes them; there is nothing to report after. */
static int finish_render(struct cli *cli)
{
    return fflush(stdout) == 0 ? CLI_EXIT_OK
                               : cli_fail(cli, CLI_EXIT_FAILURE, "could not write to standard output", NULL);
}

static int print_row(struct cli *cli, const struct addon_args *args, const valkeyaddon_addon_row *row,
                     const valkeyaddon_ensure_result *ensured)
{
    const char *status = valkeyaddon_status_name(row->status);
    yajl_gen g;

    if (cli_format(cli, CLI_FORMAT_JSON) == CLI_FORMAT_TABLE) {
        printf("%s\t%s/%s\tplan %s\t%s\n", status, row->namespace_, row->resource_name, row->plan,
               row->status_message);
        return fflush(stdout) == 0 ? CLI_EXIT_OK
                                   : cli_fail(cli, CLI_EXIT_FAILURE, "could not write to standard output", NULL);
    }
    if (!(g = cli_json_begin()))
        return cli_fail(cli, CLI_EXIT_FAILURE, "out of memory", NULL);
    yajl_gen_map_open(g);
    cli_json_addon_head(g, cli, args);
    cli_json_string(g, "name", row->resource_name);
    cli_json_string(g, "auth_secret", ensured->auth_secret);
    cli_json_string(g, "plan", row->plan);
    cli_json_bool(g, "fell_back", ensured->fell_back);
    cli_json_bool(g, "password_created", ensured->password_created);
    cli_json_integer(g, "objects_written", ensured->objects_written);
    cli_json_string(g, "status", status);
    cli_json_string(g, "message", row->status_message);
    yajl_gen_map_close(g);
    return cli_print_json(cli, g);
}

int cmd_provision(struct cli *cli, int argc, char **argv)
{
    valkeyaddon_ensure_result ensured = VALKEYADDON_ENSURE_RESULT_INIT;
    valkeyaddon_provision_options options = VALKEYADDON_PROVISION_OPTIONS_INIT;
    valkeyaddon_addon_row row;
    struct addon_args args;
    int rc;

    args.accepts = ADDON_ARG_PLAN | ADDON_ARG_TIMEOUT | ADDON_ARG_NO_WAIT | ADDON_ARG_ALLOW_DATA_LOSS;
    if ((rc = cli_parse_addon_args(cli, argc, argv, &args, help)) != 0)
        return rc > 0 ? CLI_EXIT_OK : -rc;
    if ((rc = valkeyaddon_check_id(cli->ctx, "tenant_id", args.tenant)) < 0 ||
        (rc = valkeyaddon_check_id(cli->ctx, "app_id", args.app)) < 0)
        return cli_fail_library(cli, rc, "ids use a-z, 0-9 and '-', 1 to 63 characters");
    if ((rc = cli_connect(cli)) != CLI_EXIT_OK || (rc = cli_open_database(cli)) != CLI_EXIT_OK)
        return rc;

    memset(&row, 0, sizeof(row));
    row.version = VALKEYADDON_ADDON_ROW_VERSION;
    options.namespace_ = cli->namespace_;
    options.tenant_id = args.tenant;
    options.app_id = args.app;
    options.plan = args.plan;
    /* The render transport has no cluster to wait for. */
    options.no_wait = args.no_wait || strcmp(cli->transport, "render") == 0;
    options.timeout_ms = args.timeout_ms;
    options.progress = cli_show_progress;
    options.progress_payload = cli;
    options.allow_data_loss = args.allow_data_loss;
    rc = valkeyaddon_provision(&row, &ensured, cli->ctx, &options);
    cli_end_progress(cli);
    if (ensured.fell_back && !ensured.plan_kept && !cli->quiet)
        fprintf(stderr, "valkeyaddon: provision: warning: unknown plan \"%s\", using \"free\" "
                        "(known plans: free, standard, pro)\n", args.plan);
    if (strcmp(cli->transport, "render") == 0)
        return rc < 0 ? cli_fail_library(cli, rc, NULL) : finish_render(cli);
    if (rc == VALKEYADDON_EFAILED || rc == VALKEYADDON_ETIMEOUT)
        return cli_fail_library(cli, rc, rc == VALKEYADDON_ETIMEOUT
                                             ? "check the message, then provision again or wait longer (--timeout)"
                                             : "check the message, then provision again");
    if (rc == VALKEYADDON_EDATALOSS)
        return cli_fail_library(cli, rc, NULL);
    if (rc < 0)
        return cli_fail_library(cli, rc, "fix the cause and run provision again: it converges");
    rc = print_row(cli, &args, &row, &ensured);
    /* A typo in the plan is an error even though nothing changed: the caller asked for something else. */
    if (rc == CLI_EXIT_OK && ensured.plan_kept) {
        char why[160];
        snprintf(why, sizeof(why), "unknown plan \"%.40s\": the add-on keeps plan \"%s\"", args.plan, row.plan);
        return cli_fail(cli, CLI_EXIT_FAILURE, why, "known plans: free, standard, pro");
    }
    return rc;
}
