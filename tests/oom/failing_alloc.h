/*
 * A counting allocator for valkeyaddon_replace_allocator() that fails the Nth
 * allocation of an armed window (once, or that one and every later one) and
 * tracks the library's live blocks, so a leak shows as a live count that does
 * not return to where it was, in any build (docs/allocation-failure.md).
 */
#ifndef VALKEYADDON_TESTS_FAILING_ALLOC_H
#define VALKEYADDON_TESTS_FAILING_ALLOC_H

#include <stddef.h>

enum oom_mode {
    OOM_ONCE = 0,  /* fail only the Nth allocation: the error path runs with memory available */
    OOM_STICKY = 1 /* fail the Nth and every later one: the error path itself cannot allocate */
};

/* Install the allocator (once, in main, before any other library call). */
void oom_install(void);

/* Count allocations from now on and fail the nth (n >= 1) as mode says; n = 0 counts only. */
void oom_arm(long n, enum oom_mode mode);

/* 1: raise SIGTRAP when the allocation fails (for a backtrace under gdb); 0: not. */
void oom_set_trap(int on);

/* Stop failing; allocations made since oom_arm() are returned. */
long oom_disarm(void);

/* 1 when an allocation was refused since the last oom_arm(). */
int oom_injected(void);

/* Blocks the library holds now (allocated through the allocator and not freed). */
long oom_live(void);

/* The allocation number (counted from process start) of a live block, for a leak report; 0 when none. */
long oom_first_live_serial(long after_serial);

/* Allocations since process start: live blocks with a larger serial were allocated after a given point. */
long oom_serial(void);

#endif
