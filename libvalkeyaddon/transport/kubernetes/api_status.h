/* Kubernetes API errors: an HTTP status and a metav1.Status body to a code and a message. */
#ifndef VALKEYADDON_KUBE_API_STATUS_H
#define VALKEYADDON_KUBE_API_STATUS_H

#include <stddef.h>

#include "valkeyaddon/context.h"

/* The library's code for an HTTP status (and the Status reason, which tells 409s apart). */
int valkeyaddon__kube_code(long http_status, const char *reason);

/*
 * Record the failure on ctx and return its code. `what` names the operation
 * ("apply StatefulSet ns/name"). With sensitive set (Secrets), the server's
 * free-text message is left out, since validation messages may quote values;
 * reasons and field paths are kept.
 */
int valkeyaddon__kube_status_error(valkeyaddon_ctx *ctx, long http_status, const char *body, size_t len,
                                   const char *what, int sensitive);

#endif
