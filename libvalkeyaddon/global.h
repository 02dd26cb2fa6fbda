/*
 * Process-wide initialisation of the libraries underneath, done once whatever
 * the number of threads (docs/threads.md). Everything else the library keeps
 * lives on a context or on an object a context owns.
 */
#ifndef VALKEYADDON_INTERNAL_GLOBAL_H
#define VALKEYADDON_INTERNAL_GLOBAL_H

/*
 * curl_global_init(CURL_GLOBAL_DEFAULT), once per process: 0, or -1 when
 * libcurl could not be initialised (every later call says so too).
 */
int valkeyaddon__curl_global_init(void);

#endif
