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

/* 1 when a conninfo carries a password: user:PASSWORD@ or ?password= in a URL, password= in keywords. */
static int has_password(const char *conninfo)
{
    const char *p = conninfo, *query;
    size_t n, k;

    if (strncmp(conninfo, "postgres://", 11) == 0 || strncmp(conninfo, "postgresql://", 13) == 0) {
        p = strstr(conninfo, "://") + 3;
        n = strcspn(p, "/?");
        for (k = n; k > 0; k--)
            if (p[k - 1] == '@')
                return memchr(p, ':', k - 1) != NULL || strstr(p + n, "password=") != NULL;
        query = p + n;
        return strstr(query, "?password=") != NULL || strstr(query, "&password=") != NULL;
    }
    for (; (p = strstr(p, "password")) != NULL; p += 8) {
        const char *after = p + 8;
        if (p != conninfo && p[-1] != ' ' && p[-1] != '\t' && p[-1] != '\n')
            continue;
        after += strspn(after, " \t\n");
        if (*after == '=')
            return 1;
    }
    return 0;
}

/*
 * The URL from --database-file: the file's text without trailing whitespace,
 * malloc'd (the caller wipes and frees it). NULL after reporting a failure.
 */
static char *read_database_file(const struct cli *cli, const char *path)
{
    char why[4400], *text;
    FILE *f = fopen(path, "r");
    size_t len;

    if (!f) {
        snprintf(why, sizeof(why), "cannot read the database file %s: %s", path, strerror(errno));
        cli_fail(cli, CLI_EXIT_FAILURE, why, "check --database-file");
        return NULL;
    }
    if (!(text = calloc(1, 65536))) {
        fclose(f);
        cli_fail(cli, CLI_EXIT_FAILURE, strerror(ENOMEM), NULL);
        return NULL;
    }
    len = fread(text, 1, 65535, f);
    fclose(f);
    while (len && strchr(" \t\r\n", text[len - 1]))
        text[--len] = '\0';
    if (!len || strlen(text) != len || strchr(text, '\n')) {
        explicit_bzero(text, 65536);
        free(text);
        snprintf(why, sizeof(why), "the database file %s does not hold one URL on one line", path);
        cli_fail(cli, CLI_EXIT_FAILURE, why, "write sqlite:PATH, postgres://... or libpq keywords into it");
        return NULL;
    }
    return text;
}

static int open_storage(struct cli *cli, const char *chosen)
{
    valkeyaddon_storage *storage = NULL;
    int rc;

    if ((rc = valkeyaddon_storage_open(&storage, cli->ctx, chosen)) < 0)
        return cli_fail_library(cli, rc, "check --database (sqlite:PATH, postgres://... or libpq keywords)");
    if ((rc = valkeyaddon_ctx_set_storage(cli->ctx, storage)) < 0) {
        storage->free(storage);
        return cli_fail_library(cli, rc, NULL);
    }
    return CLI_EXIT_OK;
}

/*
 * The URL comes from --database, else --database-file, else $VALKEYADDON_DATABASE,
 * else SQLite in the state dir. A password in --database works but is readable by
 * every local user in /proc/PID/cmdline: warned about (docs/cli.md).
 */
int cli_open_database(struct cli *cli)
{
    char dir[4096], url[4200], *from_file = NULL;
    const char *chosen = cli->database, *env = getenv("VALKEYADDON_DATABASE");
    int rc;

    if (cli->database && cli->database_file)
        return cli_usage_error(cli, "give --database or --database-file, not both");
    /* render has no side effects: its records live and die with the process. */
    if (strcmp(cli->transport, "render") == 0)
        return open_storage(cli, "memory:");
    if (cli->database && has_password(cli->database))
        fprintf(stderr, "valkeyaddon: %s: warning: the --database URL holds a password, which other local users "
                        "can read in the process list (use --database-file, VALKEYADDON_DATABASE, PGPASSWORD or "
                        "~/.pgpass)\n", cli->command);
    if (!chosen && cli->database_file) {
        if (!(from_file = read_database_file(cli, cli->database_file)))
            return CLI_EXIT_FAILURE;
        chosen = from_file;
    }
    if (!chosen && env && *env)
        chosen = env;
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
    rc = open_storage(cli, chosen);
    if (from_file) {
        explicit_bzero(from_file, 65536);
        free(from_file);
    }
    return rc;
}
