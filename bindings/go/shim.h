/*
 * C glue of the Go binding: vtables whose members call the exported Go
 * trampolines (exports.go), and calls of C function pointers, which Go
 * cannot make itself. cgo.Handle values travel as uintptr_t in user_data and
 * payload pointers, so no Go pointer is ever stored in C memory.
 */
#ifndef VALKEYADDON_GO_SHIM_H
#define VALKEYADDON_GO_SHIM_H

#include <stdint.h>
#include <stdlib.h>

#include <valkeyaddon.h>

int vgo_ctx_new(valkeyaddon_ctx **out, int level, uintptr_t log_handle);
int vgo_ctx_set_log(valkeyaddon_ctx *ctx, int level, uintptr_t log_handle);

valkeyaddon_transport *vgo_transport_new(uintptr_t handle, int with_watch, int with_address);
void vgo_transport_dispose(valkeyaddon_transport *t);
void vgo_transport_free(valkeyaddon_transport *t);
valkeyaddon_storage *vgo_storage_new(uintptr_t handle);
void vgo_storage_dispose(valkeyaddon_storage *s);
void vgo_storage_free(valkeyaddon_storage *s);

int vgo_call_watch(valkeyaddon_watch_cb cb, int event, const char *json, size_t len, void *payload);
int vgo_call_row(valkeyaddon_row_cb cb, const valkeyaddon_addon_row *row, void *payload);

void vgo_provision_set_progress(valkeyaddon_provision_options *o, uintptr_t handle);
int vgo_wait_ready(valkeyaddon_status_info *out, valkeyaddon_ctx *ctx, const char *ns, const char *tenant_id,
                   const char *app_id, long timeout_ms, uintptr_t handle);
int vgo_addon_list(valkeyaddon_ctx *ctx, const char *app_id, uintptr_t handle);

#endif
