/*
 * url.h — percent-encoding and query strings: the one copy every module uses (query
 * parameters, form bodies, path segments, SigV4's canonical forms). Stateless, thread-safe.
 */
#ifndef HAAR_CORE_URL_H
#define HAAR_CORE_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* Flags for url_decode. */
enum {
    URL_PLUS_SPACE = 1, /* '+' is a space (application/x-www-form-urlencoded) */
    URL_ALLOW_NUL = 2,  /* "%00" decodes to a NUL byte instead of failing */
};

/* url_decode_buf's answer to a '%' not followed by two hex digits (or "%00" without
 * URL_ALLOW_NUL); distinct from every buf error. */
enum { URL_EBADESCAPE = -10 };

/* Percent-decodes len bytes into out (NUL-terminated, outlen bytes with the NUL). Returns
 * the decoded length, or -1 for a malformed escape ("%zz", a '%' near the end), a NUL byte
 * without URL_ALLOW_NUL, or no room. */
long url_decode(const char *in, size_t len, int flags, char *out, size_t outlen);

/* The same, appending to a bounded buffer (no NUL added past the bytes; decoded bytes may
 * be anything with URL_ALLOW_NUL). Returns BUF_OK, a buf error, or URL_EBADESCAPE; after
 * an error out holds a partial result. */
int url_decode_buf(const char *in, size_t len, int flags, struct buf *out);

/* A member of a query string or form body "k=v&k2&k3=v3", raw (not decoded). */
struct url_member {
    const char *key;
    size_t key_len;
    const char *value; /* "" when there is no '=' */
    size_t value_len;
    bool has_value; /* an '=' was present */
};

/* Walks the members of q (ql bytes) from *pos, which it moves past the member returned.
 * Empty members ("a=1&&b=2") are skipped. Returns false at the end. */
bool url_query_next(const char *q, size_t ql, size_t *pos, struct url_member *m);

/* Percent-encodes bytes RFC 3986 style: A-Z a-z 0-9 - _ . ~ kept (and '/' when keep_slash),
 * everything else as %XX (uppercase). Returns BUF_OK or a buf error. */
int url_encode(const char *in, size_t len, bool keep_slash, struct buf *out);

#endif
