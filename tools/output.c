/* Error lines and JSON/YAML output for the valkeyaddon command. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libvalkeyaddon/util/json_yaml.h"
#include "cli.h"

int cli_fail(const struct cli *cli, int exit_code, const char *why, const char *what_to_do)
{
    if (what_to_do && *what_to_do)
        fprintf(stderr, "valkeyaddon: %s: %s (%s)\n", cli->command, why, what_to_do);
    else
        fprintf(stderr, "valkeyaddon: %s: %s\n", cli->command, why);
    return exit_code;
}

int cli_fail_library(const struct cli *cli, int code, const char *what_to_do)
{
    const char *message = valkeyaddon_ctx_error_message(cli->ctx);
    int exit_code = CLI_EXIT_FAILURE;

    if (code == VALKEYADDON_EINVAL)
        exit_code = CLI_EXIT_USAGE;
    else if (code == VALKEYADDON_ENOTFOUND)
        exit_code = CLI_EXIT_NOT_FOUND;
    else if (code == VALKEYADDON_ETIMEOUT)
        exit_code = CLI_EXIT_TIMEOUT;
    else if (code == VALKEYADDON_EFAILED)
        exit_code = CLI_EXIT_ADDON_FAILED;
    return cli_fail(cli, exit_code, *message ? message : valkeyaddon_strerror(code), what_to_do);
}

int cli_usage_error(const struct cli *cli, const char *fmt, ...)
{
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return cli_fail(cli, CLI_EXIT_USAGE, why, "see valkeyaddon --help");
}

int cli_format(const struct cli *cli, int default_when_piped)
{
    if (cli->format >= 0)
        return cli->format;
    return isatty(STDOUT_FILENO) ? CLI_FORMAT_TABLE : default_when_piped;
}

yajl_gen cli_json_begin(void)
{
    yajl_gen g = yajl_gen_alloc(NULL);

    if (g)
        yajl_gen_config(g, yajl_gen_beautify, 1);
    return g;
}

static const unsigned char *key_bytes(const char *key)
{
    return (const unsigned char *)key;
}

void cli_json_string(yajl_gen g, const char *key, const char *value)
{
    yajl_gen_string(g, key_bytes(key), strlen(key));
    yajl_gen_string(g, (const unsigned char *)value, strlen(value));
}

void cli_json_integer(yajl_gen g, const char *key, long long value)
{
    yajl_gen_string(g, key_bytes(key), strlen(key));
    yajl_gen_integer(g, value);
}

void cli_json_bool(yajl_gen g, const char *key, int value)
{
    yajl_gen_string(g, key_bytes(key), strlen(key));
    yajl_gen_bool(g, value);
}

void cli_json_null(yajl_gen g, const char *key)
{
    yajl_gen_string(g, key_bytes(key), strlen(key));
    yajl_gen_null(g);
}

int cli_print_json(const struct cli *cli, yajl_gen g)
{
    const unsigned char *json;
    size_t len;
    int rc = CLI_EXIT_OK;

    if (yajl_gen_get_buf(g, &json, &len) != yajl_gen_status_ok) {
        yajl_gen_free(g);
        return cli_fail(cli, CLI_EXIT_FAILURE, "could not build the JSON output", NULL);
    }
    if (cli_format(cli, CLI_FORMAT_JSON) == CLI_FORMAT_YAML) {
        char *yaml = NULL, error[256];
        if (valkeyaddon__json_to_yaml(&yaml, NULL, (const char *)json, error, sizeof(error)) != 0)
            rc = cli_fail(cli, CLI_EXIT_FAILURE, error, NULL);
        else
            fputs(yaml, stdout);
        free(yaml);
    } else {
        fwrite(json, 1, len, stdout);
    }
    yajl_gen_free(g);
    if (fflush(stdout) != 0)
        rc = cli_fail(cli, CLI_EXIT_FAILURE, "could not write to standard output", NULL);
    return rc;
}

int cli_take_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t len = strlen(name);
    const char *arg = argv[*i];

    if (strncmp(arg, name, len) != 0)
        return 0;
    if (arg[len] == '=') {
        *value = arg + len + 1;
        return 1;
    }
    if (arg[len] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        *value = NULL;
        return 1;
    }
    *value = argv[++*i];
    return 1;
}

void cli_json_addon_head(yajl_gen g, const struct cli *cli, const struct addon_args *args)
{
    cli_json_string(g, "tenant_id", args->tenant);
    cli_json_string(g, "app_id", args->app);
    cli_json_string(g, "namespace", cli->namespace_);
}

int cli_show_progress(const valkeyaddon_status_info *info, void *payload)
{
    struct cli *cli = payload;
    const char *name = valkeyaddon_status_name(info->status);

    if (cli->quiet)
        return 0;
    cli->progress_shown = 1;
    /* Animated only on a terminal; plain lines otherwise (CLI.md). */
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\r\033[K%s: %s", name ? name : "Unknown", info->message);
    else
        fprintf(stderr, "%s: %s\n", name ? name : "Unknown", info->message);
    return 0;
}

void cli_end_progress(struct cli *cli)
{
    if (cli->progress_shown && isatty(STDERR_FILENO))
        fputc('\n', stderr);
    cli->progress_shown = 0;
}
