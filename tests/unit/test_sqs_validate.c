/*
 * Unit tests: the pure SQS validators (validate.c, attrs.c, qattrs.c, receipt.c) as data.
 *
 * Every file tests/data/sqs/<name>.json is {"cases": [case, ...]} with
 *   case = {"name": s, "check": s, "in": {...}, "expect": {...}}
 * and expect either {"ok": true, "out": {...}} or
 *   {"code": <query code>, "status": n, "message": s, "json_type": <JSON shape>, "out": {...}}
 * ("json_type" and "out" optional; "out" members are compared with json_equal). The check
 * names a function of the table below, which runs the validator on "in" and reports its
 * error, message and outputs. One driver replays every case of every file.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cloud/sqs/attrs.h"
#include "cloud/sqs/errors.h"
#include "cloud/sqs/md5.h"
#include "cloud/sqs/qattrs.h"
#include "cloud/sqs/receipt.h"
#include "cloud/sqs/validate.h"

struct result {
    enum err rc;
    char msg[2048];
    json_t *out; /* object; members the case may compare */
};

static struct sqs_str jstr(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    struct sqs_str s = {NULL, 0};
    if (json_is_string(v)) {
        s.p = json_string_value(v);
        s.len = json_string_length(v);
    }
    return s;
}

static bool jbool(const json_t *obj, const char *key)
{
    return json_is_true(json_object_get(obj, key));
}

static bool jint(const json_t *obj, const char *key, long long *v)
{
    json_t *j = json_object_get(obj, key);
    if (!json_is_integer(j))
        return false;
    *v = json_integer_value(j);
    return true;
}

/* "body_hex": raw bytes for inputs JSON cannot carry (invalid UTF-8, NUL). */
static struct sqs_str jbytes(const json_t *obj, const char *key, char *scratch, size_t cap)
{
    char hexkey[64];
    snprintf(hexkey, sizeof(hexkey), "%s_hex", key);
    const char *hex = json_string_value(json_object_get(obj, hexkey));
    if (hex == NULL)
        return jstr(obj, key);
    size_t n = strlen(hex) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        scratch[i] = (char)v;
    }
    struct sqs_str s = {scratch, n};
    return s;
}

/* Up to 16 strings of a JSON array (null entries stay absent). */
static size_t jstrs(const json_t *arr, struct sqs_str *out, size_t cap)
{
    size_t n = 0;
    for (; n < json_array_size(arr) && n < cap; n++) {
        json_t *v = json_array_get(arr, n);
        out[n].p = json_is_string(v) ? json_string_value(v) : NULL;
        out[n].len = json_is_string(v) ? json_string_length(v) : 0;
    }
    return n;
}

/* ---- checks ----------------------------------------------------------------------------- */

static void check_queue_name(const json_t *in, struct result *r)
{
    r->rc = sqs_check_queue_name(jstr(in, "name"), jbool(in, "fifo"), r->msg, sizeof(r->msg));
}

static void check_queue_url(const json_t *in, struct result *r)
{
    struct sqs_queue_ref ref;
    r->rc = sqs_parse_queue_url(jstr(in, "url"), &ref);
    if (r->rc == ERR_OK)
        json_object_set_new(r->out, "ref",
                            json_pack("{s:s,s:s,s:s}", "account", ref.account, "name", ref.name,
                                      "region", ref.region));
    else
        snprintf(r->msg, sizeof(r->msg), "%s", sqs_msg_queue_does_not_exist(jbool(in, "query")));
}

static void check_queue_arn(const json_t *in, struct result *r)
{
    struct sqs_queue_ref ref;
    bool ok = sqs_parse_queue_arn(jstr(in, "arn"), &ref);
    json_object_set_new(r->out, "valid", json_boolean(ok));
    if (ok)
        json_object_set_new(r->out, "ref",
                            json_pack("{s:s,s:s,s:s}", "account", ref.account, "name", ref.name,
                                      "region", ref.region));
}

static void check_account(const json_t *in, struct result *r)
{
    json_object_set_new(r->out, "valid", json_boolean(sqs_valid_account_id(jstr(in, "id"))));
}

static void check_body(const json_t *in, struct result *r)
{
    char scratch[1024];
    struct sqs_str body = jbytes(in, "body", scratch, sizeof(scratch));
    r->rc = sqs_check_body(body, r->msg, sizeof(r->msg));
}

static void check_message_size(const json_t *in, struct result *r)
{
    long long body = 0, attrs = 0, max = 0;
    jint(in, "body_len", &body);
    jint(in, "attrs_size", &attrs);
    jint(in, "max", &max);
    r->rc = sqs_check_message_size((size_t)body, (size_t)attrs, (size_t)max, jbool(in, "in_batch"),
                                   r->msg, sizeof(r->msg));
}

/* Parses "attrs" (the JSON map form) or "attrs_list" ([[name, type, string, b64], ...], the
 * query form with null for absent) into set. */
static enum err parse_attrs(const json_t *in, struct sqs_attrs *set, bool system, char *msg,
                            size_t msglen)
{
    json_t *list = json_object_get(in, "attrs_list");
    if (list == NULL) {
        json_t *map = json_object_get(in, "attrs");
        return system ? sqs_sysattrs_parse_json(set, map, msg, msglen)
                      : sqs_attrs_parse_json(set, map, msg, msglen);
    }
    size_t n = json_array_size(list);
    struct sqs_attr_in *items = calloc(n ? n : 1, sizeof(*items));
    assert_non_null(items);
    for (size_t i = 0; i < n; i++) {
        struct sqs_str f[4] = {{0}};
        jstrs(json_array_get(list, i), f, 4);
        items[i].name = f[0];
        items[i].type = f[1];
        items[i].string_value = f[2];
        items[i].binary_b64 = f[3];
    }
    enum err rc = system ? sqs_sysattrs_parse(set, items, n, msg, msglen)
                         : sqs_attrs_parse(set, items, n, msg, msglen);
    free(items);
    return rc;
}

static void attrs_out(const struct sqs_attrs *set, json_t *out)
{
    char hex[SQS_MD5_HEX_LEN + 1];
    json_t *names = json_array();
    for (size_t i = 0; i < set->n; i++)
        json_array_append_new(names, json_stringn(set->a[i].name, set->a[i].name_len));
    json_object_set_new(out, "names", names);
    json_object_set_new(out, "size", json_integer((json_int_t)sqs_attrs_size(set)));
    json_object_set_new(out, "md5",
                        sqs_md5_attrs(set, UINT32_MAX, hex) ? json_string(hex) : json_null());
}

static void check_message_attributes(const json_t *in, struct result *r)
{
    struct sqs_attrs set;
    sqs_attrs_init(&set);
    r->rc = parse_attrs(in, &set, false, r->msg, sizeof(r->msg));
    if (r->rc == ERR_OK)
        attrs_out(&set, r->out);
    else
        assert_int_equal(set.n, 0); /* nothing kept on a refusal */
    sqs_attrs_destroy(&set);
}

static void check_system_attributes(const json_t *in, struct result *r)
{
    struct sqs_attrs set;
    sqs_attrs_init(&set);
    r->rc = parse_attrs(in, &set, true, r->msg, sizeof(r->msg));
    if (r->rc == ERR_OK)
        attrs_out(&set, r->out);
    sqs_attrs_destroy(&set);
}

static void check_select_attributes(const json_t *in, struct result *r)
{
    struct sqs_attrs set;
    sqs_attrs_init(&set);
    r->rc = sqs_attrs_parse_json(&set, json_object_get(in, "attrs"), r->msg, sizeof(r->msg));
    assert_int_equal(r->rc, ERR_OK);
    struct sqs_str names[16];
    size_t n = jstrs(json_object_get(in, "names"), names, 16);
    uint32_t mask = sqs_attrs_select(&set, names, n);
    json_t *sel = json_array();
    for (size_t i = 0; i < set.n; i++)
        if (mask & (1u << i))
            json_array_append_new(sel, json_string(set.a[i].name));
    json_object_set_new(r->out, "selected", sel);
    char hex[SQS_MD5_HEX_LEN + 1];
    json_object_set_new(r->out, "md5",
                        sqs_md5_attrs(&set, mask, hex) ? json_string(hex) : json_null());
    sqs_attrs_destroy(&set);
}

static void check_select_system(const json_t *in, struct result *r)
{
    struct sqs_str names[16];
    size_t n = jstrs(json_object_get(in, "names"), names, 16);
    uint32_t mask = sqs_sysattr_select(names, n);
    json_t *sel = json_array();
    for (unsigned i = 0; i < SQS_SYS__COUNT; i++)
        if (mask & (1u << i))
            json_array_append_new(sel, json_string(sqs_sysattr_name((enum sqs_sysattr)i)));
    json_object_set_new(r->out, "selected", sel);
}

static void check_send_params(const json_t *in, struct result *r)
{
    struct sqs_send_params p = {0};
    p.fifo = jbool(in, "fifo");
    p.content_based_dedup = jbool(in, "cbd");
    p.in_batch = jbool(in, "in_batch");
    p.has_delay = jint(in, "DelaySeconds", &p.delay);
    p.group_id = jstr(in, "MessageGroupId");
    p.dedup_id = jstr(in, "MessageDeduplicationId");
    r->rc = sqs_check_send_params(&p, r->msg, sizeof(r->msg));
    json_object_set_new(r->out, "whole_batch",
                        json_boolean(r->rc != ERR_OK && sqs_send_refusal_is_whole_batch(&p)));
}

static void check_batch_ids(const json_t *in, struct result *r)
{
    static const char *const ops[] = {"send", "delete", "change_visibility"};
    const char *op = json_string_value(json_object_get(in, "op"));
    int o = 0;
    for (int i = 0; i < 3; i++)
        if (op && strcmp(op, ops[i]) == 0)
            o = i;
    json_t *ids = json_object_get(in, "ids");
    long long count = -1;
    struct sqs_str arr[32];
    size_t n;
    if (jint(in, "count", &count)) { /* "count": n ids "e0".."e<n-1>" */
        static char bufs[32][8];
        n = (size_t)count;
        for (size_t i = 0; i < n && i < 32; i++) {
            snprintf(bufs[i], sizeof(bufs[i]), "e%zu", i);
            arr[i] = sqs_str_c(bufs[i]);
        }
    } else {
        n = jstrs(ids, arr, 32);
    }
    r->rc = sqs_check_batch_ids((enum sqs_batch_op)o, arr, n, r->msg, sizeof(r->msg));
}

static void check_batch_size(const json_t *in, struct result *r)
{
    long long total = 0;
    jint(in, "total", &total);
    r->rc = sqs_check_batch_size((size_t)total, r->msg, sizeof(r->msg));
}

static void check_receive(const json_t *in, struct result *r)
{
    struct sqs_receive_params p = {0};
    p.has_max = jint(in, "MaxNumberOfMessages", &p.max);
    p.has_visibility = jint(in, "VisibilityTimeout", &p.visibility);
    p.has_wait = jint(in, "WaitTimeSeconds", &p.wait);
    p.attempt_id = jstr(in, "ReceiveRequestAttemptId");
    r->rc = sqs_check_receive_params(&p, r->msg, sizeof(r->msg));
}

static void check_change_visibility(const json_t *in, struct result *r)
{
    long long timeout = 0, ago = 0;
    jint(in, "timeout", &timeout);
    jint(in, "received_ago_s", &ago);
    int64_t now = 1800000000000LL;
    r->rc = sqs_check_visibility_change(timeout, now - ago * 1000, now, r->msg, sizeof(r->msg));
}

static void check_int(const json_t *in, struct result *r)
{
    long long v = 0;
    bool ok = sqs_parse_int(jstr(in, "text"), &v);
    json_object_set_new(r->out, "valid", json_boolean(ok));
    if (ok)
        json_object_set_new(r->out, "value", json_integer(v));
}

/* Attributes of a case ({"Name": "value"}) as kv pairs. */
static enum err kvs(const json_t *map, struct sqs_kv *kv, size_t *n, char *msg, size_t msglen)
{
    return sqs_qattrs_kv_from_json(map, kv, SQS_QA__COUNT + 8, n, msg, msglen);
}

static void render_all(const struct sqs_qattrs *q, const char *name, uint32_t mask, json_t *out)
{
    char arn[160];
    snprintf(arn, sizeof(arn), "arn:aws:sqs:us-east-1:000000000000:%s", name);
    struct sqs_qattrs_live live = {arn, 0, 0, 0, 1700000000, 1700000000};
    json_t *attrs = sqs_qattrs_json(q, &live, mask);
    assert_non_null(attrs);
    /* the key order too: AWS-RECORDED.md §1.4 lists them alphabetically */
    json_t *order = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(attrs, key, v)
    {
        json_array_append_new(order, json_string(key));
    }
    json_object_set_new(out, "attributes", attrs);
    json_object_set_new(out, "order", order);
}

static enum err create(const json_t *in, const char *key, struct sqs_qattrs *q, uint32_t *given,
                       char *msg, size_t msglen)
{
    struct sqs_kv kv[SQS_QA__COUNT + 8];
    size_t n;
    enum err rc = kvs(json_object_get(in, key), kv, &n, msg, msglen);
    if (rc != ERR_OK) {
        sqs_qattrs_defaults(q, false);
        return rc;
    }
    return sqs_qattrs_create(q, jstr(in, "name"), kv, n, given, msg, msglen);
}

static void check_create_queue(const json_t *in, struct result *r)
{
    struct sqs_qattrs q;
    uint32_t given;
    r->rc = create(in, "attributes", &q, &given, r->msg, sizeof(r->msg));
    if (r->rc == ERR_OK)
        render_all(&q, json_string_value(json_object_get(in, "name")), UINT32_MAX, r->out);
    sqs_qattrs_destroy(&q);
}

static void check_set_queue_attributes(const json_t *in, struct result *r)
{
    struct sqs_qattrs q;
    uint32_t given, changed;
    char msg[512];
    assert_int_equal(create(in, "create", &q, &given, msg, sizeof(msg)), ERR_OK);
    struct sqs_qattrs before;
    assert_int_equal(sqs_qattrs_copy(&before, &q), ERR_OK);
    struct sqs_kv kv[SQS_QA__COUNT + 8];
    size_t n;
    r->rc = kvs(json_object_get(in, "set"), kv, &n, r->msg, sizeof(r->msg));
    if (r->rc == ERR_OK)
        r->rc = sqs_qattrs_set(&q, kv, n, &changed, r->msg, sizeof(r->msg));
    const char *name = json_string_value(json_object_get(in, "name"));
    render_all(&q, name, UINT32_MAX, r->out);
    if (r->rc != ERR_OK) { /* all or nothing */
        json_t *was = json_object();
        render_all(&before, name, UINT32_MAX, was);
        assert_true(
            json_equal(json_object_get(was, "attributes"), json_object_get(r->out, "attributes")));
        json_decref(was);
    }
    sqs_qattrs_destroy(&before);
    sqs_qattrs_destroy(&q);
}

static void check_create_again(const json_t *in, struct result *r)
{
    struct sqs_qattrs existing, req;
    uint32_t given, g2;
    char msg[512];
    assert_int_equal(create(in, "existing", &existing, &g2, msg, sizeof(msg)), ERR_OK);
    r->rc = create(in, "attributes", &req, &given, r->msg, sizeof(r->msg));
    if (r->rc == ERR_OK)
        r->rc = sqs_qattrs_same(&existing, &req, given, r->msg, sizeof(r->msg));
    sqs_qattrs_destroy(&existing);
    sqs_qattrs_destroy(&req);
}

static void check_get_attributes(const json_t *in, struct result *r)
{
    struct sqs_qattrs q;
    uint32_t given, mask;
    char msg[512];
    assert_int_equal(create(in, "create", &q, &given, msg, sizeof(msg)), ERR_OK);
    struct sqs_str names[32];
    size_t n = jstrs(json_object_get(in, "names"), names, 32);
    r->rc = sqs_qattrs_select(names, n, &mask, r->msg, sizeof(r->msg));
    if (r->rc == ERR_OK)
        render_all(&q, json_string_value(json_object_get(in, "name")), mask, r->out);
    sqs_qattrs_destroy(&q);
}

static void check_redrive(const json_t *in, struct result *r)
{
    struct sqs_redrive rd;
    r->rc = sqs_redrive_parse(jstr(in, "policy"), &rd, r->msg, sizeof(r->msg));
    if (r->rc == ERR_OK) {
        json_object_set_new(r->out, "dlq", json_string(rd.dlq_arn));
        json_object_set_new(r->out, "max", json_integer(rd.max_receive_count));
        free(rd.dlq_arn);
    }
}

static void check_redrive_allow(const json_t *in, struct result *r)
{
    static const char *const perms[] = {"allowAll", "denyAll", "byQueue"};
    struct sqs_redrive_allow a;
    r->rc = sqs_redrive_allow_parse(jstr(in, "policy"), &a, r->msg, sizeof(r->msg));
    if (r->rc != ERR_OK)
        return;
    json_object_set_new(r->out, "permission", json_string(perms[a.permission]));
    json_t *src = json_array();
    for (size_t i = 0; i < a.n_sources; i++)
        json_array_append_new(src, json_string(a.sources[i]));
    json_object_set_new(r->out, "sources", src);
    const char *probe = json_string_value(json_object_get(in, "probe"));
    if (probe)
        json_object_set_new(r->out, "allows", json_boolean(sqs_redrive_allows(&a, probe)));
    sqs_redrive_allow_destroy(&a);
}

static void check_receipt(const json_t *in, struct result *r)
{
    struct sqs_receipt_key k;
    memset(&k, 7, sizeof(k));
    struct sqs_receipt out;
    struct sqs_str h = jstr(in, "handle");
    r->rc = sqs_receipt_decode(&k, h.p, h.len, &out, r->msg, sizeof(r->msg));
}

static const struct {
    const char *name;
    void (*fn)(const json_t *in, struct result *r);
} checks[] = {
    {"queue_name", check_queue_name},
    {"queue_url", check_queue_url},
    {"queue_arn", check_queue_arn},
    {"account_id", check_account},
    {"body", check_body},
    {"message_size", check_message_size},
    {"message_attributes", check_message_attributes},
    {"system_attributes", check_system_attributes},
    {"select_attributes", check_select_attributes},
    {"select_system", check_select_system},
    {"send_params", check_send_params},
    {"batch_ids", check_batch_ids},
    {"batch_size", check_batch_size},
    {"receive", check_receive},
    {"change_visibility", check_change_visibility},
    {"int", check_int},
    {"create_queue", check_create_queue},
    {"set_queue_attributes", check_set_queue_attributes},
    {"create_again", check_create_again},
    {"get_attributes", check_get_attributes},
    {"redrive", check_redrive},
    {"redrive_allow", check_redrive_allow},
    {"receipt", check_receipt},
};

/* ---- the driver --------------------------------------------------------------------------- */

/* Runs one case; returns 0 when it passes, else prints why. */
static int run_case(const char *file, const json_t *c)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    const char *check = json_string_value(json_object_get(c, "check"));
    json_t *in = json_object_get(c, "in"), *expect = json_object_get(c, "expect");
    if (name == NULL || check == NULL || !json_is_object(expect)) {
        fprintf(stderr, "%s: malformed case %s\n", file, name ? name : "?");
        return 1;
    }
    void (*fn)(const json_t *, struct result *) = NULL;
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
        if (strcmp(checks[i].name, check) == 0)
            fn = checks[i].fn;
    if (fn == NULL) {
        fprintf(stderr, "%s: %s: unknown check %s\n", file, name, check);
        return 1;
    }
    struct result r = {ERR_OK, "", json_object()};
    fn(in ? in : json_null(), &r);
    int bad = 0;
    if (jbool(expect, "ok")) {
        if (r.rc != ERR_OK) {
            fprintf(stderr, "%s: %s: expected success, got %s: %s\n", file, name, err_name(r.rc),
                    r.msg);
            bad = 1;
        }
    } else {
        const char *code = json_string_value(json_object_get(expect, "code"));
        const char *message = json_string_value(json_object_get(expect, "message"));
        const char *json_type = json_string_value(json_object_get(expect, "json_type"));
        long long status = 0;
        jint(expect, "status", &status);
        if (r.rc == ERR_OK || !code || strcmp(err_query_code(r.rc), code) != 0 ||
            err_status(r.rc) != status || !message || strcmp(r.msg, message) != 0 ||
            (json_type && strcmp(err_code(r.rc), json_type) != 0)) {
            fprintf(stderr, "%s: %s:\n  expected %s %lld \"%s\"\n  got      %s %d \"%s\" (%s)\n",
                    file, name, code ? code : "?", status, message ? message : "?",
                    r.rc == ERR_OK ? "OK" : err_query_code(r.rc), err_status(r.rc), r.msg,
                    err_code(r.rc));
            bad = 1;
        }
    }
    json_t *want = json_object_get(expect, "out");
    const char *key;
    json_t *v;
    json_object_foreach(want, key, v)
    {
        json_t *got = json_object_get(r.out, key);
        if (!json_equal(got, v)) {
            char *g = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            char *w = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            fprintf(stderr, "%s: %s: out.%s\n  expected %s\n  got      %s\n", file, name, key, w,
                    g ? g : "(none)");
            free(g);
            free(w);
            bad = 1;
        }
    }
    json_decref(r.out);
    return bad;
}

static void test_cases(void **state)
{
    (void)state;
    const char *root = getenv("HAAR_SOURCE_DIR");
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/tests/data/sqs", root ? root : ".");
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int failures = 0, cases = 0, files = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char path[1400];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        json_error_t je;
        json_t *doc = json_load_file(path, 0, &je);
        if (doc == NULL) {
            fprintf(stderr, "%s: %s (line %d)\n", path, je.text, je.line);
            failures++;
            continue;
        }
        files++;
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(doc, "cases"), i, c)
        {
            failures += run_case(e->d_name, c);
            cases++;
        }
        json_decref(doc);
    }
    closedir(d);
    fprintf(stderr, "sqs validation: %d cases in %d files, %d failed\n", cases, files, failures);
    assert_true(files > 0 && cases > 0);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
