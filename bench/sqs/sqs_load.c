/*
 * sqs_load.c — closed-loop load on an SQS endpoint over the AWS JSON 1.0 protocol, HTTP/1.1
 * keep-alive, SigV4-signed (test/test, eu-west-1), for haar and its peers alike.
 *
 *   sqs_load HOST:PORT QUEUE_URL MODE CONNECTIONS SECONDS [BODY_BYTES] [WARMUP_SECONDS]
 *
 * MODE: send      SendMessage, one message a request
 *       batch     SendMessageBatch, ten messages a request
 *       recvdel   ReceiveMessage (up to ten) then DeleteMessageBatch of what came, per
 *                 connection in turn; counts messages received and deleted
 *       fill=N    SendMessageBatch until N messages are in (then exits; no report)
 *       latency=N N rounds of one ReceiveMessage(1) + DeleteMessage on one connection
 *                 (the cost at the queue's current depth)
 *       create    CreateQueue named QUEUE_URL (a name here); prints the answer's QueueUrl
 *
 * Each connection is one worker of the bench harness (bench/common/load.h: one thread, one
 * kept-alive socket), each request signed by core's SigV4 signer. After the warm-up, each
 * request's latency is kept; the report is one JSON object on stdout: requests, messages,
 * errors, requests/s, messages/s, p50/p99 (µs). Exits 1 when nothing succeeded (no server
 * there, say) or, for fill, on any error; a connection of fill or latency that fails 20 times
 * in a row ends, so they cannot hang on a dead server.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/load.h"

enum {
    MAX_CONNS = 256,
    HANDLES = 10,
    HANDLE_MAX = 128,
    GIVE_UP = 20, /* fill, latency: a connection failing this often in a row ends */
};

enum mode { M_SEND, M_BATCH, M_RECVDEL, M_FILL, M_LATENCY, M_CREATE };

static const struct {
    const char *name; /* a prefix when it ends in '=' (a count follows) */
    enum mode mode;
} modes[] = {
    {"send", M_SEND},     {"batch", M_BATCH},      {"recvdel", M_RECVDEL},
    {"fill=", M_FILL},    {"latency=", M_LATENCY}, {"create", M_CREATE},
};

static enum mode g_mode;
static const char *g_queue;
static char *g_payload; /* the message body (JSON-escaped: letters only) */
static long g_count;    /* fill=N, latency=N */
static atomic_long g_filled;
static atomic_ulong g_empty;

/* A connection's receive-then-delete turn (recvdel, latency). */
struct turn {
    int step; /* 0 receive, 1 delete */
    int nh;
    char handles[HANDLES][HANDLE_MAX];
    long rounds; /* latency: rounds done */
    bool done;   /* latency: no more rounds */
};

/* Signs req, whose body is written, as the SQS operation op. */
static enum load_next sign(struct load_request *req, const char *op, int rc)
{
    char target[64];
    snprintf(target, sizeof target, "AmazonSQS.%s", op);
    req->content_type = "application/x-amz-json-1.0";
    if (rc != BUF_OK || load_sign(req, "eu-west-1", "sqs", target) != 0)
        return LOAD_FAIL;
    return LOAD_SEND;
}

static int batch_body(struct buf *b)
{
    int rc = buf_printf(b, "{\"QueueUrl\":\"%s\",\"Entries\":[", g_queue);
    for (int i = 0; i < 10 && rc == BUF_OK; i++)
        rc = buf_printf(b, "%s{\"Id\":\"m%d\",\"MessageBody\":\"%s\"}", i ? "," : "", i,
                        g_payload);
    return rc == BUF_OK ? buf_puts(b, "]}") : rc;
}

static enum load_next build(struct load_ctx *ctx, struct load_request *req)
{
    struct turn *t = ctx->state;
    struct buf *b = &req->body;
    load_request_reset(req);
    /* the open-ended modes end on their count, which a dead server would never bring */
    if ((g_mode == M_FILL || g_mode == M_LATENCY) && ctx->failures >= GIVE_UP)
        return LOAD_FAIL;
    switch (g_mode) {
    case M_SEND:
        return sign(req, "SendMessage",
                    buf_printf(b, "{\"QueueUrl\":\"%s\",\"MessageBody\":\"%s\"}", g_queue,
                               g_payload));
    case M_FILL:
        if (atomic_load(&g_filled) >= g_count)
            return LOAD_DONE;
        /* fall through */
    case M_BATCH:
        return sign(req, "SendMessageBatch", batch_body(b));
    case M_RECVDEL:
    case M_LATENCY:
        if (t->done)
            return LOAD_DONE;
        if (t->step == 0)
            return sign(req, "ReceiveMessage",
                        buf_printf(b,
                                   "{\"QueueUrl\":\"%s\",\"MaxNumberOfMessages\":%d,"
                                   "\"WaitTimeSeconds\":0}",
                                   g_queue, g_mode == M_LATENCY ? 1 : 10));
        if (g_mode == M_LATENCY)
            return sign(req, "DeleteMessage",
                        buf_printf(b, "{\"QueueUrl\":\"%s\",\"ReceiptHandle\":\"%s\"}", g_queue,
                                   t->handles[0]));
        int rc = buf_printf(b, "{\"QueueUrl\":\"%s\",\"Entries\":[", g_queue);
        for (int i = 0; i < t->nh && rc == BUF_OK; i++)
            rc = buf_printf(b, "%s{\"Id\":\"d%d\",\"ReceiptHandle\":\"%s\"}", i ? "," : "", i,
                            t->handles[i]);
        return sign(req, "DeleteMessageBatch", rc == BUF_OK ? buf_puts(b, "]}") : rc);
    case M_CREATE:
        break;
    }
    return LOAD_FAIL;
}

/* The ReceiptHandle values of a ReceiveMessage answer. */
static int handles_of(struct turn *t, const char *body, size_t len)
{
    static const char key[] = "\"ReceiptHandle\":\"";
    t->nh = 0;
    const char *p = body, *end = body + len;
    while (t->nh < HANDLES && (p = memmem(p, (size_t)(end - p), key, sizeof key - 1)) != NULL) {
        p += sizeof key - 1;
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (q == NULL || q - p >= HANDLE_MAX - 1)
            break;
        memcpy(t->handles[t->nh], p, (size_t)(q - p));
        t->handles[t->nh][q - p] = '\0';
        t->nh++;
        p = q;
    }
    return t->nh;
}

/* Counts messages (ctx->units) as they are sent, received and deleted, and moves a
 * connection's turn on. */
static bool check(struct load_ctx *ctx, const struct runtime_http_response *res)
{
    struct turn *t = ctx->state;
    bool ok = res->status == 200;
    switch (g_mode) {
    case M_SEND:
    case M_BATCH:
        if (ok && ctx->measured)
            ctx->units += g_mode == M_SEND ? 1 : 10;
        break;
    case M_FILL:
        atomic_fetch_add(&g_filled, 10); /* whatever the answer: a failing server ends it too */
        break;
    case M_RECVDEL:
    case M_LATENCY:
        if (t->step == 0) {
            if ((ok ? handles_of(t, res->body.data, res->body.len) : 0) == 0) {
                atomic_fetch_add(&g_empty, 1);
                t->done = g_mode == M_LATENCY;
            } else {
                t->step = 1;
            }
        } else {
            if (ok && ctx->measured)
                ctx->units += (unsigned long)t->nh;
            t->step = 0;
            t->done = g_mode == M_LATENCY && ++t->rounds >= g_count;
        }
        break;
    case M_CREATE:
        break;
    }
    return ok;
}

static int create_queue(const char *hostport)
{
    struct load_client c;
    if (load_client_init(&c, hostport) != 0)
        return 2;
    int rc = 1;
    load_request_reset(&c.req);
    if (sign(&c.req, "CreateQueue",
             buf_printf(&c.req.body, "{\"QueueName\":\"%s\"}", g_queue)) != LOAD_SEND)
        goto out;
    int st = load_client_send(&c);
    const char *body = st == RUNTIME_HTTP_OK && c.res.body.data ? c.res.body.data : "";
    const char *u = strstr(body, "\"QueueUrl\":\"");
    const char *e = u ? strchr(u + 12, '"') : NULL;
    if (st != RUNTIME_HTTP_OK || c.res.status != 200 || e == NULL) {
        fprintf(stderr, "sqs_load: CreateQueue: HTTP %d: %s\n",
                st == RUNTIME_HTTP_OK ? c.res.status : 0, body);
        goto out;
    }
    printf("%.*s\n", (int)(e - u - 12), u + 12);
    rc = 0;
out:
    load_client_destroy(&c);
    return rc;
}

/* The mode named m (g_count set from "fill=N" or "latency=N"); false when there is none. */
static bool parse_mode(const char *m)
{
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        size_t n = strlen(modes[i].name);
        bool prefix = modes[i].name[n - 1] == '=';
        if (prefix ? strncmp(m, modes[i].name, n) == 0 : strcmp(m, modes[i].name) == 0) {
            g_mode = modes[i].mode;
            g_count = prefix ? strtol(m + n, NULL, 10) : 0;
            return true;
        }
    }
    return false;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: sqs_load HOST:PORT QUEUE_URL send|batch|recvdel|fill=N|latency=N|"
                        "create CONNECTIONS SECONDS [BODY_BYTES] [WARMUP_SECONDS]\n");
        return 2;
    }
    char hostport[160];
    const char *colon = strrchr(argv[1], ':');
    if (colon == NULL)
        return 2;
    if (colon - argv[1] == 9 && strncmp(argv[1], "localhost", 9) == 0)
        snprintf(hostport, sizeof hostport, "127.0.0.1%s", colon);
    else
        snprintf(hostport, sizeof hostport, "%s", argv[1]);
    g_queue = argv[2];
    const char *m = argv[3];
    if (!parse_mode(m))
        return 2;
    int nconn = (int)strtol(argv[4], NULL, 10);
    double seconds = strtod(argv[5], NULL);
    int body_bytes = argc > 6 ? (int)strtol(argv[6], NULL, 10) : 100;
    double warmup = argc > 7 ? strtod(argv[7], NULL) : 1.0;
    bool open_ended = g_mode == M_FILL || g_mode == M_LATENCY || g_mode == M_CREATE;
    if (nconn < 1 || nconn > MAX_CONNS || body_bytes < 1 || body_bytes > 1000 ||
        (!open_ended && (seconds <= 0 || warmup < 0)))
        return 2;
    if (g_mode == M_CREATE)
        return create_queue(hostport);
    if (g_mode == M_LATENCY)
        nconn = 1;
    g_payload = malloc((size_t)body_bytes + 1);
    if (g_payload == NULL)
        return 1;
    for (int i = 0; i < body_bytes; i++)
        g_payload[i] = (char)('a' + i % 26);
    g_payload[body_bytes] = '\0';

    struct load_spec spec = {
        .hostport = hostport,
        .connections = (unsigned)nconn,
        .warmup_s = open_ended ? 0 : warmup,
        .seconds = open_ended ? 0 : seconds,
        .state_size = sizeof(struct turn),
        .build = build,
        .check = check,
    };
    struct load_result r;
    if (load_run(&spec, &r) != 0) {
        fprintf(stderr, "sqs_load: cannot run\n");
        free(g_payload);
        return 1;
    }
    struct load_line line;
    load_line_init(&line);
    int rc = 0;
    if (g_mode == M_FILL) {
        jw_kint(&line.w, "filled", atomic_load(&g_filled));
        load_line_fixed(&line, "seconds", r.seconds, 3);
        rc = r.errors ? 1 : 0;
    } else {
        jw_kstr(&line.w, "mode", m);
        jw_kint(&line.w, "connections", nconn);
        load_line_fixed(&line, "seconds", r.seconds, 3);
        jw_kint(&line.w, "requests", (int64_t)r.requests);
        jw_kint(&line.w, "messages", (int64_t)r.units);
        jw_kint(&line.w, "errors", (int64_t)r.errors);
        jw_kint(&line.w, "empty_receives", (int64_t)atomic_load(&g_empty));
        load_line_fixed(&line, "requests_per_s", (double)r.requests / r.seconds, 1);
        load_line_fixed(&line, "messages_per_s", (double)r.units / r.seconds, 1);
        jw_kint(&line.w, "p50_us", load_percentile(&r, 0.50));
        jw_kint(&line.w, "p99_us", load_percentile(&r, 0.99));
        if (r.first_error[0])
            jw_kstr(&line.w, "first_error", r.first_error);
        rc = r.requests == 0 && r.errors > 0 ? 1 : 0; /* e.g. no server there */
    }
    load_line_print(&line);
    load_result_destroy(&r);
    free(g_payload);
    return rc;
}
