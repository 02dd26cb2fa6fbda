/* util/json_wipe: wiping a tree that held a Secret before it is freed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/json_tree.h"
#include "util/json_wipe.h"

/* Every string, key and number text of the tree, with its length before the wipe. */
struct texts {
    char *at[64];
    size_t len[64];
    int n;
};

static void collect(struct texts *t, char *s)
{
    assert_true(t->n < 64);
    t->at[t->n] = s;
    t->len[t->n++] = strlen(s);
}

static void collect_tree(struct texts *t, yajl_val v)
{
    size_t i;

    if (YAJL_IS_OBJECT(v)) {
        for (i = 0; i < v->u.object.len; i++) {
            collect(t, (char *)v->u.object.keys[i]);
            collect_tree(t, v->u.object.values[i]);
        }
    } else if (YAJL_IS_ARRAY(v)) {
        for (i = 0; i < v->u.array.len; i++)
            collect_tree(t, v->u.array.values[i]);
    } else if (YAJL_IS_STRING(v)) {
        collect(t, v->u.string);
    } else if (YAJL_IS_NUMBER(v)) {
        collect(t, v->u.number.r);
    }
}

static void test_json_wipe__wipe_zeroes_every_string_key_and_number(void **state)
{
    static const char secret[] = "{\"kind\":\"Secret\",\"data\":{\"password\":\"UzNjcmV0LXBhc3N3b3Jk\","
                                 "\"uri\":\"cmVkaXM6Ly86UzNjcmV0QGhvc3Q6NjM3OS8w\"},"
                                 "\"list\":[\"S3cret-in-an-array\",{\"deep\":\"S3cret-deeper\"}],\"port\":6379,"
                                 "\"ok\":true,\"none\":null}";
    struct texts t;
    yajl_val root = valkeyaddon__json_parse(secret);
    size_t i;
    int k;

    (void)state;
    assert_non_null(root);
    memset(&t, 0, sizeof(t));
    collect_tree(&t, root);
    assert_int_equal(t.n, 15);
    valkeyaddon__json_wipe(root);
    /* Read before the tree is freed: no access to freed memory (valgrind-clean). */
    for (k = 0; k < t.n; k++)
        for (i = 0; i < t.len[k]; i++)
            assert_int_equal(t.at[k][i], 0);
    yajl_tree_free(root);
    valkeyaddon__json_free_secret(NULL);
}

static void test_json_wipe__free_secret_takes_any_tree(void **state)
{
    (void)state;
    valkeyaddon__json_free_secret(valkeyaddon__json_parse("\"just a string\""));
    valkeyaddon__json_free_secret(valkeyaddon__json_parse("[1, 2.5, [\"x\"], {}]"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_wipe__wipe_zeroes_every_string_key_and_number),
        cmocka_unit_test(test_json_wipe__free_secret_takes_any_tree),
    };
    return cmocka_run_group_tests_name("json_wipe", tests, NULL, NULL);
}
