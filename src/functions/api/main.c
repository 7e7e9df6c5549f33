/*
 * api — the HTTP API function (API Gateway HTTP API, payload format 2.0).
 *
 * Minimal for now: GET /health answers {"status":"ok"}; /health with another method is
 * 405 (with an Allow header); every other path is 404. Errors use the application's
 * shape {"error":{"code":...,"message":...}}. An event that is not a payload 2.0 request
 * fails the invocation (the gateway then answers 500, as AWS does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "runtime/runtime.h"
#include "runtime/runtime_log.h"

struct api_request {
    const char *method;
    const char *path;
};

typedef int (*api_route_fn)(const struct api_request *req, struct buf *out);

struct api_route {
    const char *method;
    const char *path;
    api_route_fn fn;
};

/* Appends an API Gateway proxy response with a JSON body (rendered from `body`, which
 * this function consumes). extra_headers may be NULL. */
static int respond(struct buf *out, int status, json_t *body, json_t *extra_headers)
{
    int rc = -1;
    char *text = NULL;
    json_t *headers = json_pack("{s:s}", "content-type", "application/json");
    json_t *res = NULL;
    if (body == NULL || headers == NULL)
        goto done;
    if (extra_headers != NULL && json_object_update(headers, extra_headers) != 0)
        goto done;
    text = json_dumps(body, JSON_COMPACT);
    if (text == NULL)
        goto done;
    res = json_pack("{s:i,s:O,s:s}", "statusCode", status, "headers", headers, "body", text);
    if (res == NULL)
        goto done;
    size_t need = json_dumpb(res, NULL, 0, JSON_COMPACT);
    if (need == 0 || buf_reserve(out, need) != BUF_OK)
        goto done;
    out->len += json_dumpb(res, out->data + out->len, need, JSON_COMPACT);
    out->data[out->len] = '\0';
    rc = 0;
done:
    json_decref(res);
    free(text);
    json_decref(headers);
    json_decref(body);
    json_decref(extra_headers);
    return rc;
}

static int respond_error(struct buf *out, int status, const char *code, const char *message,
                         json_t *extra_headers)
{
    return respond(out, status,
                   json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message),
                   extra_headers);
}

static int route_health(const struct api_request *req, struct buf *out)
{
    (void)req;
    return respond(out, 200, json_pack("{s:s}", "status", "ok"), NULL);
}

static const struct api_route api_routes[] = {
    {"GET", "/health", route_health},
};

static int api_handle(const struct runtime_invocation *inv, const char *event, size_t len,
                      struct buf *out, struct runtime_error *err)
{
    (void)inv;
    json_error_t jerr;
    json_t *ev = json_loadb(event, len, 0, &jerr);
    int rc;
    if (ev == NULL)
        return runtime_error_set(err, "Handler.InvalidEvent", "event is not JSON: %s", jerr.text);
    struct api_request req = {NULL, NULL};
    if (json_unpack(ev, "{s:{s:{s:s}}}", "requestContext", "http", "method", &req.method) != 0 ||
        json_unpack(ev, "{s:s}", "rawPath", &req.path) != 0) {
        json_decref(ev);
        return runtime_error_set(err, "Handler.InvalidEvent",
                                 "not an API Gateway HTTP API payload 2.0 event");
    }
    const struct api_route *path_match = NULL;
    for (size_t i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++) {
        if (strcmp(api_routes[i].path, req.path) != 0)
            continue;
        path_match = &api_routes[i];
        if (strcmp(api_routes[i].method, req.method) == 0) {
            rc = api_routes[i].fn(&req, out);
            goto done;
        }
    }
    char message[512];
    if (path_match != NULL) {
        snprintf(message, sizeof message, "Method %.64s is not allowed on %.256s", req.method,
                 req.path);
        rc = respond_error(out, 405, "MethodNotAllowed", message,
                           json_pack("{s:s}", "allow", path_match->method));
    } else {
        snprintf(message, sizeof message, "No route for %.64s %.256s", req.method, req.path);
        rc = respond_error(out, 404, "NotFound", message, NULL);
    }
done:
    runtime_log(RUNTIME_LOG_DEBUG, "request", "method", req.method, "path", req.path,
                (const char *)NULL);
    json_decref(ev);
    if (rc != 0)
        return runtime_error_set(err, "Handler.ResponseError", "cannot render the response");
    return 0;
}

int main(void)
{
    return runtime_main(NULL, api_handle, NULL);
}
