/* valkeyaddon version: the tool's and the loaded library's versions. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_version(struct cli *cli, int argc, char **argv)
{
    const char *library = valkeyaddon_version(NULL, NULL, NULL);
    yajl_gen g;

    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs("Usage: valkeyaddon version\n\nPrint the tool's and the loaded library's version.\n", stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 1)
        return cli_usage_error(cli, "unknown argument \"%s\"", argv[1]);
    if (cli_format(cli, CLI_FORMAT_JSON) == CLI_FORMAT_TABLE) {
        printf("valkeyaddon %s (libvalkeyaddon %s)\n", PACKAGE_VERSION, library);
        return fflush(stdout) == 0 ? CLI_EXIT_OK
                                   : cli_fail(cli, CLI_EXIT_FAILURE, "could not write to standard output", NULL);
    }
    if (!(g = cli_json_begin()))
        return cli_fail(cli, CLI_EXIT_FAILURE, "out of memory", NULL);
    yajl_gen_map_open(g);
    cli_json_string(g, "version", PACKAGE_VERSION);
    cli_json_string(g, "library_version", library);
    yajl_gen_map_close(g);
    return cli_print_json(cli, g);
}
