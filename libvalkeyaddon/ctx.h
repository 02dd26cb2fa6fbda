/* The context's private layout and the error/log helpers every module uses. */
#ifndef VALKEYADDON_INTERNAL_CTX_H
#define VALKEYADDON_INTERNAL_CTX_H

#include "valkeyaddon/context.h"
#include "valkeyaddon/errors.h"
#include "valkeyaddon/sys/transport.h"
#include "valkeyaddon/sys/storage.h"
#include "objects/objects.h"

/* Fixed size so that reporting a failure (ENOMEM included) never allocates. */
#define VALKEYADDON__MESSAGE_SIZE 1024

struct valkeyaddon_ctx {
    int error_code;
    char error_message[VALKEYADDON__MESSAGE_SIZE];
    int log_level;
    valkeyaddon_log_cb log_cb;
    void *log_payload;
    struct valkeyaddon__object_options object_options; /* defaults filled in */
    valkeyaddon_transport *transport;                  /* owned; NULL until set */
    valkeyaddon_storage *storage;                      /* owned; NULL until set */
    long progress_deadline_ms; /* rollout.c: 0 the default, -1 none, else the deadline */
    int not_found_expected; /* > 0 inside a probe: ENOTFOUND is an answer, logged at DEBUG (transport.c) */
};

#if defined(__GNUC__)
# define VALKEYADDON__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
# define VALKEYADDON__PRINTF(f, a)
#endif

/* Fill ctx->object_options with the defaults (at ctx creation); -1 on ENOMEM. */
int valkeyaddon__object_options_init(struct valkeyaddon__object_options *options);
void valkeyaddon__object_options_clear(struct valkeyaddon__object_options *options);

/* Forget the previous failure; every public function taking a ctx starts here. */
void valkeyaddon__begin(valkeyaddon_ctx *ctx);

/*
 * Record a failure on ctx (which may be NULL) and return code, so callers can
 * write `return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "...")`. The
 * message is also logged at ERROR level. Never pass secret material.
 */
int valkeyaddon__error(valkeyaddon_ctx *ctx, int code, const char *fmt, ...) VALKEYADDON__PRINTF(3, 4);

/* Give a storage failure without a message one naming the step; returns code. */
int valkeyaddon__storage_failed(valkeyaddon_ctx *ctx, int code, const char *what);

/* Send a line to the context's log callback if its level admits it. */
void valkeyaddon__log(valkeyaddon_ctx *ctx, int level, const char *fmt, ...) VALKEYADDON__PRINTF(3, 4);

#endif
