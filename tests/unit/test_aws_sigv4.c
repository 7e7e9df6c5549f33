/*
 * Unit tests: the signer's side of core/sigv4 (sigv4_authorization), which the functions'
 * AWS client signs every request with.
 *
 *  - vectors: every case of AWS's SigV4 test suite (tests/data/sigv4/v4/<case>/): the
 *    unsigned request.txt is given X-Amz-Date (and X-Amz-Security-Token, and
 *    X-Amz-Content-Sha256 when the case signs the body) as an SDK adds them, signed, and the
 *    signature compared with header-signature.txt and the whole Authorization header with
 *    the one in header-signed-request.txt.
 *  - botocore: tests/aws/sigv4_botocore.py (Debian's /usr/bin/python3 and botocore)
 *    generates random requests — paths with dot segments and encoded bytes, repeated and
 *    unsorted query keys, repeated headers with untrimmed values, bodies, session tokens,
 *    scopes — and signs each with botocore's SigV4Auth; the C signer must produce the same
 *    Authorization header for every one (a differential test).
 *  - failures: a missing Host or X-Amz-Date, a bad date, too many headers.
 * Every mismatch is printed before a test fails. A missing suite or botocore fails (never
 * skips).
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
#include <strings.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/codec.h"
#include "core/sigv4.h"

enum { MAX_HEADERS = 80, BOTOCORE_CASES = 2000 };

static const char *source_dir(void)
{
    const char *s = getenv("HAAR_SOURCE_DIR");
    return s && *s ? s : ".";
}

static char *slurp(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    struct buf b;
    char chunk[4096];
    size_t n;
    if (f == NULL)
        return NULL;
    buf_init(&b, 1u << 20);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&b, chunk, n) != BUF_OK)
            break;
    fclose(f);
    (void)buf_append(&b, "", 0);
    return buf_take(&b, len_out);
}

/* A request in the suite's request.txt form, parsed into owned strings. */
struct parsed {
    char method[16];
    char *path, *query;
    char *names[MAX_HEADERS], *values[MAX_HEADERS];
    size_t n;
    char *body;
    size_t body_len;
};

static void parsed_free(struct parsed *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->names[i]);
        free(p->values[i]);
    }
    free(p->path);
    free(p->query);
    free(p->body);
    memset(p, 0, sizeof *p);
}

static char *dupn(const char *s, size_t n)
{
    char *r = malloc(n + 1);
    assert_non_null(r);
    memcpy(r, s, n);
    r[n] = '\0';
    return r;
}

static void add_header(struct parsed *p, const char *name, const char *value)
{
    assert_true(p->n < MAX_HEADERS);
    p->names[p->n] = dupn(name, strlen(name));
    p->values[p->n] = dupn(value, strlen(value));
    p->n++;
}

/* "METHOD TARGET HTTP/1.1", header lines ("Name:value"; lines starting with blanks continue
 * the previous value), an empty line, the body. */
static int parse_request(const char *text, size_t len, struct parsed *p)
{
    memset(p, 0, sizeof *p);
    const char *end = text + len, *line = text;
    bool first = true;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *eol = nl ? nl : end;
        size_t n = (size_t)(eol - line);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (first) {
            const char *sp1 = memchr(line, ' ', n);
            const char *sp2 = sp1 ? memrchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line)) : NULL;
            if (sp1 == NULL || sp2 == NULL || (size_t)(sp1 - line) >= sizeof p->method)
                return -1;
            memcpy(p->method, line, (size_t)(sp1 - line));
            const char *target = sp1 + 1, *q = memchr(target, '?', (size_t)(sp2 - target));
            p->path = dupn(target, (size_t)((q ? q : sp2) - target));
            p->query = q ? dupn(q + 1, (size_t)(sp2 - q - 1)) : NULL;
            first = false;
        } else if (n == 0) {
            const char *body = nl ? nl + 1 : end;
            p->body_len = (size_t)(end - body);
            p->body = dupn(body, p->body_len);
            return 0;
        } else if ((line[0] == ' ' || line[0] == '\t') && p->n > 0) {
            char *prev = p->values[p->n - 1];
            size_t pl = strlen(prev);
            char *joined = malloc(pl + n + 2);
            assert_non_null(joined);
            memcpy(joined, prev, pl);
            joined[pl] = '\n'; /* the signer collapses it with the blanks around it */
            memcpy(joined + pl + 1, line, n);
            joined[pl + 1 + n] = '\0';
            free(prev);
            p->values[p->n - 1] = joined;
        } else {
            const char *colon = memchr(line, ':', n);
            if (colon == NULL || p->n == MAX_HEADERS)
                return -1;
            p->names[p->n] = dupn(line, (size_t)(colon - line));
            p->values[p->n] = dupn(colon + 1, n - (size_t)(colon + 1 - line));
            p->n++;
        }
        line = nl ? nl + 1 : end;
    }
    return 0;
}

static void to_sigv4(const struct parsed *p, struct sigv4_header *h, struct sigv4_request *r)
{
    for (size_t i = 0; i < p->n; i++)
        h[i] = (struct sigv4_header){p->names[i], strlen(p->names[i]), p->values[i],
                                     strlen(p->values[i])};
    *r = (struct sigv4_request){.method = p->method,
                                .method_len = strlen(p->method),
                                .path = p->path,
                                .path_len = strlen(p->path),
                                .query = p->query,
                                .query_len = p->query ? strlen(p->query) : 0,
                                .headers = h,
                                .nheaders = p->n,
                                .body = p->body,
                                .body_len = p->body_len};
}

static void trim_newlines(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* The Authorization header's value in a signed request, or NULL. */
static char *authorization_of(const char *signed_req)
{
    const char *a = strstr(signed_req, "\nAuthorization:");
    if (a == NULL)
        return NULL;
    a += strlen("\nAuthorization:");
    const char *e = strchr(a, '\n');
    char *v = dupn(a, e ? (size_t)(e - a) : strlen(a));
    trim_newlines(v);
    return v;
}

/* ---- the suite's vectors ---- */

static int sign_case(const char *dir, const char *name)
{
    char path[8192];
    size_t len;
    int failures = 0;
    struct parsed p;
    struct sigv4_header h[MAX_HEADERS];
    struct sigv4_request r;
    json_error_t je;

    snprintf(path, sizeof path, "%s/%s/context.json", dir, name);
    json_t *ctx = json_load_file(path, 0, &je);
    snprintf(path, sizeof path, "%s/%s/request.txt", dir, name);
    char *req = slurp(path, &len);
    snprintf(path, sizeof path, "%s/%s/header-signature.txt", dir, name);
    char *want_sig = slurp(path, NULL);
    snprintf(path, sizeof path, "%s/%s/header-signed-request.txt", dir, name);
    char *signed_req = slurp(path, NULL);
    if (ctx == NULL || req == NULL || want_sig == NULL || signed_req == NULL) {
        printf("FAIL %s: the case's files are incomplete\n", name);
        failures = 1;
        goto done;
    }
    trim_newlines(want_sig);
    if (parse_request(req, len, &p) != 0) {
        printf("FAIL %s: request.txt does not parse\n", name);
        failures = 1;
        goto done;
    }
    const char *key = NULL, *secret = NULL, *token = NULL, *region = NULL, *service = NULL,
               *ts = NULL;
    int normalize = 1, sign_body = 0, omit_token = 0;
    json_unpack(ctx, "{s:{s:s,s:s,s?s},s:s,s:s,s:s,s?b,s?b,s?b}", "credentials", "access_key_id",
                &key, "secret_access_key", &secret, "token", &token, "region", &region, "service",
                &service, "timestamp", &ts, "normalize", &normalize, "sign_body", &sign_body,
                "omit_session_token", &omit_token);
    /* "2015-08-30T12:36:00Z" -> "20150830T123600Z", added as an SDK adds it */
    char amz[17] = {ts[0],  ts[1],  ts[2],  ts[3],  ts[5],  ts[6],  ts[8], ts[9], 'T',
                    ts[11], ts[12], ts[14], ts[15], ts[17], ts[18], 'Z',   '\0'};
    add_header(&p, "X-Amz-Date", amz);
    if (token != NULL && !omit_token)
        add_header(&p, "X-Amz-Security-Token", token);
    if (sign_body) {
        unsigned char d[32];
        char hex[65];
        codec_sha256(p.body, p.body_len, d);
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", d[i]);
        add_header(&p, "X-Amz-Content-Sha256", hex);
    }
    to_sigv4(&p, h, &r);
    struct buf out;
    buf_init(&out, 8192);
    if (sigv4_authorization(&r, key, secret, region, service, amz, normalize, &out) != 0) {
        printf("FAIL %s: sigv4_authorization failed\n", name);
        failures = 1;
    } else {
        const char *sig = strstr(out.data, "Signature=");
        char *want_auth = authorization_of(signed_req);
        if (sig == NULL || strcmp(sig + 10, want_sig) != 0) {
            printf("FAIL %s: signature\n  got  %s\n  want %s\n", name, sig ? sig + 10 : "-",
                   want_sig);
            failures = 1;
        } else if (want_auth == NULL || strcmp(out.data, want_auth) != 0) {
            printf("FAIL %s: Authorization\n  got  %s\n  want %s\n", name, out.data,
                   want_auth ? want_auth : "-");
            failures = 1;
        }
        free(want_auth);
    }
    buf_destroy(&out);
    parsed_free(&p);
done:
    json_decref(ctx);
    free(req);
    free(want_sig);
    free(signed_req);
    return failures;
}

static void test_suite_vectors(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data/sigv4/v4", source_dir());
    DIR *d = opendir(dir);
    if (d == NULL)
        printf("FAIL: the SigV4 test suite is missing at %s\n", dir);
    assert_non_null(d);
    int cases = 0, failures = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        cases++;
        failures += sign_case(dir, e->d_name);
    }
    closedir(d);
    printf("signer: %d suite cases, %d failed\n", cases, failures);
    assert_true(cases >= 30);
    assert_int_equal(failures, 0);
}

/* ---- the differential test against botocore ---- */

static int botocore_case(const char *line, int index)
{
    json_error_t je;
    json_t *c = json_loads(line, 0, &je), *headers;
    const char *method, *path, *query, *body64, *key, *secret, *region, *service, *want;
    struct sigv4_header h[MAX_HEADERS];
    struct buf body, out;
    int failed = 0;

    if (c == NULL || json_unpack(c, "{s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:s,s:s}", "method", &method,
                                 "path", &path, "query", &query, "headers", &headers, "body",
                                 &body64, "access_key", &key, "secret", &secret, "region", &region,
                                 "service", &service, "authorization", &want) != 0) {
        printf("FAIL botocore case %d: unreadable line\n", index);
        json_decref(c);
        return 1;
    }
    size_t n = json_array_size(headers);
    assert_true(n <= MAX_HEADERS);
    for (size_t i = 0; i < n; i++) {
        const char *hn = json_string_value(json_array_get(json_array_get(headers, i), 0));
        const char *hv = json_string_value(json_array_get(json_array_get(headers, i), 1));
        h[i] = (struct sigv4_header){hn, strlen(hn), hv, strlen(hv)};
    }
    buf_init(&body, 1u << 20);
    buf_init(&out, 8192);
    assert_int_equal(codec_b64_decode(body64, strlen(body64), &body), BUF_OK);
    struct sigv4_request r = {.method = method,
                              .method_len = strlen(method),
                              .path = path,
                              .path_len = strlen(path),
                              .query = query,
                              .query_len = strlen(query),
                              .headers = h,
                              .nheaders = n,
                              .body = body.data,
                              .body_len = body.len};
    const char *amz = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(h[i].name, "x-amz-date") == 0)
            amz = h[i].value;
    if (amz == NULL ||
        sigv4_authorization(&r, key, secret, region, service, amz, true, &out) != 0 ||
        strcmp(out.data, want) != 0) {
        printf("FAIL botocore case %d:\n  request %s\n  got  %s\n  want %s\n", index, line,
               out.data ? out.data : "(failed)", want);
        failed = 1;
    }
    buf_destroy(&body);
    buf_destroy(&out);
    json_decref(c);
    return failed;
}

static void test_botocore_differential(void **state)
{
    (void)state;
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 '%s/tests/aws/sigv4_botocore.py' --count %d --seed 20260101",
             source_dir(), BOTOCORE_CASES);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    struct buf line;
    buf_init(&line, 1u << 22);
    int cases = 0, failures = 0, ch;
    while ((ch = fgetc(f)) != EOF) {
        if (ch != '\n') {
            char c = (char)ch;
            assert_int_equal(buf_append(&line, &c, 1), BUF_OK);
            continue;
        }
        (void)buf_append(&line, "", 0);
        failures += botocore_case(line.data, cases);
        if (failures > 10)
            break;
        cases++;
        buf_reset(&line);
    }
    int status = pclose(f);
    buf_destroy(&line);
    printf("signer vs botocore: %d generated requests, %d differ\n", cases, failures);
    if (failures <= 10)
        assert_int_equal(status, 0); /* the generator ran (botocore present) */
    assert_int_equal(failures, 0);
    assert_int_equal(cases, BOTOCORE_CASES);
}

/* ---- what the signer refuses ---- */

static void test_refusals(void **state)
{
    (void)state;
    struct sigv4_header h[3] = {{"Host", 4, "example.amazonaws.com", 21},
                                {"X-Amz-Date", 10, "20150830T123600Z", 16},
                                {"X-Amz-Target", 12, "AmazonSQS.SendMessage", 21}};
    struct sigv4_request r = {
        .method = "POST", .method_len = 4, .path = "/", .path_len = 1, .headers = h, .nheaders = 3};
    struct buf out;
    buf_init(&out, 4096);
    assert_int_equal(sigv4_authorization(&r, "AKID", "secret", "eu-west-1", "sqs",
                                         "20150830T123600Z", true, &out),
                     0);
    assert_non_null(strstr(out.data, "SignedHeaders=host;x-amz-date;x-amz-target, "));
    assert_non_null(strstr(out.data, "Credential=AKID/20150830/eu-west-1/sqs/aws4_request"));

    /* no Host */
    buf_reset(&out);
    r.headers = h + 1;
    r.nheaders = 2;
    assert_int_equal(
        sigv4_authorization(&r, "AKID", "s", "eu-west-1", "sqs", "20150830T123600Z", true, &out),
        -1);
    /* no X-Amz-Date header: signed for amz_date all the same (load generators do this) */
    struct sigv4_header h2[1] = {{"Host", 4, "x", 1}};
    r.headers = h2;
    r.nheaders = 1;
    assert_int_equal(
        sigv4_authorization(&r, "AKID", "s", "eu-west-1", "sqs", "20150830T123600Z", true, &out),
        0);
    assert_non_null(strstr(out.data, "/20150830/eu-west-1/sqs/aws4_request, SignedHeaders=host, "));
    /* an amz_date that is not one */
    buf_reset(&out);
    assert_int_equal(
        sigv4_authorization(&r, "AKID", "s", "eu-west-1", "sqs", "2015-08-30", true, &out), -1);
    assert_int_equal(out.len, 0);
    /* an X-Amz-Date header that is not the date signed for */
    struct sigv4_header h3[2] = {{"Host", 4, "x", 1}, {"X-Amz-Date", 10, "20150830T123601Z", 16}};
    r.headers = h3;
    r.nheaders = 2;
    assert_int_equal(
        sigv4_authorization(&r, "AKID", "s", "eu-west-1", "sqs", "20150830T123600Z", true, &out),
        -1);
    /* more headers than a signature may list */
    struct sigv4_header many[70];
    char names[70][8];
    many[0] = h[0];
    many[1] = h[1];
    for (int i = 2; i < 70; i++) {
        snprintf(names[i], sizeof names[i], "x-h%d", i);
        many[i] = (struct sigv4_header){names[i], strlen(names[i]), "v", 1};
    }
    r.headers = many;
    r.nheaders = 70;
    assert_int_equal(
        sigv4_authorization(&r, "AKID", "s", "eu-west-1", "sqs", "20150830T123600Z", true, &out),
        -1);
    /* repeated and unsigned headers: each name once, User-Agent and Expect left out */
    struct sigv4_header h4[5] = {{"host", 4, "x", 1},
                                 {"X-Amz-Date", 10, "20150830T123600Z", 16},
                                 {"User-Agent", 10, "haar", 4},
                                 {"x-a", 3, "1", 1},
                                 {"X-A", 3, " 2 ", 3}};
    r.headers = h4;
    r.nheaders = 5;
    buf_reset(&out);
    assert_int_equal(
        sigv4_authorization(&r, "AKID", "s", "eu-west-1", "sqs", "20150830T123600Z", true, &out),
        0);
    assert_non_null(strstr(out.data, "SignedHeaders=host;x-a;x-amz-date, "));
    buf_destroy(&out);
}

/* What the signer signs, the verifier accepts (the same code, both ways). */
static const char *secret_of(void *arg, const char *key, const char *token)
{
    (void)token;
    return strcmp(key, "AKIDTEST") == 0 ? arg : NULL;
}

static void test_round_trip(void **state)
{
    (void)state;
    char date[17];
    int64_t now = 1767225600000LL; /* 2026-01-01T00:00:00Z */
    sigv4_format_amz_date(now, date);
    assert_string_equal(date, "20260101T000000Z");
    const char *body = "{\"QueueUrl\":\"http://127.0.0.1:4566/000000000000/q\"}";
    struct sigv4_header h[5] = {{"Host", 4, "127.0.0.1:4566", 14},
                                {"X-Amz-Date", 10, date, 16},
                                {"Content-Type", 12, "application/x-amz-json-1.0", 26},
                                {"X-Amz-Target", 12, "AmazonSQS.SendMessage", 21},
                                {"Authorization", 13, NULL, 0}};
    struct sigv4_request r = {.method = "POST",
                              .method_len = 4,
                              .path = "/",
                              .path_len = 1,
                              .headers = h,
                              .nheaders = 4,
                              .body = body,
                              .body_len = strlen(body)};
    struct buf auth;
    buf_init(&auth, 4096);
    assert_int_equal(
        sigv4_authorization(&r, "AKIDTEST", "sekrit", "eu-west-1", "sqs", date, true, &auth), 0);
    h[4].value = auth.data;
    h[4].value_len = auth.len;
    r.nheaders = 5;
    char msg[2048];
    assert_int_equal(sigv4_verify(&r, "eu-west-1", "sqs", true, now + 1000, secret_of, "sekrit",
                                  msg, sizeof msg),
                     SIGV4_OK);
    /* one changed body byte: refused */
    char changed[128];
    snprintf(changed, sizeof changed, "%s", body);
    changed[3] = 'X';
    r.body = changed;
    assert_int_equal(sigv4_verify(&r, "eu-west-1", "sqs", true, now + 1000, secret_of, "sekrit",
                                  msg, sizeof msg),
                     SIGV4_MISMATCH);
    buf_destroy(&auth);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_vectors),
        cmocka_unit_test(test_botocore_differential),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
