/*
 * http.h — the AWS client's byte transport: one kept-alive connection per endpoint, a
 * request out and its answer in, bounded by a connect deadline and a request deadline.
 *
 * Two backends behind one interface, chosen per endpoint:
 *  - native: the runtime's own HTTP/1.1 client (runtime/runtime_http.h: one blocking
 *    socket, one sendmsg per request, poll()-bounded deadlines). Plain http:// only. Measured
 *    on this machine against haar's AWS port: ≈ 10 µs of client CPU per request against
 *    ≈ 24 µs with libcurl (bench/tasks/README.md), and the functions make two to three AWS
 *    calls per task, so it is the default wherever it can be used (haar up).
 *  - curl: libcurl (an easy handle kept per endpoint, so its connection is reused), for
 *    https:// — the real AWS endpoints, where TLS is needed and the native client has none.
 *    libcurl is opened (dlopen) by the first connection that needs it, not linked: loading it
 *    and what it pulls in cost ~3 ms at every process start.
 * HAAR_AWS_HTTP=curl forces libcurl for http:// too (tests run the flow both ways);
 * HAAR_AWS_HTTP=native on an https:// endpoint is refused.
 *
 * A connection belongs to one thread; nothing here is thread-safe.
 */
#ifndef HAAR_AWS_HTTP_H
#define HAAR_AWS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "aws/env.h"

enum aws_http_backend { AWS_HTTP_NATIVE, AWS_HTTP_CURL };

/* Results of aws_http_send. */
enum {
    AWS_HTTP_OK = 0,
    AWS_HTTP_ECONNECT = -1, /* could not resolve or connect */
    AWS_HTTP_ETIMEOUT = -2, /* a deadline passed (connect or request) */
    AWS_HTTP_EIO = -3,      /* the connection broke, or the answer was malformed */
    AWS_HTTP_ETOOBIG = -4,  /* the answer is larger than AWS_HTTP_MAX_BODY */
    AWS_HTTP_ENOMEM = -5,
};

enum { AWS_HTTP_MAX_BODY = 16 * 1024 * 1024 };

/* A short name for an AWS_HTTP_* result (static string). */
const char *aws_http_strerror(int rc);

struct aws_http_header {
    const char *name;
    const char *value; /* no CR or LF */
};

struct aws_http_request {
    const char *method;
    const char *path;                      /* as sent: percent-encoded, with any query */
    const struct aws_http_header *headers; /* not Host, Content-Length: the transport's */
    size_t nheaders;
    const void *body;
    size_t body_len;
};

/* An answer. Everything is borrowed from the connection and valid until its next request. */
struct aws_http_response {
    int status;
    const char *body; /* NUL-terminated */
    size_t body_len;
    const char *request_id;  /* x-amzn-RequestId, or NULL */
    const char *retry_after; /* x-amz-retry-after, or NULL */
};

struct aws_http_conn;

/*
 * Picks the backend for an endpoint: `override` ("native", "curl", or NULL/"" for the
 * default: native for http://, curl for https://). Returns 0, or -1 with a reason in err
 * (an unknown name, native asked for https://).
 */
int aws_http_backend_for(const struct aws_endpoint *ep, const char *override,
                         enum aws_http_backend *out, char *err, size_t errlen);

/* A closed connection to ep (connects at the first request). NULL when out of memory or
 * the address does not resolve (native). The endpoint is copied. */
struct aws_http_conn *aws_http_conn_new(const struct aws_endpoint *ep, enum aws_http_backend b);

/* Closes and frees; accepts NULL. */
void aws_http_conn_free(struct aws_http_conn *c);

/* The Host header value this connection sends (to be signed). Borrowed. */
const char *aws_http_conn_host(const struct aws_http_conn *c);

/* The backend in use. */
enum aws_http_backend aws_http_conn_backend(const struct aws_http_conn *c);

/* How many TCP connections were opened so far (one while it stays kept alive). */
unsigned long aws_http_conn_connects(const struct aws_http_conn *c);

/*
 * Sends r and reads the answer into res (any status). The connect must finish by
 * connect_deadline_ms and the whole request by deadline_ms (epoch ms of CLOCK_REALTIME;
 * 0: none). Returns AWS_HTTP_OK or an error; after an error the connection is closed and
 * the next request opens a new one.
 */
int aws_http_send(struct aws_http_conn *c, const struct aws_http_request *r,
                  int64_t connect_deadline_ms, int64_t deadline_ms, struct aws_http_response *res);

#endif
