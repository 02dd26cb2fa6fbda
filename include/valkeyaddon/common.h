/**
 * @file valkeyaddon/common.h
 * @brief Export macro and C++ guards shared by every public header.
 *
 * The library is built with -fvisibility=hidden; only declarations marked
 * VALKEYADDON_API are exported, and the linker version script
 * (libvalkeyaddon.sym) pins each of them to a symbol version.
 */
#ifndef VALKEYADDON_COMMON_H
#define VALKEYADDON_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) && __GNUC__ >= 4
/** Marks a declaration as part of the exported ABI. */
# define VALKEYADDON_API __attribute__((visibility("default")))
#else
# define VALKEYADDON_API
#endif

#ifdef __cplusplus
# define VALKEYADDON_BEGIN_DECL extern "C" {
# define VALKEYADDON_END_DECL }
#else
/** Opens a C-linkage block for C++ callers. */
# define VALKEYADDON_BEGIN_DECL
/** Closes a C-linkage block for C++ callers. */
# define VALKEYADDON_END_DECL
#endif

#endif /* VALKEYADDON_COMMON_H */
