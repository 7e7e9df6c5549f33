/* fuzz_conn.h — what the REST adapters' fuzz targets share: their input "METHOD\nPATH\nBODY"
 * split into a protocol-neutral request, and the fake connection it is answered into (counts
 * the answers — a target traps unless there is exactly one —, traps on a status outside
 * 200..599, keeps the client-gone hook an adapter registers). Not a header of the tree:
 * included by tests/fuzz/fuzz_apigw_rest.c and fuzz_lambda_rest.c. */
#ifndef HAAR_FUZZ_CONN_H
#define HAAR_FUZZ_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/proto/proto.h"

struct conn {
    int answers;
    void (*gone)(void *);
    void *gone_arg;
};

static void c_respond(struct proto_req *r, int status, const struct proto_hdr *h, size_t n,
                      const void *body, size_t len)
{
    (void)h, (void)n, (void)body, (void)len;
    struct conn *c = r->conn;
    c->answers++;
    if (status < 200 || status > 599)
        abort();
}

static void c_on_gone(struct proto_req *r, void (*fn)(void *), void *arg)
{
    struct conn *c = r->conn;
    c->gone = fn;
    c->gone_arg = arg;
}

static const struct proto_conn_ops ops = {.respond = c_respond, .on_gone = c_on_gone};

/* The input's lines: the method (at most 15 bytes), the path line and the body (borrowed). */
struct fuzz_input {
    char method[16];
    const char *path;
    size_t path_len;
    const char *body;
    size_t body_len;
};

static void fuzz_split(const uint8_t *data, size_t size, struct fuzz_input *in)
{
    const char *p = (const char *)data, *end = p + size;
    const char *line[2] = {"", ""};
    size_t ll[2] = {0, 0};
    for (int i = 0; i < 2 && p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        line[i] = p;
        ll[i] = nl ? (size_t)(nl - p) : (size_t)(end - p);
        p = nl ? nl + 1 : end;
    }
    snprintf(in->method, sizeof in->method, "%.*s", (int)(ll[0] < 15 ? ll[0] : 15), line[0]);
    in->path = line[1];
    in->path_len = ll[1];
    in->body = p;
    in->body_len = (size_t)(end - p);
}

/* The request for in's method and body and path (len bytes, its query after '?'), answered
 * into c; in and path must outlive it. */
static struct proto_req fuzz_request(const struct fuzz_input *in, const char *path, size_t len,
                                     const struct proto_service *svc, struct conn *c)
{
    const char *q = memchr(path, '?', len);
    return (struct proto_req){.method = in->method,
                              .method_len = strlen(in->method),
                              .path = path,
                              .path_len = q ? (size_t)(q - path) : len,
                              .query = q ? q + 1 : "",
                              .query_len = q ? len - (size_t)(q + 1 - path) : 0,
                              .body = in->body,
                              .body_len = in->body_len,
                              .service = svc,
                              .ops = &ops,
                              .conn = c};
}

#endif
