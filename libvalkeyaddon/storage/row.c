/* Row checks, status text and bounded copies shared by the storage backends (row.h). */
#include "config.h"

#include <string.h>
#include <time.h>

#include "valkeyaddon/status.h"
#include "ctx.h"
#include "storage/row.h"

/* A member that must end within its array: a value that does not fit is refused, never cut. */
static int check_member(valkeyaddon_ctx *ctx, const char *who, const char *member, const char *value, size_t size,
                        int required)
{
    const char *end = memchr(value, '\0', size);

    if (!end)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "%s: row->%s is not NUL-terminated within its %zu bytes "
                                  "(at most %zu bytes fit)",
                                  who, member, size, size - 1);
    if (required && end == value)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "%s: row->%s must not be empty", who, member);
    return VALKEYADDON_OK;
}

int valkeyaddon__row_check(valkeyaddon_ctx *ctx, const char *who, const valkeyaddon_addon_row *row)
{
    int error;

    if (!row)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "%s: row must not be NULL", who);
    if (row->version == 0 || row->version > VALKEYADDON_ADDON_ROW_VERSION)
        return valkeyaddon__error(ctx, VALKEYADDON_EVERSION,
                                  "%s: row->version %u is not a row version this library knows (1 to %d)", who,
                                  row->version, VALKEYADDON_ADDON_ROW_VERSION);
    if ((error = check_member(ctx, who, "app_id", row->app_id, sizeof(row->app_id), 1)) < 0 ||
        (error = check_member(ctx, who, "addon_type", row->addon_type, sizeof(row->addon_type), 1)) < 0 ||
        (error = check_member(ctx, who, "tenant_id", row->tenant_id, sizeof(row->tenant_id), 0)) < 0 ||
        (error = check_member(ctx, who, "plan", row->plan, sizeof(row->plan), 0)) < 0 ||
        (error = check_member(ctx, who, "status_message", row->status_message, sizeof(row->status_message), 0)) <
            0 ||
        (error = check_member(ctx, who, "resource_name", row->resource_name, sizeof(row->resource_name), 0)) < 0 ||
        (error = check_member(ctx, who, "namespace_", row->namespace_, sizeof(row->namespace_), 0)) < 0)
        return error;
    return valkeyaddon__row_check_status(ctx, who, row->status);
}

static int check_key_part(valkeyaddon_ctx *ctx, const char *who, const char *argument, const char *value,
                          size_t size)
{
    size_t len;

    if (!value)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "%s: %s must not be NULL", who, argument);
    len = strlen(value);
    if (len == 0)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "%s: %s must not be empty", who, argument);
    if (len >= size)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "%s: %s is %zu bytes long; at most %zu are allowed", who,
                                  argument, len, size - 1);
    return VALKEYADDON_OK;
}

int valkeyaddon__row_check_key(valkeyaddon_ctx *ctx, const char *who, const char *app_id, const char *addon_type)
{
    int error;

    if ((error = check_key_part(ctx, who, "app_id", app_id, VALKEYADDON_LABEL_BUFSIZE)) < 0)
        return error;
    return check_key_part(ctx, who, "addon_type", addon_type, VALKEYADDON_ADDON_TYPE_BUFSIZE);
}

int valkeyaddon__row_check_app(valkeyaddon_ctx *ctx, const char *who, const char *app_id)
{
    return app_id ? check_key_part(ctx, who, "app_id", app_id, VALKEYADDON_LABEL_BUFSIZE) : VALKEYADDON_OK;
}

int valkeyaddon__row_check_status(valkeyaddon_ctx *ctx, const char *who, int status)
{
    if (!valkeyaddon__row_status_text(status))
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL,
                                  "%s: status %d is not a status (VALKEYADDON_STATUS_CREATING, _READY or _FAILED)",
                                  who, status);
    return VALKEYADDON_OK;
}

/* The texts the SQL schemas' CHECK constraints allow; lower case as the control plane stores them. */
const char *valkeyaddon__row_status_text(int status)
{
    switch (status) {
    case VALKEYADDON_STATUS_CREATING:
        return "creating";
    case VALKEYADDON_STATUS_READY:
        return "ready";
    case VALKEYADDON_STATUS_FAILED:
        return "failed";
    }
    return NULL;
}

int valkeyaddon__row_status_parse(const char *text)
{
    if (text && strcmp(text, "creating") == 0)
        return VALKEYADDON_STATUS_CREATING;
    if (text && strcmp(text, "ready") == 0)
        return VALKEYADDON_STATUS_READY;
    if (text && strcmp(text, "failed") == 0)
        return VALKEYADDON_STATUS_FAILED;
    return VALKEYADDON_EINVAL;
}

int valkeyaddon__row_copy(valkeyaddon_ctx *ctx, const char *who, const char *member, char *dst, size_t size,
                          const char *src, size_t len)
{
    if (!src) {
        src = "";
        len = 0;
    }
    if (len == (size_t)-1)
        len = strlen(src);
    if (len >= size)
        return valkeyaddon__error(ctx, VALKEYADDON_EINVAL, "%s: %s is %zu bytes long; at most %zu fit", who, member,
                                  len, size - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
    return VALKEYADDON_OK;
}

void valkeyaddon__row_copy_message(char *dst, size_t size, const char *src)
{
    size_t len;

    if (size == 0)
        return;
    if (!src)
        src = "";
    len = strlen(src);
    if (len >= size) {
        len = size - 1;
        /* src[len] is the first byte left out: while it continues a character, that character is cut, so drop it. */
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
            len--;
    }
    memmove(dst, src, len);
    dst[len] = '\0';
}

int64_t valkeyaddon__row_now_ms(void)
{
    struct timespec now;

    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return (int64_t)time(NULL) * 1000;
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}
