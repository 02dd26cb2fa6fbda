/* valkeyaddon__build_objects: every workload object of an add-on, in a stable order, all or nothing. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "valkeyaddon/errors.h"
#include "ctx.h"
#include "objects/builders.h"
#include "util/password.h"

/* Plan strings reach a shell script and a config file: only these characters. */
static int only(const char *s, const char *allowed, int may_be_empty)
{
    if (!*s)
        return may_be_empty;
    return strspn(s, allowed) == strlen(s);
}

#define DIGITS "0123456789"
#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define QUANTITY DIGITS "KMGTPEi"

static int check_plan(valkeyaddon_ctx *ctx, const valkeyaddon_plan_config *p)
{
    const char *field = NULL;

    if (p->replicas < 1 || p->replicas > 100)
        field = "replicas (1 to 100)";
    else if (p->memory_limit_bytes < 1024 * 1024 || p->memory_limit_bytes > INT64_C(1) << 50)
        field = "memory_limit_bytes (1 MiB to 1 PiB)";
    else if (!only(p->memory_limit, QUANTITY, 0) || !only(p->memory_request, QUANTITY, 0))
        field = "memory_limit or memory_request (a quantity such as 256Mi)";
    else if (p->persistence < VALKEYADDON_PERSISTENCE_NONE || p->persistence > VALKEYADDON_PERSISTENCE_RDB_AOF)
        field = "persistence";
    else if (!only(p->plan, LOWER DIGITS "-", 0))
        field = "plan";
    else if (!only(p->save, DIGITS " ", 1))
        field = "save (numbers and spaces)";
    else if (!only(p->appendfsync, LOWER, 1))
        field = "appendfsync";
    else if (p->maxmemory_percent < 1 || p->maxmemory_percent > 100)
        field = "maxmemory_percent (1 to 100)";
    else if (!only(p->maxmemory_policy, LOWER "-", 0))
        field = "maxmemory_policy";
    else if (p->cpu_request_millis < 1 || p->cpu_limit_millis < p->cpu_request_millis)
        field = "cpu_request_millis or cpu_limit_millis";
    else if (p->persistence != VALKEYADDON_PERSISTENCE_NONE && !only(p->volume_size, QUANTITY, 0))
        field = "volume_size (a quantity, required with persistence)";
    else if (!!p->appendonly != (p->persistence == VALKEYADDON_PERSISTENCE_RDB_AOF))
        field = "appendonly (on exactly for rdb_aof)";
    if (field)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "addon->plan: invalid %s", field);
    return VALKEYADDON_OK;
}

int valkeyaddon__check_addon(valkeyaddon_ctx *ctx, const struct valkeyaddon__addon *addon)
{
    const struct valkeyaddon__object_options *o;

    if (!addon)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "addon: must not be NULL");
    if (!addon->namespace_ || !addon->tenant_id || !addon->app_id || !addon->name[0] || !addon->auth_secret[0] ||
        !addon->redis_url_secret[0] || !addon->headless_service[0])
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "addon: not initialised (valkeyaddon__addon_init)");
    if (!addon->plan)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "addon->plan: must not be NULL");
    if (!(o = addon->options) || !o->image || !o->exporter_image || !o->cluster_domain || !o->app_label ||
        !o->monitoring_namespace)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "addon->options: must be complete object options");
    return check_plan(ctx, addon->plan);
}

int valkeyaddon__check_password(valkeyaddon_ctx *ctx, const char *password)
{
    /* The rule, never the value. */
    if (!password || !valkeyaddon__password_is_acceptable(password, strlen(password)))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "password: must be 16 to 256 characters from A-Z a-z 0-9 - _ . ~");
    return VALKEYADDON_OK;
}

static size_t add_ref(struct valkeyaddon__object_ref *refs, size_t n, const valkeyaddon_resource *resource,
                      const char *name)
{
    refs[n].resource = resource;
    snprintf(refs[n].name, sizeof(refs[n].name), "%s", name);
    return n + 1;
}

size_t valkeyaddon__object_refs(struct valkeyaddon__object_ref refs[VALKEYADDON__MAX_OBJECTS],
                                const struct valkeyaddon__addon *addon, int all_extras)
{
    char policy[VALKEYADDON_NAME_BUFSIZE];
    size_t n = 0;

    /* The same order and conditions as valkeyaddon__build_objects(). */
    n = add_ref(refs, n, &valkeyaddon__secret_resource, addon->auth_secret);
    n = add_ref(refs, n, &valkeyaddon__service_resource, addon->headless_service);
    n = add_ref(refs, n, &valkeyaddon__service_resource, addon->name);
    n = add_ref(refs, n, &valkeyaddon__statefulset_resource, addon->name);
    if (all_extras || valkeyaddon__wants_pdb(addon))
        n = add_ref(refs, n, &valkeyaddon__pdb_resource, addon->name);
    valkeyaddon__network_policy_name(policy, sizeof(policy), addon);
    if (all_extras || valkeyaddon__wants_network_policy(addon))
        n = add_ref(refs, n, &valkeyaddon__networkpolicy_resource, policy);
    if (all_extras || valkeyaddon__wants_service_monitor(addon))
        n = add_ref(refs, n, &valkeyaddon__servicemonitor_resource, addon->name);
    return n;
}

int valkeyaddon__credential_id_is_valid(const char *s)
{
    return s && strlen(s) == VALKEYADDON__CREDENTIAL_ID_LEN && strspn(s, "0123456789abcdef") == strlen(s);
}

typedef int (*builder_fn)(struct valkeyaddon__object *, valkeyaddon_ctx *, const struct valkeyaddon__addon *);

int valkeyaddon__build_objects(struct valkeyaddon__objects *out, valkeyaddon_ctx *ctx,
                               const struct valkeyaddon__addon *addon, const char *password)
{
    builder_fn builders[VALKEYADDON__MAX_OBJECTS];
    size_t count = 0, i;
    int error;

    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    memset(out, 0, sizeof(*out));
    if ((error = valkeyaddon__check_addon(ctx, addon)) < 0 || (error = valkeyaddon__check_password(ctx, password)) < 0)
        return error;

    /*
     * The order ensure_valkey() applies them in: the Secret the pods reference,
     * the Service governing pod DNS, the Service apps use, the pods, then the
     * extras (which only refer to the above).
     */
    builders[count++] = valkeyaddon__build_headless_service;
    builders[count++] = valkeyaddon__build_service;
    builders[count++] = valkeyaddon__build_statefulset;
    if (valkeyaddon__wants_pdb(addon))
        builders[count++] = valkeyaddon__build_pdb;
    if (valkeyaddon__wants_network_policy(addon))
        builders[count++] = valkeyaddon__build_network_policy;
    if (valkeyaddon__wants_service_monitor(addon))
        builders[count++] = valkeyaddon__build_service_monitor;

    if ((error = valkeyaddon__build_auth_secret(&out->items[0], ctx, addon, password)) < 0)
        return error;
    out->count = 1;
    for (i = 0; i < count; i++) {
        if ((error = builders[i](&out->items[out->count], ctx, addon)) < 0) {
            valkeyaddon__objects_clear(out);
            return error;
        }
        out->count++;
    }
    return VALKEYADDON_OK;
}
