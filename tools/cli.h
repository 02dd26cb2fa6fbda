/* Shared pieces of the valkeyaddon command: options, exit codes, output. */
#ifndef VALKEYADDON_TOOLS_CLI_H
#define VALKEYADDON_TOOLS_CLI_H

#include <stdio.h>

#include <yajl/yajl_gen.h>

#include <valkeyaddon.h>

/* Exit codes: the contract of ../shared/CLI.md, documented in --help and the man page. */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_NOT_FOUND = 3,
    CLI_EXIT_TIMEOUT = 4,
    CLI_EXIT_ADDON_FAILED = 5
};

enum cli_format { CLI_FORMAT_TABLE, CLI_FORMAT_JSON, CLI_FORMAT_YAML };

struct cli {
    const char *command;     /* for error messages */
    const char *transport;
    const char *kubeconfig;
    const char *kube_context;
    int in_cluster;
    const char *namespace_;
    const char *database;
    const char *state_dir;
    int format;              /* enum cli_format; -1 until chosen */
    int quiet, verbose;
    valkeyaddon_ctx *ctx;
};

/* One line on stderr: "valkeyaddon: <what failed>: <why> (<what to do>)". Returns exit_code. */
int cli_fail(const struct cli *cli, int exit_code, const char *why, const char *what_to_do);
/* The same for a library failure: the context's message, or strerror when it has none. */
int cli_fail_library(const struct cli *cli, int code, const char *what_to_do);
/* Usage error: the message, then a pointer to --help. Returns CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli *cli, const char *fmt, ...);

/* The output format for this run: -o if given, else table on a terminal and JSON otherwise. */
int cli_format(const struct cli *cli, int default_when_piped);

/* A generator for JSON output; cli_print_json() prints it as JSON or YAML and frees it. */
yajl_gen cli_json_begin(void);
int cli_print_json(const struct cli *cli, yajl_gen g);
void cli_json_string(yajl_gen g, const char *key, const char *value);
void cli_json_integer(yajl_gen g, const char *key, long long value);
void cli_json_bool(yajl_gen g, const char *key, int value);
void cli_json_null(yajl_gen g, const char *key);

/* Option parsing helper: returns 1 if argv[*i] is --name VALUE or --name=VALUE and stores VALUE. */
int cli_take_value(int argc, char **argv, int *i, const char *name, const char **value);

int cmd_name(struct cli *cli, int argc, char **argv);
int cmd_plans(struct cli *cli, int argc, char **argv);
int cmd_version(struct cli *cli, int argc, char **argv);

#endif
