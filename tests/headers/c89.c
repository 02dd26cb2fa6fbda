/*
 * The public headers must compile as strict C89 with every warning an error
 * (built with -std=c89 -pedantic -Wall -Wextra -Werror by make check), and be
 * usable: this program touches each header's main declarations.
 */
#include <valkeyaddon.h>
#include <valkeyaddon/sys/transport.h>
#include <valkeyaddon/sys/storage.h>

int main(void)
{
    valkeyaddon_ctx_options options = VALKEYADDON_CTX_OPTIONS_INIT;
    valkeyaddon_plan_config plan = VALKEYADDON_PLAN_CONFIG_INIT;
    char name[VALKEYADDON_NAME_BUFSIZE];
    valkeyaddon_ctx *ctx = 0;
    int rc;

    if (valkeyaddon_ctx_new(&ctx, &options) != VALKEYADDON_OK)
        return 1;
    rc = valkey_name(name, sizeof(name), ctx, "acme", "web");
    rc |= valkey_plan_config(&plan, ctx, "free");
    rc |= parse_valkey_status(1, 1) == VALKEYADDON_STATUS_READY ? 0 : 1;
    rc |= VALKEYADDON_AT_LEAST_VERSION(0, 1, 0) ? 0 : 1;
    valkeyaddon_ctx_free(ctx);
    return rc == 0 && valkeyaddon_strerror(VALKEYADDON_OK) ? 0 : 1;
}
