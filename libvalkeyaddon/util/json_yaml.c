/* JSON to YAML through yajl's tree and libyaml's emitter (see json_yaml.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <yajl/yajl_tree.h>
#include <yaml.h>

#include "json_wipe.h"
#include "json_yaml.h"

struct buffer {
    char *data;
    size_t len, cap;
    int failed;
};

static int write_handler(void *data, unsigned char *chunk, size_t size)
{
    struct buffer *b = data;

    if (b->len + size + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        char *grown;
        while (cap < b->len + size + 1)
            cap *= 2;
        /* Copy, wipe, free rather than realloc: the text may be a Secret (render). */
        grown = malloc(cap);
        if (!grown) {
            b->failed = 1;
            return 0;
        }
        if (b->data) {
            memcpy(grown, b->data, b->len);
            OPENSSL_cleanse(b->data, b->cap);
            free(b->data);
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, chunk, size);
    b->len += size;
    b->data[b->len] = '\0';
    return 1;
}

static int in(const char *s, const char *const *words)
{
    for (; *words; words++)
        if (strcmp(s, *words) == 0)
            return 1;
    return 0;
}

/*
 * YAML 1.1 and 1.2 plain scalars that a reader would not take as the string
 * itself: "", "~", null, true, false, yes, no, on, off, y, n (in their three
 * cases), .inf, -.inf, .nan (likewise) and "<<". Looked up by first character:
 * one strcmp() list for every scalar cost about 14,000 calls per app
 * (bench/micro/README.md).
 */
static int needs_quotes(const char *s)
{
    static const char *const n_words[] = { "null", "Null", "NULL", "no", "No", "NO", NULL };
    static const char *const y_words[] = { "yes", "Yes", "YES", NULL };
    static const char *const t_words[] = { "true", "True", "TRUE", NULL };
    static const char *const f_words[] = { "false", "False", "FALSE", NULL };
    static const char *const o_words[] = { "on", "On", "ON", "off", "Off", "OFF", NULL };
    static const char *const dot_words[] = { ".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN", NULL };
    const char *p = s;
    int special = 0;

    switch (s[0]) {
    case '\0':
        return 1;
    case '~':
        special = !s[1];
        break;
    case 'n':
    case 'N':
        special = !s[1] || in(s, n_words);
        break;
    case 'y':
    case 'Y':
        special = !s[1] || in(s, y_words);
        break;
    case 't':
    case 'T':
        special = in(s, t_words);
        break;
    case 'f':
    case 'F':
        special = in(s, f_words);
        break;
    case 'o':
    case 'O':
        special = in(s, o_words);
        break;
    case '.':
        special = in(s, dot_words);
        break;
    case '-':
        special = strcmp(s, "-.inf") == 0;
        break;
    case '<':
        special = strcmp(s, "<<") == 0;
        break;
    default:
        break;
    }
    if (special)
        return 1;
    /* Anything that starts like a number (int, float, octal, hex, sexagesimal, dates) gets quotes. */
    if (*p == '-' || *p == '+' || *p == '.')
        p++;
    return *p >= '0' && *p <= '9';
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev)
{
    return yaml_emitter_emit(e, ev) ? 0 : -1;
}

static int emit_scalar(yaml_emitter_t *e, const char *text, int is_string)
{
    yaml_event_t ev;
    yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;

    if (is_string && needs_quotes(text))
        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    else if (is_string && strchr(text, '\n'))
        style = YAML_LITERAL_SCALAR_STYLE;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), 1, 1, style))
        return -1;
    return emit(e, &ev);
}

static int emit_value(yaml_emitter_t *e, yajl_val v)
{
    yaml_event_t ev;
    size_t i;

    if (YAJL_IS_OBJECT(v)) {
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) || emit(e, &ev))
            return -1;
        for (i = 0; i < v->u.object.len; i++)
            if (emit_scalar(e, v->u.object.keys[i], 1) || emit_value(e, v->u.object.values[i]))
                return -1;
        return yaml_mapping_end_event_initialize(&ev) ? emit(e, &ev) : -1;
    }
    if (YAJL_IS_ARRAY(v)) {
        /* Empty collections read better, and stay unambiguous, in flow style. */
        yaml_sequence_style_t style = v->u.array.len ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE;
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, style) || emit(e, &ev))
            return -1;
        for (i = 0; i < v->u.array.len; i++)
            if (emit_value(e, v->u.array.values[i]))
                return -1;
        return yaml_sequence_end_event_initialize(&ev) ? emit(e, &ev) : -1;
    }
    if (YAJL_IS_STRING(v))
        return emit_scalar(e, v->u.string, 1);
    if (YAJL_IS_NUMBER(v))
        return emit_scalar(e, v->u.number.r, 0);
    if (YAJL_IS_TRUE(v))
        return emit_scalar(e, "true", 0);
    if (YAJL_IS_FALSE(v))
        return emit_scalar(e, "false", 0);
    return emit_scalar(e, "null", 0);
}

static void set_error(char *errbuf, size_t size, const char *message)
{
    size_t len;

    if (!errbuf || !size)
        return;
    len = strlen(message);
    if (len >= size)
        len = size - 1;
    memcpy(errbuf, message, len);
    errbuf[len] = '\0';
}

int valkeyaddon__json_to_yaml(char **out, size_t *out_len, const char *json, char *errbuf, size_t errbuf_size)
{
    struct buffer buf = { NULL, 0, 0, 0 };
    yaml_emitter_t emitter;
    yaml_event_t ev;
    yajl_val root;
    char parse_error[256];
    int failed;

    /* Not outside input: the CLI's and the renderer's own JSON (this file is also built into the CLI alone). */
    root = yajl_tree_parse(json, parse_error, sizeof(parse_error));
    if (!root) {
        set_error(errbuf, errbuf_size, parse_error[0] ? parse_error : "invalid JSON");
        return parse_error[0] ? -1 : -2;
    }
    if (!yaml_emitter_initialize(&emitter)) {
        valkeyaddon__json_free_secret(root);
        return -2;
    }
    yaml_emitter_set_output(&emitter, write_handler, &buf);
    yaml_emitter_set_unicode(&emitter, 1);
    yaml_emitter_set_width(&emitter, -1);
    failed = !yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || emit(&emitter, &ev) ||
             !yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) || emit(&emitter, &ev) ||
             emit_value(&emitter, root) ||
             !yaml_document_end_event_initialize(&ev, 1) || emit(&emitter, &ev) ||
             !yaml_stream_end_event_initialize(&ev) || emit(&emitter, &ev);
    yaml_emitter_delete(&emitter);
    valkeyaddon__json_free_secret(root);
    if (failed || buf.failed || !buf.data) {
        if (buf.data)
            OPENSSL_cleanse(buf.data, buf.cap);
        free(buf.data);
        set_error(errbuf, errbuf_size, "YAML emitter failed");
        return -2;
    }
    *out = buf.data;
    if (out_len)
        *out_len = buf.len;
    return 0;
}
