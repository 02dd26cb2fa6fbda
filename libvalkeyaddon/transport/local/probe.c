/*
 * Talking to a local server over loopback (local.h): what the cluster's
 * readiness probe does (AUTH, then PING must answer PONG), plus INFO
 * replication for replicas, whose link to the primary must be up. The
 * password goes over the socket only, never into argv or a message.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "transport/local/local.h"

struct conn {
    int fd;
    char buf[16384];
    size_t len;
};

static int connect_loopback(struct conn *c, int port, long timeout_ms)
{
    struct sockaddr_in addr;
    struct timeval tv;

    c->len = 0;
    if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    /* On Linux SO_SNDTIMEO bounds connect() too. */
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    OPENSSL_cleanse(c->buf, sizeof(c->buf));
}

/* Send a command as a RESP array of bulk strings. */
static int send_command(struct conn *c, const char *const *argv, int argc)
{
    char head[32];
    int i;

    snprintf(head, sizeof(head), "*%d\r\n", argc);
    if (send(c->fd, head, strlen(head), MSG_NOSIGNAL) < 0)
        return -1;
    for (i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        snprintf(head, sizeof(head), "$%zu\r\n", n);
        if (send(c->fd, head, strlen(head), MSG_NOSIGNAL) < 0 || send(c->fd, argv[i], n, MSG_NOSIGNAL) < 0 ||
            send(c->fd, "\r\n", 2, MSG_NOSIGNAL) < 0)
            return -1;
    }
    return 0;
}

static int fill(struct conn *c)
{
    ssize_t n;

    if (c->len >= sizeof(c->buf) - 1)
        return -1;
    do
        n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return -1;
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    return 0;
}

/*
 * Read one reply into out (NUL-terminated): a status or error line as is
 * ("+PONG", "-LOADING ..."), a bulk string's content. -1 on a broken connection.
 */
static int read_reply(struct conn *c, char *out, size_t size)
{
    char *eol;
    size_t line, need, take;
    long bulk;

    while (!(eol = strstr(c->buf, "\r\n")))
        if (fill(c) < 0)
            return -1;
    line = (size_t)(eol - c->buf);
    if (c->buf[0] == '$') {
        bulk = strtol(c->buf + 1, NULL, 10);
        if (bulk < 0) {
            need = line + 2;
            out[0] = '\0';
        } else {
            need = line + 2 + (size_t)bulk + 2;
            while (c->len < need)
                if (fill(c) < 0)
                    return -1;
            take = (size_t)bulk < size - 1 ? (size_t)bulk : size - 1;
            memcpy(out, c->buf + line + 2, take);
            out[take] = '\0';
        }
    } else {
        need = line + 2;
        take = line < size - 1 ? line : size - 1;
        memcpy(out, c->buf, take);
        out[take] = '\0';
    }
    memmove(c->buf, c->buf + need, c->len - need + 1);
    c->len -= need;
    return 0;
}

static int authenticate(struct conn *c, const char *password, char *reply, size_t size)
{
    const char *auth[2];

    auth[0] = "AUTH";
    auth[1] = password;
    return send_command(c, auth, 2) < 0 || read_reply(c, reply, size) < 0 ? -1 : 0;
}

int valkeyaddon__local_probe(int port, const char *password, int replica, long timeout_ms)
{
    static const char *const ping[] = { "PING" };
    static const char *const info[] = { "INFO", "replication" };
    struct conn c;
    char reply[4096];
    int state = VALKEYADDON__PROBE_DOWN;

    if (connect_loopback(&c, port, timeout_ms) < 0)
        return VALKEYADDON__PROBE_DOWN;
    if (authenticate(&c, password, reply, sizeof(reply)) == 0 && send_command(&c, ping, 1) == 0 &&
        read_reply(&c, reply, sizeof(reply)) == 0) {
        if (strncmp(reply, "-LOADING", 8) == 0)
            state = VALKEYADDON__PROBE_LOADING;
        else if (strcmp(reply, "+PONG") == 0)
            state = VALKEYADDON__PROBE_UP;
        else
            state = VALKEYADDON__PROBE_LOADING; /* it answers: alive, not ready (NOAUTH, ...) */
    }
    if (state == VALKEYADDON__PROBE_UP) {
        if (!replica)
            state = VALKEYADDON__PROBE_READY;
        else if (send_command(&c, info, 2) == 0 && read_reply(&c, reply, sizeof(reply)) == 0 &&
                 strstr(reply, "master_link_status:up"))
            state = VALKEYADDON__PROBE_READY;
    }
    conn_close(&c);
    return state;
}

int valkeyaddon__local_command(int port, const char *password, const char *const *argv, int argc, long timeout_ms)
{
    struct conn c;
    char reply[1024];
    int rc = VALKEYADDON_EUNAVAILABLE;

    if (connect_loopback(&c, port, timeout_ms) < 0)
        return rc;
    if (authenticate(&c, password, reply, sizeof(reply)) == 0 && strcmp(reply, "+OK") == 0 &&
        send_command(&c, argv, argc) == 0 && read_reply(&c, reply, sizeof(reply)) == 0 && strcmp(reply, "+OK") == 0)
        rc = VALKEYADDON_OK;
    conn_close(&c);
    return rc;
}
