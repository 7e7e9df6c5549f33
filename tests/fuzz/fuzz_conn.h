/* fuzz_conn.h — the fake connection the REST adapters' fuzz targets answer into: counts the
 * answers (a target traps unless there is exactly one), traps on a status outside 200..599,
 * and keeps the client-gone hook an adapter registers. Not a header of the tree: included by
 * tests/fuzz/fuzz_apigw_rest.c and fuzz_lambda_rest.c. */
#ifndef HAAR_FUZZ_CONN_H
#define HAAR_FUZZ_CONN_H

#include <stddef.h>
#include <stdlib.h>

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

static const struct proto_conn_ops ops = {c_respond, c_on_gone};

#endif
