/*
 * runtime.c — see runtime.h.
 */
#include "runtime/runtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/jsonw.h"
#include "runtime/runtime_log.h"

#define API_PREFIX "/2018-06-01/runtime"

static const char NEXT_PATH[] = API_PREFIX "/invocation/next";
static const char ERROR_CONTENT_TYPE[] = "application/vnd.aws.lambda.error+json";

enum { REQUEST_ID_MAX = 128, POST_MAX = 64 * 1024 };

/* The Runtime API headers of GET /next, in one table. */
enum next_header {
    H_REQUEST_ID,
    H_DEADLINE,
    H_FUNCTION_ARN,
    H_TRACE_ID,
    H_CLIENT_CONTEXT,
    H_COGNITO_IDENTITY,
    H_TENANT_ID,
    H__COUNT
};

static const char *const next_headers[H__COUNT] = {
    [H_REQUEST_ID] = "Lambda-Runtime-Aws-Request-Id",
    [H_DEADLINE] = "Lambda-Runtime-Deadline-Ms",
    [H_FUNCTION_ARN] = "Lambda-Runtime-Invoked-Function-Arn",
    [H_TRACE_ID] = "Lambda-Runtime-Trace-Id",
    [H_CLIENT_CONTEXT] = "Lambda-Runtime-Client-Context",
    [H_COGNITO_IDENTITY] = "Lambda-Runtime-Cognito-Identity",
    [H_TENANT_ID] = "Lambda-Runtime-Aws-Tenant-Id",
};

int64_t runtime_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t runtime_remaining_ms(const struct runtime_invocation *inv)
{
    if (inv->deadline_ms <= 0)
        return 0;
    int64_t left = inv->deadline_ms - runtime_now_ms();
    return left > 0 ? left : 0;
}

int runtime_error_set(struct runtime_error *err, const char *type, const char *fmt, ...)
{
    size_t tl = type ? strnlen(type, sizeof err->type - 1) : 0;
    if (tl > 0 && type != err->type)
        memmove(err->type, type, tl);
    err->type[tl] = '\0';
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    if (n < 0)
        err->message[0] = '\0';
    return -1;
}

/* _X_AMZN_TRACE_ID for the invocation, or none. Not setenv(): glibc keeps every value it
 * was ever given (it cannot know whether the program still holds one it handed out), so
 * a new trace id per invocation grew the process without bound. One buffer of ours sits
 * in the environment (putenv) and is rewritten; a longer value moves it to a bigger one. */
static void set_trace_env(struct runtime *rt, const char *trace)
{
    static const char name[] = "_X_AMZN_TRACE_ID=";
    if (trace == NULL) {
        unsetenv("_X_AMZN_TRACE_ID");
        free(rt->trace_var);
        rt->trace_var = NULL;
        rt->trace_cap = 0;
        return;
    }
    size_t n = strlen(trace);
    if (n >= rt->trace_cap) {
        size_t cap = n < 256 ? 256 : n + 1;
        char *var = malloc(sizeof name - 1 + cap);
        if (var == NULL) {
            set_trace_env(rt, NULL);
            return;
        }
        memcpy(var, name, sizeof name - 1);
        memcpy(var + sizeof name - 1, trace, n + 1);
        if (putenv(var) != 0) {
            free(var);
            set_trace_env(rt, NULL);
            return;
        }
        free(rt->trace_var); /* no longer in the environment: putenv replaced it */
        rt->trace_var = var;
        rt->trace_cap = cap;
        return;
    }
    memcpy(rt->trace_var + sizeof name - 1, trace, n + 1);
}

int runtime_init(struct runtime *rt, const char *api, runtime_handler handler, void *user)
{
    memset(rt, 0, sizeof *rt);
    runtime_http_response_init(&rt->res, RUNTIME_HTTP_MAX_BODY);
    buf_init(&rt->out, RUNTIME_MAX_RESPONSE);
    buf_init(&rt->post, POST_MAX);
    buf_init(&rt->path, 512);
    rt->handler = handler;
    rt->user = user;
    rt->cold = true;
    int rc = runtime_http_conn_init(&rt->conn, api);
    if (rc != RUNTIME_HTTP_OK) {
        snprintf(rt->last_error, sizeof rt->last_error, "AWS_LAMBDA_RUNTIME_API=%s: %s",
                 api ? api : "(unset)", runtime_http_strerror(rc));
        return -1;
    }
    return 0;
}

void runtime_destroy(struct runtime *rt)
{
    if (rt == NULL)
        return;
    set_trace_env(rt, NULL);
    runtime_http_conn_destroy(&rt->conn);
    runtime_http_response_destroy(&rt->res);
    buf_destroy(&rt->out);
    buf_destroy(&rt->post);
    buf_destroy(&rt->path);
}

/* Request ids go into URL paths: accept what a UUID (or any sane id) is made of. */
static bool request_id_ok(const char *id)
{
    size_t n = 0;
    for (; id[n]; n++) {
        char c = id[n];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok || n >= REQUEST_ID_MAX)
            return false;
    }
    return n > 0;
}

static int64_t parse_deadline(const char *v)
{
    int64_t n = 0;
    if (v == NULL || *v == '\0')
        return 0;
    for (; *v; v++) {
        if (*v < '0' || *v > '9' || n > (INT64_MAX - 9) / 10)
            return 0;
        n = n * 10 + (*v - '0');
    }
    return n;
}

static void count_failure(struct runtime *rt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void count_failure(struct runtime *rt, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rt->last_error, sizeof rt->last_error, fmt, ap);
    va_end(ap);
    rt->failures++;
    rt->failures_total++;
    runtime_log(RUNTIME_LOG_WARN, "runtime API failure", "error", rt->last_error,
                (const char *)NULL);
}

/* Renders {"errorMessage","errorType","stackTrace":[]} into rt->post and the matching
 * Lambda-Runtime-Function-Error-Type header line into extra. */
static int render_error(struct runtime *rt, const struct runtime_error *err,
                        const char *default_type, char *extra, size_t extra_cap)
{
    const char *type = err->type[0] ? err->type : default_type;
    char safe[RUNTIME_ERROR_TYPE_MAX];
    size_t n = 0;
    /* the header value must stay one line of visible ASCII */
    for (size_t i = 0; type[i] && n < sizeof safe - 1; i++) {
        unsigned char c = (unsigned char)type[i];
        if (c > 0x20 && c < 0x7f)
            safe[n++] = (char)c;
    }
    safe[n] = '\0';
    if (n == 0)
        memcpy(safe, default_type, strlen(default_type) + 1);
    snprintf(extra, extra_cap, "Lambda-Runtime-Function-Error-Type: %s\r\n", safe);

    struct buf *b = &rt->post;
    buf_reset(b);
    int rc = buf_puts(b, "{\"errorMessage\":");
    rc = rc ? rc : jw_escape(b, err->message, strnlen(err->message, sizeof err->message));
    rc = rc ? rc : buf_puts(b, ",\"errorType\":");
    rc = rc ? rc : jw_escape(b, type, strnlen(type, RUNTIME_ERROR_TYPE_MAX));
    rc = rc ? rc : buf_puts(b, ",\"stackTrace\":[]}");
    return rc;
}

static bool status_2xx(int status)
{
    return status >= 200 && status < 300;
}

int runtime_post_init_error(struct runtime *rt, const struct runtime_error *err)
{
    char extra[RUNTIME_ERROR_TYPE_MAX + 64];
    if (render_error(rt, err, "Runtime.InitError", extra, sizeof extra) != BUF_OK)
        return -1;
    int rc = runtime_http_request(&rt->conn, "POST", API_PREFIX "/init/error", extra,
                                  ERROR_CONTENT_TYPE, rt->post.data, rt->post.len, &rt->res);
    if (rc != RUNTIME_HTTP_OK) {
        snprintf(rt->last_error, sizeof rt->last_error, "POST /runtime/init/error: %s",
                 runtime_http_strerror(rc));
        return -1;
    }
    if (!status_2xx(rt->res.status)) {
        snprintf(rt->last_error, sizeof rt->last_error, "POST /runtime/init/error: HTTP %d",
                 rt->res.status);
        return -1;
    }
    return 0;
}

/* Posts the handler's outcome for request `id`. Returns the HTTP status or a negative
 * RUNTIME_HTTP_* error. */
static int post_result(struct runtime *rt, const char *id, bool ok, const struct runtime_error *err,
                       bool last)
{
    char extra[RUNTIME_ERROR_TYPE_MAX + 64];
    buf_reset(&rt->path);
    int brc = buf_puts(&rt->path, API_PREFIX "/invocation/");
    brc = brc ? brc : buf_puts(&rt->path, id);
    brc = brc ? brc : buf_puts(&rt->path, ok ? "/response" : "/error");
    if (brc == BUF_OK && !ok)
        brc = render_error(rt, err, "Runtime.HandlerError", extra, sizeof extra);
    if (brc != BUF_OK)
        return RUNTIME_HTTP_ENOMEM;
    /* GET /next rides behind the result (runtime_http_request_then), unless this is the
     * last invocation the loop was asked for. Should the result be refused after all (413
     * from a server whose limit is below ours), the error post that follows goes on a new
     * connection and the GET left standing on this one is dropped. */
    const char *then = last ? NULL : "GET";
    int rc;
    if (ok)
        rc = runtime_http_request_then(&rt->conn, "POST", rt->path.data, NULL, "application/json",
                                       rt->out.data, rt->out.len, &rt->res, then, NEXT_PATH);
    else
        rc = runtime_http_request_then(&rt->conn, "POST", rt->path.data, extra, ERROR_CONTENT_TYPE,
                                       rt->post.data, rt->post.len, &rt->res, then, NEXT_PATH);
    return rc == RUNTIME_HTTP_OK ? rt->res.status : rc;
}

/* One GET /next → handler → POST cycle. Returns 1 when an invocation was handled, 0 when
 * a failure was counted, -1 on a fatal answer. The GET may already be on its way, pipelined
 * behind the last POST. */
static int run_once(struct runtime *rt, bool last)
{
    int rc = runtime_http_await(&rt->conn, &rt->res);
    if (rc == RUNTIME_HTTP_ECLOSED) /* none pending, or the server closed before answering */
        rc = runtime_http_request(&rt->conn, "GET", NEXT_PATH, NULL, NULL, NULL, 0, &rt->res);
    if (rc != RUNTIME_HTTP_OK) {
        count_failure(rt, "GET /runtime/invocation/next: %s", runtime_http_strerror(rc));
        return 0;
    }
    if (rt->res.status == 500) {
        snprintf(rt->last_error, sizeof rt->last_error,
                 "GET /runtime/invocation/next: HTTP 500 (container error)");
        return -1;
    }
    if (rt->res.status != 200) {
        count_failure(rt, "GET /runtime/invocation/next: HTTP %d", rt->res.status);
        return 0;
    }

    const char *h[H__COUNT];
    for (int i = 0; i < H__COUNT; i++)
        h[i] = runtime_http_header(&rt->res, next_headers[i]);
    if (h[H_REQUEST_ID] == NULL || !request_id_ok(h[H_REQUEST_ID])) {
        count_failure(rt, "GET /runtime/invocation/next: %s Lambda-Runtime-Aws-Request-Id",
                      h[H_REQUEST_ID] ? "unusable" : "missing");
        return 0;
    }
    char id[REQUEST_ID_MAX + 1];
    memcpy(id, h[H_REQUEST_ID], strlen(h[H_REQUEST_ID]) + 1);

    struct runtime_invocation inv = {
        .request_id = id,
        .deadline_ms = parse_deadline(h[H_DEADLINE]),
        .function_arn = h[H_FUNCTION_ARN],
        .trace_id = h[H_TRACE_ID],
        .client_context = h[H_CLIENT_CONTEXT],
        .cognito_identity = h[H_COGNITO_IDENTITY],
        .tenant_id = h[H_TENANT_ID],
        .cold_start = rt->cold,
        .user = rt->user,
    };
    set_trace_env(rt, inv.trace_id);
    runtime_log_set_context(id, inv.trace_id, inv.cold_start);

    struct runtime_error err;
    err.type[0] = err.message[0] = '\0';
    buf_reset(&rt->out);
    int hrc = rt->handler(&inv, rt->res.body.data, rt->res.body.len, &rt->out, &err);
    if (hrc != 0) {
        if (err.type[0] == '\0' && err.message[0] == '\0')
            runtime_error_set(&err, "Runtime.HandlerError", "handler failed");
        runtime_log(RUNTIME_LOG_ERROR, err.message, "errorType",
                    err.type[0] ? err.type : "Runtime.HandlerError", (const char *)NULL);
    }
    runtime_log_set_context(NULL, NULL, false);
    rt->cold = false;
    rt->invocations++;

    int status = post_result(rt, id, hrc == 0, &err, last);
    if (status == 413 && hrc == 0) {
        /* the Runtime API refused an oversized response: fail the invocation instead */
        runtime_error_set(&err, "Function.ResponseSizeTooLarge",
                          "Response payload size (%zu bytes) exceeded maximum allowed payload "
                          "size (%d bytes).",
                          rt->out.len, RUNTIME_MAX_RESPONSE);
        status = post_result(rt, id, false, &err, last);
    }
    if (status < 0) {
        count_failure(rt, "POST /runtime/invocation/%s/%s: %s", id, hrc == 0 ? "response" : "error",
                      runtime_http_strerror(status));
        return 1;
    }
    if (!status_2xx(status)) {
        count_failure(rt, "POST /runtime/invocation/%s/%s: HTTP %d", id,
                      hrc == 0 ? "response" : "error", status);
        return 1;
    }
    rt->failures = 0;
    return 1;
}

int runtime_run(struct runtime *rt, long max)
{
    long handled = 0;
    while (max < 0 || handled < max) {
        int rc = run_once(rt, max >= 0 && handled + 1 >= max);
        if (rc < 0)
            return 1;
        handled += rc;
        if (rt->failures >= RUNTIME_MAX_FAILURES)
            return 1;
    }
    return 0;
}

int runtime_main(runtime_init_fn init, runtime_handler handler, void *user)
{
    static struct runtime rt; /* large; lives as long as the process */
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (api == NULL || *api == '\0') {
        runtime_log(RUNTIME_LOG_FATAL, "AWS_LAMBDA_RUNTIME_API is not set", (const char *)NULL);
        return 1;
    }
    if (runtime_init(&rt, api, handler, user) != 0) {
        runtime_log(RUNTIME_LOG_FATAL, rt.last_error, (const char *)NULL);
        runtime_destroy(&rt);
        return 1;
    }
    if (init != NULL) {
        struct runtime_error err;
        err.type[0] = err.message[0] = '\0';
        if (init(user, &err) != 0) {
            if (err.message[0] == '\0')
                runtime_error_set(&err, err.type, "function initialization failed");
            runtime_log(RUNTIME_LOG_FATAL, err.message, "errorType",
                        err.type[0] ? err.type : "Runtime.InitError", (const char *)NULL);
            if (runtime_post_init_error(&rt, &err) != 0)
                runtime_log(RUNTIME_LOG_ERROR, rt.last_error, (const char *)NULL);
            runtime_destroy(&rt);
            return 1;
        }
    }
    int rc = runtime_run(&rt, -1);
    runtime_log(RUNTIME_LOG_FATAL, "runtime loop stopped", "error", rt.last_error,
                (const char *)NULL);
    runtime_destroy(&rt);
    return rc;
}
