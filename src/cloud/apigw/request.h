/*
 * request.h — the API Gateway engine's own, protocol-neutral description of one client
 * request, and the small helpers every apigw_ module shares on it (header lookup, the CLF
 * request time; percent-decoding is core/url.h's).
 *
 * Nothing here knows HTTP servers: the API port's adapter fills a struct apigw_request from
 * whatever its server gave it and hands it to the engine. Every pointer is borrowed from the
 * caller and must outlive the call it is passed to; no string needs a NUL terminator (lengths
 * rule), except source_ip and protocol. Stateless; every function is thread-safe.
 */
#ifndef HAAR_CLOUD_APIGW_REQUEST_H
#define HAAR_CLOUD_APIGW_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* A name/value pair with lengths: a request or response header, a path parameter, a stage
 * variable, a context entry. Bytes are borrowed. */
struct apigw_kv {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

struct apigw_request {
    const char *method; /* as sent, e.g. "GET" */
    size_t method_len;
    const char *path; /* raw, as sent on the wire, without the query; starts with '/' */
    size_t path_len;
    const char *query; /* raw, without the '?'; NULL or "" when there is none */
    size_t query_len;
    const struct apigw_kv *headers; /* in the order received, names in any case */
    size_t nheaders;
    const void *body;
    size_t body_len;
    const char *source_ip; /* NUL-terminated, e.g. "127.0.0.1" */
    const char *host;      /* the Host header or HTTP/2 :authority; NULL when unknown */
    size_t host_len;
    const char *protocol; /* NUL-terminated, e.g. "HTTP/1.1" */
    int64_t time_ms;      /* when the request arrived, epoch milliseconds */
};

/* Errors shared by the apigw_ modules (0 is success; buf errors pass through as they are). */
enum {
    APIGW_OK = 0,
    APIGW_ENOMEM = -1,     /* BUF_ENOMEM */
    APIGW_ETOOBIG = -2,    /* BUF_ETOOBIG: a bounded output is full */
    APIGW_EBADESCAPE = -20 /* a '%' not followed by two hex digits */
};

/* The first header named `name` (ASCII case-insensitive); NULL when absent. Borrowed. */
const struct apigw_kv *apigw_request_header(const struct apigw_request *req, const char *name);

/* True when the len bytes of s are an HTTP token (RFC 9110 tchar, at least one): what a header
 * name is. */
bool apigw_token(const char *s, size_t len);

/* ASCII case-insensitive comparison of two byte strings of lengths al and bl. */
bool apigw_ieq(const char *a, size_t al, const char *b, size_t bl);

/* Formats epoch ms as the CLF time AWS uses, "12/Mar/2020:19:03:58 +0000", into out
 * (at least 27 bytes). Returns the length written, or -1 if out is too small. */
int apigw_clf_time(int64_t epoch_ms, char *out, size_t outlen);

#endif
