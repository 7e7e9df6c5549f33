/*
 * fuzz_runtime_http.c — the runtime client's HTTP response parser on arbitrary bytes.
 *
 * The input is served as a byte stream in reads of varying size (the first byte picks
 * the read size pattern) and parsed as consecutive answers until the parser reports the
 * end of the stream or an error, exactly as the socket path would. Small caps on the body
 * make the size limits reachable. Every accepted answer is checked for consistency.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime_http.h"

struct fuzz_source {
    const uint8_t *data;
    size_t len, pos;
    unsigned pattern;
};

static ssize_t fuzz_read(void *ctx, char *p, size_t n)
{
    struct fuzz_source *s = ctx;
    size_t left = s->len - s->pos;
    if (left == 0)
        return 0;
    size_t step = 1 + (s->pattern * 7 + s->pos) % (s->pattern ? s->pattern * 13 : 4096);
    if (n > left)
        n = left;
    if (n > step)
        n = step;
    memcpy(p, s->data + s->pos, n);
    s->pos += n;
    return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct fuzz_source src = {data + 1, size - 1, 0, data[0] % 8};
    struct runtime_http_reader rd;
    struct runtime_http_response res;
    if (runtime_http_reader_init(&rd, fuzz_read, &src) != RUNTIME_HTTP_OK)
        return 0;
    runtime_http_response_init(&res, 4096);
    for (int i = 0; i < 16; i++) {
        int rc = runtime_http_read_response(&rd, &res, data[0] & 0x80);
        if (rc != RUNTIME_HTTP_OK)
            break;
        if (res.status < 100 || res.status > 999 || res.body.len > 4096 ||
            res.nheaders > RUNTIME_HTTP_MAX_HEADERS || res.body.data[res.body.len] != '\0')
            abort();
        for (size_t h = 0; h < res.nheaders; h++)
            if (strlen(res.headers[h].name) == 0)
                abort();
        (void)runtime_http_header(&res, "Lambda-Runtime-Aws-Request-Id");
        if (res.close)
            break;
    }
    runtime_http_response_destroy(&res);
    runtime_http_reader_destroy(&rd);
    return 0;
}
