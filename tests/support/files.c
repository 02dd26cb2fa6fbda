/* File helpers shared by the C tests (files.h). */
#define _XOPEN_SOURCE 700
#include "../unit/helpers.h"

#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "files.h"

char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *text;
    long len;

    if (!f)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    len = ftell(f);
    assert_true(len >= 0);
    rewind(f);
    assert_non_null(text = calloc(1, (size_t)len + 1));
    assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return text;
}

void write_file(const char *path, const char *text)
{
    char tmp[1024];
    FILE *f;

    assert_true((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) < sizeof(tmp));
    assert_non_null(f = fopen(tmp, "w"));
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int remove_tree(const char *dir)
{
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
