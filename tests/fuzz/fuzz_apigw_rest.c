/*
 * fuzz_apigw_rest.c — the apigatewayv2 management adapter (proto_rest.c) and the engine's
 * commands behind it (api.c): paths split and percent-decoded, bodies checked against the
 * member tables, documents validated (route keys, references, stages, authorizers, CORS).
 *
 * Input: "METHOD\nPATH[?QUERY]\nBODY". Requests run against one engine (no store) that keeps
 * what earlier inputs created, so sequences of commands are explored; every request is
 * answered exactly once with a status from 200 to 599. `{api}` in the path stands for an API
 * the target created at start.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/apigw/apigw.h"
#include "cloud/apigw/proto_rest.h"
#include "core/timer.h"

#include "fuzz_conn.h"

static struct apigw *gw;
static struct proto_service svc;
static char api_id[16];

static void created(void *arg, enum err e, const char *msg, const json_t *doc)
{
    (void)msg;
    if (e != ERR_OK)
        abort();
    snprintf(arg, 16, "%s", json_string_value(json_object_get(doc, "apiId")));
}

static void init(void)
{
    char msg[256];
    struct apigw_options o = {.region = "eu-west-1", .account = "000000000000", .api_port = 80};
    gw = apigw_new(&o, NULL, NULL, NULL, NULL, msg, sizeof msg);
    if (gw == NULL)
        abort();
    apigw_rest_service(gw, &svc);
    json_t *spec = json_pack("{s:s, s:s, s:s}", "name", "fz", "protocolType", "HTTP", "target",
                             "arn:aws:lambda:eu-west-1:000000000000:function:f");
    apigw_create(gw, APIGW_KIND_API, NULL, spec, created, api_id);
    json_decref(spec);
    for (int i = 0; i < 100 && api_id[0] == '\0'; i++)
        timer_run_due();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (gw == NULL)
        init();
    const char *p = (const char *)data, *end = p + size;
    const char *line[2] = {"", ""};
    size_t ll[2] = {0, 0};
    for (int i = 0; i < 2 && p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        line[i] = p;
        ll[i] = nl ? (size_t)(nl - p) : (size_t)(end - p);
        p = nl ? nl + 1 : end;
    }
    char method[16], path[4096];
    snprintf(method, sizeof method, "%.*s", (int)(ll[0] < 15 ? ll[0] : 15), line[0]);
    /* {api} → the API made at start */
    size_t o = 0;
    for (size_t i = 0; i < ll[1] && o + 16 < sizeof path; i++) {
        if (ll[1] - i >= 5 && memcmp(line[1] + i, "{api}", 5) == 0) {
            o += (size_t)snprintf(path + o, sizeof path - o, "%s", api_id);
            i += 4;
        } else {
            path[o++] = line[1][i];
        }
    }
    path[o] = '\0';
    char *q = memchr(path, '?', o);
    struct conn c = {0};
    struct proto_req r = {.method = method,
                          .method_len = strlen(method),
                          .path = path,
                          .path_len = q ? (size_t)(q - path) : o,
                          .query = q ? q + 1 : "",
                          .query_len = q ? o - (size_t)(q + 1 - path) : 0,
                          .body = p,
                          .body_len = (size_t)(end - p),
                          .service = &svc,
                          .ops = &ops,
                          .conn = &c};
    svc.handle(svc.engine, &r);
    for (int i = 0; i < 100 && c.answers == 0; i++)
        timer_run_due();
    if (c.answers != 1)
        abort();
    return 0;
}
