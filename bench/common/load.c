/*
 * load.c — the load harness of the bench programs (load.h).
 */
#include "common/load.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sigv4.h"

enum { PHASE_WARMUP, PHASE_MEASURE, PHASE_END };

/* What the workers of one run share. */
struct run {
    const struct load_spec *spec;
    atomic_int phase;
    atomic_ulong next_slot; /* open loop: the next request due */
    int64_t start_ns, measure_ns, end_ns; /* CLOCK_MONOTONIC; end_ns INT64_MAX: no end */
    int64_t deadline_ms; /* epoch ms of the last answer (drain), 0: none */
};

struct worker {
    pthread_t th;
    bool joinable;
    struct run *run;
    struct load_client client;
    struct load_ctx ctx;
    bool built;          /* client.req holds a request */
    time_t built_second; /* the clock's second it was built in */
    uint32_t *lat_us;    /* measured successes, at most cap */
    size_t n, cap;
    unsigned long sent, requests, errors, late;
    char first_error[256];
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static void request_init(struct load_request *req, const char *host)
{
    req->host = host;
    req->method = "POST";
    req->path = "/";
    req->content_type = NULL;
    buf_init(&req->headers, RUNTIME_HTTP_MAX_HEAD);
    buf_init(&req->body, LOAD_MAX_REQUEST);
}

void load_request_reset(struct load_request *req)
{
    buf_reset(&req->headers);
    buf_reset(&req->body);
}

int load_sign(struct load_request *req, const char *region, const char *service,
              const char *target)
{
    char amz_date[17];
    sigv4_format_amz_date((int64_t)time(NULL) * 1000, amz_date);
    struct sigv4_header h[4] = {
        {"host", 4, req->host, strlen(req->host)},
        {"x-amz-date", 10, amz_date, 16},
    };
    size_t nh = 2;
    if (req->content_type != NULL)
        h[nh++] = (struct sigv4_header){"content-type", 12, req->content_type,
                                        strlen(req->content_type)};
    if (target != NULL)
        h[nh++] = (struct sigv4_header){"x-amz-target", 12, target, strlen(target)};
    struct sigv4_request sr = {
        .method = req->method,
        .method_len = strlen(req->method),
        .path = req->path,
        .path_len = strlen(req->path),
        .headers = h,
        .nheaders = nh,
        .body = req->body.data,
        .body_len = req->body.len,
    };
    struct buf auth;
    buf_init(&auth, 1024);
    int rc = sigv4_authorization(&sr, "test", "test", region, service, amz_date, true, &auth);
    if (rc == 0) {
        rc = buf_printf(&req->headers, "X-Amz-Date: %s\r\n", amz_date);
        if (rc == BUF_OK && target != NULL)
            rc = buf_printf(&req->headers, "X-Amz-Target: %s\r\n", target);
        if (rc == BUF_OK)
            rc = buf_printf(&req->headers, "Authorization: %s\r\n", auth.data);
    }
    buf_destroy(&auth);
    return rc == 0 ? 0 : -1;
}

int load_client_init(struct load_client *c, const char *hostport)
{
    runtime_http_response_init(&c->res, LOAD_MAX_ANSWER);
    int rc = runtime_http_conn_init(&c->conn, hostport);
    request_init(&c->req, c->conn.hostport);
    if (rc != RUNTIME_HTTP_OK) {
        load_client_destroy(c);
        return -1;
    }
    return 0;
}

void load_client_destroy(struct load_client *c)
{
    if (c == NULL)
        return;
    runtime_http_conn_destroy(&c->conn);
    runtime_http_response_destroy(&c->res);
    buf_destroy(&c->req.headers);
    buf_destroy(&c->req.body);
}

int load_client_send(struct load_client *c)
{
    const struct load_request *r = &c->req;
    return runtime_http_request(&c->conn, r->method, r->path,
                                r->headers.len > 0 ? r->headers.data : NULL, r->content_type,
                                r->body.data, r->body.len, &c->res);
}

/* Counts a failure; the first one of the worker is described. */
static void failed(struct worker *w, int rc, const char *what)
{
    if (w->errors++ > 0)
        return;
    const struct runtime_http_response *res = &w->client.res;
    if (what != NULL)
        snprintf(w->first_error, sizeof w->first_error, "%s", what);
    else if (rc != RUNTIME_HTTP_OK)
        snprintf(w->first_error, sizeof w->first_error, "rc=%s", runtime_http_strerror(rc));
    else
        snprintf(w->first_error, sizeof w->first_error, "status=%d body=%.160s", res->status,
                 res->body.data ? res->body.data : "");
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *run = w->run;
    const struct load_spec *spec = run->spec;
    for (;;) {
        int phase = atomic_load_explicit(&run->phase, memory_order_relaxed);
        if (phase == PHASE_END)
            break;
        int64_t due = 0;
        if (spec->rate > 0) {
            unsigned long slot = atomic_fetch_add(&run->next_slot, 1);
            due = run->start_ns + (int64_t)((double)slot * 1e9 / spec->rate);
            if (due >= run->end_ns)
                break;
            sleep_until(due);
            w->ctx.measured = due >= run->measure_ns;
        } else {
            w->ctx.measured = phase == PHASE_MEASURE;
        }
        time_t second = spec->same_each_second ? time(NULL) : 0;
        if (!w->built || !spec->same_each_second || second != w->built_second) {
            enum load_next next = spec->build(&w->ctx, &w->client.req);
            if (next == LOAD_DONE)
                break;
            if (next != LOAD_SEND) {
                failed(w, RUNTIME_HTTP_OK, "cannot build the request");
                break;
            }
            w->built = true;
            w->built_second = second;
        }
        int64_t t0 = now_ns();
        if (spec->rate > 0) {
            if (w->ctx.measured && t0 - due > 1000000)
                w->late++;
            t0 = due;
        }
        if (run->deadline_ms > 0)
            w->client.conn.deadline_ms = run->deadline_ms;
        w->ctx.due_ns = t0;
        if (w->ctx.measured)
            w->sent++;
        int rc = load_client_send(&w->client);
        int64_t t1 = now_ns();
        if (rc != RUNTIME_HTTP_OK || !spec->check(&w->ctx, &w->client.res)) {
            failed(w, rc, NULL);
            w->ctx.failures++;
            if (rc != RUNTIME_HTTP_OK) {
                struct timespec pause = {0, 10 * 1000 * 1000};
                nanosleep(&pause, NULL);
            }
            continue;
        }
        w->ctx.failures = 0;
        if (w->ctx.measured) {
            w->requests++;
            if (w->n < w->cap)
                w->lat_us[w->n++] = (uint32_t)((t1 - t0) / 1000);
        }
    }
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void load_sort_i64(int64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_i64);
}

/* Sums the workers into out and sorts the latencies. Returns 0 or -1 (out of memory). */
static int merge(struct worker *ws, unsigned n, struct load_result *out)
{
    size_t total = 0;
    for (unsigned i = 0; i < n; i++) {
        struct worker *w = &ws[i];
        total += w->n;
        out->sent += w->sent;
        out->requests += w->requests;
        out->errors += w->errors;
        out->late += w->late;
        out->units += w->ctx.units;
        if (w->errors > 0 && out->first_error[0] == '\0')
            memcpy(out->first_error, w->first_error, sizeof out->first_error);
    }
    out->lat_us = malloc(sizeof(uint32_t) * (total ? total : 1));
    if (out->lat_us == NULL)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        memcpy(out->lat_us + out->nlat, ws[i].lat_us, ws[i].n * sizeof(uint32_t));
        out->nlat += ws[i].n;
    }
    qsort(out->lat_us, out->nlat, sizeof(uint32_t), cmp_u32);
    return 0;
}

static bool spec_ok(const struct load_spec *s)
{
    return s->hostport != NULL && s->build != NULL && s->check != NULL && s->connections >= 1 &&
           s->connections <= LOAD_MAX_CONNECTIONS && s->warmup_s >= 0 && s->rate >= 0 &&
           s->drain_s >= 0 && !(s->rate > 0 && s->seconds <= 0);
}

int load_run(const struct load_spec *spec, struct load_result *out)
{
    memset(out, 0, sizeof *out);
    if (!spec_ok(spec))
        return -1;
    unsigned n = spec->connections;
    int rc = -1;
    int64_t t0 = 0, t1 = 0;
    struct run run = {.spec = spec};
    atomic_init(&run.phase, spec->warmup_s > 0 ? PHASE_WARMUP : PHASE_MEASURE);
    atomic_init(&run.next_slot, 0);
    struct worker *ws = calloc(n, sizeof *ws);
    if (ws == NULL)
        return -1;
    unsigned ready = 0;
    for (; ready < n; ready++) {
        struct worker *w = &ws[ready];
        w->run = &run;
        w->ctx.worker = ready;
        w->cap = LOAD_MAX_SAMPLES / n;
        w->lat_us = malloc(sizeof(uint32_t) * w->cap);
        w->ctx.state = spec->state_size ? calloc(1, spec->state_size) : NULL;
        if (w->lat_us == NULL || (spec->state_size && w->ctx.state == NULL) ||
            load_client_init(&w->client, spec->hostport) != 0) {
            free(w->lat_us);
            free(w->ctx.state);
            goto free_workers;
        }
    }

    run.start_ns = now_ns();
    run.measure_ns = run.start_ns + (int64_t)(spec->warmup_s * 1e9);
    run.end_ns = spec->seconds > 0 ? run.measure_ns + (int64_t)(spec->seconds * 1e9) : INT64_MAX;
    if (spec->drain_s > 0 && spec->seconds > 0) {
        struct timespec wall;
        clock_gettime(CLOCK_REALTIME, &wall);
        run.deadline_ms = (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000 +
                          (int64_t)((spec->warmup_s + spec->seconds + spec->drain_s) * 1000);
    }
    for (unsigned i = 0; i < n; i++) {
        if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) != 0) {
            atomic_store(&run.phase, PHASE_END);
            goto join;
        }
        ws[i].joinable = true;
    }
    t0 = run.start_ns; /* without a warm-up, measured from the start */
    if (spec->warmup_s > 0) {
        sleep_until(run.measure_ns);
        atomic_store(&run.phase, PHASE_MEASURE);
        t0 = now_ns();
    }
    if (spec->seconds > 0) {
        sleep_until(run.end_ns);
        atomic_store(&run.phase, PHASE_END);
        t1 = now_ns();
    }
    rc = 0;
join:
    for (unsigned i = 0; i < n; i++)
        if (ws[i].joinable)
            pthread_join(ws[i].th, NULL);
    if (rc == 0) {
        int64_t t2 = now_ns();
        out->connections = n;
        out->seconds = (double)((t1 ? t1 : t2) - t0) / 1e9;
        out->drain_seconds = (double)(t2 - t0) / 1e9;
        rc = merge(ws, n, out);
    }
free_workers:
    for (unsigned i = 0; i < ready; i++) {
        load_client_destroy(&ws[i].client);
        free(ws[i].lat_us);
        free(ws[i].ctx.state);
    }
    free(ws);
    if (rc != 0)
        load_result_destroy(out);
    return rc;
}

uint32_t load_percentile(const struct load_result *r, double p)
{
    if (r->nlat == 0)
        return 0;
    return r->lat_us[(size_t)((double)(r->nlat - 1) * p)];
}

void load_result_destroy(struct load_result *r)
{
    if (r == NULL)
        return;
    free(r->lat_us);
    r->lat_us = NULL;
    r->nlat = 0;
}

void load_line_init(struct load_line *l)
{
    buf_init(&l->buf, 64 * 1024);
    jw_init(&l->w, &l->buf);
    jw_obj(&l->w);
}

void load_line_fixed(struct load_line *l, const char *key, double v, int decimals)
{
    char num[64];
    int n = snprintf(num, sizeof num, "%.*f", decimals, v);
    jw_key(&l->w, key);
    jw_raw(&l->w, num, n > 0 && (size_t)n < sizeof num ? (size_t)n : 0);
}

void load_line_counts(struct load_line *l, const struct load_result *r)
{
    jw_kint(&l->w, "connections", r->connections);
    load_line_fixed(l, "seconds", r->seconds, 3);
    jw_kint(&l->w, "requests", (int64_t)r->requests);
    jw_kint(&l->w, "errors", (int64_t)r->errors);
}

void load_line_latency(struct load_line *l, const struct load_result *r)
{
    jw_kint(&l->w, "p50_us", load_percentile(r, 0.50));
    jw_kint(&l->w, "p90_us", load_percentile(r, 0.90));
    jw_kint(&l->w, "p99_us", load_percentile(r, 0.99));
    jw_kint(&l->w, "max_us", load_percentile(r, 1.0));
    jw_kstr(&l->w, "first_error", r->first_error);
}

int load_line_print(struct load_line *l)
{
    jw_obj_end(&l->w);
    int rc = jw_ok(&l->w) && buf_puts(&l->buf, "\n") == BUF_OK ? 0 : -1;
    if (rc == 0 && (fwrite(l->buf.data, 1, l->buf.len, stdout) != l->buf.len || fflush(stdout)))
        rc = -1;
    buf_destroy(&l->buf);
    return rc;
}
