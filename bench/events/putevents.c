/*
 * putevents.c — closed-loop load on EventBridge's PutEvents (JSON 1.1) over HTTP/1.1
 * keep-alive, the same for haar and for a peer.
 *
 *   putevents HOST:PORT CONNECTIONS SECONDS [WARMUP_SECONDS] [REGION]
 *
 * Each connection is one worker of the bench harness (bench/common/load.h: one thread, one
 * kept-alive socket through the runtime client's HTTP layer) sending POST / with
 * X-Amz-Target: AWSEvents.PutEvents and a batch of 10 entries (sources bench.s0 .. bench.s9,
 * a small detail), SigV4-signed with core/sigv4.c's signer (test/test, service "events"; the
 * signature is remade when the second changes), waiting for each answer before sending the
 * next. An answer counts when it is 200 with "FailedEntryCount":0. Latencies after the
 * warm-up are kept and reported as one JSON object on stdout: requests, errors, requests/s,
 * events/s, p50/p90/p99/max in µs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/load.h"

enum { MAX_CONNS = 256, ENTRIES = 10 };

static const char *g_region = "eu-west-1";
static struct buf g_body;

/* Ten entries: sources bench.s0..s9, detail-types type0..type9, a small detail. The rules the
 * bench script puts (bench/events/run) match some of them. */
static int make_body(void)
{
    buf_init(&g_body, 8191);
    int rc = buf_puts(&g_body, "{\"Entries\":[");
    for (int i = 0; i < ENTRIES && rc == BUF_OK; i++)
        rc = buf_printf(&g_body,
                        "%s{\"Source\":\"bench.s%d\",\"DetailType\":\"type%d\",\"Detail\":"
                        "\"{\\\"n\\\":%d,\\\"region\\\":\\\"eu-west-1\\\",\\\"order\\\":{\\\"id\\\":"
                        "\\\"o-%d\\\",\\\"total\\\":%d.5,\\\"items\\\":[\\\"a\\\",\\\"b\\\"]}}\","
                        "\"Resources\":[\"arn:aws:s3:::bench\"]}",
                        i ? "," : "", i, i, i * 11, i, i * 20);
    return rc == BUF_OK ? buf_puts(&g_body, "]}") : rc;
}

static enum load_next build(struct load_ctx *ctx, struct load_request *req)
{
    (void)ctx;
    load_request_reset(req);
    req->content_type = "application/x-amz-json-1.1";
    if (buf_append(&req->body, g_body.data, g_body.len) != BUF_OK ||
        load_sign(req, g_region, "events", "AWSEvents.PutEvents") != 0)
        return LOAD_FAIL;
    return LOAD_SEND;
}

/* True when the answer says "FailedEntryCount": 0 (with or without spaces). */
static bool no_failed_entry(const char *body)
{
    const char *p = body ? strstr(body, "\"FailedEntryCount\"") : NULL;
    if (p == NULL)
        return false;
    p += 18;
    while (*p == ' ' || *p == ':')
        p++;
    return *p == '0';
}

static bool check(struct load_ctx *ctx, const struct runtime_http_response *res)
{
    (void)ctx;
    return res->status == 200 && no_failed_entry(res->body.data);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: putevents HOST:PORT CONNECTIONS SECONDS [WARMUP] [REGION]\n");
        return 2;
    }
    long conns = strtol(argv[2], NULL, 10);
    struct load_spec spec = {
        .hostport = argv[1],
        .seconds = strtod(argv[3], NULL),
        .warmup_s = argc > 4 ? strtod(argv[4], NULL) : 1.0,
        .same_each_second = true,
        .build = build,
        .check = check,
    };
    if (argc > 5)
        g_region = argv[5];
    if (conns < 1 || conns > MAX_CONNS || spec.seconds <= 0 || spec.warmup_s < 0) {
        fprintf(stderr, "putevents: bad connections or seconds\n");
        return 2;
    }
    spec.connections = (unsigned)conns;
    struct load_result r;
    if (make_body() != BUF_OK || load_run(&spec, &r) != 0) {
        fprintf(stderr, "putevents: cannot run\n");
        buf_destroy(&g_body);
        return 1;
    }
    struct load_line line;
    load_line_init(&line);
    load_line_counts(&line, &r);
    load_line_fixed(&line, "requests_per_s", (double)r.requests / r.seconds, 1);
    load_line_fixed(&line, "events_per_s", (double)r.requests * ENTRIES / r.seconds, 0);
    load_line_latency(&line, &r);
    load_line_print(&line);
    int rc = r.requests == 0 ? 1 : 0;
    load_result_destroy(&r);
    buf_destroy(&g_body);
    return rc;
}
