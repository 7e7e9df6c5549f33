/*
 * task_load — load on the task API: POST /tasks over HTTP/1.1 keep-alive connections, each
 * one worker of the bench harness (bench/common/load.h: one thread, one kept-alive socket).
 *
 *   task_load HOST:PORT CONNECTIONS SECONDS RATE OUT_FILE [BODY]
 *
 * RATE 0: closed loop, each connection posts again as soon as it has its answer (the most
 * the service takes). RATE R > 0: open loop, R posts a second on a fixed schedule, each sent
 * by a free connection; a post's latency counts from when it was due, so a slow answer
 * cannot hide the posts it delays. After SECONDS no post is sent; answers still due get 10 s.
 * BODY defaults to {"kind":"echo","payload":{"n":1}}.
 *
 * Each accepted task (202) is written to OUT_FILE as "<id> <due epoch ms>" so a collector
 * can match it with its finished_at (bench/tasks/report.py). The report on stdout is one
 * JSON object: posted, accepted, errors, late (posts sent over 1 ms after they were due,
 * every connection being busy), post_rps, post_p50_us, post_p99_us.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/load.h"

enum { MAX_CONNS = 1024, ID_LEN = 36 };

static const char *g_body;
static FILE *g_out;
static int64_t g_real_minus_mono_ns;
static atomic_int g_told; /* failed answers shown on stderr */

static int64_t clock_ns(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static enum load_next build(struct load_ctx *ctx, struct load_request *req)
{
    (void)ctx;
    load_request_reset(req);
    req->path = "/tasks";
    req->content_type = "application/json";
    return buf_puts(&req->body, g_body) == BUF_OK ? LOAD_SEND : LOAD_FAIL;
}

/* 202 with the task's id: the id and when its post was due go to OUT_FILE. */
static bool check(struct load_ctx *ctx, const struct runtime_http_response *res)
{
    const char *body = res->body.data ? res->body.data : "";
    const char *id = strstr(body, "\"id\":\"");
    if (res->status == 202 && id != NULL && id + 6 + ID_LEN <= body + res->body.len) {
        fprintf(g_out, "%.36s %lld\n", id + 6,
                (long long)((ctx->due_ns + g_real_minus_mono_ns) / 1000000));
        return true;
    }
    if (atomic_fetch_add(&g_told, 1) < 3)
        fprintf(stderr, "task_load: answer %d: %.200s\n", res->status, body);
    return false;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: task_load HOST:PORT CONNECTIONS SECONDS RATE OUT_FILE [BODY]\n");
        return 2;
    }
    long nconn = strtol(argv[2], NULL, 10);
    struct load_spec spec = {
        .hostport = argv[1],
        .seconds = strtod(argv[3], NULL),
        .rate = strtod(argv[4], NULL),
        .drain_s = 10,
        .same_each_second = true,
        .build = build,
        .check = check,
    };
    g_body = argc > 6 ? argv[6] : "{\"kind\":\"echo\",\"payload\":{\"n\":1}}";
    if (nconn < 1 || nconn > MAX_CONNS || spec.seconds <= 0 || spec.rate < 0)
        return 2;
    spec.connections = (unsigned)nconn;
    g_out = fopen(argv[5], "w");
    if (g_out == NULL)
        return 1;
    g_real_minus_mono_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
    struct load_result r;
    int run = load_run(&spec, &r);
    fclose(g_out);
    if (run != 0) {
        fprintf(stderr, "task_load: cannot run\n");
        return 1;
    }
    struct load_line line;
    load_line_init(&line);
    jw_kint(&line.w, "posted", (int64_t)r.sent);
    jw_kint(&line.w, "accepted", (int64_t)r.requests);
    jw_kint(&line.w, "errors", (int64_t)r.errors);
    jw_kint(&line.w, "late", (int64_t)r.late);
    load_line_fixed(&line, "post_rps", (double)r.sent / r.drain_seconds, 1);
    jw_kint(&line.w, "post_p50_us", load_percentile(&r, 0.50));
    jw_kint(&line.w, "post_p99_us", load_percentile(&r, 0.99));
    load_line_print(&line);
    int rc = r.errors > 0;
    load_result_destroy(&r);
    return rc;
}
