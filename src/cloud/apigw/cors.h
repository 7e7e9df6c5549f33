/*
 * cors.h — an HTTP API's CORS configuration applied as API Gateway applies it ("Configure
 * CORS for HTTP APIs"): a preflight (OPTIONS with Origin and Access-Control-Request-Method)
 * is answered by the gateway itself, 204, whatever the routes; other requests that carry an
 * Origin get the configured headers added to the integration's response, and any
 * access-control-* headers the integration set are dropped.
 *
 * allowOrigins entries match exactly (ASCII case-insensitive), "*" matches any origin (and is
 * answered "*"), and a scheme wildcard ("https:" or "http:" followed by two slashes and a star)
 * matches any origin of that scheme (answered with
 * the origin). A request whose origin is not allowed gets no CORS headers.
 * Configuration strings are borrowed for the lifetime of the struct. Thread-safe (read-only).
 */
#ifndef HAAR_CLOUD_APIGW_CORS_H
#define HAAR_CLOUD_APIGW_CORS_H

#include <stdbool.h>
#include <stddef.h>

#include "cloud/apigw/request.h"
#include "cloud/apigw/response.h"

struct apigw_cors {
    const char *const *allow_origins;
    size_t nallow_origins;
    const char *const *allow_methods; /* "GET", "*", ... */
    size_t nallow_methods;
    const char *const *allow_headers; /* "authorization", "*", ... */
    size_t nallow_headers;
    const char *const *expose_headers;
    size_t nexpose_headers;
    int max_age; /* seconds; < 0 = not set */
    bool allow_credentials;
};

/* True when req is a CORS preflight: OPTIONS with Origin and Access-Control-Request-Method. */
bool apigw_cors_is_preflight(const struct apigw_request *req);

/* The value of Access-Control-Allow-Origin for this origin ("*" or the origin itself), or
 * NULL when the configuration does not allow it. Borrowed from the config or origin. */
const char *apigw_cors_allow_origin(const struct apigw_cors *c, const char *origin,
                                    size_t origin_len, size_t *len);

/* Fills r (reset first) with the gateway's answer to a preflight: 204 and, when the origin is
 * allowed, access-control-allow-origin/-methods/-headers/-max-age/-credentials. */
int apigw_cors_preflight(const struct apigw_cors *c, const struct apigw_request *req,
                         struct apigw_response *r);

/* Applies the configuration to an integration's response to req: drops its access-control-*
 * headers and, when req has an allowed Origin, adds access-control-allow-origin,
 * -expose-headers and -allow-credentials. */
int apigw_cors_apply(const struct apigw_cors *c, const struct apigw_request *req,
                     struct apigw_response *r);

#endif
