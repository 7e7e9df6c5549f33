/*
 * test_aws_fake.h — a scripted AWS endpoint for unit tests (included by test_aws_*.c and
 * test_fn_*.c; not a test itself): an HTTP/1.1 server on a thread of the test process that
 * verifies each request's SigV4 signature with core/sigv4 (as the daemon does), records it
 * (target, body, whether the signature held), and answers from a script of steps (status,
 * body, extra headers, a delay, or hanging up). After the script's end the last step
 * repeats. Plus an environment table for the clients under test.
 */
#ifndef HAAR_TEST_AWS_FAKE_H
#define HAAR_TEST_AWS_FAKE_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/sigv4.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN  "IQoJb3JpZ2luX2VjEXAMPLE//token=="

enum { MAX_STEPS = 64, MAX_REQS = 256, REQ_MAX = 1 << 20 };

struct step {
    int status;
    const char *body;
    const char *headers; /* extra header lines, each ending in \r\n */
    int delay_ms;
    bool hang_up; /* close the connection instead of answering */
};

struct record {
    char target[128];
    char *body;
    bool signature_ok;
    char sig_msg[256];
    bool has_token;
    int conn;
};

struct fake {
    int lfd, port;
    pthread_t th;
    pthread_mutex_t mu;
    struct step steps[MAX_STEPS];
    size_t nsteps, next;
    struct record reqs[MAX_REQS];
    size_t nreqs;
    int nconns;
    volatile bool stop;
};

/* ---- the server ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *lookup_secret(void *arg, const char *key, const char *token)
{
    (void)arg;
    (void)token;
    return strcmp(key, "AKIDTEST") == 0 ? SECRET : NULL;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads one request from fd into buf. Returns its total length, 0 at a clean close, -1 on
 * error. *head_len is the head's length (through the blank line). */
static ssize_t read_request(struct fake *f, int fd, char *buf, size_t cap, size_t *head_len)
{
    size_t len = 0;
    for (;;) {
        char *end = len >= 4 ? memmem(buf, len, "\r\n\r\n", 4) : NULL;
        if (end != NULL) {
            *head_len = (size_t)(end - buf) + 4;
            size_t body = 0;
            char *cl = strcasestr(buf, "\r\ncontent-length:");
            if (cl != NULL && cl < end)
                body = strtoul(cl + 17, NULL, 10);
            while (len < *head_len + body) {
                ssize_t r = recv(fd, buf + len, cap - len, 0);
                if (r <= 0)
                    return -1;
                len += (size_t)r;
            }
            return (ssize_t)(*head_len + body);
        }
        struct pollfd p = {fd, POLLIN, 0};
        if (f->stop)
            return -1;
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
        if (r <= 0)
            return len == 0 ? 0 : -1;
        len += (size_t)r;
        buf[len] = '\0';
    }
}

static void handle(struct fake *f, int fd, char *req, size_t total, size_t head_len, int conn,
                   bool *close_after)
{
    struct sigv4_header hs[64];
    size_t nh = 0;
    char *line = strstr(req, "\r\n") + 2;
    char method[16] = "", path[256] = "";
    sscanf(req, "%15s %255s", method, path);
    struct record rec = {.conn = conn};
    while (line < req + head_len - 2 && nh < 64) {
        char *eol = strstr(line, "\r\n");
        char *colon = memchr(line, ':', (size_t)(eol - line));
        if (colon != NULL) {
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            hs[nh++] = (struct sigv4_header){line, (size_t)(colon - line), v, (size_t)(eol - v)};
            if ((size_t)(colon - line) == 12 && strncasecmp(line, "x-amz-target", 12) == 0)
                snprintf(rec.target, sizeof rec.target, "%.*s", (int)(eol - v), v);
            if ((size_t)(colon - line) == 20 && strncasecmp(line, "x-amz-security-token", 20) == 0)
                rec.has_token =
                    (size_t)(eol - v) == strlen(TOKEN) && memcmp(v, TOKEN, strlen(TOKEN)) == 0;
        }
        line = eol + 2;
    }
    struct sigv4_request sr = {.method = method,
                               .method_len = strlen(method),
                               .path = path,
                               .path_len = strlen(path),
                               .headers = hs,
                               .nheaders = nh,
                               .body = req + head_len,
                               .body_len = total - head_len};
    const char *service = strncmp(rec.target, "AmazonSQS.", 10) == 0 ? "sqs" : "dynamodb";
    rec.signature_ok = sigv4_verify(&sr, "eu-west-1", service, true, now_ms(), lookup_secret, NULL,
                                    rec.sig_msg, sizeof rec.sig_msg) == SIGV4_OK;
    rec.body = strndup(req + head_len, total - head_len);

    pthread_mutex_lock(&f->mu);
    struct step st = f->steps[f->next < f->nsteps ? f->next : f->nsteps - 1];
    f->next++;
    if (f->nreqs < MAX_REQS)
        f->reqs[f->nreqs++] = rec;
    else
        free(rec.body);
    pthread_mutex_unlock(&f->mu);

    if (st.delay_ms > 0)
        usleep((useconds_t)st.delay_ms * 1000);
    if (st.hang_up) {
        *close_after = true;
        return;
    }
    char out[8192];
    const char *body = st.body ? st.body : "{}";
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %d X\r\nContent-Type: application/x-amz-json-1.0\r\n"
                     "x-amzn-RequestId: rid-%zu\r\nContent-Length: %zu\r\n%s\r\n%s",
                     st.status, f->nreqs, strlen(body), st.headers ? st.headers : "", body);
    /* one write: a head and body in two segments would meet the client's delayed ACK */
    if (n < 0 || (size_t)n >= sizeof out || !write_all(fd, out, (size_t)n))
        *close_after = true;
}

static void *serve(void *arg)
{
    struct fake *f = arg;
    char *req = malloc(REQ_MAX);
    while (!f->stop) {
        struct pollfd p = {f->lfd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        int conn = ++f->nconns;
        for (;;) {
            size_t head_len = 0;
            ssize_t total = read_request(f, fd, req, REQ_MAX, &head_len);
            if (total <= 0)
                break;
            bool close_after = false;
            handle(f, fd, req, (size_t)total, head_len, conn, &close_after);
            if (close_after)
                break;
        }
        close(fd);
    }
    free(req);
    return NULL;
}

static void fake_start(struct fake *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->lfd, 16), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &al), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&f->th, NULL, serve, f), 0);
}

static void fake_stop(struct fake *f)
{
    f->stop = true;
    pthread_join(f->th, NULL);
    close(f->lfd);
    for (size_t i = 0; i < f->nreqs; i++)
        free(f->reqs[i].body);
    pthread_mutex_destroy(&f->mu);
}

static void fake_script(struct fake *f, const struct step *steps, size_t n)
{
    pthread_mutex_lock(&f->mu);
    memcpy(f->steps, steps, n * sizeof *steps);
    f->nsteps = n;
    f->next = 0;
    for (size_t i = 0; i < f->nreqs; i++)
        free(f->reqs[i].body);
    f->nreqs = 0;
    pthread_mutex_unlock(&f->mu);
}

/* ---- the client under test ---- */

struct env {
    const char *vars[12][2];
};

static const char *env_get(void *arg, const char *name)
{
    const struct env *e = arg;
    for (size_t i = 0; i < 12 && e->vars[i][0]; i++)
        if (strcmp(e->vars[i][0], name) == 0)
            return e->vars[i][1];
    return NULL;
}

#endif
