/*
 * Process-wide initialisation, once (global.h).
 *
 * curl_global_init() is thread-safe only when libcurl reports
 * CURL_VERSION_THREADSAFE (7.84 and later, built with atomics); configure
 * accepts 7.74, and with OpenSSL before 1.1 it also initialised OpenSSL
 * unguarded. pthread_once makes the first transport initialise libcurl and
 * every other caller wait for it. curl_global_cleanup() is never called: the
 * reference stays held for the life of the process, so an application's own
 * init/cleanup pairs cannot tear libcurl down under a live transport.
 */
#include "config.h"

#include <pthread.h>

#include <curl/curl.h>

#include "global.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_result = CURLE_FAILED_INIT;

static void curl_init(void)
{
    curl_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int valkeyaddon__curl_global_init(void)
{
    if (pthread_once(&curl_once, curl_init) != 0)
        return -1;
    return curl_result == CURLE_OK ? 0 : -1;
}
