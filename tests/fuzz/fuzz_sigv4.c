/*
 * fuzz_sigv4.c — SigV4 verification (core/sigv4) on arbitrary requests.
 *
 * Input: the first byte holds flags (bit 0: normalize for sigv4_canonical_request, bits
 * 1-3: clock offset, bit 4: an empty query is NULL rather than "", bit 5: check the scope
 * us-east-1/service, bit 6: the lookup knows no key). The rest is split on '\n':
 *   METHOD \n PATH \n QUERY \n Name:value \n ... \n \n BODY
 * (at most 16 header lines; a line without ':' is a header with an empty value; the body is
 * everything after the first empty header line, NULs included). The request is handed to
 * sigv4_parse, sigv4_canonical_request (with the parsed claim, or a fixed one when parsing
 * fails), sigv4_string_to_sign, sigv4_sign and sigv4_verify with a lookup that returns
 * "test" for access key "test". The clock sits at 2015-08-30T12:36:00Z plus the offset.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/sigv4.h"

#define MAX_FUZZ_HEADERS 16
#define BASE_MS          1440938160000LL /* 2015-08-30T12:36:00Z */

static const char *lookup(void *arg, const char *access_key, const char *token)
{
    (void)token;
    if (arg != NULL || strcmp(access_key, "test") != 0)
        return NULL;
    return "test";
}

/* Next '\n'-terminated field from *pos; returns its length and advances past the '\n'. */
static size_t next_line(const uint8_t *data, size_t size, size_t *pos, const char **out)
{
    size_t start = *pos, end = start;
    while (end < size && data[end] != '\n')
        end++;
    *out = (const char *)data + start;
    *pos = end < size ? end + 1 : size;
    return end - start;
}

static void check_terminated(const char *s, size_t cap)
{
    if (memchr(s, '\0', cap) == NULL)
        abort();
}

static void check_auth(const struct sigv4_auth *a)
{
    check_terminated(a->access_key, sizeof a->access_key);
    check_terminated(a->date, sizeof a->date);
    check_terminated(a->region, sizeof a->region);
    check_terminated(a->service, sizeof a->service);
    check_terminated(a->amz_date, sizeof a->amz_date);
    check_terminated(a->signed_headers, sizeof a->signed_headers);
    check_terminated(a->signature, sizeof a->signature);
    check_terminated(a->token, sizeof a->token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned flags = data[0];
    data++;
    size--;

    struct sigv4_request req;
    struct sigv4_header headers[MAX_FUZZ_HEADERS];
    memset(&req, 0, sizeof req);
    size_t pos = 0;
    req.method_len = next_line(data, size, &pos, &req.method);
    req.path_len = next_line(data, size, &pos, &req.path);
    req.query_len = next_line(data, size, &pos, &req.query);
    if (req.query_len == 0 && (flags & 0x10))
        req.query = NULL;
    size_t nh = 0;
    while (pos < size && nh < MAX_FUZZ_HEADERS) {
        const char *line;
        size_t len = next_line(data, size, &pos, &line);
        if (len == 0)
            break;
        const char *colon = memchr(line, ':', len);
        headers[nh].name = line;
        headers[nh].name_len = colon ? (size_t)(colon - line) : len;
        headers[nh].value = colon ? colon + 1 : line + len;
        headers[nh].value_len = colon ? len - (size_t)(colon - line) - 1 : 0;
        nh++;
    }
    req.headers = headers;
    req.nheaders = nh;
    req.body = data + pos;
    req.body_len = size - pos;

    static const int64_t offsets[8] = {0,       1000,    -1000,     299000,
                                       -301000, 3601000, -86400000, 315360000000LL /* +10 years */};
    int64_t now_ms = BASE_MS + offsets[(flags >> 1) & 7];

    struct sigv4_auth a;
    char msg[256];
    memset(&a, 0xA5, sizeof a); /* the parser must not rely on a zeroed struct */
    enum sigv4_status st = sigv4_parse(&req, &a, msg, sizeof msg);
    if (st != SIGV4_OK && st != SIGV4_MISSING && st != SIGV4_MALFORMED)
        abort();
    if (st != SIGV4_OK) {
        check_terminated(msg, sizeof msg);
        memset(&a, 0, sizeof a);
        memcpy(a.access_key, "test", 5);
        memcpy(a.date, "20150830", 9);
        memcpy(a.region, "us-east-1", 10);
        memcpy(a.service, "service", 8);
        memcpy(a.amz_date, "20150830T123600Z", 17);
        memcpy(a.signed_headers, "host;x-amz-date", 16);
        memset(a.signature, '0', 64);
        a.presigned = (flags & 0x80) != 0;
        a.expires = a.presigned ? 60 : 0;
    }
    check_auth(&a);

    struct buf canon, sts;
    buf_init(&canon, 1u << 20);
    buf_init(&sts, 1u << 16);
    if (sigv4_canonical_request(&req, &a, flags & 1, &canon) == 0 &&
        sigv4_string_to_sign(&a, canon.data ? canon.data : "", canon.len, &sts) == 0) {
        char hex[65];
        sigv4_sign("test", &a, sts.data ? sts.data : "", sts.len, hex);
        if (hex[64] != '\0' || strspn(hex, "0123456789abcdef") != 64)
            abort();
    }
    buf_destroy(&canon);
    buf_destroy(&sts);

    const char *region = (flags & 0x20) ? "us-east-1" : NULL;
    const char *service = (flags & 0x20) ? "service" : NULL;
    void *arg = (flags & 0x40) ? (void *)&a : NULL;
    msg[0] = '\0';
    st = sigv4_verify(&req, region, service, true, now_ms, lookup, arg, msg, sizeof msg);
    if ((unsigned)st > SIGV4_BAD_SCOPE)
        abort();
    check_terminated(msg, sizeof msg);
    /* a tiny message buffer must be respected too */
    char tiny[4];
    (void)sigv4_verify(&req, region, service, true, now_ms, lookup, arg, tiny, sizeof tiny);
    return 0;
}
