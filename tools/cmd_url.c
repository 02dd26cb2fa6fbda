/* valkeyaddon url: the only command that prints a secret, and only to stdout. */
#include "config.h"

#include <stdio.h>

#include "cli.h"

static const char help[] =
    "Usage: valkeyaddon url --tenant T --app A\n"
    "\n"
    "Print the app's REDIS_URL (from its app-{app}-redis-url Secret) to standard output.\n"
    "It contains the password: do not paste it into logs or tickets.\n";

int cmd_url(struct cli *cli, int argc, char **argv)
{
    valkeyaddon_buffer *url = NULL;
    struct addon_args args;
    const char *text;
    size_t len;
    int rc;

    args.accepts = 0;
    if ((rc = cli_parse_addon_args(cli, argc, argv, &args, help)) != 0)
        return rc > 0 ? CLI_EXIT_OK : -rc;
    if ((rc = cli_connect(cli)) != CLI_EXIT_OK)
        return rc;
    if ((rc = valkeyaddon_buffer_new(&url)) < 0)
        return cli_fail(cli, CLI_EXIT_FAILURE, "out of memory", NULL);
    if ((rc = valkeyaddon_redis_url(url, cli->ctx, cli->namespace_, args.tenant, args.app)) < 0) {
        valkeyaddon_buffer_free(url);
        return cli_fail_library(cli, rc, rc == VALKEYADDON_ENOTFOUND ? "provision it first" : NULL);
    }
    text = valkeyaddon_buffer_data(url, &len);
    if (cli_format(cli, CLI_FORMAT_TABLE) == CLI_FORMAT_TABLE) {
        fwrite(text, 1, len, stdout);
        fputc('\n', stdout);
        valkeyaddon_buffer_free(url);
        return fflush(stdout) == 0 ? CLI_EXIT_OK
                                   : cli_fail(cli, CLI_EXIT_FAILURE, "could not write to standard output", NULL);
    } else {
        yajl_gen g = cli_json_begin();
        if (!g) {
            valkeyaddon_buffer_free(url);
            return cli_fail(cli, CLI_EXIT_FAILURE, "out of memory", NULL);
        }
        yajl_gen_map_open(g);
        cli_json_string(g, "REDIS_URL", text);
        yajl_gen_map_close(g);
        valkeyaddon_buffer_free(url);
        return cli_print_json(cli, g);
    }
}
