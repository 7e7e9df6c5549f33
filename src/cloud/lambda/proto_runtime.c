#include "cloud/lambda/proto_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/lambda/lambda.h"
#include "core/buf.h"
#include "core/str.h"

#define PREFIX "/2018-06-01/runtime/"

struct waiter {
    struct lambda_next_waiter w; /* first: the engine hands this back */
    struct proto_req *req;
    struct lambda_env *env;
};

static const struct proto_hdr json_ct[] = {{"content-type", "application/json", 0}};

static void respond_json(struct proto_req *req, int status, const char *body)
{
    proto_respond(req, status, json_ct, 1, body, strlen(body));
}

static void w_deliver(struct lambda_next_waiter *lw, const char *rid, int64_t deadline_ms,
                      const char *arn, const char *trace, const char *cc, const char *payload,
                      size_t len)
{
    struct waiter *w = (struct waiter *)lw;
    char dl[STR_I64_MAX];
    str_i64(deadline_ms, dl);
    struct proto_hdr h[6] = {{"content-type", "application/json", 0},
                             {"lambda-runtime-aws-request-id", rid, 0},
                             {"lambda-runtime-deadline-ms", dl, 0},
                             {"lambda-runtime-invoked-function-arn", arn, 0},
                             {"lambda-runtime-trace-id", trace, 0},
                             {"lambda-runtime-client-context", cc ? cc : "", 0}};
    proto_respond(w->req, 200, h, cc ? 6 : 5, payload, len);
    free(w);
}

static void w_abort(struct lambda_next_waiter *lw)
{
    struct waiter *w = (struct waiter *)lw;
    respond_json(w->req, 500,
                 "{\"errorMessage\":\"container error: the environment is shutting down\","
                 "\"errorType\":\"Runtime.ContainerError\"}");
    free(w);
}

static void w_gone(void *arg)
{
    struct waiter *w = arg;
    lambda_env_next_gone(w->env, &w->w);
    free(w);
}

static bool eq(const char *p, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

static void answer_err(struct proto_req *req, enum err e)
{
    switch (e) {
    case ERR_OK: { /* lazily: a runtime that pipelined GET /next reads it with its event */
        static const char ok[] = "{\"status\":\"OK\"}";
        proto_respond_lazy(req, 202, json_ct, 1, ok, sizeof ok - 1);
        break;
    }
    case ERR_LAMBDA_TOO_LARGE:
        respond_json(req, 413,
                     "{\"errorMessage\":\"Exceeded maximum allowed payload size (6291556 "
                     "bytes).\",\"errorType\":\"RequestEntityTooLarge\"}");
        break;
    case ERR_LAMBDA_INVALID_RUNTIME_ID:
        respond_json(
            req, 400,
            "{\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}");
        break;
    default:
        respond_json(req, 403,
                     "{\"errorMessage\":\"State transition is not allowed\","
                     "\"errorType\":\"InvalidStateTransition\"}");
        break;
    }
}

void runtime_api_handle(void *arg, struct proto_req *req)
{
    struct lambda_env *env = arg;
    size_t ml = req->method_len, pl = req->path_len, bl = req->body_len, etl;
    const char *m = req->method, *p = req->path;
    if (pl < sizeof(PREFIX) - 1 || memcmp(p, PREFIX, sizeof(PREFIX) - 1) != 0) {
        respond_json(req, 404, "{\"errorMessage\":\"Not Found\",\"errorType\":\"NotFound\"}");
        return;
    }
    const char *rest = p + sizeof(PREFIX) - 1;
    size_t rl = pl - (sizeof(PREFIX) - 1);
    if (eq(rest, rl, "invocation/next")) {
        if (!eq(m, ml, "GET")) {
            respond_json(req, 405, "{\"errorMessage\":\"Method Not Allowed\"}");
            return;
        }
        struct waiter *w = calloc(1, sizeof(*w));
        if (w == NULL) {
            respond_json(req, 500, "{\"errorMessage\":\"out of memory\"}");
            return;
        }
        w->w.deliver = w_deliver;
        w->w.abort = w_abort;
        w->req = req;
        w->env = env;
        proto_on_gone(req, w_gone, w);
        lambda_env_next(env, &w->w);
        return;
    }
    const char *body = req->body;
    const char *et = proto_header(req, "lambda-runtime-function-error-type", &etl);
    if (eq(rest, rl, "init/error")) {
        if (!eq(m, ml, "POST")) {
            respond_json(req, 405, "{\"errorMessage\":\"Method Not Allowed\"}");
            return;
        }
        answer_err(req, lambda_env_init_error(env, body, bl, et, etl));
        return;
    }
    if (rl > 11 && memcmp(rest, "invocation/", 11) == 0) {
        const char *id = rest + 11;
        const char *slash = memchr(id, '/', rl - 11);
        if (slash != NULL && eq(m, ml, "POST")) {
            size_t idl = (size_t)(slash - id);
            size_t tl = rl - 11 - idl - 1;
            if (eq(slash + 1, tl, "response")) {
                answer_err(req, lambda_env_response(env, id, idl, body, bl));
                return;
            }
            if (eq(slash + 1, tl, "error")) {
                answer_err(req, lambda_env_error(env, id, idl, body, bl, et, etl));
                return;
            }
        }
    }
    respond_json(req, 404, "{\"errorMessage\":\"Not Found\",\"errorType\":\"NotFound\"}");
}
