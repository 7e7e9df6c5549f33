/*
 * proto.h — the protocol-neutral request every adapter receives, and the answer path.
 *
 * The HTTP layer (src/cloud/http) turns each HTTP request into a struct proto_req and hands
 * it to a handler (an adapter). The adapter answers once, now or later, with proto_respond
 * (or the error and body helpers built on it); it may keep the request and answer from a
 * later loop callback (a parked long poll), provided it registers proto_on_gone to learn
 * that the client went away — after which, as after proto_respond, the request must be
 * forgotten. Adapters never see h2o or HTTP server types.
 *
 * Everything a proto_req points to is borrowed from the connection and valid until the
 * request is answered or gone. Loop thread only.
 */
#ifndef HAAR_CLOUD_PROTO_H
#define HAAR_CLOUD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct proto_req;

/* A header: names as received (h2o lowercases them), values raw. value_len 0 with a
 * non-empty value means strlen(value) (for answers built from C strings). */
struct proto_hdr {
    const char *name;
    const char *value;
    size_t value_len;
};

/* Wire protocols, each with its own error shape (proto_error). */
enum proto_kind {
    PROTO_JSON10,    /* awsJson1_0: X-Amz-Target, {"__type","message"} (SQS, DynamoDB) */
    PROTO_JSON11,    /* awsJson1_1: X-Amz-Target (Logs, EventBridge) */
    PROTO_QUERY,     /* awsQuery: form Action=, XML answers and <ErrorResponse> (SQS, STS) */
    PROTO_REST_JSON, /* restJson1: paths, X-Amzn-ErrorType + {"message"} (Lambda, apigatewayv2) */
    PROTO_PLAIN,     /* not an AWS API: the Runtime API, the API port, /_haar */
};

/* A service as the router knows it: how its requests are recognised, signed and answered. */
struct proto_service {
    const char *name;           /* "sqs" — also the signing name unless sign_as is set */
    const char *sign_as;        /* SigV4 scope service when it differs from name, or NULL */
    enum proto_kind protocol;
    const char *target_prefix;  /* JSON protocols: "AmazonSQS." */
    const char *const *actions; /* query protocol: the Action= values it answers, NULL-ended */
    const char *const *paths;   /* REST: path prefixes it answers, NULL-ended */
    const char *json_type_ns;   /* prefix of __type: "com.amazonaws.sqs#", or "" */
    /* optional: the __type prefix of one error, for services whose errors live in several
     * namespaces (SQS: "com.amazon.coral.service#" for its two generic shapes); NULL, or a
     * NULL answer, means json_type_ns */
    const char *(*json_type_ns_of)(enum err e);
    const char *xmlns;          /* query protocol answers' namespace */
    const char *json_content_type; /* "application/x-amz-json-1.0", ... */
    bool query_error_header;    /* JSON errors carry x-amzn-query-error (awsQueryCompatible) */
    size_t max_body;            /* bodies above are refused before the adapter runs */
    void (*handle)(void *engine, struct proto_req *r);
    void *engine;
    /* REST-JSON error bodies differ (Lambda: {"Type","message"}); NULL = {"message"} */
    void (*rest_error_body)(enum err e, const char *msg, struct buf *out);
    /* JSON protocols: every answer carries x-amz-crc32, the CRC32 of its body (DynamoDB). */
    bool json_crc32;
};

/* Who signed the request (filled by the router after SigV4 verification). */
struct proto_caller {
    char access_key[129];
    char arn[320];     /* arn:aws:iam::000000000000:root or an assumed-role ARN */
    char user_id[200]; /* the UserId GetCallerIdentity returns */
    char account[16];
};

/* The connection's side of a request, implemented by the HTTP layer. */
struct proto_conn_ops {
    void (*respond)(struct proto_req *r, int status, const struct proto_hdr *hdrs, size_t n,
                    const void *body, size_t len);
    void (*on_gone)(struct proto_req *r, void (*fn)(void *arg), void *arg);
    /* optional (NULL: respond): proto_respond_lazy */
    void (*respond_lazy)(struct proto_req *r, int status, const struct proto_hdr *hdrs, size_t n,
                         const void *body, size_t len);
};

struct proto_req {
    const char *method;
    size_t method_len;
    const char *path; /* raw (percent-encoded as sent), without the query */
    size_t path_len;
    const char *query; /* raw, without '?'; "" when none */
    size_t query_len;
    const char *body;
    size_t body_len;
    const struct proto_hdr *headers;
    size_t nheaders;
    const char *authority; /* Host, as sent ("" when none) */
    size_t authority_len;
    char source_ip[48];
    char request_id[37]; /* a fresh UUID per request */
    /* set by the router */
    const struct proto_service *service;
    const char *op; /* operation name (X-Amz-Target suffix or Action=), not NUL-terminated */
    size_t op_len;
    struct proto_caller caller;
    /* the connection */
    const struct proto_conn_ops *ops;
    void *conn;
};

/* Answers the request (status, headers, body copied). The request must be forgotten after. */
void proto_respond(struct proto_req *r, int status, const struct proto_hdr *hdrs, size_t n,
                   const void *body, size_t len);

/* proto_respond for an answer the client is in no hurry to read: when it has already sent its
 * next request on the connection (HTTP/1.1 pipelining), the answer may wait in the socket and
 * go out with the connection's next one, in the same segment (the Runtime API's 202 to a
 * result with GET /next pipelined behind it: one transmission through the loopback stack fewer
 * per invocation). It waits at most the kernel's TCP_CORK limit (200 ms). */
void proto_respond_lazy(struct proto_req *r, int status, const struct proto_hdr *hdrs, size_t n,
                        const void *body, size_t len);

/* Registers fn(arg) to run if the client goes away before the answer. */
void proto_on_gone(struct proto_req *r, void (*fn)(void *arg), void *arg);

/* Case-insensitive header lookup, first occurrence: the value (not NUL-terminated) with its
 * length in *len, or NULL. */
const char *proto_header(const struct proto_req *r, const char *name, size_t *len);

/*
 * Query members, read form-style: '+' is a space (SDKs send "%2B" for a '+'), "%XX" a byte.
 * A malformed escape or a decoded NUL makes a member unreadable (as if absent).
 */

/* The decoded value of the first query member named key (exact, case-sensitive) into out
 * (outlen bytes with the NUL): its length, or -1 when there is none, it is unreadable or it
 * does not fit. */
long proto_query(const struct proto_req *r, const char *key, char *out, size_t outlen);

/* Every query member named key whose decoded value is non-empty (UntagResource's tagKeys),
 * in the order sent, as a JSON array of strings (new reference, NULL when out of memory).
 * Values of any length are kept; unreadable ones and those that are not UTF-8 are left out. */
struct json_t *proto_query_all(const struct proto_req *r, const char *key);

/* True when the method is m (exact, e.g. "GET"). */
bool proto_method_is(const struct proto_req *r, const char *m);

/*
 * Answers an AWS error in the shape of the request's service protocol, with the status of
 * the error table's row: JSON {"__type": ns + code, "message"} (+ x-amzn-query-error for
 * awsQueryCompatible services), query-protocol XML <ErrorResponse> with the row's query code,
 * REST-JSON with X-Amzn-ErrorType. msg NULL means the row's default message. Adds the
 * x-amzn-requestid header.
 */
void proto_error(struct proto_req *r, enum err e, const char *msg);

/* The same with another HTTP status than the row's. */
void proto_error_status(struct proto_req *r, enum err e, int status, const char *msg);

/* The same with a printf-formatted message. */
void proto_errorf(struct proto_req *r, enum err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the error body alone (for callers that add members or headers), into out. */
void proto_error_body(const struct proto_req *r, enum err e, const char *msg, struct buf *out);

/* Answers 200 (or status) with a body in the service's content type (JSON protocols:
 * application/x-amz-json-1.x; query: text/xml; REST: application/json) and
 * x-amzn-requestid. */
void proto_ok(struct proto_req *r, int status, const void *body, size_t len);

/* Answers status with body (NULL: empty), Content-Type ctype (none when NULL: for a service
 * that echoes the request's, as DynamoDB does application/json, or answers some failures
 * without one), x-amzn-requestid and, for a JSON service that asks, x-amz-crc32. proto_ok
 * is this with the service's content type. */
void proto_answer(struct proto_req *r, int status, const char *ctype, const void *body,
                  size_t len);

#endif
