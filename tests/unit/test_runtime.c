/*
 * test_runtime.c — the Lambda runtime client's loop against a fake Runtime API.
 *
 * The fake server is a thread on 127.0.0.1:<ephemeral> that answers each request it
 * reads with the next scripted step (raw bytes, optionally closing the connection
 * afterwards, or closing instead of answering) and records every request it saw and how
 * many connections it accepted. All waits are bounded (5 s).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "runtime/runtime_log.h"

enum { MAX_STEPS = 16, WIRE_MAX = 8192, HEAD_MAX = 4096, BODY_MAX = 16384 };

enum step_kind { STEP_SEND, STEP_SEND_CLOSE, STEP_CLOSE };

struct step {
    enum step_kind kind;
    char wire[WIRE_MAX];
    size_t len;
    int delay_ms; /* waited before sending */
};

struct rec {
    char head[HEAD_MAX];
    char body[BODY_MAX];
    size_t body_len;
    bool more; /* the next request's bytes had come with it (pipelined) */
};

/* Bytes a connection received past the request read last: a pipelining client sends the
 * next request in the same write. */
struct carry {
    char in[HEAD_MAX + BODY_MAX];
    size_t len;
};

struct fake {
    int lfd;
    int port;
    char api[64];
    pthread_t th;
    struct step steps[MAX_STEPS];
    size_t nsteps;
    struct rec reqs[MAX_STEPS];
    size_t nreqs;
    int accepts;
    struct carry carry; /* of the connection being served */
};

/* ---- the fake Runtime API ---------------------------------------------------------- */

static void fake_start(struct fake *f)
{
    memset(f, 0, sizeof *f);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(f->lfd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->lfd, 8), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &al), 0);
    f->port = ntohs(a.sin_port);
    snprintf(f->api, sizeof f->api, "127.0.0.1:%d", f->port);
}

static struct step *step_add(struct fake *f, enum step_kind kind)
{
    assert_true(f->nsteps < MAX_STEPS);
    struct step *s = &f->steps[f->nsteps++];
    s->kind = kind;
    s->len = 0;
    s->delay_ms = 0;
    return s;
}

static void step_raw(struct fake *f, enum step_kind kind, const char *wire, size_t len)
{
    struct step *s = step_add(f, kind);
    assert_true(len <= WIRE_MAX);
    memcpy(s->wire, wire, len);
    s->len = len;
}

static void step_text(struct fake *f, enum step_kind kind, const char *wire)
{
    step_raw(f, kind, wire, strlen(wire));
}

/* A GET /next answer. extra: more header lines ("Name: v\r\n"), may be NULL. */
static void step_next(struct fake *f, const char *id, const char *extra, const char *body)
{
    struct step *s = step_add(f, STEP_SEND);
    long long deadline = (long long)runtime_now_ms() + 3000;
    int n = snprintf(s->wire, WIRE_MAX,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Lambda-Runtime-Aws-Request-Id: %s\r\n"
                     "Lambda-Runtime-Deadline-Ms: %lld\r\n"
                     "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:000000000000:"
                     "function:haar-dev-api\r\n%sContent-Length: %zu\r\n\r\n%s",
                     id, deadline, extra ? extra : "", strlen(body), body);
    assert_true(n > 0 && n < WIRE_MAX);
    s->len = (size_t)n;
}

static void step_accepted(struct fake *f)
{
    step_text(f, STEP_SEND,
              "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
              "Content-Length: 15\r\n\r\n{\"status\":\"OK\"}");
}

/* Reads one request into r (taking what c holds first); returns false at EOF, error or
 * timeout. */
static bool read_request(int fd, struct carry *c, struct rec *r)
{
    char *end = NULL;
    memset(r, 0, sizeof *r);
    for (;;) {
        c->in[c->len] = '\0';
        end = strstr(c->in, "\r\n\r\n");
        if (end != NULL)
            break;
        if (c->len >= HEAD_MAX - 1)
            return false;
        ssize_t n = recv(fd, c->in + c->len, sizeof c->in - 1 - c->len, 0);
        if (n <= 0)
            return false;
        c->len += (size_t)n;
    }
    size_t head_len = (size_t)(end - c->in) + 4;
    size_t length = 0;
    for (char *p = c->in; (p = strchr(p, '\n')) != NULL && p < end; p++)
        if (strncasecmp(p + 1, "content-length:", 15) == 0)
            length = strtoul(p + 16, NULL, 10);
    if (length >= BODY_MAX || head_len >= HEAD_MAX)
        return false;
    while (c->len < head_len + length) {
        ssize_t n = recv(fd, c->in + c->len, sizeof c->in - 1 - c->len, 0);
        if (n <= 0)
            return false;
        c->len += (size_t)n;
    }
    memcpy(r->head, c->in, head_len);
    r->head[head_len] = '\0';
    memcpy(r->body, c->in + head_len, length);
    r->body_len = length;
    c->len -= head_len + length;
    memmove(c->in, c->in + head_len + length, c->len);
    return true;
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    size_t next = 0;
    while (next < f->nsteps) {
        struct pollfd pfd = {f->lfd, POLLIN, 0};
        if (poll(&pfd, 1, 5000) <= 0)
            break;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            break;
        f->accepts++;
        struct timeval tv = {5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        bool open = true;
        f->carry.len = 0;
        while (open && next < f->nsteps) {
            if (!read_request(fd, &f->carry, &f->reqs[f->nreqs]))
                break;
            f->reqs[f->nreqs].more = f->carry.len > 0;
            f->nreqs++;
            const struct step *s = &f->steps[next++];
            if (s->delay_ms > 0)
                poll(NULL, 0, s->delay_ms);
            if (s->kind != STEP_CLOSE)
                send_all(fd, s->wire, s->len);
            if (s->kind != STEP_SEND)
                open = false;
        }
        if (open && next == f->nsteps) {
            /* script done: wait for the client to hang up (or time out) */
            char c;
            (void)recv(fd, &c, 1, 0);
        }
        close(fd);
    }
    return NULL;
}

static void fake_run(struct fake *f)
{
    assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
    pthread_join(f->th, NULL);
    close(f->lfd);
}

static bool head_has(const struct rec *r, const char *line)
{
    return strcasestr(r->head, line) != NULL;
}

/* ---- a recording handler ----------------------------------------------------------- */

enum { MAX_CALLS = 8 };

static struct {
    int calls;
    bool fail;
    char ids[MAX_CALLS][64];
    char events[MAX_CALLS][256];
    bool cold[MAX_CALLS];
    int64_t remaining[MAX_CALLS];
    char trace_env[MAX_CALLS][512];
    bool trace_set[MAX_CALLS];
    char client_context[MAX_CALLS][128];
    size_t out_size; /* > 0: answer with this many bytes */
} hs;

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static int recording_handler(const struct runtime_invocation *inv, const char *event, size_t len,
                             struct buf *out, struct runtime_error *err)
{
    int i = hs.calls++;
    if (i >= MAX_CALLS)
        return runtime_error_set(err, "Test.TooManyCalls", "too many calls");
    copy_str(hs.ids[i], sizeof hs.ids[i], inv->request_id);
    snprintf(hs.events[i], sizeof hs.events[i], "%.*s", (int)len, event);
    hs.cold[i] = inv->cold_start;
    hs.remaining[i] = runtime_remaining_ms(inv);
    const char *t = getenv("_X_AMZN_TRACE_ID");
    hs.trace_set[i] = t != NULL;
    copy_str(hs.trace_env[i], sizeof hs.trace_env[i], t);
    copy_str(hs.client_context[i], sizeof hs.client_context[i], inv->client_context);
    if (hs.fail)
        return runtime_error_set(err, "Test.Boom", "it broke: \"%s\"\nsecond line",
                                 inv->request_id);
    if (hs.out_size > 0) {
        for (size_t k = 0; k < hs.out_size; k++)
            if (buf_append(out, "x", 1) != BUF_OK)
                return runtime_error_set(err, "Test.Big", "response too big");
        return 0;
    }
    buf_printf(out, "{\"n\":%d}", i);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    memset(&hs, 0, sizeof hs);
    unsetenv("_X_AMZN_TRACE_ID");
    runtime_log_set_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
    return 0;
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_loop_keeps_one_connection(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    const char *ids[] = {"8f5e2d3c-0001", "8f5e2d3c-0002", "8f5e2d3c-0003"};
    for (int i = 0; i < 3; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"i\":%d}", i);
        step_next(&f, ids[i], NULL, body);
        step_accepted(&f);
    }
    fake_run(&f);
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    assert_int_equal(runtime_run(&rt, 3), 0);
    runtime_destroy(&rt);
    fake_stop(&f);

    assert_int_equal(f.accepts, 1);
    assert_int_equal(f.nreqs, 6);
    assert_int_equal(hs.calls, 3);
    for (int i = 0; i < 3; i++) {
        const struct rec *get = &f.reqs[2 * i], *post = &f.reqs[2 * i + 1];
        assert_true(
            strncmp(get->head, "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n", 50) == 0);
        char line[128];
        snprintf(line, sizeof line, "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\n",
                 ids[i]);
        assert_true(strncmp(post->head, line, strlen(line)) == 0);
        char want[32];
        snprintf(want, sizeof want, "{\"n\":%d}", i);
        assert_int_equal(post->body_len, strlen(want));
        assert_memory_equal(post->body, want, post->body_len);
        snprintf(line, sizeof line, "\r\nContent-Length: %zu\r\n", strlen(want));
        assert_true(head_has(post, line));
        assert_true(head_has(post, "\r\nHost: 127.0.0.1:"));
        /* GET /next came in the same write, behind the result, but for the last one asked for */
        assert_int_equal(post->more, i < 2);
        assert_false(get->more);
        assert_false(head_has(post, "Transfer-Encoding"));
        assert_false(head_has(post, "Expect:"));
        assert_string_equal(hs.ids[i], ids[i]);
        char ev[32];
        snprintf(ev, sizeof ev, "{\"i\":%d}", i);
        assert_string_equal(hs.events[i], ev);
        assert_int_equal(hs.cold[i], i == 0);
    }
}

static void test_chunked_next_body(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    step_text(&f, STEP_SEND,
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
              "Lambda-Runtime-Aws-Request-Id: chunky-1\r\n"
              "Lambda-Runtime-Deadline-Ms: 1\r\n\r\n"
              "5\r\n{\"a\":\r\n"
              "b;name=value\r\n\"chunked!\"}\r\n"
              "0\r\nX-Trailer: t\r\n\r\n");
    step_accepted(&f);
    fake_run(&f);
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    assert_int_equal(runtime_run(&rt, 1), 0);
    runtime_destroy(&rt);
    fake_stop(&f);
    assert_int_equal(hs.calls, 1);
    assert_string_equal(hs.events[0], "{\"a\":\"chunked!\"}");
    assert_int_equal(f.accepts, 1);
    assert_true(strstr(f.reqs[1].head, "/chunky-1/response") != NULL);
}

static void test_headers_in_odd_case(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    long long deadline = (long long)runtime_now_ms() + 60000;
    char wire[512];
    snprintf(wire, sizeof wire,
             "HTTP/1.1 200 OK\r\nlambda-runtime-aws-request-id: lower-1\r\n"
             "LAMBDA-RUNTIME-DEADLINE-MS: %lld\r\n"
             "lambda-RUNTIME-trace-ID: Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1\r\n"
             "CONTENT-LENGTH: 2\r\n\r\n{}",
             deadline);
    step_text(&f, STEP_SEND, wire);
    step_text(&f, STEP_SEND,
              "HTTP/1.1 202 Accepted\r\ncontent-LENGTH: 0\r\nCONNECTION: Keep-Alive\r\n\r\n");
    fake_run(&f);
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    int rc = runtime_run(&rt, 1);
    assert_int_equal(rt.failures, 0);
    runtime_destroy(&rt);
    fake_stop(&f);
    assert_int_equal(rc, 0);
    assert_int_equal(hs.calls, 1);
    assert_string_equal(hs.ids[0], "lower-1");
    assert_true(hs.remaining[0] > 55000 && hs.remaining[0] <= 60000);
    assert_string_equal(hs.trace_env[0], "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
    assert_int_equal(f.accepts, 1);
    assert_int_equal(f.nreqs, 2);
}

static void run_reconnect(enum step_kind how, const char *accepted)
{
    struct fake f;
    fake_start(&f);
    step_next(&f, "conn-1", NULL, "{}");
    step_text(&f, how, accepted);
    step_next(&f, "conn-2", NULL, "{}");
    step_accepted(&f);
    fake_run(&f);
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    assert_int_equal(runtime_run(&rt, 2), 0);
    assert_int_equal(rt.failures_total, 0); /* the dead connection cost no failure */
    assert_int_equal(rt.conn.connects, 2);
    runtime_destroy(&rt);
    fake_stop(&f);
    assert_int_equal(f.accepts, 2);
    assert_int_equal(f.nreqs, 4);
    assert_int_equal(hs.calls, 2);
    assert_string_equal(hs.ids[1], "conn-2");
}

static void test_reconnect_after_connection_close_header(void **state)
{
    (void)state;
    run_reconnect(STEP_SEND_CLOSE,
                  "HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
}

static void test_reconnect_after_silent_close(void **state)
{
    (void)state;
    /* the server drops the kept-alive connection without saying so: the client's next
     * GET /next finds it dead and is sent once more on a new connection */
    run_reconnect(STEP_SEND_CLOSE, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
}

static void test_handler_error_posts_error_shape(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    step_next(&f, "err-1", NULL, "{}");
    step_accepted(&f);
    fake_run(&f);
    hs.fail = true;
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    assert_int_equal(runtime_run(&rt, 1), 0);
    runtime_destroy(&rt);
    fake_stop(&f);

    const struct rec *post = &f.reqs[1];
    assert_true(strncmp(post->head, "POST /2018-06-01/runtime/invocation/err-1/error HTTP/1.1\r\n",
                        58) == 0);
    assert_true(head_has(post, "\r\nContent-Type: application/vnd.aws.lambda.error+json\r\n"));
    assert_true(head_has(post, "\r\nLambda-Runtime-Function-Error-Type: Test.Boom\r\n"));
    json_error_t jerr;
    json_t *j = json_loadb(post->body, post->body_len, 0, &jerr);
    assert_non_null(j);
    assert_int_equal(json_object_size(j), 3);
    assert_string_equal(json_string_value(json_object_get(j, "errorType")), "Test.Boom");
    assert_string_equal(json_string_value(json_object_get(j, "errorMessage")),
                        "it broke: \"err-1\"\nsecond line");
    json_t *st = json_object_get(j, "stackTrace");
    assert_true(json_is_array(st));
    assert_int_equal(json_array_size(st), 0);
    json_decref(j);
}

static int failing_init(void *user, struct runtime_error *err)
{
    (void)user;
    return runtime_error_set(err, "Runtime.ConfigError", "missing TABLE_NAME");
}

static int never_called(const struct runtime_invocation *inv, const char *event, size_t len,
                        struct buf *out, struct runtime_error *err)
{
    (void)inv, (void)event, (void)len, (void)out, (void)err;
    fail_msg("handler called after a failed init");
    return 0;
}

static void test_init_error_posts_and_exits(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    step_accepted(&f);
    fake_run(&f);
    setenv("AWS_LAMBDA_RUNTIME_API", f.api, 1);
    int rc = runtime_main(failing_init, never_called, NULL);
    unsetenv("AWS_LAMBDA_RUNTIME_API");
    fake_stop(&f);
    assert_int_not_equal(rc, 0);
    assert_int_equal(f.nreqs, 1);
    const struct rec *post = &f.reqs[0];
    assert_true(strncmp(post->head, "POST /2018-06-01/runtime/init/error HTTP/1.1\r\n", 46) == 0);
    assert_true(head_has(post, "\r\nLambda-Runtime-Function-Error-Type: Runtime.ConfigError\r\n"));
    json_t *j = json_loadb(post->body, post->body_len, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "errorMessage")),
                        "missing TABLE_NAME");
    assert_string_equal(json_string_value(json_object_get(j, "errorType")), "Runtime.ConfigError");
    json_decref(j);
}

static void test_main_without_runtime_api_fails(void **state)
{
    (void)state;
    unsetenv("AWS_LAMBDA_RUNTIME_API");
    assert_int_not_equal(runtime_main(NULL, never_called, NULL), 0);
    setenv("AWS_LAMBDA_RUNTIME_API", "no-port-here", 1);
    assert_int_not_equal(runtime_main(NULL, never_called, NULL), 0);
    unsetenv("AWS_LAMBDA_RUNTIME_API");
}

static void test_missing_request_id_is_counted(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    step_text(&f, STEP_SEND, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
    step_next(&f, "../../etc", NULL, "{}"); /* unusable in a URL path: also a failure */
    step_next(&f, "good-1", NULL, "{}");
    step_accepted(&f);
    fake_run(&f);
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    assert_int_equal(runtime_run(&rt, 1), 0);
    assert_int_equal(rt.failures, 0); /* reset by the good invocation */
    assert_int_equal(rt.failures_total, 2);
    runtime_destroy(&rt);
    fake_stop(&f);
    assert_int_equal(f.nreqs, 4);
    assert_int_equal(hs.calls, 1);
    assert_string_equal(hs.ids[0], "good-1");
    assert_int_equal(f.accepts, 1);
}

static void test_three_failures_exit(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    for (int i = 0; i < 3; i++)
        step_text(&f, STEP_SEND, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
    fake_run(&f);
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    assert_int_equal(runtime_run(&rt, -1), 1);
    assert_int_equal(rt.failures, 3);
    assert_non_null(strstr(rt.last_error, "missing Lambda-Runtime-Aws-Request-Id"));
    runtime_destroy(&rt);
    fake_stop(&f);
    assert_int_equal(f.nreqs, 3);
    assert_int_equal(hs.calls, 0);
}

static void test_malformed_answers_are_errors(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    /* each malformed answer breaks the connection: the client reconnects for the next */
    step_text(&f, STEP_SEND_CLOSE, "this is not HTTP\r\n\r\n");
    step_text(&f, STEP_SEND_CLOSE,
              "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: a\r\nContent-Length: "
              "999999999999\r\n\r\n");
    char big[WIRE_MAX];
    int n = snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    memset(big + n, 'f', 40);
    memcpy(big + n + 40, "\r\n", 3);
    step_text(&f, STEP_SEND_CLOSE, big);
    fake_run(&f);
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    assert_int_equal(runtime_run(&rt, -1), 1);
    assert_int_equal(rt.failures, 3);
    runtime_destroy(&rt);
    fake_stop(&f);
    assert_int_equal(hs.calls, 0);
    assert_int_equal(f.nreqs, 3);
}

static void test_truncated_answer_then_recovery(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    /* half an answer, then the server hangs up: a failure, not a retry of the same GET */
    step_text(&f, STEP_SEND_CLOSE,
              "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: t-1\r\nContent-Length: "
              "50\r\n\r\n{\"a\"");
    step_next(&f, "t-2", NULL, "{}");
    step_accepted(&f);
    fake_run(&f);
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    assert_int_equal(runtime_run(&rt, 1), 0);
    runtime_destroy(&rt);
    fake_stop(&f);
    assert_int_equal(hs.calls, 1);
    assert_string_equal(hs.ids[0], "t-2");
    assert_int_equal(f.accepts, 2);
}

static void test_next_500_exits_at_once(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    step_text(&f, STEP_SEND, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}");
    fake_run(&f);
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    assert_int_equal(runtime_run(&rt, -1), 1);
    assert_non_null(strstr(rt.last_error, "500"));
    runtime_destroy(&rt);
    fake_stop(&f);
    assert_int_equal(f.nreqs, 1);
}

static void test_post_rejected_counts(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    for (int i = 0; i < 3; i++) {
        step_next(&f, "r-1", NULL, "{}");
        step_text(&f, STEP_SEND, "HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\n{}");
    }
    fake_run(&f);
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    assert_int_equal(runtime_run(&rt, -1), 1);
    assert_non_null(strstr(rt.last_error, "HTTP 400"));
    runtime_destroy(&rt);
    fake_stop(&f);
    assert_int_equal(hs.calls, 3);
    assert_int_equal(f.nreqs, 6);
}

static void test_response_too_large_becomes_error(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    step_next(&f, "big-1", NULL, "{}");
    step_text(&f, STEP_SEND,
              "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 2\r\n\r\n{}");
    step_add(&f, STEP_CLOSE); /* the GET pipelined behind the refused POST: dropped */
    step_accepted(&f);        /* the error, on a new connection */
    step_next(&f, "ok-2", NULL, "{}");
    step_accepted(&f);
    fake_run(&f);
    hs.out_size = 10000;
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    assert_int_equal(runtime_run(&rt, 2), 0);
    assert_int_equal(rt.failures, 0);
    runtime_destroy(&rt);
    fake_stop(&f);
    assert_int_equal(f.nreqs, 6);
    assert_int_equal(f.accepts, 2);
    assert_int_equal(f.reqs[1].body_len, 10000);
    assert_true(strncmp(f.reqs[2].head, "GET /2018-06-01/runtime/invocation/next ", 40) == 0);
    assert_true(strstr(f.reqs[3].head, "/big-1/error HTTP/1.1") != NULL);
    assert_true(
        head_has(&f.reqs[3], "Lambda-Runtime-Function-Error-Type: Function.ResponseSizeTooLarge"));
    assert_true(strstr(f.reqs[5].head, "/ok-2/response HTTP/1.1") != NULL);
}

static void test_deadline_trace_and_context(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    /* first: trace id and client context; second: neither, and a deadline in the past */
    step_next(&f, "d-1",
              "Lambda-Runtime-Trace-Id: "
              "Root=1-65f0c0de-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1\r\n"
              "Lambda-Runtime-Client-Context: {\"custom\":{\"k\":\"v\"}}\r\n",
              "{}");
    step_accepted(&f);
    step_text(&f, STEP_SEND,
              "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: d-2\r\n"
              "Lambda-Runtime-Deadline-Ms: 1000\r\nContent-Length: 2\r\n\r\n{}");
    step_accepted(&f);
    fake_run(&f);
    setenv("_X_AMZN_TRACE_ID", "stale-from-before", 1);
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    assert_int_equal(runtime_run(&rt, 2), 0);
    runtime_destroy(&rt);
    fake_stop(&f);
    assert_int_equal(hs.calls, 2);
    assert_true(hs.trace_set[0]);
    assert_string_equal(
        hs.trace_env[0],
        "Root=1-65f0c0de-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1");
    assert_string_equal(hs.client_context[0], "{\"custom\":{\"k\":\"v\"}}");
    assert_true(hs.remaining[0] > 2000 && hs.remaining[0] <= 3000);
    assert_false(hs.trace_set[1]); /* no trace id: the variable is not left from before */
    assert_string_equal(hs.client_context[1], "");
    assert_int_equal(hs.remaining[1], 0);
}

/* The trace id goes into the environment without setenv's copy per value (which glibc keeps
 * for the process's life: ~140 bytes more per invocation); the buffer grows for a long one. */
static void test_trace_env_follows_each_invocation(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    char longer[400], extra[3][512];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    const char *traces[3] = {"Root=1-00000000-000000000000000000000001", longer,
                             "Root=1-00000000-000000000000000000000003"};
    for (int i = 0; i < 3; i++) {
        snprintf(extra[i], sizeof extra[i], "Lambda-Runtime-Trace-Id: %s\r\n", traces[i]);
        char id[16];
        snprintf(id, sizeof id, "tr-%d", i);
        step_next(&f, id, extra[i], "{}");
        step_accepted(&f);
    }
    fake_run(&f);
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    assert_int_equal(runtime_run(&rt, 3), 0);
    assert_string_equal(getenv("_X_AMZN_TRACE_ID"), traces[2]);
    runtime_destroy(&rt);
    fake_stop(&f);
    assert_int_equal(hs.calls, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(hs.trace_env[i], traces[i]);
    assert_null(getenv("_X_AMZN_TRACE_ID")); /* the runtime's buffer left with it */
}

static int socket_lowat(int fd)
{
    int lowat = 0;
    socklen_t len = sizeof lowat;
    assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, &len), 0);
    return lowat;
}

static const char accepted_padded[] = "HTTP/1.1 202 Accepted\r\nX-Padding: 0123456789\r\n"
                                      "Content-Length: 15\r\n\r\n{\"status\":\"OK\"}";

/* The 202 to a result is read together with the next event (SO_RCVLOWAT: the size of the last
 * such answer plus one): an answer shorter than the last, its event late, must still come
 * through, and so must a short answer after which the server hangs up. */
static void test_result_answer_waits_for_the_event(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    step_next(&f, "lw-1", NULL, "{}");
    step_text(&f, STEP_SEND, accepted_padded); /* the mark is learned from this one */
    step_next(&f, "lw-2", NULL, "{}");
    step_text(&f, STEP_SEND, accepted_padded); /* the last of runtime_run(2): no GET behind */
    step_next(&f, "lw-3", NULL, "{}");
    step_accepted(&f); /* shorter than the mark... */
    step_next(&f, "lw-4", NULL, "{}");
    f.steps[f.nsteps - 1].delay_ms = 300; /* ...and its event late */
    step_text(&f, STEP_SEND_CLOSE, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
    step_next(&f, "lw-5", NULL, "{}"); /* short, then the hang-up: on a new connection */
    step_accepted(&f);
    fake_run(&f);
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    assert_int_equal(runtime_run(&rt, 2), 0);
    assert_int_equal(rt.conn.then_answer_len, strlen(accepted_padded));
    assert_int_equal(runtime_run(&rt, 3), 0);
    assert_int_equal(rt.failures_total, 0);
    assert_int_equal(rt.conn.connects, 2);
    assert_true(rt.conn.fd >= 0);
    assert_int_equal(socket_lowat(rt.conn.fd), 1); /* the new connection's last read */
    runtime_destroy(&rt);
    fake_stop(&f);
    assert_int_equal(hs.calls, 5);
    assert_string_equal(hs.ids[3], "lw-4");
    assert_string_equal(hs.ids[4], "lw-5");
    assert_int_equal(f.accepts, 2);
}

/* The learned mark stays set from event to event: one system call to set it, one to put it
 * back for the last result's answer (read alone, at 1), however many events come between. */
static void test_mark_stays_between_events(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    for (int i = 0; i < 6; i++) {
        char id[8];
        snprintf(id, sizeof id, "m-%d", i);
        step_next(&f, id, NULL, "{}");
        step_text(&f, STEP_SEND, accepted_padded);
    }
    fake_run(&f);
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    assert_int_equal(runtime_run(&rt, 3), 0); /* the mark learned from the first 202 */
    assert_int_equal(rt.conn.lowat_sets, 2);  /* set for the third event, back to 1 after */
    assert_int_equal(runtime_run(&rt, 3), 0);
    assert_int_equal(rt.conn.lowat_sets, 4); /* the same again: the mark stayed between events */
    assert_int_equal(socket_lowat(rt.conn.fd), 1);
    assert_int_equal(rt.conn.connects, 1);
    runtime_destroy(&rt);
    fake_stop(&f);
    assert_int_equal(hs.calls, 6);
    assert_string_equal(hs.ids[5], "m-5");
}

static void test_connect_refused_counts(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    close(f.lfd); /* nothing listens on the port any more */
    struct runtime rt;
    assert_int_equal(runtime_init(&rt, f.api, recording_handler, NULL), 0);
    assert_int_equal(runtime_run(&rt, -1), 1);
    assert_int_equal(rt.failures, 3);
    assert_non_null(strstr(rt.last_error, "cannot connect"));
    runtime_destroy(&rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_loop_keeps_one_connection, setup),
        cmocka_unit_test_setup(test_chunked_next_body, setup),
        cmocka_unit_test_setup(test_headers_in_odd_case, setup),
        cmocka_unit_test_setup(test_reconnect_after_connection_close_header, setup),
        cmocka_unit_test_setup(test_reconnect_after_silent_close, setup),
        cmocka_unit_test_setup(test_handler_error_posts_error_shape, setup),
        cmocka_unit_test_setup(test_init_error_posts_and_exits, setup),
        cmocka_unit_test_setup(test_main_without_runtime_api_fails, setup),
        cmocka_unit_test_setup(test_missing_request_id_is_counted, setup),
        cmocka_unit_test_setup(test_three_failures_exit, setup),
        cmocka_unit_test_setup(test_malformed_answers_are_errors, setup),
        cmocka_unit_test_setup(test_truncated_answer_then_recovery, setup),
        cmocka_unit_test_setup(test_next_500_exits_at_once, setup),
        cmocka_unit_test_setup(test_post_rejected_counts, setup),
        cmocka_unit_test_setup(test_response_too_large_becomes_error, setup),
        cmocka_unit_test_setup(test_deadline_trace_and_context, setup),
        cmocka_unit_test_setup(test_trace_env_follows_each_invocation, setup),
        cmocka_unit_test_setup(test_result_answer_waits_for_the_event, setup),
        cmocka_unit_test_setup(test_mark_stays_between_events, setup),
        cmocka_unit_test_setup(test_connect_refused_counts, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
