/*
 * proto_url.c — function URLs on the API port (see proto_url.h): addressing, auth, CORS,
 * the payload 2.0 event and the response mapping, reusing the API Gateway engine's event
 * builder, response mapper and CORS rules (a function URL's event and response are the
 * HTTP API's payload 2.0 with the function URL differences: response.h's APIGW_PAYLOAD_URL).
 */
#include "cloud/lambda/proto_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/apigw/cors.h"
#include "cloud/apigw/event.h"
#include "cloud/apigw/response.h"
#include "cloud/lambda/lambda.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/jsonw.h"

#define PATH_PREFIX "/_aws/lambda-url/"
#define HOST_MARK   ".lambda-url."

enum { MAX_CORS = 100 };

void lambda_url_srv_init(struct lambda_url_srv *u, struct lambda *lm, const char *region,
                         uint16_t api_port, lambda_url_verify_fn verify, void *verify_arg)
{
    *u = (struct lambda_url_srv){lm, region, api_port, verify, verify_arg};
}

/* The host without its port. */
static size_t host_name(const struct proto_req *req, const char **host)
{
    *host = req->authority;
    size_t hl = req->authority_len;
    const char *colon = hl ? memchr(req->authority, ':', hl) : NULL;
    return colon ? (size_t)(colon - req->authority) : hl;
}

/* The URL id a request names and the path the function sees; false when none. */
static bool address(const struct proto_req *req, const char **id, size_t *idl, const char **path,
                    size_t *pathl)
{
    size_t pl = sizeof PATH_PREFIX - 1;
    if (req->path_len > pl && memcmp(req->path, PATH_PREFIX, pl) == 0) {
        *id = req->path + pl;
        const char *slash = memchr(*id, '/', req->path_len - pl);
        *idl = slash ? (size_t)(slash - *id) : req->path_len - pl;
        *path = slash ? slash : "/";
        *pathl = slash ? req->path_len - pl - *idl : 1;
        return *idl > 0;
    }
    const char *host;
    size_t hn = host_name(req, &host);
    const char *mark = hn ? memmem(host, hn, HOST_MARK, sizeof HOST_MARK - 1) : NULL;
    if (mark == NULL || mark == host || memchr(host, '.', (size_t)(mark - host)) != NULL)
        return false;
    *id = host;
    *idl = (size_t)(mark - host);
    *path = req->path;
    *pathl = req->path_len;
    return true;
}

bool lambda_url_request(const struct proto_req *req)
{
    const char *id, *path;
    size_t idl, pathl;
    return address(req, &id, &idl, &path, &pathl);
}

/* The URL's Cors settings as the gateway's CORS rules take them (strings borrowed from the
 * JSON, which the exchange holds a reference to). */
struct cors_cfg {
    struct apigw_cors c;
    const char *origins[MAX_CORS], *methods[MAX_CORS], *headers[MAX_CORS], *expose[MAX_CORS];
};

static size_t strings(const json_t *a, const char **out)
{
    size_t n = 0, i;
    json_t *e;
    json_array_foreach(a, i, e) if (json_is_string(e) && n < MAX_CORS) out[n++] =
        json_string_value(e);
    return n;
}

static void cors_from(const json_t *j, struct cors_cfg *k)
{
    k->c = (struct apigw_cors){.allow_origins = k->origins,
                               .allow_methods = k->methods,
                               .allow_headers = k->headers,
                               .expose_headers = k->expose,
                               .max_age = -1};
    k->c.nallow_origins = strings(json_object_get(j, "AllowOrigins"), k->origins);
    k->c.nallow_methods = strings(json_object_get(j, "AllowMethods"), k->methods);
    k->c.nallow_headers = strings(json_object_get(j, "AllowHeaders"), k->headers);
    k->c.nexpose_headers = strings(json_object_get(j, "ExposeHeaders"), k->expose);
    json_t *age = json_object_get(j, "MaxAge");
    if (json_is_integer(age))
        k->c.max_age = (int)json_integer_value(age);
    k->c.allow_credentials = json_is_true(json_object_get(j, "AllowCredentials"));
}

/* One request in flight. */
struct exchange {
    struct lambda_url_srv *u;
    struct proto_req *req;
    struct lambda_inv *inv;
    struct apigw_request ar;
    json_t *cors; /* a reference to the URL's Cors (it may change meanwhile), or NULL */
    char rid[37];
    size_t nheaders;
    struct apigw_kv headers[];
};

static void exchange_free(struct exchange *x)
{
    json_decref(x->cors);
    free(x);
}

/* Sends r (with the CORS headers and the request id) and frees x. */
static void send(struct exchange *x, struct apigw_response *r)
{
    if (x->cors != NULL) {
        struct cors_cfg k;
        cors_from(x->cors, &k);
        apigw_cors_apply(&k.c, &x->ar, r);
    }
    apigw_response_add_header(r, "x-amzn-requestid", 16, x->rid, strlen(x->rid));
    struct proto_hdr h[APIGW_RESP_SLOTS];
    size_t n = r->nheaders < APIGW_RESP_SLOTS ? r->nheaders : APIGW_RESP_SLOTS;
    for (size_t i = 0; i < n; i++)
        h[i] = (struct proto_hdr){r->headers[i].name, r->headers[i].value, r->headers[i].value_len};
    proto_respond(x->req, r->status, h, n, r->body.data ? r->body.data : "", r->body.len);
    exchange_free(x);
}

/* A plain answer of the URL's front end: {"Message": message}. */
static void send_message(struct exchange *x, int status, const char *message)
{
    struct apigw_response r;
    apigw_response_init(&r);
    r.status = status;
    struct buf b;
    buf_init(&b, 1024);
    struct jsonw w;
    jw_init(&w, &b);
    jw_obj(&w);
    jw_kstr(&w, "Message", message);
    jw_obj_end(&w);
    buf_append(&r.body, b.data ? b.data : "{}", b.data ? b.len : 2);
    buf_destroy(&b);
    apigw_response_add_header(&r, "content-type", 12, "application/json", 16);
    send(x, &r);
    apigw_response_destroy(&r);
}

static void on_invoked(void *arg, const struct lambda_result *res)
{
    struct exchange *x = arg;
    x->inv = NULL;
    proto_on_gone(x->req, NULL, NULL);
    if (res->err != ERR_OK) {
        if (res->err == ERR_LAMBDA_TOO_MANY_REQUESTS)
            send_message(x, 429, "Too Many Requests");
        else
            send_message(x, 502, "Internal Server Error");
        return;
    }
    struct apigw_response r;
    apigw_response_init(&r);
    if (res->function_error)
        apigw_response_function_error(&r, APIGW_PAYLOAD_URL);
    else
        apigw_response_map(&r, APIGW_PAYLOAD_URL, res->body, res->len);
    send(x, &r);
    apigw_response_destroy(&r);
}

static void on_gone(void *arg)
{
    struct exchange *x = arg;
    lambda_inv_detach(x->inv);
    exchange_free(x);
}

/* requestContext.authorizer for AWS_IAM: who signed. */
static void iam_authorizer(const struct proto_req *req, struct buf *out)
{
    struct jsonw w;
    jw_init(&w, out);
    jw_obj(&w);
    jw_key(&w, "iam");
    jw_obj(&w);
    jw_kstr(&w, "accessKey", req->caller.access_key);
    jw_kstr(&w, "accountId", req->caller.account);
    jw_kstr(&w, "callerId", req->caller.user_id);
    jw_key(&w, "cognitoIdentity");
    jw_null(&w);
    jw_key(&w, "principalOrgId");
    jw_null(&w);
    jw_kstr(&w, "userArn", req->caller.arn);
    jw_kstr(&w, "userId", req->caller.user_id);
    jw_obj_end(&w);
    jw_obj_end(&w);
}

void lambda_url_handle(void *arg, struct proto_req *req)
{
    struct lambda_url_srv *u = arg;
    const char *id = NULL, *path = NULL;
    size_t idl = 0, pathl = 0;
    struct exchange *x = malloc(sizeof *x + req->nheaders * sizeof x->headers[0]);
    if (x == NULL) {
        static const struct proto_hdr ct = {"content-type", "application/json", 0};
        proto_respond(req, 500, &ct, 1, "{\"Message\":\"Internal Server Error\"}", 35);
        return;
    }
    memset(x, 0, sizeof *x);
    x->u = u;
    x->req = req;
    ids_uuid4(x->rid);
    x->nheaders = req->nheaders;
    for (size_t i = 0; i < req->nheaders; i++)
        x->headers[i] = (struct apigw_kv){req->headers[i].name, strlen(req->headers[i].name),
                                          req->headers[i].value, req->headers[i].value_len};
    address(req, &id, &idl, &path, &pathl);
    x->ar = (struct apigw_request){.method = req->method,
                                   .method_len = req->method_len,
                                   .path = path,
                                   .path_len = pathl,
                                   .query = req->query_len ? req->query : NULL,
                                   .query_len = req->query_len,
                                   .headers = x->headers,
                                   .nheaders = x->nheaders,
                                   .body = req->body,
                                   .body_len = req->body_len,
                                   .source_ip = req->source_ip,
                                   .host = req->authority_len ? req->authority : NULL,
                                   .host_len = req->authority_len,
                                   .protocol = "HTTP/1.1",
                                   .time_ms = clock_now_ms()};
    struct lambda_fn *fn = lambda_url_find(u->lm, id, idl);
    struct lambda_url_info ui;
    if (fn == NULL) {
        send_message(x, 404, "Not Found");
        return;
    }
    lambda_url_info(fn, &ui);
    x->cors = ui.cors ? json_incref((json_t *)ui.cors) : NULL;
    /* auth: a signature for AWS_IAM, the resource policy's public grant for NONE */
    bool iam = strcmp(ui.auth_type, "AWS_IAM") == 0;
    char msg[1024];
    if (iam ? u->verify == NULL || u->verify(u->verify_arg, req, msg, sizeof msg) != ERR_OK
            : !lambda_fn_permits_url(fn, "NONE")) {
        send_message(x, 403, "Forbidden");
        return;
    }
    if (x->cors != NULL && apigw_cors_is_preflight(&x->ar)) {
        struct cors_cfg k;
        struct apigw_response r;
        cors_from(x->cors, &k);
        apigw_response_init(&r);
        apigw_cors_preflight(&k.c, &x->ar, &r);
        json_decref(x->cors); /* the preflight's headers are all there */
        x->cors = NULL;
        send(x, &r);
        apigw_response_destroy(&r);
        return;
    }
    if (req->body_len > LAMBDA_MAX_SYNC_PAYLOAD) {
        send_message(x, 413,
                     "Request must be smaller than 6291456 bytes for the InvokeFunction "
                     "operation");
        return;
    }
    char domain[160], prefix[48], trace[IDS_TRACE_ROOT_LEN + 1], port[8], reqid[37];
    const char *host;
    size_t hn = host_name(req, &host);
    if (hn > 0 && hn < sizeof domain && memmem(host, hn, HOST_MARK, sizeof HOST_MARK - 1))
        snprintf(domain, sizeof domain, "%.*s", (int)hn, host);
    else
        snprintf(domain, sizeof domain, "%.*s.lambda-url.%s.localhost", (int)idl, id, u->region);
    snprintf(prefix, sizeof prefix, "%.*s", (int)(idl < 47 ? idl : 47), id);
    ids_trace_root(trace);
    snprintf(port, sizeof port, "%u", u->api_port);
    ids_uuid4(reqid);
    struct buf auth;
    buf_init(&auth, 4096);
    if (iam)
        iam_authorizer(req, &auth);
    struct apigw_event_ctx c = {.account_id = "000000000000",
                                .api_id = prefix,
                                .domain_name = domain,
                                .domain_prefix = prefix,
                                .stage = "$default",
                                .route_key = "$default",
                                .resource = "$default",
                                .request_id = reqid,
                                .trace_id = trace,
                                .forwarded_port = port,
                                .forwarded_proto = "http",
                                .authorizer_json = iam && auth.data ? auth.data : NULL};
    struct buf ev;
    buf_init(&ev, LAMBDA_MAX_SYNC_PAYLOAD + 65536);
    int rc = apigw_event_v2(&x->ar, &c, &ev);
    buf_destroy(&auth);
    if (rc != APIGW_OK || ev.len > LAMBDA_MAX_SYNC_PAYLOAD) {
        buf_destroy(&ev);
        if (rc == APIGW_EBADESCAPE)
            send_message(x, 400, "Bad Request");
        else
            send_message(x, 413, "Request Entity Too Large");
        return;
    }
    x->inv = lambda_invoke(u->lm, fn, LAMBDA_INV_SYNC, ev.data, ev.len, NULL, false, on_invoked, x,
                           NULL);
    buf_destroy(&ev);
    if (x->inv == NULL) {
        send_message(x, 502, "Internal Server Error");
        return;
    }
    proto_on_gone(req, on_gone, x);
}
