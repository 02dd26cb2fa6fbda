/*
 * The local transport's stored objects (transport/local/objects.c): a body
 * or a stored file is parsed (valkeyaddon__local_parse, not NUL-terminated),
 * named (metadata.name), compared and rendered to its stored form with a
 * StatefulSet status. Checks: a value equals itself (unless it has
 * duplicate keys: docs/fuzzing.md); the stored form is
 * valid JSON that parses back and keeps the name.
 */
#include "fuzz.h"

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "transport/local/local.h"

/* Duplicate keys: lookups find the first, so such an object need not equal itself. */
static int has_duplicate_keys(yajl_val v)
{
    size_t i, k;

    if (YAJL_IS_ARRAY(v)) {
        for (i = 0; i < v->u.array.len; i++)
            if (has_duplicate_keys(v->u.array.values[i]))
                return 1;
    } else if (YAJL_IS_OBJECT(v)) {
        for (i = 0; i < v->u.object.len; i++) {
            for (k = 0; k < i; k++)
                if (strcmp(v->u.object.keys[i], v->u.object.keys[k]) == 0)
                    return 1;
            if (has_duplicate_keys(v->u.object.values[i]))
                return 1;
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct valkeyaddon__local_status status = { 3, 2, 1 };
    char name[64], name2[64], *out = NULL;
    size_t out_len = 0;
    yajl_val root, back;
    int rc, named;

    root = valkeyaddon__local_parse((const char *)data, size);
    named = valkeyaddon__local_body_name(name, sizeof(name), (const char *)data, size) == 0;
    if (!root) {
        FUZZ_ASSERT(!named);
        return 0;
    }
    if (!has_duplicate_keys(root)) {
        FUZZ_ASSERT(valkeyaddon__local_json_equal(root, root));
        if (YAJL_IS_OBJECT(root))
            FUZZ_ASSERT(valkeyaddon__local_same_content(root, root));
    }
    rc = valkeyaddon__local_render(&out, &out_len, root, 42, (size % 2) ? &status : NULL, named ? name : "x");
    if (rc == 0) {
        FUZZ_ASSERT(out && strlen(out) == out_len);
        back = valkeyaddon__local_parse(out, out_len);
        FUZZ_ASSERT(back && YAJL_IS_OBJECT(back));
        if (named) {
            FUZZ_ASSERT(valkeyaddon__local_body_name(name2, sizeof(name2), out, out_len) == 0);
            FUZZ_ASSERT(strcmp(name, name2) == 0);
        }
        yajl_tree_free(back);
        valkeyaddon__free_secret(out, out_len);
    } else {
        FUZZ_ASSERT(rc == VALKEYADDON_EREJECTED || rc == VALKEYADDON_ENOMEM);
    }
    yajl_tree_free(root);
    return 0;
}
