/*
 * Watch event streams: the newline-delimited JSON events of a streamed
 * `?watch=1` GET, as libcurl hands them to watch.c's write callback
 * (on_stream -> handle_line), in chunks that split lines anywhere. The
 * parser is static, so watch.c is compiled into this target (its one
 * exported function renamed away so that the library's copy is not needed).
 * Input: byte 0 the chunk size (1 to 256), byte 1 bit 0 "the callback stops
 * after the first event", the rest the stream. Checks: what reaches the
 * callback is a known event type and valid JSON of an object, and no line
 * longer than the cap (MAX_LINE here, small so that inputs reach it) is kept.
 */
#define valkeyaddon__kube_watch fuzz_unused_kube_watch
#include "transport/kubernetes/watch.c"
#undef valkeyaddon__kube_watch

#include "fuzz.h"

#define MAX_LINE 4096

struct seen {
    int stop;
    int events;
};

static int on_event(int event, const char *json, size_t len, void *payload)
{
    struct seen *seen = payload;
    char *text = fuzz_cstr((const uint8_t *)json, len);
    yajl_val v = yajl_tree_parse(text, NULL, 0);

    FUZZ_ASSERT(event >= VALKEYADDON_WATCH_ADDED && event <= VALKEYADDON_WATCH_DELETED);
    FUZZ_ASSERT(v && YAJL_IS_OBJECT(v));
    yajl_tree_free(v);
    free(text);
    seen->events++;
    return seen->stop ? 7 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct watch_state w;
    struct seen seen = { 0, 0 };
    size_t chunk, at, n, taken;
    char *copy;

    if (size < 2)
        return 0;
    chunk = 1 + data[0];
    seen.stop = data[1] & 1;
    /* A private copy: libcurl's buffer is writable, and its bytes are not NUL-terminated. */
    copy = fuzz_cstr(data + 2, size - 2);
    memset(&w, 0, sizeof(w));
    w.ctx = fuzz_ctx();
    w.callback = on_event;
    w.payload = &seen;
    w.line = (valkeyaddon_buffer)VALKEYADDON__BUFFER_INIT;
    w.http_status = 200; /* set: on_stream asks libcurl only while it is 0 */
    w.max_line = MAX_LINE;
    w.max_body = MAX_LINE;
    for (at = 0; at < size - 2; at += n) {
        n = size - 2 - at < chunk ? size - 2 - at : chunk;
        taken = on_stream(copy + at, 1, n, &w);
        if (taken != n) {
            FUZZ_ASSERT(taken == 0 && (w.result || w.gone || w.too_large));
            break;
        }
    }
    if (w.result > 0)
        FUZZ_ASSERT(w.result == 7 && seen.stop && seen.events == 1);
    if (w.result < 0)
        FUZZ_ASSERT(valkeyaddon_ctx_error_code(w.ctx) == w.result);
    FUZZ_ASSERT(strlen(w.resource_version) < sizeof(w.resource_version));
    FUZZ_ASSERT(w.line.len <= MAX_LINE);
    valkeyaddon__buffer_dispose_secret(&w.line);
    fuzz_ctx_free(w.ctx);
    free(copy);
    return 0;
}
