/*
 * The storage conformance suite: every backend (memory, SQLite, PostgreSQL, a
 * user's own) must pass the same cases, through its vtable and through the
 * public accessors of a context that owns it (valkeyaddon/provision.h).
 *
 * Link tests/storage/conformance.c into the test program with cmocka and
 * libvalkeyaddon; see tests/storage/test_storage_memory.c for the smallest use.
 */
#ifndef VALKEYADDON_TESTS_STORAGE_CONFORMANCE_H
#define VALKEYADDON_TESTS_STORAGE_CONFORMANCE_H

#include <valkeyaddon.h>
#include <valkeyaddon/storages.h>
#include <valkeyaddon/sys/storage.h>

/*
 * Make a storage for one case: it must be fresh, EMPTY and migrated, and the
 * caller (the suite) owns it. ctx may receive an error message. Return 0 or
 * a negative code (the case then fails, showing the context's message).
 */
typedef int (*storage_factory)(valkeyaddon_storage **out, valkeyaddon_ctx *ctx, void *payload);

/*
 * Run every conformance case as the cmocka group `group_name`
 * (cmocka_run_group_tests_name), each case on a storage from factory(payload).
 * @return the number of failed cases (0: the backend conforms)
 */
int storage_conformance_run(const char *group_name, storage_factory factory, void *payload);

#endif
