/*
 * One context, one PostgreSQL storage, across a server restart: provision,
 * ask the driving script to restart PostgreSQL (it creates argv[2] when done),
 * provision again with a changed plan. The second call must succeed on the
 * same context: the storage reconnects, re-prepares and repeats its statement.
 * Exit 0 on success; a one-line reason on stderr otherwise (never the conninfo).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <valkeyaddon.h>

static int fail(valkeyaddon_ctx *ctx, const char *step, int rc)
{
    fprintf(stderr, "flow_restart: %s: %s (%d)\n", step, ctx ? valkeyaddon_ctx_error_message(ctx) : "", rc);
    return 1;
}

static int provision(valkeyaddon_ctx *ctx, const char *plan, valkeyaddon_addon_row *row)
{
    valkeyaddon_provision_options o = VALKEYADDON_PROVISION_OPTIONS_INIT;

    o.namespace_ = "tenant-ns";
    o.tenant_id = "acme";
    o.app_id = "restart";
    o.plan = plan;
    o.no_wait = 1; /* the memory transport has no controller to make replicas ready */
    memset(row, 0, sizeof(*row));
    row->version = VALKEYADDON_ADDON_ROW_VERSION;
    return valkeyaddon_provision(row, NULL, ctx, &o);
}

int main(int argc, char **argv)
{
    const char *conninfo = getenv("PG_CONNINFO");
    valkeyaddon_transport *transport = NULL;
    valkeyaddon_storage *storage = NULL;
    valkeyaddon_ctx *ctx = NULL;
    valkeyaddon_addon_row row;
    FILE *marker;
    int rc, waited;

    if (argc != 3 || !conninfo)
        return fprintf(stderr, "usage: PG_CONNINFO=... flow_restart REQUEST_FILE DONE_FILE\n"), 2;
    if ((rc = valkeyaddon_ctx_new(&ctx, NULL)) < 0)
        return fail(NULL, "ctx_new", rc);
    if ((rc = valkeyaddon_transport_memory_new(&transport)) < 0 ||
        (rc = valkeyaddon_ctx_set_transport(ctx, transport)) < 0)
        return fail(ctx, "transport", rc);
    if ((rc = valkeyaddon_storage_open(&storage, ctx, conninfo)) < 0 ||
        (rc = valkeyaddon_ctx_set_storage(ctx, storage)) < 0)
        return fail(ctx, "storage", rc);

    if ((rc = provision(ctx, "standard", &row)) < 0)
        return fail(ctx, "first provision", rc);

    if (!(marker = fopen(argv[1], "w")) || fclose(marker) != 0)
        return fail(ctx, "writing the restart request", -1);
    for (waited = 0; access(argv[2], F_OK) != 0; waited++) {
        struct timespec tick = { 0, 100 * 1000 * 1000 };
        if (waited > 600)
            return fail(ctx, "the script did not restart PostgreSQL within 60 s", -1);
        nanosleep(&tick, NULL);
    }

    if ((rc = provision(ctx, "pro", &row)) < 0)
        return fail(ctx, "provision after the restart", rc);
    if (strcmp(row.plan, "pro") != 0 || row.status != VALKEYADDON_STATUS_CREATING)
        return fail(ctx, "the row after the restart does not hold the new plan", -1);
    if ((rc = valkeyaddon_addon_get(&row, ctx, "restart", NULL)) < 0 || strcmp(row.plan, "pro") != 0)
        return fail(ctx, "reading the row back", rc);
    if ((rc = valkeyaddon_deprovision(NULL, ctx, "tenant-ns", "acme", "restart")) < 0)
        return fail(ctx, "deprovision", rc);
    valkeyaddon_ctx_free(ctx);
    printf("flow_restart: provision succeeded on the same context after a PostgreSQL restart\n");
    return 0;
}
