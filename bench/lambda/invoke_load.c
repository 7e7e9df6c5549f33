/*
 * invoke_load.c — closed-loop load on Lambda's Invoke API over HTTP/1.1 keep-alive.
 *
 *   invoke_load HOST:PORT FUNCTION EVENT_FILE CONNECTIONS SECONDS [WARMUP_SECONDS]
 *
 * Each connection is one thread with one kept-alive socket (the runtime client's own
 * HTTP layer, src/runtime/runtime_http.c) sending POST
 * /2015-03-31/functions/FUNCTION/invocations with the event as body, SigV4-signed with
 * the local default credentials (test/test, eu-west-1), waiting for each answer before
 * sending the next. Latencies after the warm-up are kept and reported as one JSON object
 * on stdout: requests, errors, invokes/s, p50/p90/p99/max in microseconds.
 * A 200 carrying X-Amz-Function-Error counts as an error.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core/buf.h"
#include "runtime/runtime_http.h"

enum { MAX_CONNS = 256, MAX_SAMPLES = 8 * 1000 * 1000 };

static const char *g_hostport, *g_function;
static char g_path[512];
static char *g_body;
static size_t g_body_len;
static char g_body_hash[65];
static atomic_int g_phase; /* 0 warm-up, 1 measure, 2 stop */

struct worker {
    pthread_t th;
    uint32_t *lat_us; /* samples during the measured phase, at most `cap` */
    size_t n, cap;
    unsigned long requests; /* answered during the measured phase (all counted) */
    unsigned long errors;
    char first_error[256];
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static void hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len);
}

/* SigV4 headers for this second; recomputed only when the clock's second changes. */
struct signer {
    time_t second;
    char extra[1024];
};

static void sign(struct signer *s)
{
    time_t t = time(NULL);
    if (t == s->second)
        return;
    s->second = t;
    struct tm tm;
    gmtime_r(&t, &tm);
    char date[9], stamp[17];
    strftime(date, sizeof date, "%Y%m%d", &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    char creq[2048], sts[1024], scope[128];
    snprintf(creq, sizeof creq, "POST\n%s\n\nhost:%s\nx-amz-date:%s\n\nhost;x-amz-date\n%s", g_path,
             g_hostport, stamp, g_body_hash);
    unsigned char h[32];
    char hh[65];
    SHA256((const unsigned char *)creq, strlen(creq), h);
    hex(h, 32, hh);
    snprintf(scope, sizeof scope, "%s/eu-west-1/lambda/aws4_request", date);
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", stamp, scope, hh);
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    hmac("AWS4test", 8, date, k1);
    hmac(k1, 32, "eu-west-1", k2);
    hmac(k2, 32, "lambda", k3);
    hmac(k3, 32, "aws4_request", k4);
    hmac(k4, 32, sts, sig);
    char sighex[65];
    hex(sig, 32, sighex);
    snprintf(s->extra, sizeof s->extra,
             "X-Amz-Date: %s\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/%s, "
             "SignedHeaders=host;x-amz-date, Signature=%s\r\n",
             stamp, scope, sighex);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct runtime_http_conn conn;
    struct runtime_http_response res;
    struct signer sg = {0};
    runtime_http_response_init(&res, 8 * 1024 * 1024);
    if (runtime_http_conn_init(&conn, g_hostport) != RUNTIME_HTTP_OK) {
        snprintf(w->first_error, sizeof w->first_error, "bad address %s", g_hostport);
        w->errors++;
        return NULL;
    }
    int phase;
    while ((phase = atomic_load_explicit(&g_phase, memory_order_relaxed)) < 2) {
        sign(&sg);
        int64_t t0 = now_ns();
        int rc = runtime_http_request(&conn, "POST", g_path, sg.extra, "application/json", g_body,
                                      g_body_len, &res);
        int64_t t1 = now_ns();
        bool ok = rc == RUNTIME_HTTP_OK && res.status == 200 &&
                  runtime_http_header(&res, "X-Amz-Function-Error") == NULL;
        if (!ok) {
            if (w->errors++ == 0)
                snprintf(w->first_error, sizeof w->first_error, "rc=%s status=%d body=%.120s",
                         runtime_http_strerror(rc), rc == RUNTIME_HTTP_OK ? res.status : 0,
                         rc == RUNTIME_HTTP_OK ? res.body.data : "");
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
    g_hostport = argv[1];
    g_function = argv[2];
    long conns = strtol(argv[4], NULL, 10);
    double seconds = strtod(argv[5], NULL);
    double warmup = argc > 6 ? strtod(argv[6], NULL) : 1.0;
    if (conns < 1 || conns > MAX_CONNS || seconds <= 0) {
        fprintf(stderr, "invoke_load: bad connections or seconds\n");
        return 2;
    }
    snprintf(g_path, sizeof g_path, "/2015-03-31/functions/%s/invocations", g_function);
    g_body = read_file(argv[3], &g_body_len);
    if (g_body == NULL) {
        fprintf(stderr, "invoke_load: cannot read %s\n", argv[3]);
        return 2;
    }
    unsigned char h[32];
    SHA256((const unsigned char *)g_body, g_body_len, h);
    hex(h, 32, g_body_hash);

    static struct worker workers[MAX_CONNS];
    for (long i = 0; i < conns; i++) {
        workers[i].cap = MAX_SAMPLES / (size_t)conns;
        workers[i].lat_us = malloc(sizeof(uint32_t) * workers[i].cap);
        if (workers[i].lat_us == NULL)
            return 1;
        pthread_create(&workers[i].th, NULL, worker_main, &workers[i]);
    }
    struct timespec ts = {(time_t)warmup, (long)((warmup - (time_t)warmup) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&g_phase, 1);
    int64_t t0 = now_ns();
    ts = (struct timespec){(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
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
           "\"invokes_per_s\":%.0f,\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,\"max_us\":%u,"
           "\"first_error\":\"",
           conns, elapsed, requests, errors, (double)requests / elapsed, PCT(0.50), PCT(0.90),
           PCT(0.99), total ? all[total - 1] : 0);
    for (const char *p = first_error; *p; p++)
        if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
            putchar(*p);
    printf("\"}\n");
    free(all);
    for (long i = 0; i < conns; i++)
        free(workers[i].lat_us);
    free(g_body);
    return requests == 0 ? 1 : 0;
}
