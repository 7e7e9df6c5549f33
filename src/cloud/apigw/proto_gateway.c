/*
 * proto_gateway.c — the API port (see proto_gateway.h). Nothing is parsed here: the HTTP
 * layer has split the request (h2o lowercases header names and takes Host, Content-Length and
 * Transfer-Encoding out of the list: Host travels as the authority, the body's length is the
 * body's), and the engine reads the rest.
 */
#include "cloud/apigw/proto_gateway.h"

#include <stdlib.h>
#include <string.h>

#include "cloud/apigw/apigw.h"
#include "core/clock.h"

/* One request in flight: the connection's request, the engine's exchange, its headers. */
struct gwreq {
    struct proto_req *r;
    struct apigw_exchange *x;
    size_t nheaders;
    struct apigw_kv headers[]; /* the request's, with lengths */
};

static void answer(void *arg, const struct apigw_response *resp)
{
    struct gwreq *g = arg;
    struct proto_hdr hdrs[APIGW_RESP_SLOTS];
    size_t n = resp->nheaders < APIGW_RESP_SLOTS ? resp->nheaders : APIGW_RESP_SLOTS;
    for (size_t i = 0; i < n; i++) /* names and values are NUL-terminated in the response */
        hdrs[i] = (struct proto_hdr){resp->headers[i].name, resp->headers[i].value,
                                     resp->headers[i].value_len};
    proto_on_gone(g->r, NULL, NULL);
    proto_respond(g->r, resp->status, hdrs, n, resp->body.data ? resp->body.data : "",
                  resp->body.len);
    free(g);
}

static void gone(void *arg)
{
    struct gwreq *g = arg;
    apigw_cancel(g->x);
    free(g);
}

void apigw_gateway_handle(void *engine, struct proto_req *r)
{
    static const struct proto_hdr ct = {"content-type", "application/json", 0};
    static const char oom[] = "{\"message\":\"Internal Server Error\"}";
    struct gwreq *g = malloc(sizeof *g + r->nheaders * sizeof g->headers[0]);
    if (g == NULL) {
        proto_respond(r, 500, &ct, 1, oom, sizeof oom - 1);
        return;
    }
    g->r = r;
    g->nheaders = r->nheaders;
    for (size_t i = 0; i < r->nheaders; i++)
        g->headers[i] = (struct apigw_kv){r->headers[i].name, strlen(r->headers[i].name),
                                          r->headers[i].value, r->headers[i].value_len};
    struct apigw_request req = {
        .method = r->method,
        .method_len = r->method_len,
        .path = r->path,
        .path_len = r->path_len,
        .query = r->query_len ? r->query : NULL,
        .query_len = r->query_len,
        .headers = g->headers,
        .nheaders = g->nheaders,
        .body = r->body,
        .body_len = r->body_len,
        .source_ip = r->source_ip,
        .host = r->authority_len ? r->authority : NULL,
        .host_len = r->authority_len,
        .protocol = "HTTP/1.1",
        .time_ms = clock_now_ms(),
    };
    g->x = apigw_serve(engine, &req, answer, g);
    if (g->x == NULL) {
        free(g);
        proto_respond(r, 500, &ct, 1, oom, sizeof oom - 1);
        return;
    }
    proto_on_gone(r, gone, g);
}
