/* valkeyaddon render: print or write the add-on's objects; no side effects anywhere else. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char help[] =
    "Usage: valkeyaddon render --tenant T --app A [--plan P] [--out-dir DIR]\n"
    "                          [--secrets include|exclude|only] [--password-file FILE]\n"
    "                          [--no-network-policy]\n"
    "\n"
    "Print the add-on's Kubernetes objects (YAML by default; -o json prints one v1 List),\n"
    "or write one file per object into DIR (NN-kind-name.yaml|json, mode 0600;\n"
    "DIR is created 0700 and must be yours, not a symlink, not writable by others).\n"
    "The same inputs and password give the same bytes. The password is generated unless\n"
    "given in FILE or the VALKEYADDON_PASSWORD environment variable (never on the command\n"
    "line). To keep it out of git, commit --secrets exclude and seal --secrets only.\n"
    "--no-network-policy leaves out the NetworkPolicy {name}-ingress (docs/objects.md).\n";

struct render_out {
    struct cli *cli;
    int format;
    const char *dir;
    int count;
    int failed;
};

static int print_object(const char *kind, const char *name, const char *text, size_t len, void *payload)
{
    struct render_out *r = payload;

    (void)kind;
    (void)name;
    if (r->format == VALKEYADDON_RENDER_YAML) {
        fputs("---\n", stdout);
    } else {
        fputs(r->count ? ",\n" : "", stdout);
    }
    fwrite(text, 1, len, stdout);
    if (r->format == VALKEYADDON_RENDER_YAML && len && text[len - 1] != '\n')
        fputc('\n', stdout);
    r->count++;
    return 0;
}

static int write_all(int fd, const char *text, size_t len)
{
    while (len) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        text += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Write atomically: a fresh temporary file with an unpredictable name (mkstemp:
 * O_EXCL, so a planted file or symlink is never opened), mode 0600 whatever the
 * umask, fsync, then rename over the final name. Every file is 0600, not just
 * the Secrets: one rule cannot be got wrong, and git keeps no mode but +x.
 */
static int write_object(const char *kind, const char *name, const char *text, size_t len, void *payload)
{
    struct render_out *r = payload;
    char path[4096], tmp[4200], lower[64], why[4400];
    const char *base;
    size_t i;
    int fd, ok, n;

    for (i = 0; kind[i] && i + 1 < sizeof(lower); i++)
        lower[i] = (char)tolower((unsigned char)kind[i]);
    lower[i] = '\0';
    n = snprintf(path, sizeof(path), "%s/%02d-%s-%s.%s", r->dir, r->count + 1, lower, name,
                 r->format == VALKEYADDON_RENDER_YAML ? "yaml" : "json");
    if (n < 0 || (size_t)n >= sizeof(path)) {
        r->failed = cli_fail(r->cli, CLI_EXIT_FAILURE, "the --out-dir path is too long", "use a shorter one");
        return 1;
    }
    base = path + strlen(r->dir) + 1;
    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", r->dir, base);
    if ((fd = mkstemp(tmp)) < 0) {
        snprintf(why, sizeof(why), "cannot create a file in %s: %s", r->dir, strerror(errno));
        r->failed = cli_fail(r->cli, CLI_EXIT_FAILURE, why, "check --out-dir");
        return 1;
    }
    ok = fchmod(fd, 0600) == 0 && write_all(fd, text, len) == 0 &&
         (len == 0 || text[len - 1] == '\n' || write_all(fd, "\n", 1) == 0) && fsync(fd) == 0;
    ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
    if (!ok) {
        snprintf(why, sizeof(why), "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        r->failed = cli_fail(r->cli, CLI_EXIT_FAILURE, why, "check --out-dir and free space");
        return 1;
    }
    r->count++;
    return 0;
}

/*
 * The output directory, created 0700 if absent. Refused when it is a symlink
 * (one planted in /tmp could point into a directory of the victim's), not ours,
 * or writable by others (they could swap the files after we wrote them).
 * Returns an open descriptor (for fsync after the renames) or -exit code.
 */
static int open_out_dir(struct cli *cli, const char *dir)
{
    struct stat st;
    char why[4400];
    int fd;

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(why, sizeof(why), "cannot create %s: %s", dir, strerror(errno));
        return -cli_fail(cli, CLI_EXIT_FAILURE, why, "check --out-dir");
    }
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        snprintf(why, sizeof(why), "cannot use %s: %s", dir,
                 errno == ELOOP || errno == ENOTDIR ? "not a directory (symlinks are refused)" : strerror(errno));
        return -cli_fail(cli, CLI_EXIT_FAILURE, why, "give --out-dir a real directory");
    }
    why[0] = '\0';
    if (fstat(fd, &st) != 0)
        snprintf(why, sizeof(why), "cannot use %s: %s", dir, strerror(errno));
    else if (st.st_uid != geteuid())
        snprintf(why, sizeof(why), "cannot use %s: owned by uid %lu, not by you", dir, (unsigned long)st.st_uid);
    else if (st.st_mode & (S_IWGRP | S_IWOTH))
        snprintf(why, sizeof(why), "cannot use %s: writable by others (mode %03o)", dir,
                 (unsigned)(st.st_mode & 0777));
    if (why[0]) {
        close(fd);
        return -cli_fail(cli, CLI_EXIT_FAILURE, why, "give --out-dir a directory of yours that only you can write");
    }
    return fd;
}

/* The first line of FILE, without its newline, into a malloc'd string. */
static char *read_password(struct cli *cli, const char *file)
{
    FILE *f = fopen(file, "r");
    char line[512];
    size_t len;

    if (!f) {
        char why[4400];
        snprintf(why, sizeof(why), "cannot read the password file %s: %s", file, strerror(errno));
        cli_fail(cli, CLI_EXIT_FAILURE, why, NULL);
        return NULL;
    }
    if (!fgets(line, sizeof(line), f))
        line[0] = '\0';
    fclose(f);
    len = strcspn(line, "\r\n");
    line[len] = '\0';
    return strdup(line);
}

static int parse_secrets(const char *value)
{
    if (strcmp(value, "include") == 0)
        return VALKEYADDON_RENDER_SECRETS_INCLUDE;
    if (strcmp(value, "exclude") == 0)
        return VALKEYADDON_RENDER_SECRETS_EXCLUDE;
    if (strcmp(value, "only") == 0)
        return VALKEYADDON_RENDER_SECRETS_ONLY;
    return -1;
}

int cmd_render(struct cli *cli, int argc, char **argv)
{
    const char *tenant = NULL, *app = NULL, *plan = "free", *dir = NULL, *secrets = "include", *password_file = NULL;
    valkeyaddon_render_options options = VALKEYADDON_RENDER_OPTIONS_INIT;
    struct render_out out;
    char *password = NULL;
    int i, rc, dir_fd = -1;

    for (i = 1; i < argc; i++) {
        const char **slot = NULL, *value = NULL;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(help, stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(argv[i], "--no-network-policy") == 0) {
            if ((rc = cli_no_network_policy(cli)) != CLI_EXIT_OK)
                return rc;
            continue;
        }
        if (cli_take_value(argc, argv, &i, "--tenant", &value))
            slot = &tenant;
        else if (cli_take_value(argc, argv, &i, "--app", &value))
            slot = &app;
        else if (cli_take_value(argc, argv, &i, "--plan", &value))
            slot = &plan;
        else if (cli_take_value(argc, argv, &i, "--out-dir", &value))
            slot = &dir;
        else if (cli_take_value(argc, argv, &i, "--secrets", &value))
            slot = &secrets;
        else if (cli_take_value(argc, argv, &i, "--password-file", &value))
            slot = &password_file;
        else
            return cli_usage_error(cli, "unknown argument \"%s\"", argv[i]);
        if (!value)
            return cli_usage_error(cli, "%s needs a value", argv[i]);
        *slot = value;
    }
    if (!tenant || !app)
        return cli_usage_error(cli, "--tenant and --app are both required");
    if ((options.secrets = parse_secrets(secrets)) < 0)
        return cli_usage_error(cli, "--secrets must be include, exclude or only, not \"%s\"", secrets);
    /* Unlike the other commands, render defaults to YAML on a terminal too (CLI.md). */
    if (cli->format == CLI_FORMAT_TABLE)
        return cli_usage_error(cli, "render prints yaml or json, not a table");
    options.format = cli->format == CLI_FORMAT_JSON ? VALKEYADDON_RENDER_JSON : VALKEYADDON_RENDER_YAML;
    if (password_file) {
        if (!(password = read_password(cli, password_file)))
            return CLI_EXIT_FAILURE;
    } else if (getenv("VALKEYADDON_PASSWORD")) {
        password = strdup(getenv("VALKEYADDON_PASSWORD"));
    }
    options.password = password;
    if (dir && (dir_fd = open_out_dir(cli, dir)) < 0) {
        if (password) {
            memset(password, 0, strlen(password));
            free(password);
        }
        return -dir_fd;
    }

    memset(&out, 0, sizeof(out));
    out.cli = cli;
    out.format = options.format;
    out.dir = dir;
    if (!dir && options.format == VALKEYADDON_RENDER_JSON)
        fputs("{\n\"apiVersion\": \"v1\",\n\"kind\": \"List\",\n\"items\": [\n", stdout);
    rc = valkeyaddon_render(cli->ctx, cli->namespace_ ? cli->namespace_ : "default", tenant, app, plan, &options,
                            dir ? write_object : print_object, &out);
    if (password) {
        memset(password, 0, strlen(password));
        free(password);
    }
    /* The renames are durable only once the directory is synced too. */
    if (dir_fd >= 0) {
        if (rc == 0 && fsync(dir_fd) != 0)
            rc = 1, out.failed = cli_fail(cli, CLI_EXIT_FAILURE, strerror(errno), "check --out-dir");
        close(dir_fd);
    }
    if (rc < 0)
        return cli_fail_library(cli, rc, "see valkeyaddon render --help");
    if (rc > 0)
        return out.failed;
    if (!dir && options.format == VALKEYADDON_RENDER_JSON)
        fputs("\n]\n}\n", stdout);
    if (fflush(stdout) != 0)
        return cli_fail(cli, CLI_EXIT_FAILURE, "could not write to standard output", NULL);
    return CLI_EXIT_OK;
}
