/* valkeyaddon name: the StatefulSet name (and the Secrets named after it). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char help[] =
    "Usage: valkeyaddon name --tenant T --app A\n"
    "\n"
    "Print the StatefulSet name of an app's add-on: valkey-{tenant}-{app} when that\n"
    "is at most 52 characters, else a shortened name that keeps a hash of both ids.\n"
    "With -o json or yaml, also the auth and REDIS_URL Secret names.\n";

int cmd_name(struct cli *cli, int argc, char **argv)
{
    char name[VALKEYADDON_NAME_BUFSIZE], auth[VALKEYADDON_NAME_BUFSIZE], url[VALKEYADDON_NAME_BUFSIZE];
    struct addon_args args;
    const char *tenant, *app;
    yajl_gen g;
    int rc, shortened;

    args.accepts = 0;
    if ((rc = cli_parse_addon_args(cli, argc, argv, &args, help)) != 0)
        return rc > 0 ? CLI_EXIT_OK : -rc;
    tenant = args.tenant;
    app = args.app;

    rc = valkey_name(name, sizeof(name), cli->ctx, tenant, app);
    shortened = rc == VALKEYADDON_NAME_SHORTENED;
    if (rc >= 0 && (rc = valkeyaddon_auth_secret_name(auth, sizeof(auth), cli->ctx, name)) >= 0)
        rc = valkeyaddon_redis_url_secret_name(url, sizeof(url), cli->ctx, app);
    if (rc < 0)
        return cli_fail_library(cli, rc, "ids use a-z, 0-9 and '-', 1 to 63 characters");

    if (cli_format(cli, CLI_FORMAT_JSON) == CLI_FORMAT_TABLE) {
        printf("%s\n", name);
        return fflush(stdout) == 0 ? CLI_EXIT_OK
                                   : cli_fail(cli, CLI_EXIT_FAILURE, "could not write to standard output", NULL);
    }
    if (!(g = cli_json_begin()))
        return cli_fail(cli, CLI_EXIT_FAILURE, "out of memory", NULL);
    yajl_gen_map_open(g);
    cli_json_string(g, "tenant_id", tenant);
    cli_json_string(g, "app_id", app);
    cli_json_string(g, "name", name);
    cli_json_bool(g, "shortened", shortened);
    cli_json_string(g, "auth_secret", auth);
    cli_json_string(g, "redis_url_secret", url);
    yajl_gen_map_close(g);
    return cli_print_json(cli, g);
}
