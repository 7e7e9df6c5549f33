/*
 * putevents.c — closed-loop load on EventBridge's PutEvents (JSON 1.1) over HTTP/1.1
 * keep-alive, the same for haar and for a peer.
 *
 *   putevents HOST:PORT CONNECTIONS SECONDS [WARMUP_SECONDS] [REGION]
 *
 * Each connection is one thread with one kept-alive socket (the runtime client's HTTP layer,
 * src/runtime/runtime_http.c) sending POST / with X-Amz-Target: AWSEvents.PutEvents and a
 * batch of 10 entries (sources bench.s0 .. bench.s9, a small detail), SigV4-signed with
 * core/sigv4.c's signer (test/test, service "events"; the signature is remade when the
 * second changes), waiting for each answer before sending the next. An answer counts when it
 * is 200 with "FailedEntryCount":0. Latencies after the warm-up are kept and reported as one
 * JSON object on stdout: requests, errors, requests/s, events/s, p50/p90/p99/max in µs.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/sigv4.h"
#include "runtime/runtime_http.h"

enum { MAX_CONNS = 256, MAX_SAMPLES = 8 * 1000 * 1000, ENTRIES = 10 };

static const char *g_hostport, *g_region = "eu-west-1";
static char g_body[8192];
static size_t g_body_len;
static atomic_int g_phase; /* 0 warm-up, 1 measure, 2 stop */

struct worker {
    pthread_t th;
    uint32_t *lat_us;
    size_t n, cap;
    unsigned long requests, errors;
    char first_error[256];
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The signed headers for this second; remade only when the second changes. */
struct signer {
    time_t second;
    char extra[1024];
};

static int sign(struct signer *s)
{
    time_t t = time(NULL);
    if (t == s->second)
        return 0;
    struct tm tm;
    char stamp[17];
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    static const char target[] = "AWSEvents.PutEvents";
    struct sigv4_header h[3] = {
        {"host", 4, g_hostport, strlen(g_hostport)},
        {"x-amz-date", 10, stamp, 16},
        {"x-amz-target", 12, target, sizeof target - 1},
    };
    struct sigv4_request req = {.method = "POST",
                                .method_len = 4,
                                .path = "/",
                                .path_len = 1,
                                .headers = h,
                                .nheaders = 3,
                                .body = g_body,
                                .body_len = g_body_len};
    struct buf auth;
    buf_init(&auth, 1024);
    int rc = sigv4_authorization(&req, "test", "test", g_region, "events", stamp, true, &auth);
    if (rc == 0)
        snprintf(s->extra, sizeof s->extra,
                 "X-Amz-Date: %s\r\nX-Amz-Target: %s\r\nAuthorization: %s\r\n", stamp, target,
                 auth.data);
    buf_destroy(&auth);
    s->second = rc == 0 ? t : 0;
    return rc;
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

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct runtime_http_conn conn;
    struct runtime_http_response res;
    struct signer sg = {0};
    runtime_http_response_init(&res, 1024 * 1024);
    if (runtime_http_conn_init(&conn, g_hostport) != RUNTIME_HTTP_OK) {
        snprintf(w->first_error, sizeof w->first_error, "bad address %s", g_hostport);
        w->errors++;
        return NULL;
    }
    int phase;
    while ((phase = atomic_load_explicit(&g_phase, memory_order_relaxed)) < 2) {
        if (sign(&sg) != 0) {
            snprintf(w->first_error, sizeof w->first_error, "cannot sign");
            w->errors++;
            break;
        }
        int64_t t0 = now_ns();
        int rc = runtime_http_request(&conn, "POST", "/", sg.extra, "application/x-amz-json-1.1",
                                      g_body, g_body_len, &res);
        int64_t t1 = now_ns();
        bool ok = rc == RUNTIME_HTTP_OK && res.status == 200 && no_failed_entry(res.body.data);
        if (!ok) {
            if (w->errors++ == 0)
                snprintf(w->first_error, sizeof w->first_error, "rc=%s status=%d body=%.120s",
                         runtime_http_strerror(rc), rc == RUNTIME_HTTP_OK ? res.status : 0,
                         rc == RUNTIME_HTTP_OK && res.body.data ? res.body.data : "");
            if (rc != RUNTIME_HTTP_OK) {
                struct timespec pause = {0, 10 * 1000 * 1000};
                nanosleep(&pause, NULL);
            }
            continue;
        }
        if (phase == 1) {
            w->requests++;
            if (w->n < w->cap)
                w->lat_us[w->n++] = (uint32_t)((t1 - t0) / 1000);
        }
    }
    runtime_http_conn_destroy(&conn);
    runtime_http_response_destroy(&res);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Ten entries: sources bench.s0..s9, detail-types type0..type9, a small detail. The rules the
 * bench script puts (bench/events/run) match some of them. */
static void make_body(void)
{
    struct buf b;
    buf_init(&b, sizeof g_body - 1);
    buf_puts(&b, "{\"Entries\":[");
    for (int i = 0; i < ENTRIES; i++)
        buf_printf(&b,
                   "%s{\"Source\":\"bench.s%d\",\"DetailType\":\"type%d\",\"Detail\":"
                   "\"{\\\"n\\\":%d,\\\"region\\\":\\\"eu-west-1\\\",\\\"order\\\":{\\\"id\\\":"
                   "\\\"o-%d\\\",\\\"total\\\":%d.5,\\\"items\\\":[\\\"a\\\",\\\"b\\\"]}}\","
                   "\"Resources\":[\"arn:aws:s3:::bench\"]}",
                   i ? "," : "", i, i, i * 11, i, i * 20);
    buf_puts(&b, "]}");
    g_body_len = b.len;
    memcpy(g_body, b.data, b.len);
    g_body[b.len] = '\0';
    buf_destroy(&b);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: putevents HOST:PORT CONNECTIONS SECONDS [WARMUP] [REGION]\n");
        return 2;
    }
    g_hostport = argv[1];
    long conns = strtol(argv[2], NULL, 10);
    double seconds = strtod(argv[3], NULL);
    double warmup = argc > 4 ? strtod(argv[4], NULL) : 1.0;
    if (argc > 5)
        g_region = argv[5];
    if (conns < 1 || conns > MAX_CONNS || seconds <= 0 || warmup < 0) {
        fprintf(stderr, "putevents: bad connections or seconds\n");
        return 2;
    }
    make_body();
    static struct worker workers[MAX_CONNS];
    for (long i = 0; i < conns; i++) {
        workers[i].cap = MAX_SAMPLES / (size_t)conns;
        workers[i].lat_us = malloc(sizeof(uint32_t) * workers[i].cap);
        if (workers[i].lat_us == NULL)
            return 1;
        pthread_create(&workers[i].th, NULL, worker_main, &workers[i]);
    }
    struct timespec ts = {(time_t)warmup, (long)((warmup - (double)(time_t)warmup) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&g_phase, 1);
    int64_t t0 = now_ns();
    ts = (struct timespec){(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&g_phase, 2);
    int64_t t1 = now_ns();
    size_t total = 0;
    unsigned long errors = 0, requests = 0;
    const char *first_error = "";
    for (long i = 0; i < conns; i++) {
        pthread_join(workers[i].th, NULL);
        total += workers[i].n;
        requests += workers[i].requests;
        errors += workers[i].errors;
        if (workers[i].errors > 0 && first_error[0] == '\0')
            first_error = workers[i].first_error;
    }
    uint32_t *all = malloc(sizeof(uint32_t) * (total ? total : 1));
    if (all == NULL)
        return 1;
    size_t k = 0;
    for (long i = 0; i < conns; i++) {
        memcpy(all + k, workers[i].lat_us, workers[i].n * sizeof(uint32_t));
        k += workers[i].n;
    }
    qsort(all, total, sizeof(uint32_t), cmp_u32);
    double elapsed = (double)(t1 - t0) / 1e9;
#define PCT(p) (total ? all[(size_t)((double)(total - 1) * (p))] : 0)
    printf("{\"connections\":%ld,\"seconds\":%.3f,\"requests\":%lu,\"errors\":%lu,"
           "\"requests_per_s\":%.1f,\"events_per_s\":%.0f,\"p50_us\":%u,\"p90_us\":%u,"
           "\"p99_us\":%u,\"max_us\":%u,\"first_error\":\"",
           conns, elapsed, requests, errors, (double)requests / elapsed,
           (double)requests * ENTRIES / elapsed, PCT(0.50), PCT(0.90), PCT(0.99),
           total ? all[total - 1] : 0);
    for (const char *p = first_error; *p; p++)
        if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
            putchar(*p);
    printf("\"}\n");
    free(all);
    for (long i = 0; i < conns; i++)
        free(workers[i].lat_us);
    return requests == 0 ? 1 : 0;
}
