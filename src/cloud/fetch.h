/*
 * fetch.h — reading a document the daemon's services name by location (a JWKS URL, say),
 * off the loop: http:// and https:// with libcurl, local files by path or file:// URL, on the
 * work pool (core/work.h), answering on the loop. Loop thread only.
 */
#ifndef HAAR_CLOUD_FETCH_H
#define HAAR_CLOUD_FETCH_H

#include <stddef.h>

enum { FETCH_TIMEOUT_MS = 10000 };

/*
 * Fetches url, keeping at most max bytes (more fails). done(arg, rc, body, len) runs later on
 * the loop: rc 0 with the body of a 2xx answer (or the file's bytes; body borrowed for the
 * call, NUL-terminated), else -1 with body NULL (bad URL, I/O or HTTP error, timeout after
 * FETCH_TIMEOUT_MS, too large, out of memory).
 */
void fetch_url(const char *url, size_t max,
               void (*done)(void *arg, int rc, const char *body, size_t len), void *arg);

#endif
