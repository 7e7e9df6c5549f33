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
 * One thread drives every connection (epoll), so the generator costs the machine as little
 * as possible. After the warm-up, each request's latency is kept; the report is one JSON
 * object on stdout: requests, messages, errors, requests/s, messages/s, p50/p99 (µs).
 * The signing key is derived once; each request hashes its body and its canonical request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

enum { MAX_CONNS = 256, MAX_SAMPLES = 8 * 1000 * 1000, BUF = 1 << 20 };

enum mode { M_SEND, M_BATCH, M_RECVDEL, M_FILL, M_LATENCY, M_CREATE };

static enum mode g_mode;
static char g_host[128];
static int g_port;
static char g_queue[512];
static char *g_payload; /* the message body (JSON-escaped: letters only) */
static long g_fill, g_rounds;
static unsigned char g_key[32]; /* the SigV4 signing key of today */
static char g_date[9], g_amz_date[17];

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static void hmac(const unsigned char *key, size_t kl, const void *msg, size_t ml,
                 unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)kl, msg, ml, out, &n);
}

static void derive_key(void)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(g_date, sizeof g_date, "%Y%m%d", &tm);
    strftime(g_amz_date, sizeof g_amz_date, "%Y%m%dT%H%M%SZ", &tm);
    unsigned char k1[32], k2[32], k3[32];
    const char *secret = "AWS4test";
    hmac((const unsigned char *)secret, strlen(secret), g_date, 8, k1);
    hmac(k1, 32, "eu-west-1", 9, k2);
    hmac(k2, 32, "sqs", 3, k3);
    hmac(k3, 32, "aws4_request", 12, g_key);
}

/* Writes a signed request for target with body into out; returns its length. */
static size_t build(char *out, size_t cap, const char *target, const char *body, size_t blen)
{
    unsigned char h[32];
    char body_hash[65], creq_hash[65], sig[65];
    SHA256((const unsigned char *)body, blen, h);
    hex(h, 32, body_hash);
    char host[160];
    snprintf(host, sizeof host, "%s:%d", g_host, g_port);
    char creq[1024];
    int cl = snprintf(creq, sizeof creq,
                      "POST\n/\n\ncontent-type:application/x-amz-json-1.0\nhost:%s\n"
                      "x-amz-date:%s\nx-amz-target:AmazonSQS.%s\n\n"
                      "content-type;host;x-amz-date;x-amz-target\n%s",
                      host, g_amz_date, target, body_hash);
    SHA256((const unsigned char *)creq, (size_t)cl, h);
    hex(h, 32, creq_hash);
    char sts[256];
    int sl = snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s/eu-west-1/sqs/aws4_request\n%s",
                      g_amz_date, g_date, creq_hash);
    hmac(g_key, 32, sts, (size_t)sl, h);
    hex(h, 32, sig);
    int n = snprintf(out, cap,
                     "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-amz-json-1.0\r\n"
                     "X-Amz-Date: %s\r\nX-Amz-Target: AmazonSQS.%s\r\nAuthorization: "
                     "AWS4-HMAC-SHA256 Credential=test/%s/eu-west-1/sqs/aws4_request, "
                     "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=%s\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     host, g_amz_date, target, g_date, sig, blen);
    if (n < 0 || (size_t)n + blen > cap)
        return 0;
    memcpy(out + n, body, blen);
    return (size_t)n + blen;
}

struct conn {
    int fd;
    char *out;
    size_t out_len, out_off;
    char *in;
    size_t in_len;
    int64_t started;
    int step;  /* recvdel: 0 receive, 1 delete */
    int batch; /* messages the request carries (or the receive brought) */
    char handles[10][128];
    int nh;
};

static uint32_t *g_lat;
static size_t g_nlat;
static unsigned long g_requests, g_messages, g_errors, g_empty;
static bool g_measuring;
static char g_first_error[512];

static void next_request(struct conn *c)
{
    char body[16384];
    size_t n = 0;
    switch (g_mode) {
    case M_SEND:
        n = (size_t)snprintf(body, sizeof body, "{\"QueueUrl\":\"%s\",\"MessageBody\":\"%s\"}",
                             g_queue, g_payload);
        c->batch = 1;
        c->out_len = build(c->out, BUF, "SendMessage", body, n);
        break;
    case M_BATCH:
    case M_FILL:
        n = (size_t)snprintf(body, sizeof body, "{\"QueueUrl\":\"%s\",\"Entries\":[", g_queue);
        for (int i = 0; i < 10; i++)
            n += (size_t)snprintf(body + n, sizeof body - n,
                                  "%s{\"Id\":\"m%d\",\"MessageBody\":\"%s\"}", i ? "," : "", i,
                                  g_payload);
        n += (size_t)snprintf(body + n, sizeof body - n, "]}");
        c->batch = 10;
        c->out_len = build(c->out, BUF, "SendMessageBatch", body, n);
        break;
    case M_CREATE:
        n = (size_t)snprintf(body, sizeof body, "{\"QueueName\":\"%s\"}", g_queue);
        c->out_len = build(c->out, BUF, "CreateQueue", body, n);
        break;
    case M_RECVDEL:
    case M_LATENCY:
        if (c->step == 0) {
            n = (size_t)snprintf(body, sizeof body,
                                 "{\"QueueUrl\":\"%s\",\"MaxNumberOfMessages\":%d,"
                                 "\"WaitTimeSeconds\":0}",
                                 g_queue, g_mode == M_LATENCY ? 1 : 10);
            c->out_len = build(c->out, BUF, "ReceiveMessage", body, n);
        } else if (g_mode == M_LATENCY) {
            n = (size_t)snprintf(body, sizeof body,
                                 "{\"QueueUrl\":\"%s\",\"ReceiptHandle\":\"%s\"}", g_queue,
                                 c->handles[0]);
            c->out_len = build(c->out, BUF, "DeleteMessage", body, n);
        } else {
            n = (size_t)snprintf(body, sizeof body, "{\"QueueUrl\":\"%s\",\"Entries\":[", g_queue);
            for (int i = 0; i < c->nh; i++)
                n += (size_t)snprintf(body + n, sizeof body - n,
                                      "%s{\"Id\":\"d%d\",\"ReceiptHandle\":\"%s\"}", i ? "," : "",
                                      i, c->handles[i]);
            n += (size_t)snprintf(body + n, sizeof body - n, "]}");
            c->out_len = build(c->out, BUF, "DeleteMessageBatch", body, n);
        }
        break;
    }
    c->out_off = 0;
    c->in_len = 0;
    c->started = now_ns();
}

/* The ReceiptHandle values of a ReceiveMessage answer. */
static int handles_of(struct conn *c, const char *body, size_t len)
{
    static const char key[] = "\"ReceiptHandle\":\"";
    c->nh = 0;
    const char *p = body, *end = body + len;
    while (c->nh < 10 && (p = memmem(p, (size_t)(end - p), key, sizeof key - 1)) != NULL) {
        p += sizeof key - 1;
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (q == NULL || q - p >= 127)
            break;
        memcpy(c->handles[c->nh], p, (size_t)(q - p));
        c->handles[c->nh][q - p] = '\0';
        c->nh++;
        p = q;
    }
    return c->nh;
}

/* A whole answer is in c->in: returns its total length (0 when more is needed). */
static size_t complete(struct conn *c, int *status, const char **body, size_t *blen)
{
    c->in[c->in_len] = '\0';
    char *eoh = strstr(c->in, "\r\n\r\n");
    if (eoh == NULL)
        return 0;
    *status = (int)strtol(c->in + 9, NULL, 10);
    size_t cl = 0;
    for (char *p = c->in; p < eoh; p = strstr(p, "\r\n") + 2) {
        if (strncasecmp(p, "content-length:", 15) == 0)
            cl = (size_t)strtoul(p + 15, NULL, 10);
        if (strstr(p, "\r\n") == NULL)
            break;
    }
    size_t total = (size_t)(eoh + 4 - c->in) + cl;
    if (c->in_len < total)
        return 0;
    *body = eoh + 4;
    *blen = cl;
    return total;
}

static void record(struct conn *c, int messages)
{
    if (!g_measuring)
        return;
    g_requests++;
    g_messages += (unsigned long)messages;
    if (g_nlat < MAX_SAMPLES)
        g_lat[g_nlat++] = (uint32_t)((now_ns() - c->started) / 1000);
}

/* An answer arrived: account for it and start the connection's next request. Returns false
 * when the run is over for this connection. */
static bool answered(struct conn *c, int status, const char *body, size_t blen)
{
    if (status != 200) {
        g_errors++;
        if (!g_first_error[0])
            snprintf(g_first_error, sizeof g_first_error, "HTTP %d: %.*s", status,
                     (int)(blen > 300 ? 300 : blen), body);
    }
    switch (g_mode) {
    case M_CREATE: {
        const char *u = memmem(body, blen, "\"QueueUrl\":\"", 12);
        const char *e = u ? memchr(u + 12, '"', blen - (size_t)(u + 12 - body)) : NULL;
        if (status != 200 || e == NULL) {
            fprintf(stderr, "sqs_load: CreateQueue: HTTP %d: %.*s\n", status, (int)blen, body);
            exit(1);
        }
        printf("%.*s\n", (int)(e - u - 12), u + 12);
        exit(0);
    }
    case M_SEND:
    case M_BATCH:
        record(c, status == 200 ? c->batch : 0);
        break;
    case M_FILL:
        g_messages += 10;
        if ((long)g_messages >= g_fill)
            return false;
        break;
    case M_RECVDEL:
    case M_LATENCY:
        if (c->step == 0) {
            int n = status == 200 ? handles_of(c, body, blen) : 0;
            record(c, 0);
            if (n == 0) {
                g_empty++;
                if (g_mode == M_LATENCY)
                    return false;
            } else {
                c->step = 1;
            }
        } else {
            record(c, c->nh);
            c->step = 0;
            if (g_mode == M_LATENCY && --g_rounds <= 0)
                return false;
        }
        break;
    }
    next_request(c);
    return true;
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
    inet_pton(AF_INET, g_host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: sqs_load HOST:PORT QUEUE_URL send|batch|recvdel|fill=N|latency=N|"
                        "create CONNECTIONS SECONDS [BODY_BYTES] [WARMUP_SECONDS]\n");
        return 2;
    }
    const char *colon = strrchr(argv[1], ':');
    if (colon == NULL)
        return 2;
    snprintf(g_host, sizeof g_host, "%.*s", (int)(colon - argv[1]), argv[1]);
    if (strcmp(g_host, "localhost") == 0)
        snprintf(g_host, sizeof g_host, "127.0.0.1");
    g_port = (int)strtol(colon + 1, NULL, 10);
    snprintf(g_queue, sizeof g_queue, "%s", argv[2]);
    const char *m = argv[3];
    if (strcmp(m, "send") == 0)
        g_mode = M_SEND;
    else if (strcmp(m, "batch") == 0)
        g_mode = M_BATCH;
    else if (strcmp(m, "recvdel") == 0)
        g_mode = M_RECVDEL;
    else if (strncmp(m, "fill=", 5) == 0)
        g_mode = M_FILL, g_fill = strtol(m + 5, NULL, 10);
    else if (strcmp(m, "create") == 0)
        g_mode = M_CREATE;
    else if (strncmp(m, "latency=", 8) == 0)
        g_mode = M_LATENCY, g_rounds = strtol(m + 8, NULL, 10);
    else
        return 2;
    int nconn = (int)strtol(argv[4], NULL, 10);
    double seconds = strtod(argv[5], NULL);
    int body_bytes = argc > 6 ? (int)strtol(argv[6], NULL, 10) : 100;
    double warmup = argc > 7 ? strtod(argv[7], NULL) : 1.0;
    if (nconn < 1 || nconn > MAX_CONNS || body_bytes < 1 || body_bytes > 1000)
        return 2;
    if (g_mode == M_LATENCY || g_mode == M_CREATE)
        nconn = 1;
    g_payload = malloc((size_t)body_bytes + 1);
    for (int i = 0; i < body_bytes; i++)
        g_payload[i] = (char)('a' + i % 26);
    g_payload[body_bytes] = '\0';
    g_lat = malloc(sizeof *g_lat * MAX_SAMPLES);
    derive_key();

    int ep = epoll_create1(0);
    struct conn *conns = calloc((size_t)nconn, sizeof *conns);
    for (int i = 0; i < nconn; i++) {
        struct conn *c = &conns[i];
        c->fd = dial();
        c->out = malloc(BUF);
        c->in = malloc(BUF + 1);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        next_request(c);
    }
    int64_t t0 = now_ns();
    bool open_ended = g_mode == M_FILL || g_mode == M_LATENCY || g_mode == M_CREATE;
    int64_t measure_at = open_ended ? t0 : t0 + (int64_t)(warmup * 1e9);
    int64_t end_at = open_ended ? INT64_MAX : measure_at + (int64_t)(seconds * 1e9);
    int active = nconn;
    g_measuring = measure_at <= t0;
    int64_t measured_from = g_measuring ? t0 : 0;
    struct epoll_event evs[MAX_CONNS];
    while (active > 0) {
        int64_t now = now_ns();
        if (!g_measuring && now >= measure_at) {
            g_measuring = true;
            measured_from = now;
        }
        if (now >= end_at)
            break;
        int n = epoll_wait(ep, evs, MAX_CONNS, 50);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->fd < 0)
                continue;
            while (c->out_off < c->out_len) {
                ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
                if (w <= 0)
                    break;
                c->out_off += (size_t)w;
            }
            for (;;) {
                ssize_t r = read(c->fd, c->in + c->in_len, BUF - c->in_len);
                if (r == 0 || (r < 0 && errno != EAGAIN)) {
                    fprintf(stderr, "sqs_load: connection closed\n");
                    close(c->fd);
                    c->fd = -1;
                    active--;
                    break;
                }
                if (r < 0)
                    break;
                c->in_len += (size_t)r;
                int status;
                const char *body;
                size_t blen;
                if (complete(c, &status, &body, &blen) == 0)
                    continue;
                if (!answered(c, status, body, blen)) {
                    close(c->fd);
                    c->fd = -1;
                    active--;
                    break;
                }
                while (c->out_off < c->out_len) {
                    ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
                    if (w <= 0)
                        break;
                    c->out_off += (size_t)w;
                }
            }
        }
    }
    double elapsed = (double)(now_ns() - measured_from) / 1e9;
    if (g_mode == M_FILL) {
        printf("{\"filled\":%lu,\"seconds\":%.3f}\n", g_messages, elapsed);
        return g_errors ? 1 : 0;
    }
    qsort(g_lat, g_nlat, sizeof *g_lat, cmp_u32);
    uint32_t p50 = g_nlat ? g_lat[g_nlat / 2] : 0;
    uint32_t p99 = g_nlat ? g_lat[(size_t)((double)g_nlat * 0.99)] : 0;
    printf("{\"mode\":\"%s\",\"connections\":%d,\"seconds\":%.3f,\"requests\":%lu,\"messages\":%lu,"
           "\"errors\":%lu,\"empty_receives\":%lu,\"requests_per_s\":%.1f,\"messages_per_s\":%.1f,"
           "\"p50_us\":%u,\"p99_us\":%u",
           m, nconn, elapsed, g_requests, g_messages, g_errors, g_empty,
           (double)g_requests / elapsed, (double)g_messages / elapsed, p50, p99);
    if (g_first_error[0]) {
        printf(",\"first_error\":\"");
        for (const char *p = g_first_error; *p; p++)
            if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
                putchar(*p);
        printf("\"");
    }
    printf("}\n");
    return 0;
}
