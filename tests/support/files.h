/*
 * File helpers shared by the C tests: whole-file reads and writes, and removing
 * a test's temporary directory. Failures are cmocka failures: a test that
 * cannot read its own files has nothing to assert on.
 */
#ifndef VALKEYADDON_TESTS_SUPPORT_FILES_H
#define VALKEYADDON_TESTS_SUPPORT_FILES_H

/* The whole file, NUL-terminated; fails the test if it cannot be read. Caller free()s. */
char *read_file(const char *path);

/* Write text to path through path.tmp and a rename, as the kubelet swaps a projected
 * token: a reader never sees half a file. Fails the test on any error. */
void write_file(const char *path, const char *text);

/* Remove dir and everything below it (links are removed, not followed); nftw's result. */
int remove_tree(const char *dir);

#endif
