/*
 * The failing allocator (failing_alloc.h). Blocks come from the C library's
 * malloc, untouched (no header), so AddressSanitizer still sees every
 * overflow exactly; live blocks are kept in an open-addressing table keyed by
 * address, with the serial number of the allocation that made each, so a
 * leak report can name the allocation to break on.
 */
#include "failing_alloc.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <valkeyaddon/memory.h>

#define SLOTS (1u << 16) /* far more than the library ever holds at once */

struct slot {
    void *ptr;
    long serial;
};

static struct slot table[SLOTS];
static long live;
static long serial;    /* allocations since process start */
static long armed_at;  /* 0: not armed */
static long counted;   /* allocations since oom_arm() */
static long fail_at;   /* 0: count only */
static int sticky;
static int injected;
static int trap;

static size_t slot_of(const void *p)
{
    uintptr_t h = (uintptr_t)p;

    h ^= h >> 17;
    h *= (uintptr_t)0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 7) & (SLOTS - 1);
}

static void track(void *p)
{
    size_t i = slot_of(p);

    if (live >= (long)(SLOTS / 2)) {
        fprintf(stderr, "failing_alloc: more than %u live blocks; enlarge SLOTS\n", SLOTS / 2);
        abort();
    }
    while (table[i].ptr)
        i = (i + 1) & (SLOTS - 1);
    table[i].ptr = p;
    table[i].serial = serial;
    live++;
}

/* Backward-shift deletion keeps every probe chain intact without tombstones. */
static void untrack(void *p)
{
    size_t i = slot_of(p), j, home;

    while (table[i].ptr != p) {
        if (!table[i].ptr) {
            fprintf(stderr, "failing_alloc: %p was not allocated through the library's allocator\n", p);
            abort();
        }
        i = (i + 1) & (SLOTS - 1);
    }
    table[i].ptr = NULL;
    live--;
    for (j = (i + 1) & (SLOTS - 1); table[j].ptr; j = (j + 1) & (SLOTS - 1)) {
        home = slot_of(table[j].ptr);
        /* Move j back to i unless its home lies cyclically in (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            table[i] = table[j];
            table[j].ptr = NULL;
            i = j;
        }
    }
}

/* 1 when this allocation must fail. */
static int refuse(void)
{
    if (!armed_at)
        return 0;
    counted++;
    if (fail_at && (counted == fail_at || (sticky && counted > fail_at))) {
        if (trap && !injected)
            raise(SIGTRAP); /* under gdb: the backtrace of the allocation that fails */
        injected = 1;
        return 1;
    }
    return 0;
}

static void *fa_malloc(size_t size)
{
    void *p;

    if (refuse())
        return NULL;
    serial++;
    if ((p = malloc(size)))
        track(p);
    return p;
}

static void *fa_calloc(size_t count, size_t size)
{
    void *p;

    if (refuse())
        return NULL;
    serial++;
    if ((p = calloc(count, size)))
        track(p);
    return p;
}

static void *fa_realloc(void *old, size_t size)
{
    void *p;

    if (refuse())
        return NULL; /* like realloc(): the old block stays valid and live */
    serial++;
    /* Forgotten before the call: after a successful realloc() the old address may be reused at once. */
    if (old)
        untrack(old);
    if (!(p = realloc(old, size))) {
        if (old)
            track(old);
        return NULL;
    }
    track(p);
    return p;
}

static void fa_free(void *p)
{
    if (!p)
        return;
    untrack(p);
    free(p);
}

void oom_install(void)
{
    if (valkeyaddon_replace_allocator(fa_malloc, fa_realloc, fa_calloc, fa_free) != 0) {
        fprintf(stderr, "failing_alloc: valkeyaddon_replace_allocator refused the allocator\n");
        abort();
    }
}

void oom_set_trap(int on)
{
    trap = on;
}

void oom_arm(long n, enum oom_mode mode)
{
    armed_at = serial + 1;
    counted = 0;
    fail_at = n;
    sticky = mode == OOM_STICKY;
    injected = 0;
}

long oom_disarm(void)
{
    armed_at = 0;
    fail_at = 0;
    return counted;
}

int oom_injected(void)
{
    return injected;
}

long oom_live(void)
{
    return live;
}

long oom_serial(void)
{
    return serial;
}

long oom_first_live_serial(long after_serial)
{
    long best = 0;
    size_t i;

    for (i = 0; i < SLOTS; i++)
        if (table[i].ptr && table[i].serial > after_serial && (!best || table[i].serial < best))
            best = table[i].serial;
    return best;
}
