/*
 * event.h — the Lambda proxy integration's event, written straight into a struct buf as JSON
 * (no jansson tree: this runs for every request).
 *
 * Payload 2.0 (AWS-CONTRACTS.md §2, AWS-RECORDED.md §5): header names lowercased, repeated
 * headers comma-joined in arrival order; `Cookie` headers split on ';' into `cookies` and kept
 * out of `headers`; `host` kept; `x-forwarded-for` gets the source ip appended (or set),
 * `x-forwarded-port`/`x-forwarded-proto` set from the context; `content-length` added when the
 * client sent none; `rawQueryString` exactly as sent; `queryStringParameters` with keys and
 * values percent-decoded ('+' is a space) and repeated keys comma-joined; `pathParameters`,
 * `stageVariables`, `cookies`, `queryStringParameters` and `body` omitted when empty;
 * `requestContext` with accountId, apiId, authorizer (when given), domainName, domainPrefix,
 * http{method,path,protocol,sourceIp,userAgent}, requestId, routeKey, stage, time (CLF),
 * timeEpoch (ms). The body is sent as text when its content type is textual (text/..., JSON,
 * XML, JavaScript; or none given) and it is valid UTF-8, else base64 with isBase64Encoded.
 *
 * Payload 1.0: version, resource, path, httpMethod, headers (names as sent, the last value of
 * a repeated header) and multiValueHeaders (every value), queryStringParameters (last value)
 * and multiValueQueryStringParameters, requestContext in the 1.0 shape, pathParameters,
 * stageVariables, body (null when empty), isBase64Encoded; empty maps are null.
 *
 * A query or header with a '%' escape that does not decode is refused with APIGW_EBADESCAPE
 * (the caller answers 400 {"message":"Bad Request"}); decoded bytes that are not UTF-8, NUL
 * included, are kept and escaped (\u0000, U+FFFD for a stray byte), never dropped.
 * Functions are thread-safe; the output buffer belongs to the caller.
 */
#ifndef HAAR_CLOUD_APIGW_EVENT_H
#define HAAR_CLOUD_APIGW_EVENT_H

#include <stddef.h>

#include "cloud/apigw/request.h"
#include "core/buf.h"

/* Everything the event needs that is not in the request. Strings are NUL-terminated and
 * borrowed; NULL optional ones are left out. */
struct apigw_event_ctx {
    const char *account_id;    /* "000000000000" */
    const char *api_id;        /* "a1b2c3d4e5" */
    const char *domain_name;   /* "a1b2c3d4e5.execute-api.localhost" (or the Host) */
    const char *domain_prefix; /* the first label of domain_name */
    const char *stage;         /* "$default" or the stage's name */
    const char *route_key;     /* "GET /pets/{id}" or "$default" */
    const char *resource;      /* 1.0: the route's path ("/pets/{id}"), "$default" */
    const char *request_id;
    const char *trace_id;        /* x-amzn-trace-id value to add when absent; optional */
    const char *forwarded_port;  /* x-forwarded-port, e.g. "8080"; optional */
    const char *forwarded_proto; /* x-forwarded-proto, e.g. "http"; optional */
    const struct apigw_kv *path_params;
    size_t npath_params;
    const struct apigw_kv *stage_vars;
    size_t nstage_vars;
    const char *authorizer_json; /* a JSON object for requestContext.authorizer; optional */
};

/* Appends the payload 2.0 event. Returns APIGW_OK, APIGW_EBADESCAPE or a buf error. */
int apigw_event_v2(const struct apigw_request *req, const struct apigw_event_ctx *ctx,
                   struct buf *out);

/* Appends the payload 1.0 event. Same returns. */
int apigw_event_v1(const struct apigw_request *req, const struct apigw_event_ctx *ctx,
                   struct buf *out);

/*
 * Appends the 2.0 request event a Lambda authorizer receives: the integration event without
 * body and isBase64Encoded, with "type":"REQUEST", routeArn and identitySource (the values of
 * the authorizer's identity sources, in order). Same returns.
 */
int apigw_event_authorizer_v2(const struct apigw_request *req, const struct apigw_event_ctx *ctx,
                              const char *route_arn, const struct apigw_kv *identity,
                              size_t nidentity, struct buf *out);

/*
 * Appends the 1.0 request event a Lambda authorizer receives (REST APIs' REQUEST authorizers
 * get this shape): the 1.0 integration event with "type":"REQUEST", methodArn and
 * identitySource (the values of the authorizer's identity sources comma-joined, at most 64 KiB)
 * after its version. Same returns.
 */
int apigw_event_authorizer_v1(const struct apigw_request *req, const struct apigw_event_ctx *ctx,
                              const char *method_arn, const struct apigw_kv *identity,
                              size_t nidentity, struct buf *out);

/* True when a body of this Content-Type (NULL: none) is sent to the function as text. */
bool apigw_event_text_type(const char *ct, size_t len);

#endif
