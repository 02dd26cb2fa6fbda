/*
 * The fault soak's driver (tests/soak/test_soak.sh runs it; docs/fault-soak.md).
 *
 * One context, as a control plane holds it: the Kubernetes transport from the
 * API test server's kubeconfig (which injects faults), the PostgreSQL storage
 * from $PG_CONNINFO (never in argv). Pass 1 provisions COUNT apps; half-way it
 * asks the script to restart PostgreSQL (creates RESTART_REQUEST; the script
 * creates RESTART_DONE) and goes on provisioning meanwhile. A provision that
 * fails is retried here, bounded, like a control plane's work queue would,
 * and every retry is counted. After pass 1 every row must be ready; the
 * script then hashes the passwords (PASS1_DONE, then SNAPSHOT_DONE). Pass 2
 * provisions every app again: each must be Ready with no password created and
 * no object written. The counts go to STATS (key value lines) for the
 * script's summary. Exit 0 when every check held; the reason on stderr
 * otherwise. Never prints a password or the conninfo.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <valkeyaddon.h>

#define MAX_ATTEMPTS 10     /* per provision; the backoff below adds up to about 12 s */
#define TENANTS 4           /* apps are spread over this many tenants, one namespace each */
#define WAIT_FILE_S 120     /* how long to wait for the script's answer */
#define MAX_WARNINGS_SHOWN 5

static const char *const PLANS[] = { "free", "standard", "pro" };

struct stats {
    long calls[2];           /* valkeyaddon_provision calls per pass, retries included */
    long ready[2];           /* provisions that ended Ready */
    long failed[2];          /* provisions given up after MAX_ATTEMPTS or a non-transient error */
    long created[2];         /* ensure reported a password created */
    long written[2];         /* objects written (ensure's count) */
    long retries_by_code[32];
    long request_retries;    /* the transport retried a request (429, 5xx, lost connection) */
    long watch_retries;      /* the transport re-opened a refused or dropped watch */
    long pg_reconnects;      /* the PostgreSQL storage found its connection gone and reset it */
    long other_warnings;
    long restart_requested_at, restart_seen_at; /* provision index (pass 1) */
    long rows, rows_ready;   /* after each pass (the last one kept) */
};

static struct stats S;

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The library's warnings, counted by what they say (their wording is the library's; docs/fault-soak.md). */
static void on_log(int level, const char *message, void *payload)
{
    (void)payload;
    /* Errors come back as return codes (every error is also logged, the expected 404s included). */
    if (level != VALKEYADDON_LOG_WARNING)
        return;
    if (strstr(message, "postgres storage:") && strstr(message, "reconnecting once")) {
        S.pg_reconnects++;
    } else if (strncmp(message, "watch:", 6) == 0 && (strstr(message, "retrying in") || strstr(message, "re-opening"))) {
        S.watch_retries++;
    } else if (strstr(message, "retrying in")) {
        S.request_retries++;
    } else {
        /* Messages never carry secrets (the library's rule), so the first few are shown. */
        if (S.other_warnings < MAX_WARNINGS_SHOWN)
            fprintf(stderr, "soak: library warning: %s\n", message);
        S.other_warnings++;
    }
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static int touch(const char *path)
{
    FILE *f = fopen(path, "w");

    return f && fclose(f) == 0 ? 0 : -1;
}

static int wait_for(const char *path, const char *what)
{
    long waited;

    for (waited = 0; !exists(path); waited += 100) {
        if (waited >= WAIT_FILE_S * 1000L) {
            fprintf(stderr, "soak: the script did not %s within %d s\n", what, WAIT_FILE_S);
            return -1;
        }
        sleep_ms(100);
    }
    return 0;
}

/* What a control plane retries: the cluster or the database being unwell, not a request it got wrong. */
static int transient(int code)
{
    return code == VALKEYADDON_EUNAVAILABLE || code == VALKEYADDON_ETHROTTLED || code == VALKEYADDON_ESERVER ||
           code == VALKEYADDON_ESTORAGE || code == VALKEYADDON_ETIMEOUT || code == VALKEYADDON_EIO;
}

static void app_of(int i, char *app, size_t app_size, char *tenant, size_t tenant_size, char *ns, size_t ns_size)
{
    snprintf(app, app_size, "soak-%d", i);
    snprintf(tenant, tenant_size, "t%d", i % TENANTS);
    snprintf(ns, ns_size, "soak-t%d", i % TENANTS);
}

/* One app's provision, retried with backoff (200 ms doubling to 2 s) while the failure is transient. */
static int provision(valkeyaddon_ctx *ctx, int pass, int i)
{
    valkeyaddon_provision_options o = VALKEYADDON_PROVISION_OPTIONS_INIT;
    valkeyaddon_ensure_result ensured = VALKEYADDON_ENSURE_RESULT_INIT;
    valkeyaddon_addon_row row;
    char app[32], tenant[16], ns[32];
    int attempt, rc = 0;

    app_of(i, app, sizeof(app), tenant, sizeof(tenant), ns, sizeof(ns));
    o.namespace_ = ns;
    o.tenant_id = tenant;
    o.app_id = app;
    o.plan = PLANS[i % 3];
    o.timeout_ms = 60000;
    for (attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        memset(&row, 0, sizeof(row));
        row.version = VALKEYADDON_ADDON_ROW_VERSION;
        S.calls[pass]++;
        rc = valkeyaddon_provision(&row, &ensured, ctx, &o);
        if (rc == 0 && row.status == VALKEYADDON_STATUS_READY) {
            S.ready[pass]++;
            S.created[pass] += ensured.password_created;
            S.written[pass] += (long)ensured.objects_written;
            return 0;
        }
        if (rc == 0) {
            fprintf(stderr, "soak: %s: provision returned 0 but the row says %s: %s\n", app,
                    valkeyaddon_status_name(row.status), row.status_message);
            break;
        }
        if (!transient(rc) || attempt == MAX_ATTEMPTS - 1)
            break;
        if (-rc < (int)(sizeof(S.retries_by_code) / sizeof(S.retries_by_code[0])))
            S.retries_by_code[-rc]++;
        sleep_ms(attempt < 4 ? 200L << attempt : 2000L);
    }
    S.failed[pass]++;
    fprintf(stderr, "soak: %s: not Ready after %d attempt(s): %s: %s\n", app, attempt + 1, valkeyaddon_strerror(rc),
            valkeyaddon_ctx_error_message(ctx));
    return -1;
}

struct census {
    int count;
    unsigned char *seen;
    long rows, ready, strangers;
};

static int on_row(const valkeyaddon_addon_row *row, void *payload)
{
    struct census *c = payload;
    int i;
    char *end;

    c->rows++;
    if (strncmp(row->app_id, "soak-", 5) != 0 || (i = (int)strtol(row->app_id + 5, &end, 10)) < 0 || *end ||
        i >= c->count) {
        c->strangers++;
        return 0;
    }
    c->seen[i]++;
    c->ready += row->status == VALKEYADDON_STATUS_READY;
    return 0;
}

/* Every app has exactly one row, Ready. Read through the library, as the control plane would. */
static int check_rows(valkeyaddon_ctx *ctx, int count, const char *when)
{
    struct census c;
    int i, attempt, rc = 0, bad = 0;

    memset(&c, 0, sizeof(c));
    c.count = count;
    if (!(c.seen = calloc((size_t)count, 1)))
        return fprintf(stderr, "soak: out of memory\n"), -1;
    for (attempt = 0; attempt < 5; attempt++) {
        c.rows = c.ready = c.strangers = 0;
        memset(c.seen, 0, (size_t)count);
        if ((rc = valkeyaddon_addon_list(ctx, NULL, on_row, &c)) == 0)
            break;
        sleep_ms(500);
    }
    if (rc != 0) {
        fprintf(stderr, "soak: listing the rows %s: %s\n", when, valkeyaddon_ctx_error_message(ctx));
        free(c.seen);
        return -1;
    }
    for (i = 0; i < count; i++) {
        if (c.seen[i] != 1) {
            if (bad++ < 5)
                fprintf(stderr, "soak: app soak-%d has %d row(s) %s\n", i, c.seen[i], when);
        }
    }
    S.rows = c.rows;
    S.rows_ready = c.ready;
    free(c.seen);
    if (bad || c.strangers || c.ready != count) {
        fprintf(stderr, "soak: %s: %ld rows, %ld ready, %d apps without exactly one row, %ld unexpected rows\n",
                when, c.rows, c.ready, bad, c.strangers);
        return -1;
    }
    return 0;
}

/* The codes transient() lets the driver retry, by name for the summary. */
static const char *code_name(int code)
{
    switch (code) {
    case VALKEYADDON_EUNAVAILABLE: return "EUNAVAILABLE";
    case VALKEYADDON_ETHROTTLED: return "ETHROTTLED";
    case VALKEYADDON_ESERVER: return "ESERVER";
    case VALKEYADDON_ESTORAGE: return "ESTORAGE";
    case VALKEYADDON_ETIMEOUT: return "ETIMEOUT";
    case VALKEYADDON_EIO: return "EIO";
    default: return "other";
    }
}

static int write_stats(const char *path, int count, long long pass_ms[2])
{
    FILE *f = fopen(path, "w");
    int code;

    if (!f)
        return -1;
    fprintf(f, "count %d\n", count);
    fprintf(f, "pass1_calls %ld\npass1_ready %ld\npass1_failed %ld\npass1_created %ld\npass1_written %ld\n",
            S.calls[0], S.ready[0], S.failed[0], S.created[0], S.written[0]);
    fprintf(f, "pass2_calls %ld\npass2_ready %ld\npass2_failed %ld\npass2_created %ld\npass2_written %ld\n",
            S.calls[1], S.ready[1], S.failed[1], S.created[1], S.written[1]);
    fprintf(f, "pass1_ms %lld\npass2_ms %lld\n", pass_ms[0], pass_ms[1]);
    fprintf(f, "request_retries %ld\nwatch_retries %ld\npg_reconnects %ld\nother_warnings %ld\n", S.request_retries,
            S.watch_retries, S.pg_reconnects, S.other_warnings);
    fprintf(f, "restart_requested_at %ld\nrestart_seen_at %ld\n", S.restart_requested_at, S.restart_seen_at);
    fprintf(f, "rows %ld\nrows_ready %ld\n", S.rows, S.rows_ready);
    for (code = 1; code < (int)(sizeof(S.retries_by_code) / sizeof(S.retries_by_code[0])); code++)
        if (S.retries_by_code[code])
            fprintf(f, "retry %s %ld\n", code_name(-code), S.retries_by_code[code]);
    return fclose(f) == 0 ? 0 : -1;
}

static int setup(valkeyaddon_ctx **ctx, const char *kubeconfig, const char *conninfo)
{
    valkeyaddon_ctx_options co = VALKEYADDON_CTX_OPTIONS_INIT;
    valkeyaddon_kubernetes_options ko = VALKEYADDON_KUBERNETES_OPTIONS_INIT;
    valkeyaddon_postgres_options po = VALKEYADDON_POSTGRES_OPTIONS_INIT;
    valkeyaddon_transport *transport = NULL;
    valkeyaddon_storage *storage = NULL;
    int rc;

    co.log_level = VALKEYADDON_LOG_WARNING;
    co.log_cb = on_log;
    if ((rc = valkeyaddon_ctx_new(ctx, &co)) < 0)
        return fprintf(stderr, "soak: ctx_new: %s\n", valkeyaddon_strerror(rc)), -1;
    ko.kubeconfig = kubeconfig;
    if ((rc = valkeyaddon_transport_kubernetes_new(&transport, *ctx, &ko)) < 0 ||
        (rc = valkeyaddon_ctx_set_transport(*ctx, transport)) < 0) {
        fprintf(stderr, "soak: transport: %s\n", valkeyaddon_ctx_error_message(*ctx));
        if (transport)
            transport->free(transport);
        return -1;
    }
    po.conninfo = conninfo;
    po.application_name = "valkeyaddon-soak";
    if ((rc = valkeyaddon_storage_postgres_new(&storage, *ctx, &po)) < 0) {
        fprintf(stderr, "soak: storage: %s\n", valkeyaddon_ctx_error_message(*ctx));
        return -1;
    }
    if ((rc = valkeyaddon_ctx_set_storage(*ctx, storage)) < 0) {
        fprintf(stderr, "soak: storage: %s\n", valkeyaddon_ctx_error_message(*ctx));
        storage->free(storage); /* refused: still ours */
        return -1;
    }
    if ((rc = valkeyaddon_storage_migrate(*ctx)) < 0) {
        fprintf(stderr, "soak: migrate: %s\n", valkeyaddon_ctx_error_message(*ctx));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *conninfo = getenv("PG_CONNINFO");
    const char *kubeconfig, *restart_request, *restart_done, *pass1_done, *snapshot_done, *stats;
    valkeyaddon_ctx *ctx = NULL;
    long long start, pass_ms[2] = { 0, 0 };
    int count, i, failed = 0;
    char *end;

    if (argc != 8 || !conninfo) {
        fprintf(stderr, "usage: PG_CONNINFO=... soak_driver KUBECONFIG COUNT RESTART_REQUEST RESTART_DONE "
                        "PASS1_DONE SNAPSHOT_DONE STATS\n");
        return 2;
    }
    kubeconfig = argv[1];
    count = (int)strtol(argv[2], &end, 10);
    restart_request = argv[3];
    restart_done = argv[4];
    pass1_done = argv[5];
    snapshot_done = argv[6];
    stats = argv[7];
    if (*end || count < 2 || count > 1000000)
        return fprintf(stderr, "soak: COUNT must be 2 to 1000000\n"), 2;
    if (setup(&ctx, kubeconfig, conninfo) < 0) {
        valkeyaddon_ctx_free(ctx);
        return 1;
    }

    start = now_ms();
    S.restart_requested_at = S.restart_seen_at = -1;
    for (i = 0; i < count; i++) {
        if (i == count / 2) {
            /* The script restarts PostgreSQL while the provisions go on. */
            if (touch(restart_request) < 0) {
                fprintf(stderr, "soak: cannot write %s\n", restart_request);
                failed = 1;
            }
            S.restart_requested_at = i;
        }
        if (S.restart_requested_at >= 0 && S.restart_seen_at < 0 && exists(restart_done))
            S.restart_seen_at = i;
        failed |= provision(ctx, 0, i) < 0;
    }
    pass_ms[0] = now_ms() - start;
    if (wait_for(restart_done, "restart PostgreSQL") < 0)
        failed = 1;
    if (S.restart_seen_at < 0)
        S.restart_seen_at = count;
    failed |= check_rows(ctx, count, "after pass 1") < 0;

    /* The script reads every auth Secret now, to compare after the repeat. */
    if (touch(pass1_done) < 0 || wait_for(snapshot_done, "snapshot the passwords") < 0)
        failed = 1;

    start = now_ms();
    for (i = 0; i < count && !failed; i++)
        failed |= provision(ctx, 1, i) < 0;
    pass_ms[1] = now_ms() - start;
    failed |= check_rows(ctx, count, "after pass 2") < 0;

    if (S.pg_reconnects == 0) {
        fprintf(stderr, "soak: PostgreSQL was restarted but the storage never reconnected: the restart was not "
                        "exercised\n");
        failed = 1;
    }
    if (S.created[1] || S.written[1]) {
        fprintf(stderr, "soak: the repeat provisions created %ld password(s) and wrote %ld object(s); both must be 0\n",
                S.created[1], S.written[1]);
        failed = 1;
    }
    if (write_stats(stats, count, pass_ms) < 0) {
        fprintf(stderr, "soak: cannot write %s\n", stats);
        failed = 1;
    }
    valkeyaddon_ctx_free(ctx);
    return failed ? 1 : 0;
}
