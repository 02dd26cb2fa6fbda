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
    int allow_insecure_http; /* --allow-insecure-http */
    const char *namespace_;
    const char *database;
    const char *database_file; /* --database-file: the URL in a file, out of argv */
    const char *state_dir;
    int format;              /* enum cli_format; -1 until chosen */
    int quiet, verbose;
    long retry_deadline_ms;  /* 0: the library default */
    int progress_shown;      /* a progress line is on stderr */
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

/* The arguments of commands that act on one add-on. */
enum {
    ADDON_ARG_PLAN = 1,
    ADDON_ARG_TIMEOUT = 2,
    ADDON_ARG_NO_WAIT = 4,
    ADDON_ARG_ALLOW_DATA_LOSS = 8,
    ADDON_ARG_DELETE_DATA = 16
};
struct addon_args {
    int accepts; /* ADDON_ARG_* this command takes besides --tenant and --app */
    const char *tenant, *app, *plan;
    long timeout_ms;
    int no_wait;
    int allow_data_loss; /* --allow-data-loss */
    int delete_data;     /* --delete-data */
    int no_network_policy; /* --no-network-policy (with ADDON_ARG_PLAN) */
};
/* 0 parsed; 1 help printed (exit 0); negative: -exit code after a usage error. Set args->accepts first. */
int cli_parse_addon_args(struct cli *cli, int argc, char **argv, struct addon_args *args, const char *help);
/* --no-network-policy: object options without the NetworkPolicy (docs/objects.md). Returns an exit code. */
int cli_no_network_policy(struct cli *cli);
/* "90s", "5m", "1h", "250ms", or plain seconds: 0, or -1 when malformed. */
int cli_parse_duration(const char *text, long *ms);
/* Give cli->ctx the selected transport and settle cli->namespace_. Returns an exit code. */
int cli_connect(struct cli *cli);
/* $XDG_STATE_HOME/valkeyaddon or ~/.local/state/valkeyaddon; -1 when neither is set. */
int cli_default_state_dir(char *out, size_t size);
/* Give cli->ctx the --database storage (default: SQLite in the state dir). Returns an exit code. */
int cli_open_database(struct cli *cli);
/* The render transport's output: each written object as a document on stdout. */
int cli_print_rendered(const char *kind, const char *name, const char *text, size_t len, void *payload);
/* tenant_id, app_id, namespace: the keys every add-on command's JSON starts with. */
void cli_json_addon_head(yajl_gen g, const struct cli *cli, const struct addon_args *args);
/* Progress of a wait on stderr (a valkeyaddon_progress_cb; payload: the cli), and its end. */
int cli_show_progress(const valkeyaddon_status_info *info, void *payload);
void cli_end_progress(struct cli *cli);
/* Wait until Ready with progress on stderr; returns an exit code. */
int cli_wait_and_report(struct cli *cli, const struct addon_args *args);

int cmd_deprovision(struct cli *cli, int argc, char **argv);
int cmd_provision(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
int cmd_url(struct cli *cli, int argc, char **argv);
int cmd_wait(struct cli *cli, int argc, char **argv);
int cmd_name(struct cli *cli, int argc, char **argv);
int cmd_plans(struct cli *cli, int argc, char **argv);
int cmd_render(struct cli *cli, int argc, char **argv);
int cmd_version(struct cli *cli, int argc, char **argv);

#endif
