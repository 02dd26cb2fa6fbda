/* metav1.Status bodies to error codes and messages (api_status.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "valkeyaddon/errors.h"
#include "alloc.h"
#include "ctx.h"
#include "transport/kubernetes/api_status.h"
#include "util/json_tree.h"

int valkeyaddon__kube_code(long http_status, const char *reason)
{
    switch (http_status) {
    case 400: case 415: case 422: return VALKEYADDON_EREJECTED;
    case 401: return VALKEYADDON_EUNAUTHORIZED;
    case 403: return VALKEYADDON_EFORBIDDEN;
    case 404: return VALKEYADDON_ENOTFOUND;
    case 409: return reason && strcmp(reason, "AlreadyExists") == 0 ? VALKEYADDON_EEXISTS : VALKEYADDON_ECONFLICT;
    case 410: return VALKEYADDON_ECONFLICT;
    case 429: return VALKEYADDON_ETHROTTLED;
    case 502: case 503: case 504: return VALKEYADDON_EUNAVAILABLE;
    default: break;
    }
    if (http_status >= 500)
        return VALKEYADDON_ESERVER;
    return http_status >= 400 ? VALKEYADDON_EREJECTED : VALKEYADDON_ERROR;
}

/*
 * Append "; field: reason" (or the cause's message when allowed) for each cause.
 * A FieldManagerConflict's message is always kept: it is the apiserver's
 * `conflict with "manager"`, naming who owns the field, never a value.
 */
static void append_causes(char *out, size_t size, yajl_val root, int sensitive)
{
    const char *path[] = { "details", "causes", NULL };
    yajl_val causes = yajl_tree_get(root, path, yajl_t_array);
    size_t i, used;

    if (!causes)
        return;
    for (i = 0; i < causes->u.array.len && i < 8; i++) {
        yajl_val cause = causes->u.array.values[i];
        const char *field = valkeyaddon__json_string(cause, "field", NULL, NULL);
        const char *reason = valkeyaddon__json_string(cause, "reason", NULL, NULL);
        const char *message = valkeyaddon__json_string(cause, "message", NULL, NULL);
        int quote = message && (!sensitive || (reason && strcmp(reason, "FieldManagerConflict") == 0 &&
                                               strncmp(message, "conflict with \"", 15) == 0));
        used = strlen(out);
        if (used + 1 >= size)
            return;
        snprintf(out + used, size - used, "%s%s%s%s", i ? "; " : " [", field ? field : "",
                 field ? ": " : "", quote ? message : (reason ? reason : ""));
    }
    used = strlen(out);
    if (used + 2 < size)
        strcat(out, "]");
}

int valkeyaddon__kube_status_error(valkeyaddon_ctx *ctx, long http_status, const char *body, size_t len,
                                   const char *what, int sensitive)
{
    char detail[768] = "";
    char *text = NULL;
    yajl_val root = NULL;
    const char *reason = NULL, *message = NULL;
    int code;

    if (body && len) {
        if ((text = valkeyaddon__malloc(len + 1))) {
            memcpy(text, body, len);
            text[len] = '\0';
            root = valkeyaddon__json_parse(text);
            valkeyaddon__free(text);
        }
    }
    if (root && valkeyaddon__json_string(root, "kind", NULL, NULL) &&
        strcmp(valkeyaddon__json_string(root, "kind", NULL, NULL), "Status") == 0) {
        reason = valkeyaddon__json_string(root, "reason", NULL, NULL);
        message = valkeyaddon__json_string(root, "message", NULL, NULL);
        if (message && !sensitive)
            snprintf(detail, sizeof(detail), ": %s", message);
        append_causes(detail, sizeof(detail), root, sensitive);
    }
    code = valkeyaddon__kube_code(http_status, reason);
    valkeyaddon__error(ctx, code, "%s: HTTP %ld%s%s%s%s", what, http_status, reason ? " " : "", reason ? reason : "",
                       detail,
                       code == VALKEYADDON_EUNAUTHORIZED
                           ? " (the API server did not accept the credentials: renew the token, client "
                             "certificate or exec credential of the kubeconfig or service account)"
                           : "");
    yajl_tree_free(root);
    return code;
}
