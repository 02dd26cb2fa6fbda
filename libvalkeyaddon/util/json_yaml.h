/*
 * JSON text to YAML text, with libyaml's emitter. Shared by the library (the
 * render transport) and the command-line tool (-o yaml), so both print the
 * same YAML for the same JSON.
 */
#ifndef VALKEYADDON_UTIL_JSON_YAML_H
#define VALKEYADDON_UTIL_JSON_YAML_H

#include <stddef.h>

/*
 * Convert one JSON document (NUL-terminated) to a YAML document. Key order is
 * kept; strings that YAML would read as another type are quoted; multi-line
 * strings use the literal block style. On success *out is a NUL-terminated
 * buffer from malloc() (free() it) and 0 is returned; -1 for invalid JSON
 * (with a short reason in errbuf) and -2 for allocation failure.
 */
int valkeyaddon__json_to_yaml(char **out, size_t *out_len, const char *json, char *errbuf, size_t errbuf_size);

#endif
