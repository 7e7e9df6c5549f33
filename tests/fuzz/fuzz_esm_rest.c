/* libFuzzer target: the event source mapping REST adapter (esm/proto_rest.c) end to end over
 * an ESM engine (a store in a temporary folder), an SQS engine and a Lambda engine without
 * functions. Input: "METHOD PATH[?QUERY]", a newline, the body. Whatever the bytes, the
 * request is answered at most once with a sane status; nothing leaks or crashes. */
#include "fuzz_sqs_proto_common.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloud/esm/esm.h"
#include "cloud/esm/proto_rest.h"
#include "cloud/lambda/lambda.h"
#include "cloud/store/store.h"

static int fake_listen(void *arg, struct lambda_env *env, uint16_t *port, void **l)
{
    (void)arg;
    (void)env;
    (void)port;
    (void)l;
    return -1;
}
static void fake_unlisten(void *arg, void *l)
{
    (void)arg;
    (void)l;
}
static void *fake_watch(void *arg, int fd, void (*fn)(void *, const char *, size_t), void *a)
{
    (void)arg;
    (void)fn;
    (void)a;
    close(fd);
    return NULL;
}
static void fake_unwatch(void *h)
{
    (void)h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct proto_service svc;
    static struct esm_rest rest;
    static struct store *st;
    if (svc.handle == NULL) {
        char err[256], dir[64];
        snprintf(dir, sizeof dir, "/tmp/haar-fuzz-esm-%d", (int)getpid());
        mkdir(dir, 0700);
        st = store_open(dir, err, sizeof err);
        struct lambda_options lo = {.region = "eu-west-1",
                                    .state_dir = dir,
                                    .account_concurrency = 10,
                                    .idle_seconds = 60,
                                    .code_storage_max = 1 << 20};
        struct lambda_host host = {NULL, fake_listen, fake_unlisten, fake_watch, fake_unwatch};
        struct lambda *lm = lambda_new(&lo, &host, NULL, NULL, err, sizeof err);
        struct esm *e =
            st && lm ? esm_new(st, fuzz_sqs(), lm, "eu-west-1", "000000000000", err, sizeof err)
                     : NULL;
        if (e == NULL)
            abort();
        esm_rest_service(&rest, e, "eu-west-1", "000000000000", &svc);
    }
    const char *nl = memchr(data, '\n', size);
    size_t ll = nl ? (size_t)(nl - (const char *)data) : size;
    const char *sp = memchr(data, ' ', ll);
    if (sp == NULL || ll > 1024)
        return 0;
    char line[1030];
    memcpy(line, data, ll);
    line[ll] = '\0';
    char *path = line + (sp - (const char *)data) + 1;
    line[sp - (const char *)data] = '\0';
    char *q = strchr(path, '?');
    if (q)
        *q++ = '\0';
    struct proto_hdr h[1] = {{"content-type", "application/json", 16}};
    struct proto_req r = {.method = line,
                          .method_len = strlen(line),
                          .path = path,
                          .path_len = strlen(path),
                          .query = q ? q : "",
                          .query_len = q ? strlen(q) : 0,
                          .body = nl ? nl + 1 : "",
                          .body_len = nl ? size - ll - 1 : 0,
                          .headers = h,
                          .nheaders = 1,
                          .request_id = "00000000-0000-4000-8000-000000000000",
                          .service = &svc};
    fuzz_run(&r, svc.handle, svc.engine);
    store_flush(st);
    for (int i = 0; i < 4; i++)
        timer_run_due();
    return 0;
}
