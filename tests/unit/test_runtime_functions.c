/*
 * test_runtime_functions.c — the three bootstraps (build/functions/<fn>/bootstrap) run as
 * real processes against a Runtime API played by the test itself: each event goes out on
 * GET /next and the function's POST (response or error) is checked, along with the JSON
 * log lines it wrote on stdout. Skipped (with a notice) when the bootstraps are not built.
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
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_build[PATH_MAX]; /* the build directory (parent of tests/) */

struct fn_proc {
    int lfd, fd;
    pid_t pid;
    char log_path[64];
    char in[1 << 20]; /* what the connection sent, the request being read first */
    size_t got;       /* bytes in `in` */
    size_t used;      /* the last request's bytes, dropped from `in` at the next read */
};

struct request {
    char head[4096];
    char *body;
    size_t body_len;
};

static bool bootstrap_path(const char *fn, char *out, size_t cap)
{
    snprintf(out, cap, "%s/functions/%s/bootstrap", g_build, fn);
    return access(out, X_OK) == 0;
}

static void fn_start(struct fn_proc *p, const char *fn)
{
    char path[PATH_MAX + 64];
    if (!bootstrap_path(fn, path, sizeof path)) {
        print_message("notice: %s not built; skipping\n", path);
        skip();
    }
    p->got = p->used = 0;
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(p->lfd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    assert_int_equal(bind(p->lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(p->lfd, 4), 0);
    assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&a, &al), 0);
    char env_api[64], env_name[64];
    snprintf(env_api, sizeof env_api, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d", ntohs(a.sin_port));
    snprintf(env_name, sizeof env_name, "AWS_LAMBDA_FUNCTION_NAME=haar-test-%s", fn);
    /* the settings both targets give the functions; the AWS endpoint is a closed port (these
     * tests exercise the runtime side, not AWS calls) */
    char *envp[] = {env_api,
                    env_name,
                    "AWS_REGION=eu-west-1",
                    "AWS_ACCESS_KEY_ID=AKIDTEST",
                    "AWS_SECRET_ACCESS_KEY=test",
                    "AWS_ENDPOINT_URL=http://127.0.0.1:9",
                    "AWS_MAX_ATTEMPTS=1",
                    "TASKS_TABLE=haar-test-tasks",
                    "TASKS_STATUS_INDEX=by-status",
                    "TASKS_QUEUE_URL=http://127.0.0.1:9/000000000000/haar-test-tasks",
                    NULL};
    snprintf(p->log_path, sizeof p->log_path, "/tmp/haar-test-fn-XXXXXX");
    int logfd = mkstemp(p->log_path);
    assert_true(logfd >= 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, logfd, 1);
    char *argv[] = {path, NULL};
    assert_int_equal(posix_spawn(&p->pid, path, &fa, NULL, argv, envp), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(logfd);
    struct pollfd pfd = {p->lfd, POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 5000), 1);
    p->fd = accept(p->lfd, NULL, NULL);
    assert_true(p->fd >= 0);
}

/* Stops the process; returns what it logged (caller frees). */
static char *fn_stop(struct fn_proc *p)
{
    kill(p->pid, SIGKILL);
    int status;
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        ;
    close(p->fd);
    close(p->lfd);
    FILE *f = fopen(p->log_path, "rb");
    char *text = calloc(1, 65536);
    if (f != NULL && text != NULL) {
        size_t n = fread(text, 1, 65535, f);
        text[n] = '\0';
    }
    if (f != NULL)
        fclose(f);
    unlink(p->log_path);
    return text;
}

/* Reads one request; bytes past it (a request pipelined behind it) stay for the next call. */
static void read_request(struct fn_proc *p, struct request *r)
{
    int fd = p->fd;
    char *in = p->in;
    size_t got = p->got, used = p->used, cap = sizeof p->in;
    memmove(in, in + used, got - used);
    got -= used;
    used = 0;
    char *end = NULL;
    for (;;) {
        in[got] = '\0';
        end = strstr(in, "\r\n\r\n");
        if (end != NULL)
            break;
        struct pollfd pfd = {fd, POLLIN, 0};
        assert_int_equal(poll(&pfd, 1, 5000), 1);
        ssize_t n = recv(fd, in + got, cap - 1 - got, 0);
        assert_true(n > 0);
        got += (size_t)n;
    }
    size_t head = (size_t)(end - in) + 4, length = 0;
    for (char *q = in; (q = strchr(q, '\n')) != NULL && q < end; q++)
        if (strncasecmp(q + 1, "content-length:", 15) == 0)
            length = strtoul(q + 16, NULL, 10);
    while (got < head + length) {
        struct pollfd pfd = {fd, POLLIN, 0};
        assert_int_equal(poll(&pfd, 1, 5000), 1);
        ssize_t n = recv(fd, in + got, cap - 1 - got, 0);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_true(head < sizeof r->head);
    memcpy(r->head, in, head);
    r->head[head] = '\0';
    r->body = in + head;
    r->body_len = length;
    p->got = got;
    p->used = head + length;
}

static void send_text(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        assert_true(w > 0);
        s += w;
        n -= (size_t)w;
    }
}

/* Serves one event; returns the function's answer (JSON) and whether it was /error. */
static json_t *invoke(struct fn_proc *p, const char *id, const char *event, bool *is_error)
{
    struct request r;
    read_request(p, &r);
    assert_true(strncmp(r.head, "GET /2018-06-01/runtime/invocation/next ", 40) == 0);
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: %s\r\n"
                     "Lambda-Runtime-Deadline-Ms: 99999999999999\r\n"
                     "Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000001\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     id, strlen(event));
    send_text(p->fd, head, (size_t)n);
    send_text(p->fd, event, strlen(event));
    read_request(p, &r);
    char want[256];
    snprintf(want, sizeof want, "POST /2018-06-01/runtime/invocation/%s/", id);
    assert_true(strncmp(r.head, want, strlen(want)) == 0);
    *is_error = strncmp(r.head + strlen(want), "error ", 6) == 0;
    static const char accepted[] = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";
    send_text(p->fd, accepted, sizeof accepted - 1);
    json_error_t jerr;
    json_t *j = json_loadb(r.body, r.body_len, 0, &jerr);
    if (j == NULL)
        fail_msg("function answered non-JSON: %.*s", (int)r.body_len, r.body);
    return j;
}

static char *apigw_event(const char *method, const char *path)
{
    json_t *ev =
        json_pack("{s:s,s:s,s:s,s:s,s:{s:s},s:{s:{s:s,s:s,s:s,s:s},s:s,s:s,s:s},s:b}", "version",
                  "2.0", "routeKey", "$default", "rawPath", path, "rawQueryString", "", "headers",
                  "host", "127.0.0.1", "requestContext", "http", "method", method, "path", path,
                  "protocol", "HTTP/1.1", "sourceIp", "127.0.0.1", "requestId", "r-1", "routeKey",
                  "$default", "stage", "$default", "isBase64Encoded", 0);
    char *s = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    return s;
}

static void check_api_answer(json_t *res, int status, const char *code)
{
    assert_int_equal(json_integer_value(json_object_get(res, "statusCode")), status);
    json_t *headers = json_object_get(res, "headers");
    assert_string_equal(json_string_value(json_object_get(headers, "content-type")),
                        "application/json");
    const char *body = json_string_value(json_object_get(res, "body"));
    assert_non_null(body);
    json_t *b = json_loads(body, 0, NULL);
    assert_non_null(b);
    if (code == NULL) {
        assert_string_equal(json_string_value(json_object_get(b, "status")), "ok");
    } else {
        json_t *err = json_object_get(b, "error");
        assert_string_equal(json_string_value(json_object_get(err, "code")), code);
        assert_non_null(json_string_value(json_object_get(err, "message")));
    }
    json_decref(b);
}

static void test_api_routes(void **state)
{
    (void)state;
    struct fn_proc p;
    fn_start(&p, "api");
    bool is_error;
    char *ev = apigw_event("GET", "/health");
    json_t *res = invoke(&p, "api-1", ev, &is_error);
    free(ev);
    assert_false(is_error);
    check_api_answer(res, 200, NULL);
    json_decref(res);

    ev = apigw_event("DELETE", "/health");
    res = invoke(&p, "api-2", ev, &is_error);
    free(ev);
    assert_false(is_error);
    check_api_answer(res, 405, "MethodNotAllowed");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(res, "headers"), "allow")), "GET");
    json_decref(res);

    ev = apigw_event("GET", "/nope");
    res = invoke(&p, "api-3", ev, &is_error);
    free(ev);
    assert_false(is_error);
    check_api_answer(res, 404, "NotFound");
    json_decref(res);

    /* not a payload 2.0 event, then not JSON: the invocation fails, the process lives on */
    res = invoke(&p, "api-4", "{\"Records\":[]}", &is_error);
    assert_true(is_error);
    assert_string_equal(json_string_value(json_object_get(res, "errorType")),
                        "Handler.InvalidEvent");
    json_decref(res);
    res = invoke(&p, "api-5", "{not json", &is_error);
    assert_true(is_error);
    assert_string_equal(json_string_value(json_object_get(res, "errorType")),
                        "Handler.InvalidEvent");
    json_decref(res);
    ev = apigw_event("GET", "/health");
    res = invoke(&p, "api-6", ev, &is_error);
    free(ev);
    assert_false(is_error);
    json_decref(res);
    free(fn_stop(&p));
}

static void test_worker_logs_each_record(void **state)
{
    (void)state;
    struct fn_proc p;
    fn_start(&p, "worker");
    const char *event =
        "{\"Records\":[{\"messageId\":\"m-1\",\"body\":\"{}\",\"eventSource\":\"aws:sqs\","
        "\"attributes\":{\"ApproximateReceiveCount\":\"1\"},\"eventSourceARN\":"
        "\"arn:aws:sqs:eu-west-1:000000000000:haar-dev-tasks\"},"
        "{\"messageId\":\"m-2\",\"body\":\"x\",\"attributes\":{\"ApproximateReceiveCount\":\"3\"}}]"
        "}";
    bool is_error;
    json_t *res = invoke(&p, "w-1", event, &is_error);
    assert_false(is_error);
    /* neither message names a task: both are kept (for the dead-letter queue) */
    json_t *failures = json_object_get(res, "batchItemFailures");
    assert_true(json_is_array(failures));
    assert_int_equal(json_array_size(failures), 2);
    json_decref(res);
    res = invoke(&p, "w-2", "{\"detail\":{}}", &is_error);
    assert_true(is_error);
    json_decref(res);
    char *log = fn_stop(&p);
    assert_non_null(log);
    /* one JSON line per record, with the invocation's context */
    int records = 0;
    for (char *line = strtok(log, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        json_t *j = json_loads(line, 0, NULL);
        if (j == NULL)
            fail_msg("log line is not JSON: %s", line);
        const char *msg = json_string_value(json_object_get(j, "message"));
        if (msg != NULL && strcmp(msg, "message does not name a task") == 0) {
            records++;
            assert_string_equal(json_string_value(json_object_get(j, "requestId")), "w-1");
            assert_string_equal(json_string_value(json_object_get(j, "function")),
                                "haar-test-worker");
            assert_true(json_is_true(json_object_get(j, "coldStart")));
            assert_string_equal(json_string_value(json_object_get(j, "messageId")),
                                records == 1 ? "m-1" : "m-2");
            assert_string_equal(json_string_value(json_object_get(j, "traceId")),
                                "Root=1-00000000-000000000000000000000001");
        }
        json_decref(j);
    }
    assert_int_equal(records, 2);
    free(log);
}

static void test_producer_answers_scheduled_event(void **state)
{
    (void)state;
    struct fn_proc p;
    fn_start(&p, "producer");
    const char *event = "{\"version\":\"0\",\"id\":\"e-1\",\"detail-type\":\"Scheduled Event\","
                        "\"source\":\"aws.events\",\"account\":\"000000000000\","
                        "\"time\":\"2026-11-25T12:00:00Z\",\"region\":\"eu-west-1\","
                        "\"resources\":[\"arn:aws:events:eu-west-1:000000000000:rule/"
                        "haar-dev-schedule\"],\"detail\":{}}";
    bool is_error;
    json_t *res = invoke(&p, "p-1", event, &is_error);
    assert_false(is_error);
    assert_true(json_is_object(res)); /* no scheduled tasks configured here */
    assert_int_equal(json_integer_value(json_object_get(res, "created")), 0);
    json_decref(res);
    char *log = fn_stop(&p);
    assert_non_null(strstr(log, "\"message\":\"scheduled event\""));
    assert_non_null(strstr(log, "\"rule\":\"arn:aws:events:eu-west-1:000000000000:rule/"
                                "haar-dev-schedule\""));
    free(log);
}

int main(int argc, char **argv)
{
    (void)argc;
    /* the test binary lives in <build>/tests/ */
    char self[PATH_MAX];
    if (realpath(argv[0], self) == NULL)
        return 1;
    char *slash = strrchr(self, '/');
    if (slash != NULL)
        *slash = '\0';
    slash = strrchr(self, '/');
    if (slash != NULL)
        *slash = '\0';
    snprintf(g_build, sizeof g_build, "%s", self);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_routes),
        cmocka_unit_test(test_worker_logs_each_record),
        cmocka_unit_test(test_producer_answers_scheduled_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
