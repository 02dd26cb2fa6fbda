/* The in-memory storage against the storage conformance suite. */
#include <valkeyaddon.h>

#include "conformance.h"

static int memory_factory(valkeyaddon_storage **out, valkeyaddon_ctx *ctx, void *payload)
{
    (void)ctx;
    (void)payload;
    return valkeyaddon_storage_memory_new(out);
}

int main(void)
{
    return storage_conformance_run("storage_memory", memory_factory, NULL) ? 1 : 0;
}
