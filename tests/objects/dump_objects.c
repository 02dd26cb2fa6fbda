/*
 * Print an add-on's objects, one compact JSON document per line, in build
 * order, then the app-side REDIS_URL Secret: for the script tests (schema
 * validation, the start script against a real server).
 *
 *   DUMP_PASSWORD=... dump_objects --namespace NS --tenant T --app A --plan P
 *                                  [--extras] [--no-exporter] [--storage-class C]
 *
 * The password comes from the environment, never from argv (visible in ps).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valkeyaddon.h>

#include "ctx.h"
#include "objects/objects.h"

static int usage(void)
{
    fprintf(stderr, "usage: DUMP_PASSWORD=... dump_objects --namespace NS --tenant T --app A --plan P "
                    "[--extras] [--no-exporter] [--storage-class C]\n");
    return 2;
}

int main(int argc, char **argv)
{
    valkeyaddon_object_options options = VALKEYADDON_OBJECT_OPTIONS_INIT;
    valkeyaddon_plan_config plan = VALKEYADDON_PLAN_CONFIG_INIT;
    struct valkeyaddon__addon addon;
    struct valkeyaddon__objects objects;
    struct valkeyaddon__object url;
    const char *ns = NULL, *tenant = NULL, *app = NULL, *plan_name = NULL;
    const char *password = getenv("DUMP_PASSWORD");
    valkeyaddon_ctx *ctx = NULL;
    char *uri;
    size_t i;
    int a, rc = 1;

    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--extras") == 0) {
            options.pod_disruption_budget = options.network_policy = options.service_monitor = 1;
        } else if (strcmp(argv[a], "--no-exporter") == 0) {
            options.no_exporter = 1;
        } else if (a + 1 < argc && strcmp(argv[a], "--namespace") == 0) {
            ns = argv[++a];
        } else if (a + 1 < argc && strcmp(argv[a], "--tenant") == 0) {
            tenant = argv[++a];
        } else if (a + 1 < argc && strcmp(argv[a], "--app") == 0) {
            app = argv[++a];
        } else if (a + 1 < argc && strcmp(argv[a], "--plan") == 0) {
            plan_name = argv[++a];
        } else if (a + 1 < argc && strcmp(argv[a], "--storage-class") == 0) {
            options.storage_class = argv[++a];
        } else {
            return usage();
        }
    }
    if (!ns || !tenant || !app || !plan_name)
        return usage();
    if (!password) {
        fprintf(stderr, "dump_objects: set DUMP_PASSWORD\n");
        return 2;
    }
    if (valkeyaddon_ctx_new(&ctx, NULL) < 0)
        return 1;
    memset(&objects, 0, sizeof(objects));
    memset(&url, 0, sizeof(url));
    if (valkeyaddon_ctx_set_object_options(ctx, &options) < 0 || valkey_plan_config(&plan, ctx, plan_name) < 0 ||
        valkeyaddon__addon_init(&addon, ctx, ns, tenant, app, &plan, &ctx->object_options) < 0 ||
        valkeyaddon__build_objects(&objects, ctx, &addon, password) < 0)
        goto done;
    if (!(uri = valkeyaddon__redis_uri(&addon, password)))
        goto done;
    a = valkeyaddon__build_redis_url_secret(&url, ctx, &addon, uri, strlen(uri));
    valkeyaddon_free(uri);
    if (a < 0)
        goto done;
    for (i = 0; i < objects.count; i++)
        printf("%s\n", objects.items[i].json);
    printf("%s\n", url.json);
    rc = fflush(stdout) == 0 ? 0 : 1;
done:
    if (rc)
        fprintf(stderr, "dump_objects: %s\n", valkeyaddon_ctx_error_message(ctx));
    valkeyaddon__objects_clear(&objects);
    valkeyaddon__object_clear(&url);
    valkeyaddon_ctx_free(ctx);
    return rc;
}
