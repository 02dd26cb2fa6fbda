/* valkeyaddon deprovision: delete the add-on; idempotent. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "Usage: valkeyaddon deprovision --tenant T --app A [--delete-data]\n"
    "\n"
    "Delete the add-on's objects, then its record in --database. Its data volumes\n"
    "(PersistentVolumeClaims data-NAME-N) are kept, labelled with the add-on's ids, and\n"
    "named in the output, unless --delete-data is given; provisioning the same ids again\n"
    "takes them over with their data. Objects of other ids are never touched: the command\n"
    "fails and deletes nothing. Deleting what is already gone succeeds, so it can be re-run.\n";

/* "kept_claims": the comma-separated names as a JSON array. */
static void json_claims(yajl_gen g, const char *names)
{
    const char *p = names;

    yajl_gen_string(g, (const unsigned char *)"kept_claims", strlen("kept_claims"));
    yajl_gen_array_open(g);
    while (*p) {
        size_t n = strcspn(p, ",");
        yajl_gen_string(g, (const unsigned char *)p, n);
        p += n;
        if (*p == ',')
            p++;
    }
    yajl_gen_array_close(g);
}

int cmd_deprovision(struct cli *cli, int argc, char **argv)
{
    valkeyaddon_deprovision_options options = VALKEYADDON_DEPROVISION_OPTIONS_INIT;
    valkeyaddon_deprovision_result result = VALKEYADDON_DEPROVISION_RESULT_INIT;
    struct addon_args args;
    yajl_gen g;
    int rc;

    args.accepts = ADDON_ARG_DELETE_DATA;
    if ((rc = cli_parse_addon_args(cli, argc, argv, &args, help)) != 0)
        return rc > 0 ? CLI_EXIT_OK : -rc;
    if ((rc = cli_connect(cli)) != CLI_EXIT_OK || (rc = cli_open_database(cli)) != CLI_EXIT_OK)
        return rc;
    options.namespace_ = cli->namespace_;
    options.tenant_id = args.tenant;
    options.app_id = args.app;
    options.delete_data = args.delete_data;
    if ((rc = valkeyaddon_deprovision_with(&result, cli->ctx, &options)) < 0)
        return cli_fail_library(cli, rc, rc == VALKEYADDON_ECONFLICT ? NULL : "run deprovision again: it converges");
    if (cli_format(cli, CLI_FORMAT_JSON) == CLI_FORMAT_TABLE) {
        printf("deleted %d object%s\n", (int)result.deleted, result.deleted == 1 ? "" : "s");
        if (result.claims_kept)
            printf("kept data volume claim%s %s (delete with --delete-data)\n", result.claims_kept == 1 ? "" : "s",
                   result.kept_claims);
        return fflush(stdout) == 0 ? CLI_EXIT_OK
                                   : cli_fail(cli, CLI_EXIT_FAILURE, "could not write to standard output", NULL);
    }
    if (!(g = cli_json_begin()))
        return cli_fail(cli, CLI_EXIT_FAILURE, "out of memory", NULL);
    yajl_gen_map_open(g);
    cli_json_addon_head(g, cli, &args);
    cli_json_integer(g, "deleted", result.deleted);
    cli_json_integer(g, "claims_deleted", result.claims_deleted);
    json_claims(g, result.kept_claims);
    yajl_gen_map_close(g);
    return cli_print_json(cli, g);
}
