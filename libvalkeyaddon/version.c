/* Run-time version of the loaded library. */
#include "config.h"

#include "valkeyaddon/version.h"

const char *valkeyaddon_version(int *major, int *minor, int *patch)
{
    if (major)
        *major = VALKEYADDON_VERSION_MAJOR;
    if (minor)
        *minor = VALKEYADDON_VERSION_MINOR;
    if (patch)
        *patch = VALKEYADDON_VERSION_PATCH;
    return VALKEYADDON_VERSION;
}
