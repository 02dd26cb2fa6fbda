/*
 * The YAML converter quotes exactly the plain scalars YAML would misread
 * (libvalkeyaddon/util/json_yaml.c): the lookup by first character gives what
 * the one list it replaced gave, for every word of that list and near misses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/json_yaml.h"

/* The list as it was, the reference. */
static const char *const specials[] = {
    "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
    "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N",
    ".inf", ".Inf", ".INF", "-.inf", ".nan", ".NaN", ".NAN", "<<", NULL
};

static const char *const others[] = {
    "nul", "nulls", "nULL", "yES", "oN", "of", "offf", "tru", "truee", "fals", "falsey", "yy", "nn", "~~",
    "<", "<<<", "-.Inf", ".in", ".nana", "o", "t", "f", "x", "value", "TCP", "IfNotPresent", "-", "-a",
    NULL
};

static int quoted(const char *word)
{
    char json[64], *yaml = NULL, expect[64];
    size_t len = 0;
    int is_quoted;

    snprintf(json, sizeof(json), "[\"%s\"]", word);
    assert_int_equal(valkeyaddon__json_to_yaml(&yaml, &len, json, NULL, 0), 0);
    snprintf(expect, sizeof(expect), "- \"%s\"\n", word);
    /* Ours are double quotes; libyaml picks plain or single quotes for the rest ("-", "~~"). */
    is_quoted = strstr(yaml, expect) != NULL;
    free(yaml);
    return is_quoted;
}

static void test_json_yaml__quotes_exactly_the_misread_words(void **state)
{
    size_t i;

    (void)state;
    for (i = 1; specials[i]; i++) /* "" is checked apart: YAML writes it as "" anyway */
        if (!quoted(specials[i]))
            fail_msg("\"%s\" is not quoted", specials[i]);
    for (i = 0; others[i]; i++)
        if (quoted(others[i]))
            fail_msg("\"%s\" is quoted", others[i]);
}

static void test_json_yaml__quotes_the_empty_string(void **state)
{
    char *yaml = NULL;
    size_t len = 0;

    (void)state;
    assert_int_equal(valkeyaddon__json_to_yaml(&yaml, &len, "[\"\"]", NULL, 0), 0);
    assert_non_null(strstr(yaml, "- \"\"\n"));
    free(yaml);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_yaml__quotes_exactly_the_misread_words),
        cmocka_unit_test(test_json_yaml__quotes_the_empty_string),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
