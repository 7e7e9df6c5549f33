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
 * "q<i>" with sort keys 0..99 for query; `fill` writes them (BatchWriteItem, 25 per call,
 * a call tried up to 5 times): COUNT items of ITEM_BYTES, PARTITION_ITEMS per partition key
 * (1: "k<i>", else "q<i>"). `create` makes TABLE (pk S, sk N, PAY_PER_REQUEST) if absent.
 *
 * Each connection is one worker of the bench harness (bench/common/load.h: one thread, one
 * kept-alive socket through src/runtime/runtime_http.c), every request SigV4-signed with
 * test/test in eu-west-1 (core/sigv4.h's signer). Latencies after the warm-up are reported
 * as one JSON object: requests, errors, requests/s, p50/p90/p99/max in microseconds. A
 * status other than 200 counts as an error.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/load.h"

enum { MAX_CONNS = 256, FILL_BATCH = 25, FILL_ATTEMPTS = 5 };

static const char *g_table;
static long g_keys = 10000;
static atomic_long g_fill_next;
static long g_fill_count, g_fill_part = 1;
static char *g_pad;

/* Signs req, whose body is written, as the DynamoDB operation op. */
static int sign(struct load_request *req, const char *op)
{
    char target[64];
    snprintf(target, sizeof target, "DynamoDB_20120810.%s", op);
    req->content_type = "application/x-amz-json-1.0";
    return load_sign(req, "eu-west-1", "dynamodb", target);
}

/* The request bodies of the measured modes, for key k (seed: the worker's random state). */
static int put_body(struct buf *b, long k, unsigned *seed)
{
    return buf_printf(b,
                      "{\"TableName\":\"%s\",\"Item\":{\"pk\":{\"S\":\"k%ld\"},\"sk\":{\"N\":\"0\"},"
                      "\"n\":{\"N\":\"%u\"},\"pad\":{\"S\":\"%s\"}}}",
                      g_table, k, (unsigned)rand_r(seed), g_pad);
}

static int get_body(struct buf *b, long k, unsigned *seed)
{
    (void)seed;
    return buf_printf(b,
                      "{\"TableName\":\"%s\",\"Key\":{\"pk\":{\"S\":\"k%ld\"},\"sk\":{\"N\":\"0\"}}}",
                      g_table, k);
}

static int update_body(struct buf *b, long k, unsigned *seed)
{
    (void)seed;
    return buf_printf(
        b,
        "{\"TableName\":\"%s\",\"Key\":{\"pk\":{\"S\":\"k%ld\"},\"sk\":{\"N\":\"0\"}},"
        "\"UpdateExpression\":\"SET n = n + :one\",\"ConditionExpression\":"
        "\"attribute_exists(pk)\",\"ExpressionAttributeValues\":{\":one\":{\"N\":\"1\"}}}",
        g_table, k);
}

static int query_body(struct buf *b, long k, unsigned *seed)
{
    long parts = g_keys / 100 > 0 ? g_keys / 100 : 1;
    return buf_printf(b,
                      "{\"TableName\":\"%s\",\"KeyConditionExpression\":\"pk = :p AND sk >= :s\","
                      "\"ExpressionAttributeValues\":{\":p\":{\"S\":\"q%ld\"},\":s\":{\"N\":\"%ld\"}},"
                      "\"Limit\":10}",
                      g_table, k % parts, (long)(rand_r(seed) % 90));
}

static const struct mode {
    const char *name, *op;
    int (*body)(struct buf *b, long k, unsigned *seed);
} modes[] = {
    {"put", "PutItem", put_body},
    {"get", "GetItem", get_body},
    {"update", "UpdateItem", update_body},
    {"query", "Query", query_body},
};

static const struct mode *g_mode;

struct seeded {
    unsigned seed;
    bool ready;
};

static enum load_next build(struct load_ctx *ctx, struct load_request *req)
{
    struct seeded *s = ctx->state;
    if (!s->ready) {
        s->seed = ctx->worker * 7919 + 17;
        s->ready = true;
    }
    long k = (long)(rand_r(&s->seed) % (unsigned)g_keys);
    load_request_reset(req);
    if (g_mode->body(&req->body, k, &s->seed) != BUF_OK || sign(req, g_mode->op) != 0)
        return LOAD_FAIL;
    return LOAD_SEND;
}

static bool is_200(struct load_ctx *ctx, const struct runtime_http_response *res)
{
    (void)ctx;
    return res->status == 200;
}

/* fill: the worker's batch of items [first, last), tried again after a failure. */
struct batch {
    long first, last;
};

static enum load_next fill_build(struct load_ctx *ctx, struct load_request *req)
{
    struct batch *b = ctx->state;
    if (ctx->failures >= FILL_ATTEMPTS)
        return LOAD_DONE; /* given up: the errors say so */
    if (ctx->failures == 0) {
        b->first = atomic_fetch_add(&g_fill_next, FILL_BATCH);
        if (b->first >= g_fill_count)
            return LOAD_DONE;
        b->last = b->first + FILL_BATCH < g_fill_count ? b->first + FILL_BATCH : g_fill_count;
    }
    load_request_reset(req);
    int rc = buf_printf(&req->body, "{\"RequestItems\":{\"%s\":[", g_table);
    for (long i = b->first; i < b->last && rc == BUF_OK; i++) {
        long pk = g_fill_part > 1 ? i / g_fill_part : i, sk = g_fill_part > 1 ? i % g_fill_part : 0;
        rc = buf_printf(&req->body,
                        "%s{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"%c%ld\"},\"sk\":{\"N\":\"%ld\"},"
                        "\"n\":{\"N\":\"0\"},\"pad\":{\"S\":\"%s\"}}}}",
                        i > b->first ? "," : "", g_fill_part > 1 ? 'q' : 'k', pk, sk, g_pad);
    }
    if (rc != BUF_OK || buf_puts(&req->body, "]}}") != BUF_OK || sign(req, "BatchWriteItem") != 0)
        return LOAD_FAIL;
    return LOAD_SEND;
}

static bool fill_check(struct load_ctx *ctx, const struct runtime_http_response *res)
{
    const struct batch *b = ctx->state;
    if (res->status != 200)
        return false;
    ctx->units += (unsigned long)(b->last - b->first);
    return true;
}

static int make_pad(long item_bytes)
{
    long n = item_bytes > 40 ? item_bytes - 40 : 1;
    g_pad = malloc((size_t)n + 1);
    if (g_pad == NULL)
        return -1;
    for (long i = 0; i < n; i++)
        g_pad[i] = (char)('a' + i % 26);
    g_pad[n] = '\0';
    return 0;
}

/* One DynamoDB call on c; returns the HTTP status, or -1 when it could not be made. */
static int call(struct load_client *c, const char *op, const char *body)
{
    load_request_reset(&c->req);
    if (buf_puts(&c->req.body, body) != BUF_OK || sign(&c->req, op) != 0)
        return -1;
    return load_client_send(c) == RUNTIME_HTTP_OK ? c->res.status : -1;
}

static int create_table(const char *hostport)
{
    struct load_client c;
    if (load_client_init(&c, hostport) != 0)
        return 1;
    char body[1024];
    snprintf(body, sizeof body,
             "{\"TableName\":\"%s\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\","
             "\"AttributeType\":\"S\"},{\"AttributeName\":\"sk\",\"AttributeType\":\"N\"}],"
             "\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"},"
             "{\"AttributeName\":\"sk\",\"KeyType\":\"RANGE\"}],\"BillingMode\":"
             "\"PAY_PER_REQUEST\"}",
             g_table);
    int st = call(&c, "CreateTable", body);
    const char *answer = st > 0 && c.res.body.data ? c.res.body.data : "";
    if (st != 200 && strstr(answer, "ResourceInUse") == NULL) {
        fprintf(stderr, "load: CreateTable: %d %s\n", st, answer);
        load_client_destroy(&c);
        return 1;
    }
    /* wait until ACTIVE */
    snprintf(body, sizeof body, "{\"TableName\":\"%s\"}", g_table);
    for (int i = 0; i < 200; i++) {
        st = call(&c, "DescribeTable", body);
        if (st == 200 && c.res.body.data && strstr(c.res.body.data, "\"TableStatus\":\"ACTIVE\""))
            break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    load_client_destroy(&c);
    printf("{\"created\":\"%s\"}\n", g_table);
    return 0;
}

static int fill(struct load_spec *spec, int argc, char **argv)
{
    g_fill_count = argc > 5 ? strtol(argv[5], NULL, 10) : 1000;
    g_fill_part = argc > 7 ? strtol(argv[7], NULL, 10) : 1;
    spec->build = fill_build;
    spec->check = fill_check;
    spec->state_size = sizeof(struct batch);
    struct load_result r;
    if (make_pad(argc > 6 ? strtol(argv[6], NULL, 10) : 100) != 0 || load_run(spec, &r) != 0) {
        fprintf(stderr, "load: cannot run\n");
        return 1;
    }
    if (r.errors)
        fprintf(stderr, "load: fill: %s\n", r.first_error);
    struct load_line line;
    load_line_init(&line);
    jw_kint(&line.w, "filled", (int64_t)r.units);
    jw_kint(&line.w, "errors", (int64_t)r.errors);
    load_line_fixed(&line, "seconds", r.seconds, 3);
    load_line_fixed(&line, "items_per_s", (double)r.units / r.seconds, 0);
    load_line_print(&line);
    int rc = r.errors ? 1 : 0;
    load_result_destroy(&r);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: load HOST:PORT TABLE put|get|update|query CONNS SECONDS [WARMUP] "
                        "[KEYS] [ITEM_BYTES]\n       load HOST:PORT TABLE create\n"
                        "       load HOST:PORT TABLE fill CONNS COUNT ITEM_BYTES [PART]\n");
        return 2;
    }
    g_table = argv[2];
    const char *mode = argv[3];
    if (strcmp(mode, "create") == 0)
        return create_table(argv[1]);
    long conns = argc > 4 ? strtol(argv[4], NULL, 10) : 1;
    if (conns < 1 || conns > MAX_CONNS) {
        fprintf(stderr, "load: bad connections\n");
        return 2;
    }
    struct load_spec spec = {.hostport = argv[1], .connections = (unsigned)conns};
    int rc;
    if (strcmp(mode, "fill") == 0) {
        rc = fill(&spec, argc, argv);
        goto out;
    }
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(mode, modes[i].name) == 0)
            g_mode = &modes[i];
    spec.seconds = argc > 5 ? strtod(argv[5], NULL) : 5;
    spec.warmup_s = argc > 6 ? strtod(argv[6], NULL) : 1.0;
    g_keys = argc > 7 ? strtol(argv[7], NULL, 10) : 10000;
    if (g_mode == NULL || g_keys < 1 || spec.seconds <= 0) {
        fprintf(stderr, "load: bad mode, keys or seconds\n");
        return 2;
    }
    spec.build = build;
    spec.check = is_200;
    spec.state_size = sizeof(struct seeded);
    struct load_result r;
    if (make_pad(argc > 8 ? strtol(argv[8], NULL, 10) : 100) != 0 || load_run(&spec, &r) != 0) {
        fprintf(stderr, "load: cannot run\n");
        rc = 1;
        goto out;
    }
    struct load_line line;
    load_line_init(&line);
    jw_kstr(&line.w, "mode", mode);
    load_line_counts(&line, &r);
    load_line_fixed(&line, "per_s", (double)r.requests / r.seconds, 0);
    load_line_latency(&line, &r);
    load_line_print(&line);
    rc = r.requests == 0 ? 1 : 0;
    load_result_destroy(&r);
out:
    free(g_pad);
    return rc;
}
