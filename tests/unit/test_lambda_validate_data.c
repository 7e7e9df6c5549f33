/* Replays tests/data/lambda/validation.json: Lambda requests that break (or keep) the
 * constraints of AWS's model, each with the exact answer AWS gives — the error code, its
 * HTTP status and the whole message. One cmocka test per case, named after it.
 *
 * A case: {"name", "op", "base"?, "body"?, "unset"?, "body_text"?, "params"?: [[member,
 * value], ...], "code": AWS error code or null (accepted), "message"? (exact) or
 * "message_prefix"/"message_suffix", "msglen"? (the caller's buffer; 1 MB by default),
 * "resolved"? (resolve_name: the bare name)}. Strings may be {"$repeat": s, "count": n} or
 * {"$concat": [parts]}. Reads $HAAR_SOURCE_DIR (set by ctest), else the working directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cloud/lambda/lambda.h"
#include "core/utf8.h"

enum { DEFAULT_MSGLEN = 1 << 20, MAX_PARAMS = 16 };

static json_t *doc; /* the whole file */

/* v with every {"$repeat"} and {"$concat"} replaced by the string it stands for. New ref. */
static json_t *expand(const json_t *v)
{
    if (json_is_object(v) && json_object_get(v, "$repeat") != NULL) {
        const json_t *s = json_object_get(v, "$repeat");
        size_t n = (size_t)json_integer_value(json_object_get(v, "count"));
        size_t sl = json_string_length(s);
        char *out = malloc(sl * n + 1);
        assert_non_null(out);
        for (size_t i = 0; i < n; i++)
            memcpy(out + i * sl, json_string_value(s), sl);
        json_t *r = json_stringn(out, sl * n);
        free(out);
        return r;
    }
    if (json_is_object(v) && json_object_get(v, "$concat") != NULL) {
        size_t i;
        json_t *part;
        char *out = NULL;
        size_t len = 0;
        json_array_foreach(json_object_get(v, "$concat"), i, part)
        {
            json_t *e = expand(part);
            size_t el = json_string_length(e);
            out = realloc(out, len + el + 1);
            assert_non_null(out);
            memcpy(out + len, json_string_value(e), el);
            len += el;
            json_decref(e);
        }
        json_t *r = json_stringn(out ? out : "", len);
        free(out);
        return r;
    }
    if (json_is_object(v)) {
        json_t *r = json_object();
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) json_object_set_new(r, k, expand(x));
        return r;
    }
    if (json_is_array(v)) {
        json_t *r = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) json_array_append_new(r, expand(x));
        return r;
    }
    return json_deep_copy(v);
}

/* The request body of case c: its base with its body merged over and unset keys gone. */
static json_t *case_body(const json_t *c)
{
    json_t *body = NULL;
    const char *base = json_string_value(json_object_get(c, "base"));
    if (base != NULL)
        body = expand(json_object_get(json_object_get(doc, "bases"), base));
    json_t *own = json_object_get(c, "body");
    if (own != NULL) {
        json_t *e = expand(own);
        if (body == NULL)
            body = e;
        else {
            json_object_update(body, e);
            json_decref(e);
        }
    }
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(c, "unset"), i, k)
        json_object_del(body, json_string_value(k));
    return body;
}

static void run_case(void **state)
{
    const json_t *c = *state;
    const char *op = json_string_value(json_object_get(c, "op"));
    size_t msglen = json_is_integer(json_object_get(c, "msglen"))
                        ? (size_t)json_integer_value(json_object_get(c, "msglen"))
                        : DEFAULT_MSGLEN;
    char *msg = calloc(1, msglen);
    assert_non_null(msg);
    json_t *body = case_body(c);
    json_t *pvals =
        expand(json_object_get(c, "params") ? json_object_get(c, "params") : json_null());
    struct lambda_param params[MAX_PARAMS];
    size_t np = 0;
    size_t i;
    json_t *p;
    json_array_foreach(pvals, i, p)
    {
        assert_true(np < MAX_PARAMS);
        const json_t *v = json_array_get(p, 1);
        params[np++] = (struct lambda_param){json_string_value(json_array_get(p, 0)),
                                             json_string_value(v), json_string_length(v)};
    }
    enum err e;
    char name[80] = "";
    if (strcmp(op, "CreateFunction") == 0 || strcmp(op, "UpdateFunctionConfiguration") == 0) {
        const char *text = json_string_value(json_object_get(c, "body_text"));
        char *dumped = text ? NULL : json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        const char *t = text ? text : dumped;
        json_t *spec_doc = NULL;
        struct lambda_fn_spec spec;
        struct buf zip;
        buf_init(&zip, 1 << 20);
        e = lambda_parse_fn_spec(t, strlen(t), strcmp(op, "UpdateFunctionConfiguration") == 0,
                                 &spec_doc, &spec, &zip, msg, msglen);
        json_decref(spec_doc);
        buf_destroy(&zip);
        free(dumped);
    } else if (strcmp(op, "resolve_name") == 0) {
        e = lambda_resolve_name(params[0].value, params[0].len, name, sizeof(name), msg, msglen);
    } else if (strcmp(op, "check_tags") == 0) {
        e = lambda_check_tags(body, msg, msglen);
    } else {
        e = lambda_validate_request(op, body, json_is_array(pvals) ? params : NULL, np, msg,
                                    msglen);
    }
    const char *want = json_string_value(json_object_get(c, "code"));
    if (want == NULL) {
        if (e != ERR_OK)
            print_error("accepted expected, got %s: %s\n", err_code(e), msg);
        assert_int_equal(e, ERR_OK);
        const char *resolved = json_string_value(json_object_get(c, "resolved"));
        if (resolved != NULL)
            assert_string_equal(name, resolved);
    } else {
        assert_string_equal(err_code(e), want);
        assert_int_equal(err_status(e), e == ERR_LAMBDA_NOT_FOUND ? 404 : 400);
        /* every message is a valid UTF-8 C string that fits the caller's buffer */
        assert_true(strlen(msg) < msglen);
        for (size_t k = 0; msg[k];) {
            size_t n = utf8_seq_len((const unsigned char *)msg + k, strlen(msg + k));
            assert_true(n > 0);
            k += n;
        }
        json_t *m =
            expand(json_object_get(c, "message") ? json_object_get(c, "message") : json_null());
        if (json_is_string(m))
            assert_string_equal(msg, json_string_value(m));
        json_decref(m);
        const char *pre = json_string_value(json_object_get(c, "message_prefix"));
        const char *suf = json_string_value(json_object_get(c, "message_suffix"));
        if (pre != NULL && strncmp(msg, pre, strlen(pre)) != 0)
            fail_msg("message %.200s does not start with %s", msg, pre);
        if (suf != NULL &&
            (strlen(msg) < strlen(suf) || strcmp(msg + strlen(msg) - strlen(suf), suf) != 0))
            fail_msg("message ...%s does not end with %s",
                     msg + (strlen(msg) > 200 ? strlen(msg) - 200 : 0), suf);
    }
    json_decref(pvals);
    json_decref(body);
    free(msg);
}

int main(void)
{
    char path[4096];
    const char *dir = getenv("HAAR_SOURCE_DIR");
    snprintf(path, sizeof(path), "%s/tests/data/lambda/validation.json", dir ? dir : ".");
    json_error_t jerr;
    doc = json_load_file(path, JSON_ALLOW_NUL, &jerr);
    if (doc == NULL) {
        fprintf(stderr, "%s: %s (line %d)\n", path, jerr.text, jerr.line);
        return 1;
    }
    json_t *cases = json_object_get(doc, "cases");
    size_t n = json_array_size(cases);
    struct CMUnitTest *tests = calloc(n, sizeof(*tests));
    if (tests == NULL)
        return 1;
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(cases, i);
        tests[i].name = json_string_value(json_object_get(c, "name"));
        tests[i].test_func = run_case;
        tests[i].initial_state = c;
    }
    int rc = _cmocka_run_group_tests("lambda_validation_data", tests, n, NULL, NULL);
    free(tests);
    json_decref(doc);
    return rc;
}
