/* --database: the store of add-on records (app_addons) for the commands that keep them. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* mkdir -p with mode 0700: the state directory holds servers' data and passwords. */
static int make_private_dirs(char *path)
{
    char *p;

    for (p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
            *p = '/';
            return -1;
        }
        *p = '/';
    }
    return mkdir(path, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

int cli_default_state_dir(char *out, size_t size)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    int n;

    if (xdg && xdg[0] == '/')
        n = snprintf(out, size, "%s/valkeyaddon", xdg);
    else if (home && home[0] == '/')
        n = snprintf(out, size, "%s/.local/state/valkeyaddon", home);
    else
        return -1;
    return n > 0 && (size_t)n < size ? 0 : -1;
}

int cli_open_database(struct cli *cli)
{
    valkeyaddon_storage *storage = NULL;
    char dir[4096], url[4200];
    const char *chosen = cli->database;
    int rc;

    /* render has no side effects: its records live and die with the process. */
    if (strcmp(cli->transport, "render") == 0)
        chosen = "memory:";
    if (!chosen) {
        /* The default SQLite file sits with the local servers it describes: one --state-dir, one world. */
        if (cli->state_dir)
            snprintf(dir, sizeof(dir), "%s", cli->state_dir);
        else if (cli_default_state_dir(dir, sizeof(dir)) < 0)
            return cli_fail(cli, CLI_EXIT_FAILURE, "no state directory: neither XDG_STATE_HOME nor HOME is set",
                            "pass --database or --state-dir");
        if (make_private_dirs(dir) < 0)
            return cli_fail(cli, CLI_EXIT_FAILURE, strerror(errno), "check --state-dir or pass --database");
        snprintf(url, sizeof(url), "sqlite:%s/addons.db", dir);
        chosen = url;
    }
    if ((rc = valkeyaddon_storage_open(&storage, cli->ctx, chosen)) < 0)
        return cli_fail_library(cli, rc, "check --database (sqlite:PATH, postgres://... or libpq keywords)");
    if ((rc = valkeyaddon_ctx_set_storage(cli->ctx, storage)) < 0) {
        storage->free(storage);
        return cli_fail_library(cli, rc, NULL);
    }
    return CLI_EXIT_OK;
}
