/*
 * Replays corpus files through a fuzz target without libFuzzer, for `make
 * check` (normal and sanitizer builds): every file named on the command line,
 * and every file of every directory named there. With no arguments it reads
 * $top_srcdir/fuzz/corpus/FUZZ_TARGET (FUZZ_TARGET is defined by the build).
 * A crash is the failure; exit 1 when a file cannot be read or none was found.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data;
    long size;

    if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    /* Exact size (at least 1 for malloc): ASan reports any read past the input. */
    if (!(data = malloc(size ? (size_t)size : 1)) || fread(data, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(data);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(data, (size_t)size);
    free(data);
    return 1;
}

static int replay_path(const char *path)
{
    struct stat st;
    struct dirent **names;
    int n, i, done = 0, rc;
    char child[4096];

    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: no such file or directory: %s\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return replay_file(path);
    if ((n = scandir(path, &names, NULL, alphasort)) < 0) {
        fprintf(stderr, "replay: cannot list %s\n", path);
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.' && done >= 0) {
            snprintf(child, sizeof(child), "%s/%s", path, names[i]->d_name);
            if (stat(child, &st) == 0 && S_ISREG(st.st_mode))
                done = (rc = replay_file(child)) < 0 ? rc : done + rc;
        }
        free(names[i]);
    }
    free(names);
    return done;
}

int main(int argc, char **argv)
{
    int i, rc, total = 0;
    char dir[4096];

    if (argc < 2) {
#ifdef FUZZ_TARGET
        const char *top = getenv("top_srcdir");
        snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", top && *top ? top : ".", FUZZ_TARGET);
        if ((total = replay_path(dir)) < 0)
            return 1;
#else
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
#endif
    }
    for (i = 1; i < argc; i++) {
        if ((rc = replay_path(argv[i])) < 0)
            return 1;
        total += rc;
    }
    if (total == 0) {
        fprintf(stderr, "replay: no corpus files found\n");
        return 1;
    }
    printf("replayed %d inputs\n", total);
    return 0;
}
