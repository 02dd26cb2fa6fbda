/* The spec's status table, and the corners it leaves open (see status.h). */
#include "config.h"

#include "valkeyaddon/errors.h"
#include "valkeyaddon/status.h"

int parse_valkey_status(int32_t ready, int32_t desired)
{
    if (ready < 0 || desired < 0)
        return VALKEYADDON_EINVAL;
    if (desired == 0 || ready == 0)
        return VALKEYADDON_STATUS_CREATING;
    if (ready >= desired)
        return VALKEYADDON_STATUS_READY;
    return VALKEYADDON_STATUS_FAILED;
}

const char *valkeyaddon_status_name(int status)
{
    switch (status) {
    case VALKEYADDON_STATUS_CREATING: return "Creating";
    case VALKEYADDON_STATUS_READY: return "Ready";
    case VALKEYADDON_STATUS_FAILED: return "Failed";
    default: return NULL;
    }
}
