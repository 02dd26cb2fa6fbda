/**
 * @file valkeyaddon/version.h
 * @brief Compile-time and run-time version of libvalkeyaddon.
 *
 * The compile-time macros describe the headers a caller was built with;
 * valkeyaddon_version() describes the library actually loaded. Bindings
 * compare the two to refuse a library older than they need.
 */
#ifndef VALKEYADDON_VERSION_H
#define VALKEYADDON_VERSION_H

#include "common.h"

VALKEYADDON_BEGIN_DECL

/** Major version of these headers. */
#define VALKEYADDON_VERSION_MAJOR 0
/** Minor version of these headers. */
#define VALKEYADDON_VERSION_MINOR 1
/** Patch version of these headers. */
#define VALKEYADDON_VERSION_PATCH 0
/** The version as a string, "MAJOR.MINOR.PATCH". */
#define VALKEYADDON_VERSION "0.1.0"
/** The version as one number, 0xMMmmpp (major, minor, patch: one byte each). */
#define VALKEYADDON_VERSION_NUM \
    ((VALKEYADDON_VERSION_MAJOR << 16) | (VALKEYADDON_VERSION_MINOR << 8) | VALKEYADDON_VERSION_PATCH)
/** True when these headers are at least version x.y.z. */
#define VALKEYADDON_AT_LEAST_VERSION(x, y, z) \
    (VALKEYADDON_VERSION_NUM >= (((x) << 16) | ((y) << 8) | (z)))

/**
 * The version of the library that is loaded.
 *
 * @param[out] major where to store the major version; may be NULL
 * @param[out] minor where to store the minor version; may be NULL
 * @param[out] patch where to store the patch version; may be NULL
 * @return the version string, static storage owned by the library (never NULL,
 *         never freed by the caller)
 */
VALKEYADDON_API const char *valkeyaddon_version(int *major, int *minor, int *patch);

VALKEYADDON_END_DECL

#endif /* VALKEYADDON_VERSION_H */
