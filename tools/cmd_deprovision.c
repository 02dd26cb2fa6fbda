/* valkeyaddon deprovision: delete the add-on; idempotent. */
#include "config.h"

#include <stdio.h>

#include "cli.h"

static const char help[] =
    "Usage: valkeyaddon deprovision --tenant T --app A\n"
    "\n"
    "Delete the add-on's objects, its data volumes with them, then its record in\n"
    "--database. Deleting what is already gone succeeds, so it can be re-run.\n";

int cmd_deprovision(struct cli *cli, int argc, char **argv)
{
    struct addon_args args;
    yajl_gen g;
    int rc, deleted = 0;

    args.accepts = 0;
    if ((rc = cli_parse_addon_args(cli, argc, argv, &args, help)) != 0)
        return rc > 0 ? CLI_EXIT_OK : -rc;
    if ((rc = cli_connect(cli)) != CLI_EXIT_OK || (rc = cli_open_database(cli)) != CLI_EXIT_OK)
        return rc;
    if ((rc = valkeyaddon_deprovision(&deleted, cli->ctx, cli->namespace_, args.tenant, args.app)) < 0)
        return cli_fail_library(cli, rc, "run deprovision again: it converges");
    if (cli_format(cli, CLI_FORMAT_JSON) == CLI_FORMAT_TABLE) {
        printf("deleted %d object%s\n", deleted, deleted == 1 ? "" : "s");
        return fflush(stdout) == 0 ? CLI_EXIT_OK
                                   : cli_fail(cli, CLI_EXIT_FAILURE, "could not write to standard output", NULL);
    }
    if (!(g = cli_json_begin()))
        return cli_fail(cli, CLI_EXIT_FAILURE, "out of memory", NULL);
    yajl_gen_map_open(g);
    cli_json_addon_head(g, cli, &args);
    cli_json_integer(g, "deleted", deleted);
    yajl_gen_map_close(g);
    return cli_print_json(cli, g);
}
