/*
 * The StatefulSet status projection (rollout.c project()), reached the way a
 * caller does: valkeyaddon_addon_status over a tiny transport whose `get`
 * returns the input, and valkeyaddon_wait_ready over the same transport's
 * `watch`, which hands the input to the library's callback as one event in
 * an exact-size buffer (the watch callback's json is not NUL-terminated:
 * sys/transport.h gives it with a length). Byte 0 picks the event type.
 * Checks: a reported status is Creating, Ready or Failed with non-negative
 * counts, and its message is NUL-terminated inside the struct.
 */
#include "fuzz.h"

#include "valkeyaddon/errors.h"
#include "valkeyaddon/rollout.h"
#include "valkeyaddon/status.h"
#include "valkeyaddon/sys/transport.h"

static const uint8_t *input;
static size_t input_len;
static int input_event;

static int fake_get(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                    const valkeyaddon_resource *resource, const char *ns, const char *name)
{
    (void)self, (void)ctx, (void)resource, (void)ns, (void)name;
    return valkeyaddon_buffer_set(out, (const char *)input, input_len);
}

static int fake_watch(valkeyaddon_transport *self, valkeyaddon_ctx *ctx, const valkeyaddon_resource *resource,
                      const char *ns, const char *name, const char *resource_version, long timeout_ms,
                      valkeyaddon_watch_cb callback, void *payload)
{
    char *copy = malloc(input_len ? input_len : 1);
    int rc;

    (void)self, (void)ctx, (void)resource, (void)ns, (void)name, (void)resource_version, (void)timeout_ms;
    FUZZ_ASSERT(copy != NULL);
    memcpy(copy, input, input_len);
    rc = callback(input_event, copy, input_len, payload);
    free(copy);
    return rc ? rc : VALKEYADDON_ETIMEOUT;
}

/* Never called by the status calls: present because a transport must have them. */
static int fake_create(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                       const valkeyaddon_resource *resource, const char *ns, const char *json, size_t len)
{
    (void)out, (void)self, (void)ctx, (void)resource, (void)ns, (void)json, (void)len;
    abort();
}

static int fake_apply(valkeyaddon_buffer *out, valkeyaddon_transport *self, valkeyaddon_ctx *ctx,
                      const valkeyaddon_resource *resource, const char *ns, const char *name, const char *json,
                      size_t len, const char *field_manager, int force)
{
    (void)out, (void)self, (void)ctx, (void)resource, (void)ns, (void)name, (void)json, (void)len;
    (void)field_manager, (void)force;
    abort();
}

static int fake_remove(valkeyaddon_transport *self, valkeyaddon_ctx *ctx, const valkeyaddon_resource *resource,
                       const char *ns, const char *name, unsigned int flags)
{
    (void)self, (void)ctx, (void)resource, (void)ns, (void)name, (void)flags;
    abort();
}

static void fake_free(valkeyaddon_transport *self)
{
    (void)self;
}

static void check_info(const valkeyaddon_status_info *info)
{
    FUZZ_ASSERT(info->status == VALKEYADDON_STATUS_CREATING || info->status == VALKEYADDON_STATUS_READY ||
                info->status == VALKEYADDON_STATUS_FAILED);
    FUZZ_ASSERT(info->ready >= 0 && info->desired >= 0);
    FUZZ_ASSERT(memchr(info->message, '\0', sizeof(info->message)) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static valkeyaddon_transport transport = VALKEYADDON_TRANSPORT_INIT;
    valkeyaddon_status_info info = VALKEYADDON_STATUS_INFO_INIT;
    valkeyaddon_ctx *ctx;
    int rc;

    if (size < 1)
        return 0;
    input_event = 1 + data[0] % 4;
    input = data + 1;
    input_len = size - 1;
    transport.get = fake_get;
    transport.create = fake_create;
    transport.apply = fake_apply;
    transport.remove = fake_remove;
    transport.free = fake_free;
    transport.watch = NULL;

    ctx = fuzz_ctx();
    FUZZ_ASSERT(valkeyaddon_ctx_set_transport(ctx, &transport) == 0);
    rc = valkeyaddon_addon_status(&info, ctx, "tenant-ns", "tenant", "app");
    if (rc == 0)
        check_info(&info);
    else
        FUZZ_ASSERT(rc == VALKEYADDON_ESERVER);
    fuzz_ctx_free(ctx);

    transport.watch = fake_watch;
    ctx = fuzz_ctx();
    FUZZ_ASSERT(valkeyaddon_ctx_set_transport(ctx, &transport) == 0);
    info = (valkeyaddon_status_info)VALKEYADDON_STATUS_INFO_INIT;
    rc = valkeyaddon_wait_ready(&info, ctx, "tenant-ns", "tenant", "app", 0, NULL, NULL);
    if (rc == 0)
        check_info(&info);
    else
        FUZZ_ASSERT(rc == VALKEYADDON_ETIMEOUT || rc == VALKEYADDON_ESERVER);
    fuzz_ctx_free(ctx);
    return 0;
}
