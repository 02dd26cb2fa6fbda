/* The local transport's files: paths, atomic 0600 writes, reads, removal (local.h). */
/* nftw, pipe2 */
#define _GNU_SOURCE 1
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "transport/local/local.h"

char *valkeyaddon__local_path(const struct valkeyaddon__local *l, ...)
{
    va_list ap;
    const char *part;
    size_t len = strlen(l->state_dir) + 1;
    char *path;

    va_start(ap, l);
    while ((part = va_arg(ap, const char *)) != NULL)
        len += strlen(part) + 1;
    va_end(ap);
    if (!(path = valkeyaddon__malloc(len)))
        return NULL;
    strcpy(path, l->state_dir);
    va_start(ap, l);
    while ((part = va_arg(ap, const char *)) != NULL) {
        strcat(path, "/");
        strcat(path, part);
    }
    va_end(ap);
    return path;
}

char *valkeyaddon__local_object_path(const struct valkeyaddon__local *l, const char *plural, const char *ns,
                                     const char *name)
{
    size_t len = strlen(name);
    char *file = valkeyaddon__malloc(len + 6), *path;

    if (!file)
        return NULL;
    memcpy(file, name, len);
    memcpy(file + len, ".json", 6);
    path = valkeyaddon__local_path(l, "objects", ns, plural, file, (const char *)NULL);
    valkeyaddon__free(file);
    return path;
}

int valkeyaddon__local_safe_name(const char *name)
{
    size_t i, len = name ? strlen(name) : 0;

    /* Kubernetes names (DNS-1123 subdomains) fit; '/', "..", and hidden files cannot. */
    if (len == 0 || len > 253 || name[0] == '.')
        return 0;
    for (i = 0; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '-' ||
              name[i] == '.'))
            return 0;
    return 1;
}

/*
 * The copy lives on the stack, not the heap: every caller reports a failure
 * here as EIO with strerror(errno), which an allocation failure would have
 * turned into a wrong code and a stale reason.
 */
int valkeyaddon__local_mkdirs(const char *dir)
{
    char copy[PATH_MAX], *p;
    size_t len = strlen(dir);

    if (len >= sizeof(copy)) {
        errno = ENAMETOOLONG;
        return VALKEYADDON_EIO;
    }
    memcpy(copy, dir, len + 1);
    for (p = copy + 1;; p++) {
        char c = *p;
        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        if (mkdir(copy, 0700) < 0 && errno != EEXIST)
            return VALKEYADDON_EIO;
        *p = c;
        if (c == '\0')
            return VALKEYADDON_OK;
    }
}

int valkeyaddon__local_read(char **data, size_t *len, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf;
    size_t got = 0;

    *data = NULL;
    *len = 0;
    if (fd < 0)
        return errno == ENOENT ? VALKEYADDON_ENOTFOUND : VALKEYADDON_EIO;
    if (fstat(fd, &st) < 0 || st.st_size > 16 * 1024 * 1024) {
        if (errno == 0)
            errno = EFBIG;
        close(fd);
        return VALKEYADDON_EIO;
    }
    if (!(buf = valkeyaddon__malloc((size_t)st.st_size + 1))) {
        close(fd);
        return VALKEYADDON_ENOMEM;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return VALKEYADDON_OK;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int valkeyaddon__local_write(const char *path, const char *data, size_t len)
{
    size_t plen = strlen(path);
    char *tmp = valkeyaddon__malloc(plen + 32), *slash;
    unsigned char rnd[6];
    int fd, rc = VALKEYADDON_OK, saved;

    if (!tmp)
        return VALKEYADDON_ENOMEM;
    memcpy(tmp, path, plen + 1);
    if ((slash = strrchr(tmp, '/')) != NULL && slash != tmp) {
        *slash = '\0';
        if ((rc = valkeyaddon__local_mkdirs(tmp)) < 0) {
            valkeyaddon__free(tmp);
            return rc;
        }
    }
    /* A unique name beside the target, so rename() stays on one file system and is atomic. */
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        memset(rnd, 0, sizeof(rnd));
    snprintf(tmp, plen + 32, "%s.tmp-%02x%02x%02x%02x%02x%02x", path, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
             rnd[5]);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        valkeyaddon__free(tmp);
        return VALKEYADDON_EIO;
    }
    if (write_all(fd, data, len) < 0 || fsync(fd) < 0)
        rc = VALKEYADDON_EIO;
    saved = errno;
    if (close(fd) < 0 && rc == VALKEYADDON_OK)
        rc = VALKEYADDON_EIO, saved = errno;
    if (rc == VALKEYADDON_OK && rename(tmp, path) < 0)
        rc = VALKEYADDON_EIO, saved = errno;
    if (rc < 0)
        unlink(tmp);
    valkeyaddon__free(tmp);
    errno = saved;
    return rc;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (type == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

int valkeyaddon__local_remove_tree(const char *path)
{
    struct stat st;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? VALKEYADDON_OK : VALKEYADDON_EIO;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) < 0 && errno != ENOENT ? VALKEYADDON_EIO : VALKEYADDON_OK;
    /* FTW_PHYS: a symbolic link is removed, never followed. */
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 ? VALKEYADDON_EIO : VALKEYADDON_OK;
}

int valkeyaddon__local_exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

void valkeyaddon__local_free_data(char *data, size_t len)
{
    if (data)
        OPENSSL_cleanse(data, len);
    valkeyaddon__free(data);
}
