/*
 * fuzz_lambda_rest.c — the Lambda REST adapter (proto_rest.c, proto_rest_qual.c,
 * proto_rest_layers.c) and the engine's commands behind it: route patterns, path segments
 * percent-decoded, qualifiers from names and queries, bodies of PublishVersion, aliases with
 * routing configurations, provisioned concurrency, function URL configurations (CORS), layer
 * versions and their policies, permissions.
 *
 * Input: "METHOD\nPATH[?QUERY]\nBODY". Requests run against one engine (no store, no host:
 * environments never start) that keeps what earlier inputs created, so sequences of commands
 * are explored; a function "f" with version 1 and an alias "live" exist from the start. Every
 * request is answered exactly once with a status from 200 to 599. Invoke is left out (it
 * would start processes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cloud/lambda/lambda.h"
#include "cloud/lambda/proto_rest.h"
#include "core/timer.h"
#include "core/work.h"

#include "fuzz_conn.h"

static struct lambda *lm;
static struct lambda_rest rs;
static struct proto_service svc;

static int fake_listen(void *arg, struct lambda_env *env, uint16_t *port, void **listener)
{
    (void)arg, (void)env, (void)port, (void)listener;
    return -1; /* no environment ever starts */
}
static void fake_unlisten(void *arg, void *l)
{
    (void)arg, (void)l;
}
static void *fake_watch(void *arg, int fd, void (*fn)(void *, const char *, size_t), void *a)
{
    (void)arg, (void)fd, (void)fn, (void)a;
    return NULL;
}
static void fake_unwatch(void *h)
{
    (void)h;
}

static void init(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/haar-fuzz-lambda-rest-%d", (int)getpid());
    mkdir(dir, 0700);
    char bootstrap[128];
    snprintf(bootstrap, sizeof bootstrap, "%s/bootstrap", dir);
    FILE *f = fopen(bootstrap, "w");
    if (f)
        fclose(f);
    struct lambda_options o = {.region = "eu-west-1", .state_dir = dir, .account_concurrency = 10};
    struct lambda_host h = {NULL, fake_listen, fake_unlisten, fake_watch, fake_unwatch};
    char msg[256];
    lm = lambda_new(&o, &h, NULL, NULL, msg, sizeof msg);
    if (lm == NULL)
        abort();
    struct lambda_fn_spec s = {.name = "f", .runtime = "provided.al2023", .dir = dir};
    if (lambda_fn_provision(lm, &s, msg, sizeof msg) != ERR_OK ||
        lambda_fn_provision_alias(lm, "f", "live", msg, sizeof msg) != ERR_OK)
        abort();
    lambda_rest_init(&rs, lm, "eu-west-1", 4566, 8080);
    lambda_rest_service(&rs, &svc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (lm == NULL)
        init();
    struct fuzz_input in;
    fuzz_split(data, size, &in);
    char path[4096];
    snprintf(path, sizeof path, "%.*s", (int)(in.path_len < 4095 ? in.path_len : 4095), in.path);
    if (strstr(path, "/invocations") != NULL)
        return 0; /* would start environments */
    struct conn c = {0};
    struct proto_req r = fuzz_request(&in, path, strlen(path), &svc, &c);
    svc.handle(svc.engine, &r);
    for (int i = 0; i < 1000 && c.answers == 0; i++) {
        work_poll();
        timer_run_due();
    }
    if (c.answers != 1)
        abort();
    return 0;
}
