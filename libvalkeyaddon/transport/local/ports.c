/*
 * Loopback ports (local.h). A port is chosen once, by asking the kernel for a
 * free one, and then belongs to its owner for good: the Service's port is in
 * the auth Secret's uri. Two files record it: the owner's record (the port)
 * and a reservation under ports/ (the owner), so two add-ons never get the
 * same port even while one of them is stopped.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "ctx.h"
#include "transport/local/local.h"

/* The owner's record: services/{ns}/{service}.port, or servers/{ns}/{name}/{ordinal}/port. */
static char *record_path(struct valkeyaddon__local *l, const char *ns, const char *name, int ordinal)
{
    char file[300], dir[16];

    if (ordinal == 0) {
        snprintf(file, sizeof(file), "%s.port", name);
        return valkeyaddon__local_path(l, "services", ns, file, (const char *)NULL);
    }
    snprintf(dir, sizeof(dir), "%d", ordinal);
    return valkeyaddon__local_path(l, "servers", ns, name, dir, "port", (const char *)NULL);
}

static char *reservation_path(struct valkeyaddon__local *l, int port)
{
    char file[16];

    snprintf(file, sizeof(file), "%d", port);
    return valkeyaddon__local_path(l, "ports", file, (const char *)NULL);
}

static int open_loopback(int port)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0)
        return -1;
    /* Lets a port in TIME_WAIT count as free (the server sets it too); a listener still makes bind fail. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int valkeyaddon__local_port_is_free(int port)
{
    int fd = open_loopback(port);

    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

/* A port free now and reserved by nobody else; the reservation names owner. */
static int pick(int *port, struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *owner)
{
    int attempt;

    for (attempt = 0; attempt < 64; attempt++) {
        struct sockaddr_in addr;
        socklen_t len = sizeof(addr);
        char *path, *dir;
        int fd = open_loopback(0), rfd, p;

        if (fd < 0 || getsockname(fd, (struct sockaddr *)&addr, &len) < 0) {
            if (fd >= 0)
                close(fd);
            return valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: no free TCP port on 127.0.0.1: %s",
                                      strerror(errno));
        }
        close(fd);
        p = ntohs(addr.sin_port);
        path = reservation_path(l, p);
        dir = valkeyaddon__local_path(l, "ports", (const char *)NULL);
        if (!dir || !path) {
            valkeyaddon__free(dir);
            valkeyaddon__free(path);
            return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
        }
        if (valkeyaddon__local_mkdirs(dir) < 0) {
            valkeyaddon__free(path);
            rfd = valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot create %s: %s", dir,
                                     strerror(errno));
            valkeyaddon__free(dir);
            return rfd;
        }
        valkeyaddon__free(dir);
        rfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        valkeyaddon__free(path);
        if (rfd < 0 && errno == EEXIST)
            continue; /* another add-on's, stopped right now */
        if (rfd < 0)
            return valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot reserve port %d: %s", p,
                                      strerror(errno));
        if (write(rfd, owner, strlen(owner)) < 0 || close(rfd) < 0)
            return valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot reserve port %d: %s", p,
                                      strerror(errno));
        *port = p;
        return VALKEYADDON_OK;
    }
    return valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: found no unreserved free port on 127.0.0.1");
}

static int owned_port(int *port, struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *ns,
                      const char *name, int ordinal, int allocate)
{
    char *path = record_path(l, ns, name, ordinal), *data = NULL, owner[600], text[16];
    size_t len = 0;
    int rc;

    *port = 0;
    if (!path)
        return valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
    rc = valkeyaddon__local_read(&data, &len, path);
    if (rc == VALKEYADDON_OK) {
        long p = strtol(data, NULL, 10);
        valkeyaddon__free(data);
        if (p > 0 && p < 65536) {
            *port = (int)p;
            valkeyaddon__free(path);
            return VALKEYADDON_OK;
        }
        rc = valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: %s holds no port number; remove it", path);
    } else if (rc == VALKEYADDON_ENOTFOUND && !allocate) {
        rc = VALKEYADDON_OK;
    } else if (rc == VALKEYADDON_ENOTFOUND) {
        snprintf(owner, sizeof(owner), "%s/%s/%d\n", ns, name, ordinal);
        if ((rc = pick(port, l, ctx, owner)) == VALKEYADDON_OK) {
            snprintf(text, sizeof(text), "%d\n", *port);
            if (valkeyaddon__local_write(path, text, strlen(text)) < 0)
                rc = valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot write %s: %s", path,
                                        strerror(errno));
        }
    } else {
        rc = valkeyaddon__error(ctx, rc, "local transport: cannot read %s: %s", path,
                                rc == VALKEYADDON_EIO ? strerror(errno) : valkeyaddon_strerror(rc));
    }
    valkeyaddon__free(path);
    return rc;
}

int valkeyaddon__local_service_port(int *port, struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *ns,
                                    const char *service, int allocate)
{
    return owned_port(port, l, ctx, ns, service, 0, allocate);
}

int valkeyaddon__local_replica_port(int *port, struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *ns,
                                    const char *name, int ordinal, int allocate)
{
    return owned_port(port, l, ctx, ns, name, ordinal, allocate);
}

int valkeyaddon__local_release_port(struct valkeyaddon__local *l, valkeyaddon_ctx *ctx, const char *ns,
                                    const char *name, int ordinal)
{
    char *record, *reservation;
    int port, rc;

    if ((rc = owned_port(&port, l, ctx, ns, name, ordinal, 0)) < 0)
        return rc;
    if (port == 0)
        return VALKEYADDON_OK;
    record = record_path(l, ns, name, ordinal);
    reservation = reservation_path(l, port);
    rc = VALKEYADDON_OK;
    if (!record || !reservation)
        rc = valkeyaddon__error(ctx, VALKEYADDON_ENOMEM, "local transport: out of memory");
    else if ((unlink(reservation) < 0 && errno != ENOENT) || (unlink(record) < 0 && errno != ENOENT))
        rc = valkeyaddon__error(ctx, VALKEYADDON_EIO, "local transport: cannot release port %d: %s", port,
                                strerror(errno));
    valkeyaddon__free(record);
    valkeyaddon__free(reservation);
    return rc;
}
