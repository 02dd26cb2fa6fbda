/*
 * The StatefulSet: pod 0 is the primary, pods 1.. replicate it (pro). Every
 * choice is explained, field by field, in docs/objects.md.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "ctx.h"
#include "objects/builders.h"

/* The image's valkey user (uid 999; the alpine image's valkey group is gid 1000). */
#define VALKEY_UID 999
#define VALKEY_GID 1000

/* Where the exporter container finds its password file (a Secret volume). */
#define EXPORTER_VOLUME "exporter-auth"
#define EXPORTER_RUN_DIR "/run/redis-exporter"
#define EXPORTER_PASSWORDS_FILE "passwords.json"

static int persistent(const struct valkeyaddon__addon *addon)
{
    return addon->plan->persistence != VALKEYADDON_PERSISTENCE_NONE;
}

/*
 * SHA-256 of everything the pods' behaviour depends on except the password:
 * a plan, image or script change gives a new value, and the pod template
 * annotation carrying it rolls the pods. A password change does not (the
 * password is never rotated; see docs/objects.md).
 */
static int config_hash(char hex[65], const struct valkeyaddon__addon *addon, const char *script)
{
    const valkeyaddon_plan_config *p = addon->plan;
    const struct valkeyaddon__object_options *o = addon->options;
    char replicas[24], cpu_request[24], cpu_limit[24], appendonly[24], percent[24];
    const char *pieces[] = {
        "libvalkeyaddon config 1\nplan=", p->plan,
        "\nreplicas=", valkeyaddon__int_text(replicas, p->replicas),
        "\nmemory_limit=", p->memory_limit,
        "\nmemory_request=", p->memory_request,
        "\ncpu_request=", valkeyaddon__int_text(cpu_request, p->cpu_request_millis),
        "\ncpu_limit=", valkeyaddon__int_text(cpu_limit, p->cpu_limit_millis),
        "\npersistence=", p->persistence_name,
        "\nsave=", p->save,
        "\nappendonly=", valkeyaddon__int_text(appendonly, p->appendonly),
        "\nappendfsync=", p->appendfsync,
        "\nmaxmemory_percent=", valkeyaddon__int_text(percent, p->maxmemory_percent),
        "\nmaxmemory_policy=", p->maxmemory_policy,
        "\nvolume_size=", p->volume_size,
        "\nstorage_class=", o->storage_class ? o->storage_class : "",
        "\nimage=", o->image,
        "\nexporter_image=", o->no_exporter ? "" : o->exporter_image,
        "\ncluster_domain=", o->cluster_domain,
        "\nstart_script=\n", script,
    };
    static const char digits[] = "0123456789abcdef";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0, i;
    size_t len;
    char *text;
    int ok;

    if (!(text = valkeyaddon__concat(&len, pieces, sizeof(pieces) / sizeof(pieces[0]))))
        return VALKEYADDON_ENOMEM;
    ok = EVP_Digest(text, len, digest, &digest_len, EVP_sha256(), NULL) == 1 && digest_len == 32;
    valkeyaddon__free(text);
    if (!ok)
        return VALKEYADDON_ERROR;
    for (i = 0; i < digest_len; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 0x0f];
    }
    hex[64] = '\0';
    return VALKEYADDON_OK;
}

static void gen_secret_env(struct valkeyaddon__jw *j, const struct valkeyaddon__addon *addon, const char *name)
{
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "name", name);
    valkeyaddon__jw_key_map(j, "valueFrom");
    valkeyaddon__jw_key_map(j, "secretKeyRef");
    valkeyaddon__jw_kv_string(j, "name", addon->auth_secret);
    valkeyaddon__jw_kv_string(j, "key", "password");
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_map_close(j);
}

static void gen_env(struct valkeyaddon__jw *j, const char *name, const char *value)
{
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "name", name);
    valkeyaddon__jw_kv_string(j, "value", value);
    valkeyaddon__jw_map_close(j);
}

static void gen_container_port(struct valkeyaddon__jw *j, const char *name, int port)
{
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "name", name);
    valkeyaddon__jw_kv_int(j, "containerPort", port);
    valkeyaddon__jw_kv_string(j, "protocol", "TCP");
    valkeyaddon__jw_map_close(j);
}

static void gen_resources(struct valkeyaddon__jw *j, const char *cpu_request, const char *memory_request,
                          const char *cpu_limit, const char *memory_limit)
{
    valkeyaddon__jw_key_map(j, "resources");
    valkeyaddon__jw_key_map(j, "requests");
    valkeyaddon__jw_kv_string(j, "cpu", cpu_request);
    valkeyaddon__jw_kv_string(j, "memory", memory_request);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_key_map(j, "limits");
    valkeyaddon__jw_kv_string(j, "cpu", cpu_limit);
    valkeyaddon__jw_kv_string(j, "memory", memory_limit);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_map_close(j);
}

/* No privilege, no capability, nothing writable but the mounted volumes. */
static void gen_container_security(struct valkeyaddon__jw *j)
{
    valkeyaddon__jw_key_map(j, "securityContext");
    valkeyaddon__jw_kv_bool(j, "allowPrivilegeEscalation", 0);
    valkeyaddon__jw_kv_bool(j, "readOnlyRootFilesystem", 1);
    valkeyaddon__jw_kv_bool(j, "runAsNonRoot", 1);
    valkeyaddon__jw_key_map(j, "capabilities");
    valkeyaddon__jw_key_array(j, "drop");
    valkeyaddon__jw_string(j, "ALL");
    valkeyaddon__jw_array_close(j);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_map_close(j);
}

static void gen_probe(struct valkeyaddon__jw *j, const char *key, const char *check, int initial_delay, int period,
                      int timeout, int failures)
{
    valkeyaddon__jw_key_map(j, key);
    valkeyaddon__jw_key_map(j, "exec");
    valkeyaddon__jw_key_array(j, "command");
    valkeyaddon__jw_string(j, "/bin/sh");
    valkeyaddon__jw_string(j, "-c");
    valkeyaddon__jw_string(j, check);
    valkeyaddon__jw_array_close(j);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_kv_int(j, "initialDelaySeconds", initial_delay);
    valkeyaddon__jw_kv_int(j, "periodSeconds", period);
    valkeyaddon__jw_kv_int(j, "timeoutSeconds", timeout);
    valkeyaddon__jw_kv_int(j, "successThreshold", 1);
    valkeyaddon__jw_kv_int(j, "failureThreshold", failures);
    valkeyaddon__jw_map_close(j);
}

static void gen_valkey_container(struct valkeyaddon__jw *j, const struct valkeyaddon__addon *addon,
                                 const char *script, size_t script_len, const char *primary_host)
{
    const valkeyaddon_plan_config *p = addon->plan;
    char cpu_request[24], cpu_limit[24];

    snprintf(cpu_request, sizeof(cpu_request), "%dm", (int)p->cpu_request_millis);
    snprintf(cpu_limit, sizeof(cpu_limit), "%dm", (int)p->cpu_limit_millis);

    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "name", "valkey");
    valkeyaddon__jw_kv_string(j, "image", addon->options->image);
    valkeyaddon__jw_kv_string(j, "imagePullPolicy", "IfNotPresent");
    valkeyaddon__jw_key_array(j, "command");
    valkeyaddon__jw_string(j, "/bin/sh");
    valkeyaddon__jw_string(j, "-c");
    valkeyaddon__jw_stringn(j, script, script_len);
    valkeyaddon__jw_array_close(j);

    valkeyaddon__jw_key_array(j, "env");
    /* The password only ever travels as a reference to the auth Secret. */
    gen_secret_env(j, addon, "VALKEY_PASSWORD");
    /* valkey-cli reads it, so probes and operators never pass -a (visible in ps). */
    gen_secret_env(j, addon, "REDISCLI_AUTH");
    gen_env(j, "VALKEY_PORT", "6379");
    gen_env(j, "VALKEY_PRIMARY_HOST", primary_host);
    valkeyaddon__jw_array_close(j);

    valkeyaddon__jw_key_array(j, "ports");
    gen_container_port(j, "valkey", VALKEYADDON__VALKEY_PORT);
    valkeyaddon__jw_array_close(j);

    gen_resources(j, cpu_request, p->memory_request, cpu_limit, p->memory_limit);

    valkeyaddon__jw_key_array(j, "volumeMounts");
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "name", "data");
    valkeyaddon__jw_kv_string(j, "mountPath", "/data");
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "name", "run");
    valkeyaddon__jw_kv_string(j, "mountPath", "/run/valkey");
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_array_close(j);

    /* Ready: answers PONG. Alive: answers PONG or is still loading its dataset. */
    gen_probe(j, "readinessProbe", valkeyaddon__readiness_check, 5, 5, 3, 3);
    gen_probe(j, "livenessProbe", valkeyaddon__liveness_check, 20, 10, 5, 6);
    gen_container_security(j);
    valkeyaddon__jw_map_close(j);
}

static void gen_exporter_container(struct valkeyaddon__jw *j, const struct valkeyaddon__addon *addon)
{
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "name", "redis-exporter");
    valkeyaddon__jw_kv_string(j, "image", addon->options->exporter_image);
    valkeyaddon__jw_kv_string(j, "imagePullPolicy", "IfNotPresent");
    valkeyaddon__jw_key_array(j, "env");
    gen_env(j, "REDIS_ADDR", VALKEYADDON__EXPORTER_REDIS_ADDR);
    /*
     * A password file keyed by server URI, never REDIS_PASSWORD: the exporter
     * sends REDIS_PASSWORD to whatever server /scrape?target= names, but a
     * password from the file only to the URI it is filed under, the local
     * server (tests/objects/test_exporter.py shows both).
     */
    gen_env(j, "REDIS_PASSWORD_FILE", EXPORTER_RUN_DIR "/" EXPORTER_PASSWORDS_FILE);
    valkeyaddon__jw_array_close(j);
    valkeyaddon__jw_key_array(j, "ports");
    gen_container_port(j, "metrics", VALKEYADDON__METRICS_PORT);
    valkeyaddon__jw_array_close(j);
    gen_resources(j, "10m", "32Mi", "50m", "64Mi");
    valkeyaddon__jw_key_array(j, "volumeMounts");
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "name", EXPORTER_VOLUME);
    valkeyaddon__jw_kv_string(j, "mountPath", EXPORTER_RUN_DIR);
    valkeyaddon__jw_kv_bool(j, "readOnly", 1);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_array_close(j);
    gen_container_security(j);
    valkeyaddon__jw_map_close(j);
}

/*
 * The exporter's password file, the one key of the auth Secret it needs:
 * root-owned, group fsGroup (the exporter runs in it), mode 0440; nothing else
 * of the Secret reaches that container, and the valkey container does not
 * mount it.
 */
static void gen_exporter_volume(struct valkeyaddon__jw *j, const struct valkeyaddon__addon *addon)
{
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "name", EXPORTER_VOLUME);
    valkeyaddon__jw_key_map(j, "secret");
    valkeyaddon__jw_kv_string(j, "secretName", addon->auth_secret);
    valkeyaddon__jw_kv_int(j, "defaultMode", 0440);
    valkeyaddon__jw_key_array(j, "items");
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "key", VALKEYADDON__EXPORTER_PASSWORDS_KEY);
    valkeyaddon__jw_kv_string(j, "path", EXPORTER_PASSWORDS_FILE);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_array_close(j);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_map_close(j);
}

static void gen_volumes(struct valkeyaddon__jw *j, const struct valkeyaddon__addon *addon)
{
    char size[32];

    valkeyaddon__jw_key_array(j, "volumes");
    /* The generated config file (it holds the password): memory-backed, a few hundred bytes. */
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "name", "run");
    valkeyaddon__jw_key_map(j, "emptyDir");
    valkeyaddon__jw_kv_string(j, "medium", "Memory");
    valkeyaddon__jw_kv_string(j, "sizeLimit", "1Mi");
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_map_close(j);
    if (!persistent(addon)) {
        /*
         * No persistence, but the root filesystem is read-only and the server
         * needs a working directory (a manual SAVE writes there). Room for a
         * snapshot and its temporary copy; more gets the pod evicted rather
         * than the node's disk filled.
         */
        snprintf(size, sizeof(size), "%" PRId64, addon->plan->memory_limit_bytes * 2);
        valkeyaddon__jw_map_open(j);
        valkeyaddon__jw_kv_string(j, "name", "data");
        valkeyaddon__jw_key_map(j, "emptyDir");
        valkeyaddon__jw_kv_string(j, "sizeLimit", size);
        valkeyaddon__jw_map_close(j);
        valkeyaddon__jw_map_close(j);
    }
    if (!addon->options->no_exporter)
        gen_exporter_volume(j, addon);
    valkeyaddon__jw_array_close(j);
}

/* Replicas prefer other nodes than their primary's (a preference: a single-node cluster still schedules). */
static void gen_affinity(struct valkeyaddon__jw *j, const struct valkeyaddon__addon *addon)
{
    valkeyaddon__jw_key_map(j, "affinity");
    valkeyaddon__jw_key_map(j, "podAntiAffinity");
    valkeyaddon__jw_key_array(j, "preferredDuringSchedulingIgnoredDuringExecution");
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_int(j, "weight", 100);
    valkeyaddon__jw_key_map(j, "podAffinityTerm");
    valkeyaddon__jw_kv_string(j, "topologyKey", "kubernetes.io/hostname");
    valkeyaddon__jw_key_map(j, "labelSelector");
    valkeyaddon__jw_key(j, "matchLabels");
    valkeyaddon__gen_selector(j, addon);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_array_close(j);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_map_close(j);
}

/*
 * Immutable once created: only what the plan's storage needs, and labels that
 * never change (the selector's; the controller adds them to each claim anyway).
 * apiVersion and kind are explicit, so server-side apply sees no difference
 * from what the API server stores.
 */
static void gen_claim_templates(struct valkeyaddon__jw *j, const struct valkeyaddon__addon *addon)
{
    valkeyaddon__jw_key_array(j, "volumeClaimTemplates");
    valkeyaddon__jw_map_open(j);
    valkeyaddon__jw_kv_string(j, "apiVersion", "v1");
    valkeyaddon__jw_kv_string(j, "kind", "PersistentVolumeClaim");
    valkeyaddon__jw_key_map(j, "metadata");
    valkeyaddon__jw_kv_string(j, "name", "data");
    valkeyaddon__jw_key(j, "labels");
    valkeyaddon__gen_selector(j, addon);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_key_map(j, "spec");
    valkeyaddon__jw_key_array(j, "accessModes");
    valkeyaddon__jw_string(j, "ReadWriteOnce");
    valkeyaddon__jw_array_close(j);
    if (addon->options->storage_class)
        valkeyaddon__jw_kv_string(j, "storageClassName", addon->options->storage_class);
    valkeyaddon__jw_kv_string(j, "volumeMode", "Filesystem");
    valkeyaddon__jw_key_map(j, "resources");
    valkeyaddon__jw_key_map(j, "requests");
    valkeyaddon__jw_kv_string(j, "storage", addon->plan->volume_size);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_map_close(j);
    valkeyaddon__jw_array_close(j);
}

int valkeyaddon__build_statefulset(struct valkeyaddon__object *out, valkeyaddon_ctx *ctx,
                                   const struct valkeyaddon__addon *addon)
{
    const valkeyaddon_plan_config *p = addon->plan;
    struct valkeyaddon__jw j;
    char hash[65], primary_host[VALKEYADDON_NAME_BUFSIZE * 3 + 320];
    char *script = NULL;
    size_t script_len = 0;
    int error;

    memset(out, 0, sizeof(*out));
    if (valkeyaddon__start_script(&script, &script_len, addon) < 0)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "out of memory building StatefulSet %s", addon->name);
    if ((error = config_hash(hash, addon, script)) < 0) {
        valkeyaddon__free(script);
        if (error == VALKEYADDON_ENOMEM)
            return valkeyaddon__error(ctx, error, "out of memory building StatefulSet %s", addon->name);
        return valkeyaddon__error(ctx, error, "hashing the configuration failed (OpenSSL EVP_Digest)");
    }
    snprintf(primary_host, sizeof(primary_host), "%s-0.%s.%s.svc.%s", addon->name, addon->headless_service,
             addon->namespace_, addon->options->cluster_domain);

    valkeyaddon__object_begin_metadata(&j, &valkeyaddon__statefulset_resource, addon, addon->name, NULL, NULL);
    /*
     * The plan by name, for people (kubectl get -o yaml) and for transports
     * that realise the StatefulSet themselves (the local one runs servers from
     * valkey_plan_config() of it). An annotation, not a label: a plan change
     * must not touch labels (see labels.c), and nothing selects on it.
     */
    valkeyaddon__jw_key_map(&j, "annotations");
    valkeyaddon__jw_kv_string(&j, "valkeyaddon.io/plan", p->plan);
    valkeyaddon__object_mark_stamp(&j, VALKEYADDON__STAMP_IN_ANNOTATIONS);
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_map_close(&j); /* metadata */
    valkeyaddon__jw_key_map(&j, "spec");
    valkeyaddon__jw_kv_string(&j, "serviceName", addon->headless_service);
    valkeyaddon__jw_kv_int(&j, "replicas", p->replicas);
    /* Pod 0 (the primary) first and alone, replicas after it is ready; updates go 2, 1, then 0. */
    valkeyaddon__jw_kv_string(&j, "podManagementPolicy", "OrderedReady");
    valkeyaddon__jw_key_map(&j, "updateStrategy");
    valkeyaddon__jw_kv_string(&j, "type", "RollingUpdate");
    valkeyaddon__jw_map_close(&j);
    /*
     * Claims outlive the StatefulSet: deleting it (by hand, or a re-create on
     * a plan change) never deletes data. Only deprovision with delete_data
     * does, claim by claim, after checking they are this add-on's
     * (docs/objects.md, "Volume claims and data retention"). A scale-down
     * keeps them too (a later scale-up reuses them).
     */
    valkeyaddon__jw_key_map(&j, "persistentVolumeClaimRetentionPolicy");
    valkeyaddon__jw_kv_string(&j, "whenDeleted", "Retain");
    valkeyaddon__jw_kv_string(&j, "whenScaled", "Retain");
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_key_map(&j, "selector");
    valkeyaddon__jw_key(&j, "matchLabels");
    valkeyaddon__gen_selector(&j, addon);
    valkeyaddon__jw_map_close(&j);

    valkeyaddon__jw_key_map(&j, "template");
    valkeyaddon__jw_key_map(&j, "metadata");
    valkeyaddon__jw_key(&j, "labels");
    valkeyaddon__gen_labels(&j, addon, NULL, NULL);
    valkeyaddon__jw_key_map(&j, "annotations");
    valkeyaddon__jw_kv_string(&j, "valkeyaddon.io/config-hash", hash);
    /*
     * The config hash leaves the password out, and the pods read it from the
     * auth Secret only when they start: a re-created auth Secret (new
     * password, new id) must change the template, or the running servers
     * keep the old password while REDIS_URL carries the new one.
     */
    if (addon->credential_id[0])
        valkeyaddon__jw_kv_string(&j, VALKEYADDON__CREDENTIAL_ID_ANNOTATION, addon->credential_id);
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_map_close(&j);

    valkeyaddon__jw_key_map(&j, "spec");
    valkeyaddon__jw_kv_bool(&j, "automountServiceAccountToken", 0);
    valkeyaddon__jw_kv_bool(&j, "enableServiceLinks", 0);
    /* Room for the final RDB save and AOF fsync on SIGTERM; nothing to save without persistence. */
    valkeyaddon__jw_kv_int(&j, "terminationGracePeriodSeconds", persistent(addon) ? 60 : 10);
    valkeyaddon__jw_key_map(&j, "securityContext");
    valkeyaddon__jw_kv_bool(&j, "runAsNonRoot", 1);
    valkeyaddon__jw_kv_int(&j, "runAsUser", VALKEY_UID);
    valkeyaddon__jw_kv_int(&j, "runAsGroup", VALKEY_GID);
    valkeyaddon__jw_kv_int(&j, "fsGroup", VALKEY_GID);
    valkeyaddon__jw_kv_string(&j, "fsGroupChangePolicy", "OnRootMismatch");
    valkeyaddon__jw_key_map(&j, "seccompProfile");
    valkeyaddon__jw_kv_string(&j, "type", "RuntimeDefault");
    valkeyaddon__jw_map_close(&j);
    valkeyaddon__jw_map_close(&j);
    if (p->replicas > 1)
        gen_affinity(&j, addon);
    valkeyaddon__jw_key_array(&j, "containers");
    gen_valkey_container(&j, addon, script, script_len, primary_host);
    if (!addon->options->no_exporter)
        gen_exporter_container(&j, addon);
    valkeyaddon__jw_array_close(&j);
    gen_volumes(&j, addon);
    valkeyaddon__jw_map_close(&j); /* template.spec */
    valkeyaddon__jw_map_close(&j); /* template */

    if (persistent(addon))
        gen_claim_templates(&j, addon);
    valkeyaddon__jw_map_close(&j); /* spec */

    error = valkeyaddon__object_end(out, ctx, &j, &valkeyaddon__statefulset_resource, addon->name);
    valkeyaddon__free(script);
    return error;
}
