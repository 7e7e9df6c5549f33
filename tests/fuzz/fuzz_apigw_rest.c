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
    struct fuzz_input in;
    fuzz_split(data, size, &in);
    /* {api} → the API made at start */
    char path[4096];
    size_t o = 0;
    for (size_t i = 0; i < in.path_len && o + 16 < sizeof path; i++) {
        if (in.path_len - i >= 5 && memcmp(in.path + i, "{api}", 5) == 0) {
            o += (size_t)snprintf(path + o, sizeof path - o, "%s", api_id);
            i += 4;
        } else {
            path[o++] = in.path[i];
        }
    }
    path[o] = '\0';
    struct conn c = {0};
    struct proto_req r = fuzz_request(&in, path, o, &svc, &c);
    svc.handle(svc.engine, &r);
    for (int i = 0; i < 100 && c.answers == 0; i++)
        timer_run_due();
    if (c.answers != 1)
        abort();
    return 0;
}
