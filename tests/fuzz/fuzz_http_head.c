/*
 * fuzz_http_head.c — the request-head parser that screens requests on the AWS port before
 * their bodies are read (http_parse_head), on arbitrary bytes.
 *
 * The input is parsed whole and at every shorter length (as the head arrives read by read):
 * a length the parser calls incomplete must stay so for every prefix; an accepted head is
 * checked for consistency (every pointer inside the input or the name buffer, names
 * lowercase tokens, the declared length as the Content-Length says). Then the router's
 * screen runs on it, as the daemon runs it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/http/http.h"
#include "cloud/http/router.h"

static void respond(struct proto_req *r, int status, const struct proto_hdr *hdrs, size_t n,
                    const void *body, size_t len)
{
    (void)r;
    (void)hdrs;
    (void)n;
    (void)body;
    (void)len;
    if (status < 400 || status > 499)
        abort();
}

static void on_gone(struct proto_req *r, void (*fn)(void *arg), void *arg)
{
    (void)r;
    (void)fn;
    (void)arg;
}

static const struct proto_conn_ops ops = {.respond = respond, .on_gone = on_gone};

static bool inside(const char *p, size_t n, const char *base, size_t len)
{
    return p >= base && p + n <= base + len;
}

static void check(const char *data, size_t len, long hl, struct http_head *h)
{
    const struct proto_req *r = &h->req;
    if ((size_t)hl > len || r->method_len == 0 || !inside(r->method, r->method_len, data, len) ||
        !inside(r->path, r->path_len, data, len) ||
        (r->query_len && !inside(r->query, r->query_len, data, len)) ||
        r->nheaders > HTTP_HEAD_HEADERS)
        abort();
    for (size_t i = 0; i < r->nheaders; i++) {
        const struct proto_hdr *hd = &r->headers[i];
        size_t nl = strlen(hd->name);
        if (nl == 0 || !inside(hd->name, nl + 1, h->names, sizeof h->names) ||
            (hd->value_len && !inside(hd->value, hd->value_len, data, len)))
            abort();
        for (size_t k = 0; k < nl; k++)
            if (hd->name[k] >= 'A' && hd->name[k] <= 'Z')
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct router rt;
    static bool ready;
    if (!ready) {
        router_set_keys(&rt, NULL, NULL, 0);
        rt.region = "eu-west-1";
        ready = true;
    }
    struct http_head *h = malloc(sizeof *h);
    if (h == NULL)
        return 0;
    const char *d = (const char *)data;
    long hl = http_parse_head(d, size, h);
    if (hl > 0) {
        check(d, size, hl, h);
        /* the same head, cut anywhere before its end, is incomplete or refused */
        for (size_t cut = 0; cut < (size_t)hl; cut += 1 + cut / 8) {
            struct http_head *p = malloc(sizeof *p);
            if (p == NULL)
                break;
            long pl = http_parse_head(d, cut, p);
            if (pl > 0)
                abort();
            free(p);
        }
        http_parse_head(d, size, h);
        h->req.ops = &ops;
        h->req.conn = NULL;
        router_screen(&rt, &h->req, h->declared);
    }
    free(h);
    return 0;
}
