/*
 * invoke_load.c — closed-loop load on Lambda's Invoke API over HTTP/1.1 keep-alive.
 *
 *   invoke_load HOST:PORT FUNCTION EVENT_FILE CONNECTIONS SECONDS [WARMUP_SECONDS]
 *
 * Each connection is one worker of the bench harness (bench/common/load.h: one thread, one
 * kept-alive socket through the runtime client's own HTTP layer) sending POST
 * /2015-03-31/functions/FUNCTION/invocations with the event as body, SigV4-signed with
 * the local default credentials (test/test, eu-west-1; the signature is remade when the
 * clock's second changes), waiting for each answer before sending the next. Latencies after
 * the warm-up are kept and reported as one JSON object on stdout: requests, errors,
 * invokes/s, p50/p90/p99/max in microseconds.
 * A 200 carrying X-Amz-Function-Error counts as an error.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/load.h"

enum { MAX_CONNS = 256 };

static char g_path[512];
static char *g_event;
static size_t g_event_len;

static enum load_next build(struct load_ctx *ctx, struct load_request *req)
{
    (void)ctx;
    load_request_reset(req);
    req->path = g_path;
    req->content_type = "application/json";
    if (buf_append(&req->body, g_event, g_event_len) != BUF_OK ||
        load_sign(req, "eu-west-1", "lambda", NULL) != 0)
        return LOAD_FAIL;
    return LOAD_SEND;
}

static bool check(struct load_ctx *ctx, const struct runtime_http_response *res)
{
    (void)ctx;
    return res->status == 200 && runtime_http_header(res, "X-Amz-Function-Error") == NULL;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct buf b;
    buf_init(&b, 6 * 1024 * 1024);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&b, chunk, n) != BUF_OK)
            break;
    fclose(f);
    return buf_take(&b, len);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr,
                "usage: invoke_load HOST:PORT FUNCTION EVENT_FILE CONNECTIONS SECONDS [WARMUP]\n");
        return 2;
    }
    long conns = strtol(argv[4], NULL, 10);
    struct load_spec spec = {
        .hostport = argv[1],
        .seconds = strtod(argv[5], NULL),
        .warmup_s = argc > 6 ? strtod(argv[6], NULL) : 1.0,
        .same_each_second = true,
        .build = build,
        .check = check,
    };
    if (conns < 1 || conns > MAX_CONNS || spec.seconds <= 0) {
        fprintf(stderr, "invoke_load: bad connections or seconds\n");
        return 2;
    }
    spec.connections = (unsigned)conns;
    snprintf(g_path, sizeof g_path, "/2015-03-31/functions/%s/invocations", argv[2]);
    g_event = read_file(argv[3], &g_event_len);
    if (g_event == NULL) {
        fprintf(stderr, "invoke_load: cannot read %s\n", argv[3]);
        return 2;
    }
    struct load_result r;
    if (load_run(&spec, &r) != 0) {
        fprintf(stderr, "invoke_load: cannot run\n");
        free(g_event);
        return 1;
    }
    struct load_line line;
    load_line_init(&line);
    load_line_counts(&line, &r);
    load_line_fixed(&line, "invokes_per_s", (double)r.requests / r.seconds, 0);
    load_line_latency(&line, &r);
    load_line_print(&line);
    int rc = r.requests == 0 ? 1 : 0;
    load_result_destroy(&r);
    free(g_event);
    return rc;
}
