/*
 * load.c — closed-loop load on a DynamoDB endpoint (haar or a peer) over HTTP/1.1 keep-alive.
 *
 *   load HOST:PORT TABLE MODE CONNECTIONS SECONDS [WARMUP] [KEYS] [ITEM_BYTES]
 *   load HOST:PORT TABLE create
 *   load HOST:PORT TABLE fill CONNECTIONS COUNT ITEM_BYTES [PARTITION_ITEMS]
 *
 * MODE is put (PutItem of a new version of one of KEYS items), get (GetItem of one of KEYS
 * items), update (UpdateItem "SET n = n + :one" with ConditionExpression
 * attribute_exists(pk), on one of KEYS items) or query (Query of 10 items of one of
 * KEYS/100 partitions, Limit 10). Keys are "k<i>" (sort key 0) for put/get/update and
 * "q<i>" with sort keys 0..99 for query; `fill` writes them (BatchWriteItem, 25 per call):
 * COUNT items of ITEM_BYTES, PARTITION_ITEMS per partition key (1: "k<i>", else "q<i>").
 * `create` makes TABLE (pk S, sk N, PAY_PER_REQUEST) if absent.
 *
 * Each connection is one thread with one kept-alive socket (src/runtime/runtime_http.c),
 * SigV4-signed with test/test in eu-west-1 (core/sigv4.h's signer). Latencies after the
 * warm-up are reported as one JSON object: requests, errors, requests/s, p50/p90/p99/max in
 * microseconds. A status other than 200 counts as an error.
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

enum { MAX_CONNS = 256, MAX_SAMPLES = 8 * 1000 * 1000 };

static const char *g_hostport, *g_table, *g_mode;
static long g_keys = 10000;
static atomic_int g_phase; /* 0 warm-up, 1 measure, 2 stop */
static atomic_long g_fill_next;
static long g_fill_count, g_fill_part = 1;
static char *g_pad;

struct worker {
    pthread_t th;
    unsigned seed;
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

/* Signs and sends one DynamoDB call; returns the HTTP status (or -1). */
static int call(struct runtime_http_conn *conn, const char *target, const char *body, size_t len,
                struct runtime_http_response *res)
{
    char amz_date[17], tgt[128];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(tgt, sizeof tgt, "DynamoDB_20120810.%s", target);
    struct sigv4_header h[4] = {
        {"host", 4, g_hostport, strlen(g_hostport)},
        {"x-amz-date", 10, amz_date, 16},
        {"x-amz-target", 12, tgt, strlen(tgt)},
        {"content-type", 12, "application/x-amz-json-1.0", 26},
    };
    struct sigv4_request req = {"POST", 4, "/", 1, NULL, 0, h, 4, body, len};
    struct buf auth;
    buf_init(&auth, 4096);
    if (sigv4_authorization(&req, "test", "test", "eu-west-1", "dynamodb", amz_date, true, &auth) !=
        0) {
        buf_destroy(&auth);
        return -1;
    }
    char extra[1024];
    snprintf(extra, sizeof extra, "X-Amz-Date: %s\r\nX-Amz-Target: %s\r\nAuthorization: %s\r\n",
             amz_date, tgt, auth.data);
    buf_destroy(&auth);
    int rc = runtime_http_request(conn, "POST", "/", extra, "application/x-amz-json-1.0", body, len,
                                  res);
    return rc == RUNTIME_HTTP_OK ? res->status : -1;
}

/* The request of one operation in the measured loop into b. */
static const char *build(struct worker *w, struct buf *b)
{
    long k = (long)(rand_r(&w->seed) % (unsigned)g_keys);
    buf_reset(b);
    if (strcmp(g_mode, "put") == 0) {
        buf_printf(b,
                   "{\"TableName\":\"%s\",\"Item\":{\"pk\":{\"S\":\"k%ld\"},\"sk\":{\"N\":\"0\"},"
                   "\"n\":{\"N\":\"%u\"},\"pad\":{\"S\":\"%s\"}}}",
                   g_table, k, (unsigned)rand_r(&w->seed), g_pad);
        return "PutItem";
    }
    if (strcmp(g_mode, "get") == 0) {
        buf_printf(b,
                   "{\"TableName\":\"%s\",\"Key\":{\"pk\":{\"S\":\"k%ld\"},\"sk\":{\"N\":\"0\"}}}",
                   g_table, k);
        return "GetItem";
    }
    if (strcmp(g_mode, "update") == 0) {
        buf_printf(
            b,
            "{\"TableName\":\"%s\",\"Key\":{\"pk\":{\"S\":\"k%ld\"},\"sk\":{\"N\":\"0\"}},"
            "\"UpdateExpression\":\"SET n = n + :one\",\"ConditionExpression\":"
            "\"attribute_exists(pk)\",\"ExpressionAttributeValues\":{\":one\":{\"N\":\"1\"}}}",
            g_table, k);
        return "UpdateItem";
    }
    long parts = g_keys / 100 > 0 ? g_keys / 100 : 1;
    buf_printf(b,
               "{\"TableName\":\"%s\",\"KeyConditionExpression\":\"pk = :p AND sk >= :s\","
               "\"ExpressionAttributeValues\":{\":p\":{\"S\":\"q%ld\"},\":s\":{\"N\":\"%ld\"}},"
               "\"Limit\":10}",
               g_table, k % parts, (long)(rand_r(&w->seed) % 90));
    return "Query";
}

static void note_error(struct worker *w, int status, const struct runtime_http_response *res)
{
    if (w->errors++ == 0)
        snprintf(w->first_error, sizeof w->first_error, "status=%d body=%.160s", status,
                 status > 0 && res->body.data ? res->body.data : "");
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct runtime_http_conn conn;
    struct runtime_http_response res;
    struct buf body;
    buf_init(&body, 1 << 20);
    runtime_http_response_init(&res, 32 * 1024 * 1024);
    if (runtime_http_conn_init(&conn, g_hostport) != RUNTIME_HTTP_OK) {
        snprintf(w->first_error, sizeof w->first_error, "bad address %s", g_hostport);
        w->errors++;
        return NULL;
    }
    int phase;
    while ((phase = atomic_load_explicit(&g_phase, memory_order_relaxed)) < 2) {
        const char *target = build(w, &body);
        int64_t t0 = now_ns();
        int st = call(&conn, target, body.data, body.len, &res);
        int64_t t1 = now_ns();
        if (st != 200) {
            note_error(w, st, &res);
            if (st < 0) {
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
    buf_destroy(&body);
    return NULL;
}

/* fill: BatchWriteItem of 25 items at a time until COUNT are written. */
static void *fill_main(void *arg)
{
    struct worker *w = arg;
    struct runtime_http_conn conn;
    struct runtime_http_response res;
    struct buf body;
    buf_init(&body, 32 * 1024 * 1024);
    runtime_http_response_init(&res, 1 << 20);
    if (runtime_http_conn_init(&conn, g_hostport) != RUNTIME_HTTP_OK)
        return NULL;
    for (;;) {
        long first = atomic_fetch_add(&g_fill_next, 25);
        if (first >= g_fill_count)
            break;
        long last = first + 25 < g_fill_count ? first + 25 : g_fill_count;
        buf_reset(&body);
        buf_printf(&body, "{\"RequestItems\":{\"%s\":[", g_table);
        for (long i = first; i < last; i++) {
            long pk = g_fill_part > 1 ? i / g_fill_part : i,
                 sk = g_fill_part > 1 ? i % g_fill_part : 0;
            buf_printf(
                &body,
                "%s{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"%c%ld\"},\"sk\":{\"N\":\"%ld\"},"
                "\"n\":{\"N\":\"0\"},\"pad\":{\"S\":\"%s\"}}}}",
                i > first ? "," : "", g_fill_part > 1 ? 'q' : 'k', pk, sk, g_pad);
        }
        buf_puts(&body, "]}}");
        int st;
        for (int attempt = 0; attempt < 5; attempt++) {
            st = call(&conn, "BatchWriteItem", body.data, body.len, &res);
            if (st == 200)
                break;
        }
        if (st != 200) {
            note_error(w, st, &res);
            break;
        }
        w->requests += (unsigned long)(last - first);
    }
    runtime_http_conn_destroy(&conn);
    runtime_http_response_destroy(&res);
    buf_destroy(&body);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void make_pad(long item_bytes)
{
    long n = item_bytes > 40 ? item_bytes - 40 : 1;
    g_pad = malloc((size_t)n + 1);
    for (long i = 0; i < n; i++)
        g_pad[i] = (char)('a' + i % 26);
    g_pad[n] = '\0';
}

static int create_table(void)
{
    struct runtime_http_conn conn;
    struct runtime_http_response res;
    runtime_http_response_init(&res, 1 << 20);
    if (runtime_http_conn_init(&conn, g_hostport) != RUNTIME_HTTP_OK)
        return 1;
    char body[1024];
    int n = snprintf(body, sizeof body,
                     "{\"TableName\":\"%s\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\","
                     "\"AttributeType\":\"S\"},{\"AttributeName\":\"sk\",\"AttributeType\":\"N\"}],"
                     "\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"},"
                     "{\"AttributeName\":\"sk\",\"KeyType\":\"RANGE\"}],\"BillingMode\":"
                     "\"PAY_PER_REQUEST\"}",
                     g_table);
    int st = call(&conn, "CreateTable", body, (size_t)n, &res);
    if (st != 200 && !(res.body.data && strstr(res.body.data, "ResourceInUse"))) {
        fprintf(stderr, "load: CreateTable: %d %s\n", st, res.body.data ? res.body.data : "");
        return 1;
    }
    /* wait until ACTIVE */
    n = snprintf(body, sizeof body, "{\"TableName\":\"%s\"}", g_table);
    for (int i = 0; i < 200; i++) {
        st = call(&conn, "DescribeTable", body, (size_t)n, &res);
        if (st == 200 && res.body.data && strstr(res.body.data, "\"TableStatus\":\"ACTIVE\""))
            break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    runtime_http_conn_destroy(&conn);
    runtime_http_response_destroy(&res);
    printf("{\"created\":\"%s\"}\n", g_table);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: load HOST:PORT TABLE put|get|update|query CONNS SECONDS [WARMUP] "
                        "[KEYS] [ITEM_BYTES]\n       load HOST:PORT TABLE create\n"
                        "       load HOST:PORT TABLE fill CONNS COUNT ITEM_BYTES [PART]\n");
        return 2;
    }
    g_hostport = argv[1];
    g_table = argv[2];
    g_mode = argv[3];
    if (strcmp(g_mode, "create") == 0)
        return create_table();
    static struct worker workers[MAX_CONNS];
    long conns = argc > 4 ? strtol(argv[4], NULL, 10) : 1;
    if (conns < 1 || conns > MAX_CONNS) {
        fprintf(stderr, "load: bad connections\n");
        return 2;
    }
    if (strcmp(g_mode, "fill") == 0) {
        g_fill_count = argc > 5 ? strtol(argv[5], NULL, 10) : 1000;
        make_pad(argc > 6 ? strtol(argv[6], NULL, 10) : 100);
        g_fill_part = argc > 7 ? strtol(argv[7], NULL, 10) : 1;
        int64_t t0 = now_ns();
        for (long i = 0; i < conns; i++)
            pthread_create(&workers[i].th, NULL, fill_main, &workers[i]);
        unsigned long items = 0, errors = 0;
        for (long i = 0; i < conns; i++) {
            pthread_join(workers[i].th, NULL);
            items += workers[i].requests;
            errors += workers[i].errors;
            if (workers[i].errors)
                fprintf(stderr, "load: fill: %s\n", workers[i].first_error);
        }
        double s = (double)(now_ns() - t0) / 1e9;
        printf("{\"filled\":%lu,\"errors\":%lu,\"seconds\":%.3f,\"items_per_s\":%.0f}\n", items,
               errors, s, (double)items / s);
        return errors ? 1 : 0;
    }
    double seconds = argc > 5 ? strtod(argv[5], NULL) : 5;
    double warmup = argc > 6 ? strtod(argv[6], NULL) : 1.0;
    g_keys = argc > 7 ? strtol(argv[7], NULL, 10) : 10000;
    make_pad(argc > 8 ? strtol(argv[8], NULL, 10) : 100);
    if (g_keys < 1 || seconds <= 0) {
        fprintf(stderr, "load: bad keys or seconds\n");
        return 2;
    }
    for (long i = 0; i < conns; i++) {
        workers[i].seed = (unsigned)(i * 7919 + 17);
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
    printf("{\"mode\":\"%s\",\"connections\":%ld,\"seconds\":%.3f,\"requests\":%lu,\"errors\":%lu,"
           "\"per_s\":%.0f,\"p50_us\":%u,\"p90_us\":%u,\"p99_us\":%u,\"max_us\":%u,"
           "\"first_error\":\"",
           g_mode, conns, elapsed, requests, errors, (double)requests / elapsed, PCT(0.50),
           PCT(0.90), PCT(0.99), total ? all[total - 1] : 0);
    for (const char *p = first_error; *p; p++)
        if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
            putchar(*p);
    printf("\"}\n");
    free(all);
    for (long i = 0; i < conns; i++)
        free(workers[i].lat_us);
    free(g_pad);
    return requests == 0 ? 1 : 0;
}
