/* fuzz_sqs_proto_common.h — what the SQS and ESM protocol fuzz targets share: a request
 * answered into a fake connection (checked: answered exactly once, status 2xx/4xx/5xx), and
 * an engine without a store on the manual clock, whose deferred completions run after each
 * input. Not a header of the tree: included by tests/fuzz/fuzz_sqs_*.c and fuzz_esm_rest.c. */
#ifndef HAAR_FUZZ_SQS_PROTO_COMMON_H
#define HAAR_FUZZ_SQS_PROTO_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/proto/proto.h"
#include "cloud/sqs/queue.h"
#include "core/clock.h"
#include "core/timer.h"

struct fuzz_answer {
    int calls, status;
};

static void fuzz_respond(struct proto_req *r, int status, const struct proto_hdr *h, size_t n,
                         const void *body, size_t len)
{
    (void)h;
    (void)n;
    (void)body;
    (void)len;
    struct fuzz_answer *a = r->conn;
    a->calls++;
    a->status = status;
}

static void fuzz_gone(struct proto_req *r, void (*fn)(void *), void *arg)
{
    (void)r;
    (void)fn;
    (void)arg;
}

static const struct proto_conn_ops fuzz_ops = {.respond = fuzz_respond, .on_gone = fuzz_gone};

static struct sqs *fuzz_sqs(void)
{
    static struct sqs *s;
    if (s == NULL) {
        char err[256];
        clock_set_manual(1767225600000LL);
        struct sqs_options o = {
            .region = "eu-west-1", .account = "000000000000", .url_base = "http://127.0.0.1:4566"};
        s = sqs_new(NULL, &o, err, sizeof err);
        if (s == NULL)
            abort();
    }
    return s;
}

/* Runs r through handle and the completions it starts; traps unless answered once (a long
 * poll may stay parked: it is then cancelled, as a client going away would). */
static void fuzz_run(struct proto_req *r, void (*handle)(void *, struct proto_req *), void *engine)
{
    struct fuzz_answer a = {0};
    r->ops = &fuzz_ops;
    r->conn = &a;
    handle(engine, r);
    for (int i = 0; i < 4; i++)
        timer_run_due();
    if (a.calls > 1 || (a.calls == 1 && (a.status < 200 || a.status > 599)))
        __builtin_trap();
}

#endif
