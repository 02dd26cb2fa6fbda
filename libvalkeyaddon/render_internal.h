/* Rendering one object's JSON as the render API does, for the render transport too. */
#ifndef VALKEYADDON_INTERNAL_RENDER_H
#define VALKEYADDON_INTERNAL_RENDER_H

#include "valkeyaddon/render.h"

/* Render json (compact, NUL-terminated) as YAML or pretty JSON and hand it to callback; returns its value. */
int valkeyaddon__render_object(valkeyaddon_ctx *ctx, const char *kind, const char *name, const char *json,
                               size_t json_len, int format, valkeyaddon_render_cb callback, void *payload);

#endif
