/*
 * loop.c — the runtime client's HTTP layer alone: N invocations (GET /next + POST
 * /response) against a minimal in-process Runtime API, once through src/runtime (one
 * kept-alive socket, sendmsg, our parser) and once through the same loop written on
 * libcurl (a reused easy handle, as aws-lambda-cpp does). Prints one JSON object.
 *
 *   loop N
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "runtime/runtime_log.h"

static int g_lfd;
static char g_api[64];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char EVENT[] = "{\"version\":\"2.0\",\"rawPath\":\"/health\",\"requestContext\":"
                            "{\"http\":{\"method\":\"GET\"}}}";

/* Serves one connection at a time until the client hangs up; forever. */
static void *server_main(void *arg)
{
    (void)arg;
    static char in[65536];
    char next[512];
    int nl = snprintf(next, sizeof next,
                      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Lambda-Runtime-Aws-Request-Id: 8476a536-e9f4-11e8-9739-2dfe598c3fcd\r\n"
                      "Lambda-Runtime-Deadline-Ms: 99999999999999\r\n"
                      "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:"
                      "000000000000:function:bench\r\n"
                      "Lambda-Runtime-Trace-Id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700\r\n"
                      "Content-Length: %zu\r\n\r\n%s",
                      sizeof EVENT - 1, EVENT);
    static const char accepted[] =
        "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n"
        "{\"status\":\"OK\"}";
    for (;;) {
        int fd = accept(g_lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        size_t have = 0;
        for (;;) {
            char *end = have ? memmem(in, have, "\r\n\r\n", 4) : NULL;
            if (end == NULL) {
                ssize_t n = recv(fd, in + have, sizeof in - have, 0);
                if (n <= 0)
                    break;
                have += (size_t)n;
                continue;
            }
            size_t head = (size_t)(end - in) + 4, length = 0;
            for (char *q = in; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++)
                if (strncasecmp(q + 1, "content-length:", 15) == 0)
                    length = strtoul(q + 16, NULL, 10);
            if (have < head + length) {
                ssize_t n = recv(fd, in + have, sizeof in - have, 0);
                if (n <= 0)
                    break;
                have += (size_t)n;
                continue;
            }
            bool get = in[0] == 'G';
            if (get)
                send(fd, next, (size_t)nl, MSG_NOSIGNAL);
            else
                send(fd, accepted, sizeof accepted - 1, MSG_NOSIGNAL);
            memmove(in, in + head + length, have - head - length);
            have -= head + length;
        }
        close(fd);
    }
}

static int tiny_handler(const struct runtime_invocation *inv, const char *event, size_t len,
                        struct buf *out, struct runtime_error *err)
{
    (void)inv, (void)event, (void)len, (void)err;
    return buf_puts(out, "{\"statusCode\":200,\"body\":\"{\\\"status\\\":\\\"ok\\\"}\"}") == BUF_OK
               ? 0
               : -1;
}

static double run_ours(long n)
{
    struct runtime rt;
    if (runtime_init(&rt, g_api, tiny_handler, NULL) != 0)
        return 0;
    double t0 = now_s();
    int rc = runtime_run(&rt, n);
    double t1 = now_s();
    runtime_destroy(&rt);
    return rc == 0 ? (double)n / (t1 - t0) : 0;
}

struct curl_ctx {
    struct buf body;
    char request_id[128];
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct curl_ctx *c = ud;
    return buf_append(&c->body, p, size * n) == BUF_OK ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct curl_ctx *c = ud;
    size_t len = size * n;
    static const char key[] = "lambda-runtime-aws-request-id:";
    if (len > sizeof key && strncasecmp(p, key, sizeof key - 1) == 0) {
        size_t v = sizeof key - 1;
        while (v < len && p[v] == ' ')
            v++;
        size_t e = len;
        while (e > v && (p[e - 1] == '\r' || p[e - 1] == '\n'))
            e--;
        if (e - v < sizeof c->request_id) {
            memcpy(c->request_id, p + v, e - v);
            c->request_id[e - v] = '\0';
        }
    }
    return len;
}

static double run_curl(long n)
{
    CURL *h = curl_easy_init();
    if (h == NULL)
        return 0;
    struct curl_ctx c;
    buf_init(&c.body, 8 * 1024 * 1024);
    char next_url[128], post_url[256];
    snprintf(next_url, sizeof next_url, "http://%s/2018-06-01/runtime/invocation/next", g_api);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &c);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    struct buf out;
    buf_init(&out, 6 * 1024 * 1024);
    double t0 = now_s();
    long done = 0;
    for (; done < n; done++) {
        buf_reset(&c.body);
        c.request_id[0] = '\0';
        curl_easy_setopt(h, CURLOPT_URL, next_url);
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        if (curl_easy_perform(h) != CURLE_OK || c.request_id[0] == '\0')
            break;
        buf_reset(&out);
        struct runtime_invocation inv = {.request_id = c.request_id};
        struct runtime_error err;
        if (tiny_handler(&inv, c.body.data, c.body.len, &out, &err) != 0)
            break;
        snprintf(post_url, sizeof post_url, "http://%s/2018-06-01/runtime/invocation/%s/response",
                 g_api, c.request_id);
        buf_reset(&c.body);
        curl_easy_setopt(h, CURLOPT_URL, post_url);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, out.data);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)out.len);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        if (curl_easy_perform(h) != CURLE_OK)
            break;
    }
    double t1 = now_s();
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    buf_destroy(&c.body);
    buf_destroy(&out);
    return done == n ? (double)n / (t1 - t0) : 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    if (n < 1)
        return 2;
    runtime_log_set_level(RUNTIME_LOG_FATAL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(g_lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(g_lfd, 4) != 0 ||
        getsockname(g_lfd, (struct sockaddr *)&a, &al) != 0)
        return 1;
    snprintf(g_api, sizeof g_api, "127.0.0.1:%d", ntohs(a.sin_port));
    pthread_t th;
    pthread_create(&th, NULL, server_main, NULL);
    /* warm both, then measure each twice, alternating, and keep the better run */
    run_ours(n / 10);
    run_curl(n / 10);
    double ours = 0, curl = 0;
    for (int i = 0; i < 2; i++) {
        double o = run_ours(n / 2), c = run_curl(n / 2);
        ours = o > ours ? o : ours;
        curl = c > curl ? c : curl;
    }
    printf("{\"invocations\":%ld,\"ours_per_s\":%.0f,\"libcurl_per_s\":%.0f,"
           "\"ours_us_per_invocation\":%.2f,\"libcurl_us_per_invocation\":%.2f}\n",
           n, ours, curl, ours > 0 ? 1e6 / ours : 0, curl > 0 ? 1e6 / curl : 0);
    curl_global_cleanup();
    return ours > 0 && curl > 0 ? 0 : 1;
}
