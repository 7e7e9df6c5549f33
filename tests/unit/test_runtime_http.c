/*
 * test_runtime_http.c — the runtime client's HTTP response parser, as data: each case is
 * the bytes a server sends, fed whole and one byte at a time, and what must come out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/runtime_http.h"

struct mem_source {
    const char *data;
    size_t len, pos;
    size_t step; /* max bytes per read */
};

static ssize_t mem_read(void *ctx, char *p, size_t n)
{
    struct mem_source *m = ctx;
    size_t left = m->len - m->pos;
    if (left == 0)
        return 0;
    if (n > left)
        n = left;
    if (n > m->step)
        n = m->step;
    memcpy(p, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

struct parse_case {
    const char *name;
    const char *wire;
    int rc;
    int status;
    const char *body; /* expected body when rc == OK */
    bool close;
    const char *header, *value; /* one header to check, optional */
};

static const struct parse_case cases[] = {
    {"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", RUNTIME_HTTP_OK, 200,
     "hello", false, "content-length", "5"},
    {"no reason phrase", "HTTP/1.1 202\r\nContent-Length: 2\r\n\r\n{}", RUNTIME_HTTP_OK, 202, "{}",
     false, NULL, NULL},
    {"odd header case",
     "HTTP/1.1 200 OK\r\ncOnTeNt-LeNgTh: 3\r\nLAMBDA-RUNTIME-AWS-REQUEST-ID:  abc \r\n\r\nxyz",
     RUNTIME_HTTP_OK, 200, "xyz", false, "Lambda-Runtime-Aws-Request-Id", "abc"},
    {"chunked",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n "
     "in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n",
     RUNTIME_HTTP_OK, 200, "Wikipedia in\r\n\r\nchunks.", false, NULL, NULL},
    {"chunked upper hex",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
     RUNTIME_HTTP_OK, 200, "0123456789", false, NULL, NULL},
    {"bare LF lines", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", RUNTIME_HTTP_OK, 200, "ok", false,
     NULL, NULL},
    {"connection close", "HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
     RUNTIME_HTTP_OK, 202, "", true, NULL, NULL},
    {"http/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", RUNTIME_HTTP_OK, 200, "x",
     true, NULL, NULL},
    {"body until close", "HTTP/1.1 200 OK\r\n\r\nall of it", RUNTIME_HTTP_OK, 200, "all of it",
     true, NULL, NULL},
    {"100 continue skipped",
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 1\r\n\r\nk",
     RUNTIME_HTTP_OK, 202, "k", false, NULL, NULL},
    {"204 no body", "HTTP/1.1 204 No Content\r\n\r\n", RUNTIME_HTTP_OK, 204, "", false, NULL, NULL},
    {"same length twice", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nz",
     RUNTIME_HTTP_OK, 200, "z", false, NULL, NULL},
    /* failures */
    {"empty stream", "", RUNTIME_HTTP_ECLOSED, 0, NULL, false, NULL, NULL},
    {"truncated head", "HTTP/1.1 200 OK\r\nContent-Le", RUNTIME_HTTP_EIO, 0, NULL, false, NULL,
     NULL},
    {"truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", RUNTIME_HTTP_EIO, 0,
     NULL, false, NULL, NULL},
    {"garbage", "garbage\r\n\r\n", RUNTIME_HTTP_EPROTO, 0, NULL, false, NULL, NULL},
    {"http/2 status line", "HTTP/2 200\r\n\r\n", RUNTIME_HTTP_EPROTO, 0, NULL, false, NULL, NULL},
    {"status not digits", "HTTP/1.1 2x0 OK\r\n\r\n", RUNTIME_HTTP_EPROTO, 0, NULL, false, NULL,
     NULL},
    {"status below 100", "HTTP/1.1 099 Hm\r\n\r\n", RUNTIME_HTTP_EPROTO, 0, NULL, false, NULL,
     NULL},
    {"status glued to reason", "HTTP/1.1 200OK\r\n\r\n", RUNTIME_HTTP_EPROTO, 0, NULL, false, NULL,
     NULL},
    {"negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", RUNTIME_HTTP_EPROTO, 0,
     NULL, false, NULL, NULL},
    {"length overflow", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
     RUNTIME_HTTP_ETOOBIG, 0, NULL, false, NULL, NULL},
    {"length over cap", "HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n",
     RUNTIME_HTTP_ETOOBIG, 0, NULL, false, NULL, NULL},
    {"conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
     RUNTIME_HTTP_EPROTO, 0, NULL, false, NULL, NULL},
    {"unknown coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
     RUNTIME_HTTP_EPROTO, 0, NULL, false, NULL, NULL},
    {"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
     RUNTIME_HTTP_EPROTO, 0, NULL, false, NULL, NULL},
    {"chunk size overflow",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n",
     RUNTIME_HTTP_ETOOBIG, 0, NULL, false, NULL, NULL},
    {"chunk data not closed",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
     RUNTIME_HTTP_EPROTO, 0, NULL, false, NULL, NULL},
    {"chunked truncated", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
     RUNTIME_HTTP_EIO, 0, NULL, false, NULL, NULL},
    {"obs fold", "HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\r\n", RUNTIME_HTTP_EPROTO, 0, NULL,
     false, NULL, NULL},
    {"space before colon", "HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n", RUNTIME_HTTP_EPROTO, 0, NULL,
     false, NULL, NULL},
    {"no colon", "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", RUNTIME_HTTP_EPROTO, 0, NULL, false, NULL,
     NULL},
    {"NUL in header", "HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n", RUNTIME_HTTP_EPROTO, 0, NULL, false,
     NULL, NULL},
    {"101 switching", "HTTP/1.1 101 Switching Protocols\r\n\r\n", RUNTIME_HTTP_EPROTO, 0, NULL,
     false, NULL, NULL},
};

/* Wire strings may hold NULs: measure them up to the final terminator. */
static size_t wire_len(const struct parse_case *c)
{
    if (strcmp(c->name, "NUL in header") == 0)
        return sizeof "HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n" - 1;
    return strlen(c->wire);
}

static void run_case(const struct parse_case *c, size_t step)
{
    struct mem_source src = {c->wire, wire_len(c), 0, step};
    struct runtime_http_reader rd;
    struct runtime_http_response res;
    assert_int_equal(runtime_http_reader_init(&rd, mem_read, &src), RUNTIME_HTTP_OK);
    runtime_http_response_init(&res, 1024 * 1024);
    int rc = runtime_http_read_response(&rd, &res, false);
    if (rc != c->rc)
        fail_msg("case '%s' (step %zu): rc %d (%s), expected %d", c->name, step, rc,
                 runtime_http_strerror(rc), c->rc);
    if (c->rc == RUNTIME_HTTP_OK) {
        assert_int_equal(res.status, c->status);
        assert_int_equal(res.body.len, strlen(c->body));
        assert_memory_equal(res.body.data, c->body, res.body.len);
        assert_int_equal(res.body.data[res.body.len], '\0');
        if (res.close != c->close)
            fail_msg("case '%s': close %d, expected %d", c->name, res.close, c->close);
        if (c->header != NULL) {
            const char *v = runtime_http_header(&res, c->header);
            assert_non_null(v);
            assert_string_equal(v, c->value);
        }
    }
    runtime_http_response_destroy(&res);
    runtime_http_reader_destroy(&rd);
}

static void test_cases_whole(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i], SIZE_MAX);
}

static void test_cases_byte_by_byte(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i], 1);
}

static void test_two_answers_on_one_stream(void **state)
{
    (void)state;
    const char *wire = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
                       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
                       "HTTP/1.1 202 Accepted\r\nContent-Length: 5\r\n\r\nthree";
    struct mem_source src = {wire, strlen(wire), 0, SIZE_MAX};
    struct runtime_http_reader rd;
    struct runtime_http_response res;
    assert_int_equal(runtime_http_reader_init(&rd, mem_read, &src), RUNTIME_HTTP_OK);
    runtime_http_response_init(&res, 1024);
    const char *want[] = {"one", "two", "three"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(runtime_http_read_response(&rd, &res, false), RUNTIME_HTTP_OK);
        assert_string_equal(res.body.data, want[i]);
    }
    assert_int_equal(runtime_http_read_response(&rd, &res, false), RUNTIME_HTTP_ECLOSED);
    runtime_http_response_destroy(&res);
    runtime_http_reader_destroy(&rd);
}

static void test_head_too_large(void **state)
{
    (void)state;
    size_t n = RUNTIME_HTTP_MAX_HEAD + 100;
    char *wire = malloc(n + 64);
    assert_non_null(wire);
    size_t off = (size_t)snprintf(wire, 64, "HTTP/1.1 200 OK\r\nX-Big: ");
    memset(wire + off, 'a', n - off);
    memcpy(wire + n, "\r\n\r\n", 5);
    struct mem_source src = {wire, strlen(wire), 0, 4096};
    struct runtime_http_reader rd;
    struct runtime_http_response res;
    assert_int_equal(runtime_http_reader_init(&rd, mem_read, &src), RUNTIME_HTTP_OK);
    runtime_http_response_init(&res, 1024);
    assert_int_equal(runtime_http_read_response(&rd, &res, false), RUNTIME_HTTP_ETOOBIG);
    runtime_http_response_destroy(&res);
    runtime_http_reader_destroy(&rd);
    free(wire);
}

static void test_too_many_headers(void **state)
{
    (void)state;
    struct buf wire;
    buf_init(&wire, 1 << 20);
    buf_puts(&wire, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < RUNTIME_HTTP_MAX_HEADERS + 1; i++)
        buf_printf(&wire, "X-H%d: v\r\n", i);
    buf_puts(&wire, "Content-Length: 0\r\n\r\n");
    struct mem_source src = {wire.data, wire.len, 0, SIZE_MAX};
    struct runtime_http_reader rd;
    struct runtime_http_response res;
    assert_int_equal(runtime_http_reader_init(&rd, mem_read, &src), RUNTIME_HTTP_OK);
    runtime_http_response_init(&res, 1024);
    assert_int_equal(runtime_http_read_response(&rd, &res, false), RUNTIME_HTTP_ETOOBIG);
    runtime_http_response_destroy(&res);
    runtime_http_reader_destroy(&rd);
    buf_destroy(&wire);
}

static void test_chunked_body_over_cap(void **state)
{
    (void)state;
    const char *wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                       "chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n";
    struct mem_source src = {wire, strlen(wire), 0, SIZE_MAX};
    struct runtime_http_reader rd;
    struct runtime_http_response res;
    assert_int_equal(runtime_http_reader_init(&rd, mem_read, &src), RUNTIME_HTTP_OK);
    runtime_http_response_init(&res, 10);
    assert_int_equal(runtime_http_read_response(&rd, &res, false), RUNTIME_HTTP_ETOOBIG);
    runtime_http_response_destroy(&res);
    runtime_http_reader_destroy(&rd);
}

static void test_large_body_read_directly(void **state)
{
    (void)state;
    size_t n = 3 * RUNTIME_HTTP_READ_SIZE + 17;
    struct buf wire;
    buf_init(&wire, n + 128);
    buf_printf(&wire, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
    for (size_t i = 0; i < n; i++)
        buf_append(&wire, &"0123456789abcdef"[i % 16], 1);
    struct mem_source src = {wire.data, wire.len, 0, 5000};
    struct runtime_http_reader rd;
    struct runtime_http_response res;
    assert_int_equal(runtime_http_reader_init(&rd, mem_read, &src), RUNTIME_HTTP_OK);
    runtime_http_response_init(&res, n);
    assert_int_equal(runtime_http_read_response(&rd, &res, false), RUNTIME_HTTP_OK);
    assert_int_equal(res.body.len, n);
    assert_memory_equal(res.body.data, wire.data + wire.len - n, n);
    runtime_http_response_destroy(&res);
    runtime_http_reader_destroy(&rd);
    buf_destroy(&wire);
}

static void test_conn_init_addresses(void **state)
{
    (void)state;
    static const struct {
        const char *addr;
        int rc;
    } addrs[] = {
        {"127.0.0.1:9001", RUNTIME_HTTP_OK},     {"[::1]:9001", RUNTIME_HTTP_OK},
        {"localhost:9001", RUNTIME_HTTP_OK},     {"127.0.0.1", RUNTIME_HTTP_ECONNECT},
        {":9001", RUNTIME_HTTP_ECONNECT},        {"127.0.0.1:", RUNTIME_HTTP_ECONNECT},
        {"127.0.0.1:9x", RUNTIME_HTTP_ECONNECT}, {"[::1]9001", RUNTIME_HTTP_ECONNECT},
    };
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        struct runtime_http_conn c;
        int rc = runtime_http_conn_init(&c, addrs[i].addr);
        if (rc != addrs[i].rc)
            fail_msg("%s: rc %d, expected %d", addrs[i].addr, rc, addrs[i].rc);
        runtime_http_conn_destroy(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases_whole),
        cmocka_unit_test(test_cases_byte_by_byte),
        cmocka_unit_test(test_two_answers_on_one_stream),
        cmocka_unit_test(test_head_too_large),
        cmocka_unit_test(test_too_many_headers),
        cmocka_unit_test(test_chunked_body_over_cap),
        cmocka_unit_test(test_large_body_read_directly),
        cmocka_unit_test(test_conn_init_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
