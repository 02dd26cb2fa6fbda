/* The spec's plan table plus what the manifests need (numbers and reasons: plans.h). */
#include "config.h"

#include <string.h>

#include "valkeyaddon/errors.h"
#include "valkeyaddon/plans.h"
#include "ctx.h"

#define MIB (INT64_C(1024) * 1024)
#define GIB (MIB * 1024)

struct plan {
    const char *name;
    int32_t replicas;
    int64_t memory_bytes;
    const char *memory;
    valkeyaddon_persistence persistence;
    int32_t maxmemory_percent;
    int32_t cpu_request_millis;
    int32_t cpu_limit_millis;
    int64_t volume_bytes;
    const char *volume;
};

/*
 * Volumes hold the RDB file, the AOF and, during a rewrite, a second copy of
 * each: four times the memory limit for standard, and for pro as well.
 */
static const struct plan plans[] = {
    { "free", 1, 64 * MIB, "64Mi", VALKEYADDON_PERSISTENCE_NONE, 80, 50, 250, 0, "" },
    { "standard", 1, 256 * MIB, "256Mi", VALKEYADDON_PERSISTENCE_RDB_DAILY, 60, 100, 500, 1 * GIB, "1Gi" },
    { "pro", 3, 1 * GIB, "1Gi", VALKEYADDON_PERSISTENCE_RDB_AOF, 50, 250, 1000, 4 * GIB, "4Gi" },
};

#define PLAN_COUNT (sizeof(plans) / sizeof(plans[0]))

size_t valkeyaddon_plan_count(void)
{
    return PLAN_COUNT;
}

const char *valkeyaddon_plan_name(size_t index)
{
    return index < PLAN_COUNT ? plans[index].name : NULL;
}

static void copy(char *dst, size_t size, const char *src)
{
    size_t len = strlen(src);

    if (len >= size)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

#define COPY(field, src) copy(field, sizeof(field), src)

static void fill(valkeyaddon_plan_config *out, const struct plan *p, int fell_back)
{
    unsigned int version = out->version;

    memset(out, 0, sizeof(*out));
    out->version = version;
    COPY(out->plan, p->name);
    out->fell_back = fell_back;
    out->replicas = p->replicas;
    out->memory_limit_bytes = p->memory_bytes;
    COPY(out->memory_limit, p->memory);
    /* Request = limit: a cache that the kubelet may evict under pressure loses data. */
    out->memory_request_bytes = p->memory_bytes;
    COPY(out->memory_request, p->memory);
    out->persistence = (int32_t)p->persistence;
    out->maxmemory_percent = p->maxmemory_percent;
    COPY(out->maxmemory_policy, "noeviction");
    out->cpu_request_millis = p->cpu_request_millis;
    out->cpu_limit_millis = p->cpu_limit_millis;
    out->volume_size_bytes = p->volume_bytes;
    COPY(out->volume_size, p->volume);
    switch (p->persistence) {
    case VALKEYADDON_PERSISTENCE_NONE:
        COPY(out->persistence_name, "none");
        break;
    case VALKEYADDON_PERSISTENCE_RDB_DAILY:
        COPY(out->persistence_name, "rdb_daily");
        /* One snapshot a day, if anything changed. */
        COPY(out->save, "86400 1");
        break;
    case VALKEYADDON_PERSISTENCE_RDB_AOF:
        COPY(out->persistence_name, "rdb_aof");
        /* The server's default snapshot schedule, beside the AOF, for fast restarts and resyncs. */
        COPY(out->save, "3600 1 300 100 60 10000");
        out->appendonly = 1;
        COPY(out->appendfsync, "everysec");
        break;
    }
}

/* A typo is worth showing; arbitrary bytes from a request are not worth echoing into logs. */
static int is_displayable(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++)
        if (i >= 32 || (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '"')
            return 0;
    return 1;
}

int valkey_plan_config(valkeyaddon_plan_config *out, valkeyaddon_ctx *ctx, const char *plan)
{
    size_t i;

    valkeyaddon__begin(ctx);
    if (!out)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "out: must not be NULL");
    if (out->version == 0 || out->version > VALKEYADDON_PLAN_CONFIG_VERSION)
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "out->version: %u is not a plan config version this library knows (1 to %d)",
                                  out->version, VALKEYADDON_PLAN_CONFIG_VERSION);
    if (!plan)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "plan: must not be NULL");
    for (i = 0; i < PLAN_COUNT; i++) {
        if (strcmp(plans[i].name, plan) == 0) {
            fill(out, &plans[i], 0);
            return VALKEYADDON_OK;
        }
    }
    if (is_displayable(plan))
        valkeyaddon__log(ctx, VALKEYADDON_LOG_WARNING,
                         "unknown plan \"%s\"; using \"free\" (known: free, standard, pro)", plan);
    else
        valkeyaddon__log(ctx, VALKEYADDON_LOG_WARNING,
                         "unknown plan (%zu bytes, not printable); using \"free\" (known: free, standard, pro)",
                         strlen(plan));
    fill(out, &plans[0], 1);
    return VALKEYADDON_PLAN_FELL_BACK;
}
