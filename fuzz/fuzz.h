/*
 * Shared by the fuzz targets (fuzz/fuzz_*.c). Each target defines
 * LLVMFuzzerTestOneInput; it is linked either with libFuzzer
 * (fuzz/build.sh) or with fuzz/replay.c, which feeds it the committed
 * corpus under `make check` (tests/fuzz/). Harness-side checks use
 * FUZZ_ASSERT: a broken invariant must crash, so that libFuzzer keeps the input.
 */
#ifndef VALKEYADDON_FUZZ_H
#define VALKEYADDON_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "valkeyaddon/context.h"

#define FUZZ_ASSERT(cond)                                                                   \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input (plain malloc: the harness's, not the library's). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    FUZZ_ASSERT(s != NULL);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A fresh context; the library's error messages must always be NUL-terminated text. */
static inline valkeyaddon_ctx *fuzz_ctx(void)
{
    valkeyaddon_ctx *ctx = NULL;

    FUZZ_ASSERT(valkeyaddon_ctx_new(&ctx, NULL) == 0 && ctx != NULL);
    return ctx;
}

static inline void fuzz_ctx_free(valkeyaddon_ctx *ctx)
{
    const char *message = valkeyaddon_ctx_error_message(ctx);

    if (message)
        FUZZ_ASSERT(strlen(message) < 65536);
    valkeyaddon_ctx_free(ctx);
}

#endif
