/*
 * fuzz_apigw_response.c — the whole response mapping (response.c, then cors.c): a function's
 * output to the bytes a client reads.
 *
 * Input: the first byte picks the payload format (0: 2.0, 1: 1.0, 2: Function URL) and
 * whether CORS is applied (bit 2); the rest is the function's output. The response is mapped,
 * written as HTTP/1.1 and read back: the status line, then header lines that must each be a
 * token, ": ", and a value without CR, LF or NUL; exactly one content-length, the gateway's,
 * equal to the body's length; no transfer-encoding; a status from 200 to 599.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/apigw/cors.h"
#include "cloud/apigw/response.h"

static void check_wire(const struct buf *w, const struct apigw_response *r)
{
    const char *p = w->data, *end = w->data + w->len;
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (eol == NULL || eol == p || eol[-1] != '\r' || memcmp(p, "HTTP/1.1 ", 9) != 0)
        abort();
    if (r->status < 200 || r->status > 599)
        abort();
    p = eol + 1;
    int clen = 0;
    for (;;) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL || eol == p || eol[-1] != '\r')
            abort(); /* every header line ends in CRLF, no bare LF */
        size_t ll = (size_t)(eol - 1 - p);
        if (ll == 0) {
            p = eol + 1;
            break;
        }
        const char *colon = memchr(p, ':', ll);
        if (colon == NULL || !apigw_header_valid(p, (size_t)(colon - p), colon + 1,
                                                 ll - (size_t)(colon + 1 - p)))
            abort();
        if (memchr(p, '\r', ll) != NULL || memchr(p, '\0', ll) != NULL)
            abort();
        size_t nl = (size_t)(colon - p);
        if (apigw_ieq(p, nl, "transfer-encoding", 17))
            abort();
        if (apigw_ieq(p, nl, "content-length", 14)) {
            clen++;
            if ((size_t)strtoull(colon + 2, NULL, 10) != r->body.len)
                abort();
        }
        p = eol + 1;
    }
    if (clen != 1 || (size_t)(end - p) != r->body.len)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const enum apigw_payload fmts[4] = {APIGW_PAYLOAD_V2, APIGW_PAYLOAD_V1,
                                               APIGW_PAYLOAD_URL, APIGW_PAYLOAD_V2};
    enum apigw_payload fmt = fmts[data[0] & 3];
    bool cors = (data[0] & 4) != 0;
    struct apigw_response r;
    apigw_response_init(&r);
    int rc = apigw_response_map(&r, fmt, (const char *)data + 1, size - 1);
    if (rc != APIGW_OK && rc != APIGW_RESP_MALFORMED && rc != APIGW_ENOMEM)
        abort();
    if (rc == APIGW_RESP_MALFORMED && (r.error == NULL || (r.status != 500 && r.status != 502)))
        abort();
    if (r.nheaders > APIGW_RESP_SLOTS)
        abort();
    if (cors) {
        static const char *const origins[] = {"https://a.example", "http:" "//*"};
        static const char *const methods[] = {"GET", "POST"};
        static const char *const expose[] = {"x-id"};
        struct apigw_cors c = {origins, 2, methods, 2, NULL, 0, expose, 1, 300, true};
        struct apigw_kv hs[1] = {{"Origin", 6, "http://b.example", 16}};
        struct apigw_request req = {.method = "GET", .method_len = 3, .headers = hs, .nheaders = 1};
        (void)apigw_cors_apply(&c, &req, &r);
        if (apigw_response_find(&r, "access-control-allow-origin") == NULL &&
            r.nheaders < APIGW_RESP_SLOTS)
            abort();
    }
    struct buf w;
    buf_init(&w, 64u << 20);
    if (apigw_response_to_http1(&r, &w) == APIGW_OK)
        check_wire(&w, &r);
    buf_destroy(&w);
    apigw_response_destroy(&r);
    return 0;
}
