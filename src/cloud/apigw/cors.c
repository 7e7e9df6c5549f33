/* cors.c — see cors.h. */
#include "cloud/apigw/cors.h"

#include <stdio.h>
#include <string.h>

bool apigw_cors_is_preflight(const struct apigw_request *req)
{
    return req->method_len == 7 && memcmp(req->method, "OPTIONS", 7) == 0 &&
           apigw_request_header(req, "origin") != NULL &&
           apigw_request_header(req, "access-control-request-method") != NULL;
}

const char *apigw_cors_allow_origin(const struct apigw_cors *c, const char *origin,
                                    size_t origin_len, size_t *len)
{
    for (size_t i = 0; i < c->nallow_origins; i++) {
        const char *o = c->allow_origins[i];
        size_t ol = strlen(o);
        if (ol == 1 && o[0] == '*') {
            *len = 1;
            return o;
        }
        bool wild = ol >= 4 && memcmp(o + ol - 4, "://*", 4) == 0;
        if (wild && origin_len > ol - 1 && apigw_ieq(origin, ol - 1, o, ol - 1)) {
            *len = origin_len;
            return origin;
        }
        if (apigw_ieq(origin, origin_len, o, ol)) {
            *len = origin_len;
            return origin;
        }
    }
    return NULL;
}

/* Adds name: the list joined with "," (nothing when the list is empty). */
static int add_list(struct apigw_response *r, const char *name, const char *const *list, size_t n)
{
    if (n == 0)
        return APIGW_OK;
    struct buf b;
    buf_init(&b, 8192);
    int rc = APIGW_OK;
    for (size_t i = 0; rc == APIGW_OK && i < n; i++) {
        if (i > 0)
            rc = buf_append(&b, ",", 1);
        if (rc == APIGW_OK)
            rc = buf_puts(&b, list[i]);
    }
    if (rc == APIGW_OK)
        rc = apigw_response_add_header(r, name, strlen(name), b.data, b.len);
    buf_destroy(&b);
    return rc;
}

static int add_origin(const struct apigw_cors *c, const struct apigw_request *req,
                      struct apigw_response *r, bool *allowed)
{
    *allowed = false;
    const struct apigw_kv *o = apigw_request_header(req, "origin");
    size_t al = 0;
    const char *allow = o ? apigw_cors_allow_origin(c, o->value, o->value_len, &al) : NULL;
    if (allow == NULL)
        return APIGW_OK;
    *allowed = true;
    int rc = apigw_response_add_header(r, "access-control-allow-origin", 27, allow, al);
    if (rc == APIGW_OK && c->allow_credentials)
        rc = apigw_response_add_header(r, "access-control-allow-credentials", 32, "true", 4);
    return rc;
}

int apigw_cors_preflight(const struct apigw_cors *c, const struct apigw_request *req,
                         struct apigw_response *r)
{
    apigw_response_reset(r);
    r->status = 204;
    bool allowed;
    int rc = add_origin(c, req, r, &allowed);
    if (rc != APIGW_OK || !allowed)
        return rc;
    rc = add_list(r, "access-control-allow-methods", c->allow_methods, c->nallow_methods);
    if (rc == APIGW_OK)
        rc = add_list(r, "access-control-allow-headers", c->allow_headers, c->nallow_headers);
    if (rc == APIGW_OK)
        rc = add_list(r, "access-control-expose-headers", c->expose_headers, c->nexpose_headers);
    if (rc == APIGW_OK && c->max_age >= 0) {
        char age[16];
        int n = snprintf(age, sizeof age, "%d", c->max_age);
        rc = apigw_response_add_header(r, "access-control-max-age", 22, age, (size_t)n);
    }
    return rc;
}

int apigw_cors_apply(const struct apigw_cors *c, const struct apigw_request *req,
                     struct apigw_response *r)
{
    apigw_response_remove_headers(r, "access-control-");
    bool allowed;
    int rc = add_origin(c, req, r, &allowed);
    if (rc == APIGW_OK && allowed)
        rc = add_list(r, "access-control-expose-headers", c->expose_headers, c->nexpose_headers);
    return rc;
}
