/*
 * Texts glued from pieces (the start script, the config-hash input): one
 * length pass, one allocation, memcpy. snprintf() of the same 5 KB format cost
 * about 0.3M instructions per app (bench/micro/README.md).
 */
#include "config.h"

#include <string.h>

#include "alloc.h"
#include "objects/builders.h"

char *valkeyaddon__int_text(char buf[24], long long value)
{
    char *p = buf + 23;
    unsigned long long u = value < 0 ? 0ULL - (unsigned long long)value : (unsigned long long)value;

    *p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (value < 0)
        *--p = '-';
    return p;
}

char *valkeyaddon__concat(size_t *out_len, const char *const *pieces, size_t count)
{
    size_t i, len = 0, n;
    char *text, *p;

    for (i = 0; i < count; i++)
        len += strlen(pieces[i]);
    if (!(text = valkeyaddon__malloc(len + 1)))
        return NULL;
    for (i = 0, p = text; i < count; i++) {
        n = strlen(pieces[i]);
        memcpy(p, pieces[i], n);
        p += n;
    }
    *p = '\0';
    *out_len = len;
    return text;
}
