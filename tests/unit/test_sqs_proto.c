/*
 * Unit tests: SQS's two wire protocols as data (STYLE.md rule 14). Every file
 * tests/data/sqs/proto/<name>.json is {"cases": [case, ...]}, each case a list of steps run
 * against a fresh engine (temporary store, manual clock) through the adapters' handlers —
 * the router's work (choosing the row, the operation and the caller) done here:
 *
 *   {"name": s, "steps": [step, ...]}
 *   step = {"protocol": "json"|"query", "op": s,          (JSON: the X-Amz-Target suffix)
 *           "body": object|string,                       (JSON object, or raw text)
 *           "path": s (default "/"), "query": s,          (query: Action= is in the body)
 *           "expect": {"status": n, "headers": {name: value},
 *                      "json": object (subset match; "*" = any value, "$absent" = no member),
 *                      "xml": [s, ...] (substrings), "not_xml": [s, ...]},
 *           "capture": {var: "/json/pointer" | "XmlElement"}}
 *        | {"advance": seconds}
 * Strings may use ${var} for captured values. One driver replays every case of every file.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cloud/proto/proto.h"
#include "cloud/sqs/proto_json.h"
#include "cloud/sqs/proto_query.h"
#include "cloud/sqs/queue.h"
#include "cloud/store/store.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/timer.h"

#define T0 1767225600000LL

static char dir[128];
static struct store *st;
static struct sqs *sq;
static struct proto_service svc_json, svc_query;
static int64_t now_ms;

/* ---- a fake connection ---- */

struct answer {
    int calls;
    int status;
    char headers[2048];
    char *body;
    size_t len;
};

static void fake_respond(struct proto_req *r, int status, const struct proto_hdr *h, size_t n,
                         const void *body, size_t len)
{
    struct answer *a = r->conn;
    a->calls++;
    a->status = status;
    a->headers[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(a->headers);
        size_t vl = h[i].value_len ? h[i].value_len : strlen(h[i].value);
        snprintf(a->headers + used, sizeof a->headers - used, "%s: %.*s\n", h[i].name, (int)vl,
                 h[i].value);
    }
    free(a->body);
    a->body = malloc(len + 1);
    memcpy(a->body, body, len);
    a->body[len] = '\0';
    a->len = len;
}

static void fake_gone(struct proto_req *r, void (*fn)(void *), void *arg)
{
    (void)r;
    (void)fn;
    (void)arg;
}

static const struct proto_conn_ops ops = {.respond = fake_respond, .on_gone = fake_gone};

/* ---- variables ---- */

struct vars {
    json_t *v; /* object of captured strings */
};

/* Replaces ${name} in s; new string. */
static char *subst(const struct vars *vars, const char *s)
{
    size_t cap = strlen(s) + 1;
    char *out = malloc(cap);
    size_t o = 0;
    while (*s) {
        const char *end;
        if (s[0] == '$' && s[1] == '{' && (end = strchr(s, '}')) != NULL) {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(end - s - 2), s + 2);
            const char *val = json_string_value(json_object_get(vars->v, name));
            if (val == NULL)
                fail_msg("unknown variable %s", name);
            size_t vl = strlen(val);
            cap += vl;
            out = realloc(out, cap);
            memcpy(out + o, val, vl);
            o += vl;
            s = end + 1;
            continue;
        }
        out[o++] = *s++;
    }
    out[o] = '\0';
    return out;
}

static json_t *subst_json(const struct vars *vars, const json_t *j)
{
    if (json_is_string(j)) {
        char *s = subst(vars, json_string_value(j));
        json_t *r = json_string(s);
        free(s);
        return r;
    }
    if (json_is_object(j)) {
        json_t *o = json_object();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) json_object_set_new(o, k, subst_json(vars, v));
        return o;
    }
    if (json_is_array(j)) {
        json_t *a = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) json_array_append_new(a, subst_json(vars, v));
        return a;
    }
    return json_deep_copy(j);
}

/* ---- matching ---- */

static bool matches(const json_t *want, const json_t *got, char *why, size_t wl, const char *at)
{
    if (json_is_string(want) && strcmp(json_string_value(want), "*") == 0)
        return got != NULL;
    if (json_is_object(want)) {
        if (!json_is_object(got)) {
            snprintf(why, wl, "%s: not an object", at);
            return false;
        }
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)want, k, v)
        {
            char path[256];
            snprintf(path, sizeof path, "%s/%s", at, k);
            json_t *g = json_object_get(got, k);
            if (json_is_string(v) && strcmp(json_string_value(v), "$absent") == 0) {
                if (g != NULL) {
                    snprintf(why, wl, "%s: present", path);
                    return false;
                }
                continue;
            }
            if (g == NULL) {
                snprintf(why, wl, "%s: absent", path);
                return false;
            }
            if (!matches(v, g, why, wl, path))
                return false;
        }
        return true;
    }
    if (json_is_array(want)) {
        if (!json_is_array(got) || json_array_size(got) != json_array_size(want)) {
            snprintf(why, wl, "%s: array of %zu, want %zu", at, json_array_size(got),
                     json_array_size(want));
            return false;
        }
        for (size_t i = 0; i < json_array_size(want); i++) {
            char path[256];
            snprintf(path, sizeof path, "%s/%zu", at, i);
            if (!matches(json_array_get(want, i), json_array_get(got, i), why, wl, path))
                return false;
        }
        return true;
    }
    if (!json_equal(want, got)) {
        char *w = json_dumps(want, JSON_ENCODE_ANY), *g = json_dumps(got, JSON_ENCODE_ANY);
        snprintf(why, wl, "%s: got %s, want %s", at, g ? g : "(null)", w ? w : "?");
        free(w);
        free(g);
        return false;
    }
    return true;
}

static json_t *pointer(json_t *j, const char *p)
{
    char part[128];
    while (*p == '/') {
        p++;
        size_t n = strcspn(p, "/");
        snprintf(part, sizeof part, "%.*s", (int)n, p);
        p += n;
        if (json_is_array(j))
            j = json_array_get(j, strtoul(part, NULL, 10));
        else
            j = json_object_get(j, part);
    }
    return j;
}

/* ---- running ---- */

static void settle(void)
{
    for (int i = 0; i < 8; i++) {
        store_flush(st);
        timer_run_due();
    }
}

static void run_step(const char *file, const char *cname, size_t si, json_t *step,
                     struct vars *vars)
{
    json_t *adv = json_object_get(step, "advance");
    if (adv) {
        now_ms += (int64_t)(json_number_value(adv) * 1000);
        timer_advance(now_ms);
        settle();
        return;
    }
    const char *proto = json_string_value(json_object_get(step, "protocol"));
    bool query = proto && strcmp(proto, "query") == 0;
    json_t *body = json_object_get(step, "body");
    char *text = NULL;
    if (json_is_string(body)) {
        text = subst(vars, json_string_value(body));
    } else if (body) {
        json_t *b = subst_json(vars, body);
        text = json_dumps(b, JSON_COMPACT);
        json_decref(b);
    } else {
        text = strdup("");
    }
    char *path = subst(vars, json_string_value(json_object_get(step, "path"))
                                 ? json_string_value(json_object_get(step, "path"))
                                 : "/");
    const char *qs = json_string_value(json_object_get(step, "query"));
    char *query_str = subst(vars, qs ? qs : "");
    char op[64] = "";
    if (query) {
        /* the router's work: Action= from the body or the query string */
        const char *src[2] = {text, query_str};
        for (int k = 0; k < 2 && !op[0]; k++) {
            const char *a = strstr(src[k], "Action=");
            if (a && (a == src[k] || a[-1] == '&'))
                snprintf(op, sizeof op, "%.*s", (int)strcspn(a + 7, "&"), a + 7);
        }
    } else {
        snprintf(op, sizeof op, "%s", json_string_value(json_object_get(step, "op")));
    }
    const char *ct =
        query ? "application/x-www-form-urlencoded; charset=utf-8" : "application/x-amz-json-1.0";
    struct proto_hdr hdrs[1] = {{"content-type", ct, strlen(ct)}};
    struct answer a = {0};
    struct proto_req r = {.method = "POST",
                          .method_len = 4,
                          .path = path,
                          .path_len = strlen(path),
                          .query = query_str,
                          .query_len = strlen(query_str),
                          .body = text,
                          .body_len = strlen(text),
                          .headers = hdrs,
                          .nheaders = 1,
                          .authority = "127.0.0.1:4566",
                          .authority_len = 14,
                          .request_id = "00000000-0000-4000-8000-000000000000",
                          .service = query ? &svc_query : &svc_json,
                          .op = op,
                          .op_len = strlen(op),
                          .ops = &ops,
                          .conn = &a};
    snprintf(r.caller.user_id, sizeof r.caller.user_id, "000000000000");
    snprintf(r.caller.account, sizeof r.caller.account, "000000000000");
    r.service->handle(r.service->engine, &r);
    settle();
    char where[512];
    snprintf(where, sizeof where, "%s: %s: step %zu (%s %s)", file, cname, si,
             query ? "query" : "json", op);
    if (a.calls != 1)
        fail_msg("%s: answered %d times", where, a.calls);
    json_t *exp = json_object_get(step, "expect");
    json_t *status = json_object_get(exp, "status");
    if (status && json_integer_value(status) != a.status)
        fail_msg("%s: status %d, want %lld\n%s", where, a.status,
                 (long long)json_integer_value(status), a.body);
    const char *hk;
    json_t *hv;
    json_object_foreach(json_object_get(exp, "headers"), hk, hv)
    {
        char line[512];
        snprintf(line, sizeof line, "%s: %s\n", hk, json_string_value(hv));
        if (strstr(a.headers, line) == NULL)
            fail_msg("%s: no header \"%s: %s\" in\n%s", where, hk, json_string_value(hv),
                     a.headers);
    }
    json_t *want = json_object_get(exp, "json");
    json_t *got = NULL;
    if (!query)
        got = json_loadb(a.body, a.len, 0, NULL);
    if (want) {
        json_t *w = subst_json(vars, want);
        char why[1024];
        if (!matches(w, got, why, sizeof why, ""))
            fail_msg("%s: %s\nbody: %s", where, why, a.body);
        json_decref(w);
    }
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(exp, "xml"), i, x)
    {
        char *s = subst(vars, json_string_value(x));
        if (strstr(a.body, s) == NULL)
            fail_msg("%s: no \"%s\" in\n%s", where, s, a.body);
        free(s);
    }
    json_array_foreach(json_object_get(exp, "not_xml"), i, x)
    {
        if (strstr(a.body, json_string_value(x)) != NULL)
            fail_msg("%s: \"%s\" in\n%s", where, json_string_value(x), a.body);
    }
    const char *var;
    json_t *from;
    json_object_foreach(json_object_get(step, "capture"), var, from)
    {
        const char *f = json_string_value(from);
        if (f[0] == '/') {
            json_t *v = pointer(got, f);
            if (!json_is_string(v))
                fail_msg("%s: nothing to capture at %s\n%s", where, f, a.body);
            json_object_set(vars->v, var, v);
        } else {
            char open[96], close_[96];
            snprintf(open, sizeof open, "<%s>", f);
            snprintf(close_, sizeof close_, "</%s>", f);
            const char *p = strstr(a.body, open), *e = p ? strstr(p, close_) : NULL;
            if (e == NULL)
                fail_msg("%s: no <%s> to capture\n%s", where, f, a.body);
            p += strlen(open);
            char *v = strndup(p, (size_t)(e - p));
            json_object_set_new(vars->v, var, json_string(v));
            free(v);
        }
    }
    json_decref(got);
    free(a.body);
    free(text);
    free(path);
    free(query_str);
}

static void open_engine(void)
{
    char err[512];
    snprintf(dir, sizeof dir, "/tmp/haar-test-sqs-proto-%d", (int)getpid());
    fs_remove_tree(dir);
    assert_int_equal(fs_mkdir_p(dir, 0700), 0);
    now_ms = T0;
    clock_set_manual(T0);
    st = store_open(dir, err, sizeof err);
    assert_non_null(st);
    struct sqs_options o = {
        .region = "eu-west-1", .account = "000000000000", .url_base = "http://127.0.0.1:4566"};
    sq = sqs_new(st, &o, err, sizeof err);
    assert_non_null(sq);
    sqs_json_service(sq, &svc_json);
    sqs_query_service(sq, &svc_query);
}

static void close_engine(void)
{
    store_flush(st);
    sqs_free(sq);
    store_close(st);
    fs_remove_tree(dir);
}

static void test_files(void **state)
{
    (void)state;
    const char *root = getenv("HAAR_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/sqs/proto", root ? root : ".");
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    int files = 0, cases = 0;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char file[1400];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        json_error_t je;
        json_t *doc = json_load_file(file, 0, &je);
        if (doc == NULL)
            fail_msg("%s:%d: %s", file, je.line, je.text);
        files++;
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(doc, "cases"), i, c)
        {
            const char *cname = json_string_value(json_object_get(c, "name"));
            open_engine();
            struct vars vars = {json_object()};
            size_t si;
            json_t *step;
            json_array_foreach(json_object_get(c, "steps"), si, step)
                run_step(e->d_name, cname ? cname : "?", si, step, &vars);
            json_decref(vars.v);
            close_engine();
            cases++;
        }
        json_decref(doc);
    }
    closedir(d);
    printf("sqs proto: %d files, %d cases\n", files, cases);
    assert_true(cases > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_files)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
