/* Unit tests: the request-head parser that screens requests on the AWS port before their
 * bodies are read (http_parse_head), as a table of heads and what is read from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cloud/http/http.h"

enum kind { COMPLETE, INCOMPLETE, REFUSED };

struct head_case {
    const char *what;
    const char *text;
    enum kind kind;
    uint64_t declared;
    bool ambiguous;
    const char *path, *query, *authority;
    size_t nheaders;
};

static const struct head_case cases[] = {
    {"a signed-looking POST",
     "POST /2015-03-31/functions HTTP/1.1\r\nHost: 127.0.0.1:4566\r\n"
     "Content-Length: 100000\r\nAuthorization: AWS4-HMAC-SHA256 x\r\n\r\n{\"a\"",
     COMPLETE, 100000, false, "/2015-03-31/functions", "", "127.0.0.1:4566", 3},
    {"a query, LF-only lines", "GET /x?a=1&b=2 HTTP/1.0\nhost: h\n\n", COMPLETE, 0, false, "/x",
     "a=1&b=2", "h", 1},
    {"chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n", COMPLETE,
     HTTP_CHUNKED, false, "/", "", "", 1},
    {"two Content-Length", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
     COMPLETE, 5, true, "/", "", "", 2},
    {"Content-Length and Transfer-Encoding",
     "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", COMPLETE,
     HTTP_CHUNKED, true, "/", "", "", 2},
    {"header names lowercased, values trimmed", "GET / HTTP/1.1\r\nX-Amz-Target:  a.B \t\r\n\r\n",
     COMPLETE, 0, false, "/", "", "", 1},
    {"not yet a whole head", "POST / HTTP/1.1\r\nHost: x\r\nContent-Le", INCOMPLETE, 0, false, NULL,
     NULL, NULL, 0},
    {"not yet a request line", "POST / HT", INCOMPLETE, 0, false, NULL, NULL, NULL, 0},
    {"HTTP/2's preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", REFUSED, 0, false, NULL, NULL, NULL,
     0},
    {"a folded header", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", REFUSED, 0, false, NULL, NULL, NULL,
     0},
    {"a Content-Length that is no number", "POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n", REFUSED,
     0, false, NULL, NULL, NULL, 0},
    {"a Content-Length of 20 digits",
     "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999"
     "\r\n\r\n",
     REFUSED, 0, false, NULL, NULL, NULL, 0},
    {"a space in the target", "GET /a b HTTP/1.1\r\n\r\n", REFUSED, 0, false, NULL, NULL, NULL, 0},
    {"no method", " / HTTP/1.1\r\n\r\n", REFUSED, 0, false, NULL, NULL, NULL, 0},
    {"a header without a colon", "GET / HTTP/1.1\r\nnocolon\r\n\r\n", REFUSED, 0, false, NULL, NULL,
     NULL, 0},
};

static void test_heads(void **state)
{
    (void)state;
    struct http_head *h = malloc(sizeof *h);
    assert_non_null(h);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct head_case *c = &cases[i];
        size_t len = strlen(c->text);
        long n = http_parse_head(c->text, len, h);
        enum kind got = n > 0 ? COMPLETE : n == 0 ? INCOMPLETE : REFUSED;
        if (got != c->kind)
            fail_msg("%s: parsed as %d (%ld), expected %d", c->what, got, n, c->kind);
        if (got != COMPLETE)
            continue;
        const struct proto_req *r = &h->req;
        if (h->declared != c->declared || h->ambiguous != c->ambiguous ||
            r->nheaders != c->nheaders || r->path_len != strlen(c->path) ||
            memcmp(r->path, c->path, r->path_len) != 0 || r->query_len != strlen(c->query) ||
            memcmp(r->query, c->query, r->query_len) != 0 ||
            r->authority_len != strlen(c->authority) ||
            memcmp(r->authority, c->authority, r->authority_len) != 0)
            fail_msg("%s: declared %llu ambiguous %d headers %zu path %.*s query %.*s", c->what,
                     (unsigned long long)h->declared, h->ambiguous, r->nheaders, (int)r->path_len,
                     r->path, (int)r->query_len, r->query);
        for (size_t k = 0; k < r->nheaders; k++)
            for (const char *p = r->headers[k].name; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    fail_msg("%s: header name %s not lowercased", c->what, r->headers[k].name);
        /* every shorter prefix is incomplete */
        for (size_t cut = 0; cut < (size_t)n; cut++)
            if (http_parse_head(c->text, cut, h) > 0)
                fail_msg("%s: complete at %zu of %ld bytes", c->what, cut, n);
    }
    /* the trimmed value of the folded-free case */
    assert_true(http_parse_head(cases[5].text, strlen(cases[5].text), h) > 0);
    assert_string_equal(h->req.headers[0].name, "x-amz-target");
    assert_int_equal(h->req.headers[0].value_len, 3);
    assert_memory_equal(h->req.headers[0].value, "a.B", 3);
    /* a head longer than the screen looks at is refused rather than waited for */
    char *big = malloc(HTTP_HEAD_MAX + 100);
    assert_non_null(big);
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    memset(big + 19, 'a', HTTP_HEAD_MAX + 80);
    assert_int_equal(http_parse_head(big, HTTP_HEAD_MAX + 99, h), -1);
    assert_int_equal(http_parse_head(big, 1000, h), 0);
    free(big);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
