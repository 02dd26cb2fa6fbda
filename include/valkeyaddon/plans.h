/**
 * @file valkeyaddon/plans.h
 * @brief Plan configurations: what each plan gives an add-on.
 *
 * The spec's table, exactly: `free` 1 replica, 64Mi, no persistence;
 * `standard` 1 replica, 256Mi, rdb_daily; `pro` 3 replicas (one primary, two
 * replicas of it), 1Gi, rdb_aof. Plan names match exactly ("Pro" is unknown).
 * An unknown plan falls back to `free`, as the spec says, so a typo cannot ask
 * the cluster for resources it cannot satisfy; unlike the spec, the caller is
 * told (VALKEYADDON_PLAN_FELL_BACK and `fell_back`) so it can log the typo.
 *
 * maxmemory is a percentage of the container's memory limit, computed at
 * container start from the cgroup (the ADR's guardrail), so that
 * `noeviction` refuses writes before the kernel's OOM killer ends the process:
 * - none: 80%. The rest covers allocator fragmentation, client buffers and
 *   the exporter-free part of the container.
 * - rdb_daily: 60%. A save forks; copy-on-write duplicates every page written
 *   while the child runs. One save a day, so the 40% headroom (two thirds of
 *   the dataset rewritten during a save) is ample.
 * - rdb_aof: 50%. AOF rewrites and full resyncs to replicas fork too, more
 *   often and under write load, and the worst case doubles the dataset.
 */
#ifndef VALKEYADDON_PLANS_H
#define VALKEYADDON_PLANS_H

#include "common.h"
#include "context.h"

VALKEYADDON_BEGIN_DECL

/** Persistence modes, as the spec names them. */
typedef enum valkeyaddon_persistence {
    VALKEYADDON_PERSISTENCE_NONE = 0,      /**< "none": no RDB, no AOF, no volume */
    VALKEYADDON_PERSISTENCE_RDB_DAILY = 1, /**< "rdb_daily": one RDB snapshot a day, on a volume */
    VALKEYADDON_PERSISTENCE_RDB_AOF = 2    /**< "rdb_aof": AOF fsync everysec plus RDB, on a volume */
} valkeyaddon_persistence;

/**
 * A plan's configuration, filled by valkey_plan_config(). The caller sets
 * `version` (VALKEYADDON_PLAN_CONFIG_INIT does); the library fills the fields
 * of that version and never writes past them. All strings are NUL-terminated.
 */
typedef struct valkeyaddon_plan_config {
    unsigned int version;          /**< VALKEYADDON_PLAN_CONFIG_VERSION at compile time */
    char plan[16];                 /**< the plan used: "free", "standard" or "pro" */
    int fell_back;                 /**< 1 when the requested plan was unknown and `free` was used */
    int32_t replicas;              /**< pods: 1, or 3 for pro (a primary and two replicas) */
    int64_t memory_limit_bytes;    /**< container memory limit in bytes */
    char memory_limit[16];         /**< the same as a Kubernetes quantity, e.g. "64Mi" */
    int64_t memory_request_bytes;  /**< memory request: equal to the limit (no overcommit) */
    char memory_request[16];       /**< the same as a quantity */
    int32_t persistence;           /**< a valkeyaddon_persistence */
    char persistence_name[16];     /**< "none", "rdb_daily" or "rdb_aof" */
    char save[48];                 /**< the `save` directive: "" disables RDB snapshots */
    int appendonly;                /**< 1 when AOF is on */
    char appendfsync[16];          /**< "everysec" with AOF, "" without */
    int32_t maxmemory_percent;     /**< maxmemory as a percentage of the memory limit */
    char maxmemory_policy[32];     /**< "noeviction" for every plan */
    int32_t cpu_request_millis;    /**< CPU request in millicores */
    int32_t cpu_limit_millis;      /**< CPU limit in millicores */
    int64_t volume_size_bytes;     /**< data volume size; 0 when the plan has no volume */
    char volume_size[16];          /**< the same as a quantity; "" when no volume */
    /* members above are valid for version 1; append only */
} valkeyaddon_plan_config;

/** The plan config version these headers describe. */
#define VALKEYADDON_PLAN_CONFIG_VERSION 1
/** Static initialiser for valkeyaddon_plan_config (every field, so -Wextra stays quiet). */
#define VALKEYADDON_PLAN_CONFIG_INIT \
    { VALKEYADDON_PLAN_CONFIG_VERSION, "", 0, 0, 0, "", 0, "", 0, "", "", 0, "", 0, "", 0, 0, 0, "" }

/** Positive result of valkey_plan_config(): the plan was unknown; `free` was used. */
#define VALKEYADDON_PLAN_FELL_BACK 1

/**
 * The configuration of a plan.
 *
 * @param[out] out caller-owned struct with `version` set; filled on success,
 *        untouched on failure
 * @param ctx receives the error detail (and a warning is logged on fall-back); may be NULL
 * @param plan the plan name, matched exactly; an unknown name (including "")
 *        selects `free`
 * @return 0 for a known plan; VALKEYADDON_PLAN_FELL_BACK when `free` was used
 *         instead; VALKEYADDON_EINVAL for NULL out or plan;
 *         VALKEYADDON_EVERSION for an unknown struct version
 */
VALKEYADDON_API int valkey_plan_config(valkeyaddon_plan_config *out, valkeyaddon_ctx *ctx, const char *plan);

/**
 * The number of plans this library knows.
 *
 * @return 3 in this version
 */
VALKEYADDON_API size_t valkeyaddon_plan_count(void);

/**
 * The name of the index-th plan, in the spec's order (free, standard, pro).
 *
 * @param index 0 to valkeyaddon_plan_count() - 1
 * @return a static string owned by the library, or NULL past the end
 */
VALKEYADDON_API const char *valkeyaddon_plan_name(size_t index);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_PLANS_H */
