/*
 * Unit tests: core/sigv4 (server-side SigV4 verification, and the signer's Authorization
 * header, sigv4_authorization, against the same suite).
 *
 * Runs every case of AWS's SigV4 test suite, kept in $HAAR_SOURCE_DIR/tests/data/sigv4/v4/
 * (a missing suite fails the test). For each case the signed request as a server sees it
 * (header-signed-request.txt, query-signed-request.txt) is parsed and the canonical
 * request, string to sign and signature are compared byte for byte with the suite's, then
 * sigv4_parse and sigv4_verify are run end to end. Every mismatch of every case is printed
 * before the test fails, so one run shows all of them. Hand-written negative tests start
 * from get-vanilla's signed request.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/sigv4.h"

#define MAX_HEADERS 32
#define BUF_MAX     (1u << 20)

/* ---- reading the suite ---- */

static char suite_dir[4096];

static bool suite_available(void)
{
    const char *src = getenv("HAAR_SOURCE_DIR");
    snprintf(suite_dir, sizeof suite_dir, "%s/tests/data/sigv4/v4", src && *src ? src : ".");
    DIR *d = opendir(suite_dir);
    if (d == NULL) {
        printf("FAIL: the SigV4 test suite is missing at %s\n", suite_dir);
        return false;
    }
    closedir(d);
    return true;
}

/* Reads a whole file; returns a NUL-terminated malloc'd copy or NULL. */
static char *read_file(const char *casename, const char *file, size_t *len_out)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s/%s", suite_dir, casename, file);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct buf b;
    buf_init(&b, BUF_MAX);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&b, chunk, n) != BUF_OK)
            break;
    fclose(f);
    if (buf_append(&b, "", 0) != BUF_OK) { /* make sure data is non-NULL */
        buf_destroy(&b);
        return NULL;
    }
    size_t len = 0;
    char *s = buf_take(&b, &len);
    if (len_out)
        *len_out = len;
    return s;
}

/* ---- a parsed HTTP/1.1 request ---- */

struct http_req {
    char *text;                /* file contents, modified in place (CRs removed) */
    char *values[MAX_HEADERS]; /* owned copies of header values (obs-fold joined) */
    struct sigv4_header headers[MAX_HEADERS];
    struct sigv4_request req;
};

static void http_req_free(struct http_req *h)
{
    for (size_t i = 0; i < MAX_HEADERS; i++)
        free(h->values[i]);
    free(h->text);
    memset(h, 0, sizeof *h);
}

/*
 * Parses "METHOD TARGET HTTP/1.1" + "Name:value" lines (continuation lines starting with
 * whitespace join the previous header with one space) + blank line + body. Accepts \n or
 * \r\n line ends. Returns 0 on success.
 */
static int http_req_parse(struct http_req *h, char *text, size_t len)
{
    memset(h, 0, sizeof *h);
    h->text = text;
    /* find the end of the head: the first empty line */
    size_t pos = 0, head_end = len, body_start = len;
    while (pos < len) {
        char *nl = memchr(text + pos, '\n', len - pos);
        size_t eol = nl ? (size_t)(nl - text) : len;
        size_t line_len = eol - pos;
        if (line_len > 0 && text[eol - 1] == '\r')
            line_len--;
        if (line_len == 0 && pos > 0) {
            head_end = pos;
            body_start = nl ? eol + 1 : len;
            break;
        }
        pos = nl ? eol + 1 : len;
    }
    /* walk the head lines */
    pos = 0;
    bool first = true;
    size_t nh = 0;
    while (pos < head_end) {
        char *nl = memchr(text + pos, '\n', head_end - pos);
        size_t eol = nl ? (size_t)(nl - text) : head_end;
        size_t line_len = eol - pos;
        if (line_len > 0 && text[pos + line_len - 1] == '\r')
            line_len--;
        char *line = text + pos;
        pos = eol + 1;
        if (first) {
            first = false;
            char *sp = memchr(line, ' ', line_len);
            if (sp == NULL)
                return -1;
            h->req.method = line;
            h->req.method_len = (size_t)(sp - line);
            /* the target runs to the last " HTTP/" (paths may contain spaces) */
            size_t tstart = (size_t)(sp - line) + 1, tend = line_len;
            for (size_t i = line_len; i-- > tstart;)
                if (line_len - i >= 6 && memcmp(line + i, " HTTP/", 6) == 0) {
                    tend = i;
                    break;
                }
            char *target = line + tstart;
            size_t tlen = tend - tstart;
            char *q = memchr(target, '?', tlen);
            h->req.path = target;
            if (q) {
                h->req.path_len = (size_t)(q - target);
                h->req.query = q + 1;
                h->req.query_len = tlen - h->req.path_len - 1;
            } else {
                h->req.path_len = tlen;
            }
            continue;
        }
        if (line_len > 0 && (line[0] == ' ' || line[0] == '\t')) { /* obs-fold */
            if (nh == 0)
                return -1;
            size_t s = 0;
            while (s < line_len && (line[s] == ' ' || line[s] == '\t'))
                s++;
            char *prev = h->values[nh - 1];
            size_t plen = h->headers[nh - 1].value_len;
            char *joined = malloc(plen + 1 + (line_len - s) + 1);
            if (joined == NULL)
                return -1;
            memcpy(joined, prev, plen);
            joined[plen] = ' ';
            memcpy(joined + plen + 1, line + s, line_len - s);
            joined[plen + 1 + line_len - s] = '\0';
            free(prev);
            h->values[nh - 1] = joined;
            h->headers[nh - 1].value = joined;
            h->headers[nh - 1].value_len = plen + 1 + line_len - s;
            continue;
        }
        char *colon = memchr(line, ':', line_len);
        if (colon == NULL || nh == MAX_HEADERS)
            return -1;
        size_t vlen = line_len - (size_t)(colon - line) - 1;
        char *v = malloc(vlen + 1);
        if (v == NULL)
            return -1;
        memcpy(v, colon + 1, vlen);
        v[vlen] = '\0';
        h->values[nh] = v;
        h->headers[nh].name = line;
        h->headers[nh].name_len = (size_t)(colon - line);
        h->headers[nh].value = v;
        h->headers[nh].value_len = vlen;
        nh++;
    }
    if (first)
        return -1;
    h->req.headers = h->headers;
    h->req.nheaders = nh;
    h->req.body = text + body_start;
    h->req.body_len = len - body_start;
    return 0;
}

static int http_req_load(struct http_req *h, const char *casename, const char *file)
{
    size_t len = 0;
    char *text = read_file(casename, file, &len);
    if (text == NULL)
        return -1;
    if (http_req_parse(h, text, len) != 0) {
        http_req_free(h);
        return -1;
    }
    return 0;
}

/* Index of a header by name (case-insensitive), or -1. */
static int find_header(const struct http_req *h, const char *name)
{
    for (size_t i = 0; i < h->req.nheaders; i++)
        if (h->headers[i].name_len == strlen(name) &&
            strncasecmp(h->headers[i].name, name, h->headers[i].name_len) == 0)
            return (int)i;
    return -1;
}

/* Replaces (or, when absent, adds) a header's value; value NULL removes the header. */
static void set_header(struct http_req *h, const char *name, const char *value)
{
    int i = find_header(h, name);
    if (value == NULL) {
        if (i < 0)
            return;
        free(h->values[i]);
        for (size_t j = (size_t)i; j + 1 < h->req.nheaders; j++) {
            h->headers[j] = h->headers[j + 1];
            h->values[j] = h->values[j + 1];
        }
        h->req.nheaders--;
        h->values[h->req.nheaders] = NULL;
        return;
    }
    if (i < 0) {
        assert_true(h->req.nheaders < MAX_HEADERS);
        i = (int)h->req.nheaders++;
        h->headers[i].name = name; /* a literal: outlives the request */
        h->headers[i].name_len = strlen(name);
    } else {
        free(h->values[i]);
    }
    h->values[i] = strdup(value);
    assert_non_null(h->values[i]);
    h->headers[i].value = h->values[i];
    h->headers[i].value_len = strlen(value);
}

/* ---- context.json ---- */

struct ctx {
    char access_key[129];
    char secret[256];
    char token[2048];
    char region[33];
    char service[33];
    char amz_date[17];
    int64_t now_ms;
    long expires;
    bool normalize;
    bool sign_body;
};

static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static int ctx_load(struct ctx *c, const char *casename)
{
    memset(c, 0, sizeof *c);
    char path[8192];
    snprintf(path, sizeof path, "%s/%s/context.json", suite_dir, casename);
    json_error_t err;
    json_t *j = json_load_file(path, 0, &err);
    if (j == NULL)
        return -1;
    json_t *cr = json_object_get(j, "credentials");
    copy_str(c->access_key, sizeof c->access_key,
             json_string_value(json_object_get(cr, "access_key_id")));
    copy_str(c->secret, sizeof c->secret,
             json_string_value(json_object_get(cr, "secret_access_key")));
    const char *tok = json_string_value(json_object_get(cr, "token"));
    if (tok == NULL)
        tok = json_string_value(json_object_get(cr, "session_token"));
    copy_str(c->token, sizeof c->token, tok);
    copy_str(c->region, sizeof c->region, json_string_value(json_object_get(j, "region")));
    copy_str(c->service, sizeof c->service, json_string_value(json_object_get(j, "service")));
    c->normalize = json_is_true(json_object_get(j, "normalize"));
    c->sign_body = json_is_true(json_object_get(j, "sign_body"));
    json_t *ex = json_object_get(j, "expiration_in_seconds");
    c->expires = json_is_integer(ex) ? (long)json_integer_value(ex) : 0;
    const char *ts = json_string_value(json_object_get(j, "timestamp"));
    int Y, M, D, h, mi, s;
    if (ts == NULL || sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2dZ", &Y, &M, &D, &h, &mi, &s) != 6) {
        json_decref(j);
        return -1;
    }
    snprintf(c->amz_date, sizeof c->amz_date, "%04d%02d%02dT%02d%02d%02dZ", Y, M, D, h, mi, s);
    c->now_ms = ((days_from_civil(Y, M, D) * 86400) + h * 3600 + mi * 60 + s) * 1000;
    json_decref(j);
    return 0;
}

/* The signed-headers line of a canonical request: its second to last line. */
static void signed_headers_of(const char *canon, size_t len, char *out, size_t cap)
{
    out[0] = '\0';
    while (len > 0 && canon[len - 1] == '\n')
        len--;
    size_t last_nl = len;
    while (last_nl > 0 && canon[last_nl - 1] != '\n')
        last_nl--;
    if (last_nl == 0)
        return;
    size_t end = last_nl - 1, start = end;
    while (start > 0 && canon[start - 1] != '\n')
        start--;
    snprintf(out, cap, "%.*s", (int)(end - start), canon + start);
}

static void auth_from_ctx(const struct ctx *c, struct sigv4_auth *a, bool presigned)
{
    memset(a, 0, sizeof *a);
    copy_str(a->access_key, sizeof a->access_key, c->access_key);
    snprintf(a->date, sizeof a->date, "%.8s", c->amz_date);
    copy_str(a->region, sizeof a->region, c->region);
    copy_str(a->service, sizeof a->service, c->service);
    copy_str(a->amz_date, sizeof a->amz_date, c->amz_date);
    copy_str(a->token, sizeof a->token, c->token);
    a->presigned = presigned;
    a->expires = presigned ? c->expires : 0;
}

/* ---- lookup ---- */

static const char *lookup_akid(void *arg, const char *access_key, const char *token)
{
    (void)token;
    if (arg == NULL || strcmp(access_key, "AKIDEXAMPLE") != 0)
        return NULL;
    return arg;
}

/* ---- comparing ---- */

static void print_diff(const char *casename, const char *what, const char *exp, size_t elen,
                       const char *got, size_t glen)
{
    size_t i = 0;
    while (i < elen && i < glen && exp[i] == got[i])
        i++;
    printf("FAIL %s %s: first difference at byte %zu\n--- expected (%zu bytes)\n%.*s\n"
           "--- got (%zu bytes)\n%.*s\n---\n",
           casename, what, i, elen, (int)elen, exp, glen, (int)glen, got ? got : "");
}

static int check_equal(const char *casename, const char *what, const char *exp, size_t elen,
                       const char *got, size_t glen)
{
    if (elen == glen && (elen == 0 || memcmp(exp, got, elen) == 0))
        return 0;
    print_diff(casename, what, exp, elen, got, glen);
    return 1;
}

static int check_str(const char *casename, const char *what, const char *exp, const char *got)
{
    return check_equal(casename, what, exp, strlen(exp), got, strlen(got));
}

/* Strips one trailing newline from a one-line file (signatures). */
static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

static const char *const status_names[] = {"OK",       "MISSING", "MALFORMED", "UNKNOWN_KEY",
                                           "MISMATCH", "EXPIRED", "BAD_SCOPE"};

static const char *status_name(enum sigv4_status s)
{
    return (unsigned)s < sizeof status_names / sizeof *status_names ? status_names[s] : "?";
}

/*
 * One flavour ("header" or "query") of one case. Returns the number of failed checks
 * (each printed).
 */
static int run_case(const char *casename, const char *kind)
{
    bool presigned = strcmp(kind, "query") == 0;
    char fname[64];
    int fails = 0;
    struct ctx c;
    if (ctx_load(&c, casename) != 0) {
        printf("FAIL %s: cannot read context.json\n", casename);
        return 1;
    }
    snprintf(fname, sizeof fname, "%s-signed-request.txt", kind);
    struct http_req h;
    if (http_req_load(&h, casename, fname) != 0) {
        printf("FAIL %s: cannot parse %s\n", casename, fname);
        return 1;
    }
    size_t clen = 0, slen = 0;
    snprintf(fname, sizeof fname, "%s-canonical-request.txt", kind);
    char *exp_canon = read_file(casename, fname, &clen);
    snprintf(fname, sizeof fname, "%s-string-to-sign.txt", kind);
    char *exp_sts = read_file(casename, fname, &slen);
    snprintf(fname, sizeof fname, "%s-signature.txt", kind);
    char *exp_sig = read_file(casename, fname, NULL);
    if (exp_canon == NULL || exp_sts == NULL || exp_sig == NULL) {
        printf("FAIL %s %s: missing expected files\n", casename, kind);
        fails++;
        goto out;
    }
    chomp(exp_sig);

    struct sigv4_auth a;
    auth_from_ctx(&c, &a, presigned);
    signed_headers_of(exp_canon, clen, a.signed_headers, sizeof a.signed_headers);
    copy_str(a.signature, sizeof a.signature, exp_sig);
    bool token_on_wire =
        find_header(&h, "X-Amz-Security-Token") >= 0 ||
        (h.req.query && memmem(h.req.query, h.req.query_len, "X-Amz-Security-Token=", 21) != NULL);
    if (!token_on_wire)
        a.token[0] = '\0'; /* the token travels only when the signer sent it */

    /* post-sts-header-after: the suite's signer put the token into the query after signing.
     * A server sees every query member and cannot know one was not signed (AWS includes them
     * all), so the presigned form of that case is not a request a server can accept. */
    if (presigned && strcmp(casename, "post-sts-header-after") == 0) {
        printf("note: %s presigned: token added after signing, not verifiable by a server\n",
               casename);
        goto out;
    }
    char what[64];
    struct buf canon, sts;
    buf_init(&canon, BUF_MAX);
    buf_init(&sts, BUF_MAX);
    snprintf(what, sizeof what, "%s canonical request", kind);
    int rc = sigv4_canonical_request(&h.req, &a, c.normalize, &canon);
    if (rc != 0) {
        printf("FAIL %s %s: returned %d\n", casename, what, rc);
        fails++;
    } else {
        fails += check_equal(casename, what, exp_canon, clen, canon.data, canon.len);
        snprintf(what, sizeof what, "%s string to sign", kind);
        rc = sigv4_string_to_sign(&a, canon.data ? canon.data : "", canon.len, &sts);
        if (rc != 0) {
            printf("FAIL %s %s: returned %d\n", casename, what, rc);
            fails++;
        } else {
            fails += check_equal(casename, what, exp_sts, slen, sts.data, sts.len);
        }
    }
    /* the signature from the suite's own string to sign, independent of the above */
    char hex[65] = {0};
    sigv4_sign(c.secret, &a, exp_sts, slen, hex);
    snprintf(what, sizeof what, "%s signature", kind);
    fails += check_str(casename, what, exp_sig, hex);
    buf_destroy(&canon);
    buf_destroy(&sts);

    /* parse: the server recovers the claim from the wire */
    struct sigv4_auth p;
    char msg[256] = "";
    memset(&p, 0, sizeof p);
    enum sigv4_status st = sigv4_parse(&h.req, &p, msg, sizeof msg);
    if (st != SIGV4_OK) {
        printf("FAIL %s %s parse: %s (%s)\n", casename, kind, status_name(st), msg);
        fails++;
    } else {
        snprintf(what, sizeof what, "%s parse access_key", kind);
        fails += check_str(casename, what, a.access_key, p.access_key);
        snprintf(what, sizeof what, "%s parse date", kind);
        fails += check_str(casename, what, a.date, p.date);
        snprintf(what, sizeof what, "%s parse region", kind);
        fails += check_str(casename, what, a.region, p.region);
        snprintf(what, sizeof what, "%s parse service", kind);
        fails += check_str(casename, what, a.service, p.service);
        snprintf(what, sizeof what, "%s parse amz_date", kind);
        fails += check_str(casename, what, a.amz_date, p.amz_date);
        snprintf(what, sizeof what, "%s parse signed_headers", kind);
        fails += check_str(casename, what, a.signed_headers, p.signed_headers);
        snprintf(what, sizeof what, "%s parse signature", kind);
        fails += check_str(casename, what, a.signature, p.signature);
        snprintf(what, sizeof what, "%s parse token", kind);
        fails += check_str(casename, what, a.token, p.token);
        if (p.presigned != presigned) {
            printf("FAIL %s %s parse: presigned=%d\n", casename, kind, (int)p.presigned);
            fails++;
        }
        if (p.expires != a.expires) {
            printf("FAIL %s %s parse: expires=%ld, expected %ld\n", casename, kind, p.expires,
                   a.expires);
            fails++;
        }
    }

    /* the whole check at the signing time */
    msg[0] = '\0';
    st =
        sigv4_verify(&h.req, c.region, c.service, c.normalize, c.now_ms, lookup_akid, c.secret, msg, sizeof msg);
    if (st != SIGV4_OK) {
        printf("FAIL %s %s verify: %s (%s)\n", casename, kind, status_name(st), msg);
        fails++;
    }
    /* and with no scope constraint */
    st = sigv4_verify(&h.req, NULL, NULL, c.normalize, c.now_ms, lookup_akid, c.secret, msg, sizeof msg);
    if (st != SIGV4_OK) {
        printf("FAIL %s %s verify (any scope): %s (%s)\n", casename, kind, status_name(st), msg);
        fails++;
    }
out:
    free(exp_canon);
    free(exp_sts);
    free(exp_sig);
    http_req_free(&h);
    if (fails == 0)
        printf("pass %s %s\n", casename, kind);
    return fails;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_suite(const char *kind)
{
    assert_true(suite_available()); /* the data is part of the tests: missing is a failure */
    DIR *d = opendir(suite_dir);
    assert_non_null(d);
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 256) {
        if (e->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s/context.json", suite_dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            continue;
        fclose(f);
        names[n] = strdup(e->d_name);
        assert_non_null(names[n]);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    assert_true(n > 0);
    int failed_cases = 0;
    for (size_t i = 0; i < n; i++) {
        if (run_case(names[i], kind) != 0) {
            printf("FAILED CASE (%s): %s\n", kind, names[i]);
            failed_cases++;
        }
        free(names[i]);
    }
    printf("%s: %zu cases, %d failed\n", kind, n, failed_cases);
    assert_int_equal(failed_cases, 0);
}

static void test_suite_header(void **state)
{
    (void)state;
    run_suite("header");
}

static void test_suite_query(void **state)
{
    (void)state;
    run_suite("query");
}

/* ---- the signer's side: sigv4_authorization ---- */

/* Signs each case's request as sent (every header but Authorization, which the signer
 * makes) and compares the Authorization header with the suite's. post-sts-header-after is
 * left out: its token header was added after signing, and the signer signs every header. */
static int sign_case(const char *casename)
{
    if (strcmp(casename, "post-sts-header-after") == 0)
        return 0;
    struct ctx c;
    struct http_req h;
    if (ctx_load(&c, casename) != 0 ||
        http_req_load(&h, casename, "header-signed-request.txt") != 0) {
        printf("FAIL %s signer: cannot read the case\n", casename);
        return 1;
    }
    int ai = find_header(&h, "Authorization");
    struct sigv4_header hs[MAX_HEADERS];
    size_t n = 0;
    for (size_t i = 0; i < h.req.nheaders; i++)
        if ((int)i != ai)
            hs[n++] = h.headers[i];
    struct sigv4_request req = h.req;
    req.headers = hs;
    req.nheaders = n;
    struct buf out;
    buf_init(&out, 4096);
    int fails = 0;
    if (ai < 0 || sigv4_authorization(&req, c.access_key, c.secret, c.region, c.service,
                                      c.amz_date, c.normalize, &out) != 0) {
        printf("FAIL %s signer: no Authorization to compare, or signing failed\n", casename);
        fails = 1;
    } else {
        fails = check_equal(casename, "signer Authorization", h.headers[ai].value,
                            h.headers[ai].value_len, out.data, out.len);
    }
    buf_destroy(&out);
    http_req_free(&h);
    return fails;
}

static void test_signer_suite(void **state)
{
    (void)state;
    assert_true(suite_available());
    DIR *d = opendir(suite_dir);
    assert_non_null(d);
    struct dirent *e;
    int cases = 0, failed = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s/header-signed-request.txt", suite_dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            continue;
        fclose(f);
        cases++;
        failed += sign_case(e->d_name) != 0;
    }
    closedir(d);
    printf("signer: %d cases, %d failed\n", cases, failed);
    assert_true(cases > 20);
    assert_int_equal(failed, 0);
}

static void test_signer_refuses_what_does_not_fit(void **state)
{
    (void)state;
    struct sigv4_header h = {"host", 4, "example.amazonaws.com", 21};
    struct sigv4_request req = {.method = "GET", .method_len = 3, .path = "/", .path_len = 1,
                                .headers = &h, .nheaders = 1};
    struct buf out;
    buf_init(&out, 4096);
    assert_int_equal(sigv4_authorization(&req, "AKID", "s", "us-east-1", "events",
                                         "20150830T1236", true, &out),
                     -1); /* not a YYYYMMDDTHHMMSSZ */
    char region[64];
    memset(region, 'r', sizeof region - 1);
    region[sizeof region - 1] = '\0';
    assert_int_equal(sigv4_authorization(&req, "AKID", "s", region, "events", "20150830T123600Z",
                                         true, &out),
                     -1);
    assert_int_equal(out.len, 0);
    assert_int_equal(sigv4_authorization(&req, "AKID", "s", "us-east-1", "events",
                                         "20150830T123600Z", true, &out),
                     0);
    assert_non_null(strstr(out.data, "Credential=AKID/20150830/us-east-1/events/aws4_request, "
                                     "SignedHeaders=host, Signature="));
    buf_destroy(&out);
}

/* ---- negative tests, from get-vanilla ---- */

struct vanilla {
    struct http_req h;
    struct ctx c;
    char sig[65];
    char auth[1024];
};

/* Loads a case's signed request (the test fails when the suite is absent). */
static bool load_signed(struct vanilla *v, const char *casename, const char *file)
{
    memset(v, 0, sizeof *v);
    assert_true(suite_available());
    assert_int_equal(ctx_load(&v->c, casename), 0);
    assert_int_equal(http_req_load(&v->h, casename, file), 0);
    int i = find_header(&v->h, "Authorization");
    if (i >= 0) {
        snprintf(v->auth, sizeof v->auth, "%.*s", (int)v->h.headers[i].value_len,
                 v->h.headers[i].value);
        const char *s = strstr(v->auth, "Signature=");
        assert_non_null(s);
        copy_str(v->sig, sizeof v->sig, s + 10);
    }
    return true;
}

static enum sigv4_status verify_at(struct vanilla *v, int64_t now_ms)
{
    char msg[256];
    return sigv4_verify(&v->h.req, v->c.region, v->c.service, v->c.normalize, now_ms, lookup_akid, v->c.secret, msg,
                        sizeof msg);
}

static enum sigv4_status verify_now(struct vanilla *v)
{
    return verify_at(v, v->c.now_ms);
}

static void test_bad_signature_byte(void **state)
{
    (void)state;
    struct vanilla v;
    if (!load_signed(&v, "get-vanilla", "header-signed-request.txt"))
        return;
    assert_int_equal(verify_now(&v), SIGV4_OK);
    char *s = strstr(v.auth, "Signature=") + 10;
    s[63] = s[63] == '0' ? '1' : '0';
    set_header(&v.h, "Authorization", v.auth);
    assert_int_equal(verify_now(&v), SIGV4_MISMATCH);
    http_req_free(&v.h);
}

static void test_unknown_key(void **state)
{
    (void)state;
    struct vanilla v;
    if (!load_signed(&v, "get-vanilla", "header-signed-request.txt"))
        return;
    char msg[256];
    assert_int_equal(sigv4_verify(&v.h.req, v.c.region, v.c.service, v.c.normalize, v.c.now_ms, lookup_akid, NULL,
                                  msg, sizeof msg),
                     SIGV4_UNKNOWN_KEY);
    http_req_free(&v.h);
}

static void test_clock_skew(void **state)
{
    (void)state;
    struct vanilla v;
    if (!load_signed(&v, "get-vanilla", "header-signed-request.txt"))
        return;
    const int64_t min = 60 * 1000;
    assert_int_equal(verify_at(&v, v.c.now_ms + 4 * min), SIGV4_OK);
    assert_int_equal(verify_at(&v, v.c.now_ms - 4 * min), SIGV4_OK);
    assert_int_equal(verify_at(&v, v.c.now_ms + 6 * min), SIGV4_EXPIRED);
    assert_int_equal(verify_at(&v, v.c.now_ms - 6 * min), SIGV4_EXPIRED);
    http_req_free(&v.h);
}

static void test_bad_scope(void **state)
{
    (void)state;
    struct vanilla v;
    if (!load_signed(&v, "get-vanilla", "header-signed-request.txt"))
        return;
    char msg[256];
    assert_int_equal(sigv4_verify(&v.h.req, "eu-west-1", v.c.service, v.c.normalize, v.c.now_ms, lookup_akid,
                                  v.c.secret, msg, sizeof msg),
                     SIGV4_BAD_SCOPE);
    assert_int_equal(sigv4_verify(&v.h.req, v.c.region, "lambda", v.c.normalize, v.c.now_ms, lookup_akid,
                                  v.c.secret, msg, sizeof msg),
                     SIGV4_BAD_SCOPE);
    http_req_free(&v.h);
}

static void test_missing(void **state)
{
    (void)state;
    struct vanilla v;
    if (!load_signed(&v, "get-vanilla", "header-signed-request.txt"))
        return;
    set_header(&v.h, "Authorization", NULL);
    assert_int_equal(find_header(&v.h, "Authorization"), -1);
    struct sigv4_auth a;
    char msg[256];
    assert_int_equal(sigv4_parse(&v.h.req, &a, msg, sizeof msg), SIGV4_MISSING);
    assert_int_equal(verify_now(&v), SIGV4_MISSING);
    http_req_free(&v.h);
}

/* Sets Authorization to value and expects MALFORMED from both parse and verify. */
static void expect_malformed_auth(struct vanilla *v, const char *label, const char *value)
{
    set_header(&v->h, "Authorization", value);
    struct sigv4_auth a;
    char msg[256] = "";
    enum sigv4_status p = sigv4_parse(&v->h.req, &a, msg, sizeof msg);
    char msg2[256] = "";
    enum sigv4_status s = sigv4_verify(&v->h.req, v->c.region, v->c.service, v->c.normalize, v->c.now_ms,
                                       lookup_akid, v->c.secret, msg2, sizeof msg2);
    if (p != SIGV4_MALFORMED || s != SIGV4_MALFORMED)
        printf("FAIL malformed %s: parse %s (%s), verify %s (%s)\n  Authorization: %s\n", label,
               status_name(p), msg, status_name(s), msg2, value);
    else
        printf("pass malformed %s: %s\n", label, msg2);
    assert_int_equal(p, SIGV4_MALFORMED);
    assert_int_equal(s, SIGV4_MALFORMED);
    assert_true(msg2[0] != '\0');
}

static void test_malformed(void **state)
{
    (void)state;
    struct vanilla v;
    if (!load_signed(&v, "get-vanilla", "header-signed-request.txt"))
        return;
    char val[1024];
    const char *cred = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

    snprintf(val, sizeof val, "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=%s",
             v.sig);
    expect_malformed_auth(&v, "no Credential", val);

    snprintf(val, sizeof val,
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service, "
             "SignedHeaders=host;x-amz-date, Signature=%s",
             v.sig);
    expect_malformed_auth(&v, "4-part scope", val);

    snprintf(val, sizeof val,
             "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=host;x-amz-date, Signature=%.63s", cred,
             v.sig);
    expect_malformed_auth(&v, "63-char signature", val);

    char bad[65];
    copy_str(bad, sizeof bad, v.sig);
    bad[10] = 'g';
    snprintf(val, sizeof val,
             "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=host;x-amz-date, Signature=%s", cred,
             bad);
    expect_malformed_auth(&v, "non-hex signature", val);

    snprintf(val, sizeof val,
             "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=x-amz-date, Signature=%s", cred, v.sig);
    expect_malformed_auth(&v, "SignedHeaders without host", val);

    snprintf(val, sizeof val,
             "AWS4-HMAC-SHA1 Credential=%s, SignedHeaders=host;x-amz-date, Signature=%s", cred,
             v.sig);
    expect_malformed_auth(&v, "algorithm AWS4-HMAC-SHA1", val);

    snprintf(val, sizeof val,
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/service/aws4_request, "
             "SignedHeaders=host;x-amz-date, Signature=%s",
             v.sig);
    expect_malformed_auth(&v, "scope date != X-Amz-Date date", val);

    /* the date header itself */
    set_header(&v.h, "X-Amz-Date", NULL);
    expect_malformed_auth(&v, "no X-Amz-Date", v.auth);
    set_header(&v.h, "X-Amz-Date", "2015-08-30T12:36:00Z");
    expect_malformed_auth(&v, "X-Amz-Date 2015-08-30T12:36:00Z", v.auth);
    set_header(&v.h, "X-Amz-Date", "20150830T1236");
    expect_malformed_auth(&v, "X-Amz-Date 20150830T1236", v.auth);
    http_req_free(&v.h);
}

static void test_signed_header_absent(void **state)
{
    (void)state;
    struct vanilla v;
    if (!load_signed(&v, "get-vanilla", "header-signed-request.txt"))
        return;
    char val[1024];
    snprintf(val, sizeof val,
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
             "SignedHeaders=host;my-header1;x-amz-date, Signature=%s",
             v.sig);
    set_header(&v.h, "Authorization", val);
    enum sigv4_status s = verify_now(&v);
    printf("signed header absent: %s\n", status_name(s));
    assert_true(s == SIGV4_MALFORMED || s == SIGV4_MISMATCH);
    http_req_free(&v.h);
}

static void test_modified_body(void **state)
{
    (void)state;
    /* post-vanilla: no x-amz-content-sha256, the payload hash comes from the body */
    struct vanilla v;
    if (!load_signed(&v, "post-vanilla", "header-signed-request.txt"))
        return;
    assert_int_equal(find_header(&v.h, "x-amz-content-sha256"), -1);
    assert_int_equal(verify_now(&v), SIGV4_OK);
    v.h.req.body = "x";
    v.h.req.body_len = 1;
    assert_int_equal(verify_now(&v), SIGV4_MISMATCH);
    http_req_free(&v.h);

    /* a presigned POST with a body that is hashed */
    if (!load_signed(&v, "post-x-www-form-urlencoded", "query-signed-request.txt"))
        return;
    assert_true(v.h.req.body_len > 0);
    assert_int_equal(verify_now(&v), SIGV4_OK);
    char body[64];
    snprintf(body, sizeof body, "%.*s", (int)v.h.req.body_len, (const char *)v.h.req.body);
    body[v.h.req.body_len - 1] ^= 1;
    v.h.req.body = body;
    assert_int_equal(verify_now(&v), SIGV4_MISMATCH);
    http_req_free(&v.h);
}

static void test_presigned_expiry(void **state)
{
    (void)state;
    struct vanilla v;
    if (!load_signed(&v, "get-vanilla", "query-signed-request.txt"))
        return;
    assert_true(v.c.expires > 0);
    const int64_t exp_ms = (int64_t)v.c.expires * 1000;
    assert_int_equal(verify_at(&v, v.c.now_ms + exp_ms - 1000), SIGV4_OK);
    assert_int_equal(verify_at(&v, v.c.now_ms + exp_ms + 1000), SIGV4_EXPIRED);
    assert_int_equal(verify_at(&v, v.c.now_ms + 2 * exp_ms), SIGV4_EXPIRED);
    http_req_free(&v.h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_header),
        cmocka_unit_test(test_suite_query),
        cmocka_unit_test(test_signer_suite),
        cmocka_unit_test(test_signer_refuses_what_does_not_fit),
        cmocka_unit_test(test_bad_signature_byte),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_clock_skew),
        cmocka_unit_test(test_bad_scope),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_signed_header_absent),
        cmocka_unit_test(test_modified_body),
        cmocka_unit_test(test_presigned_expiry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
