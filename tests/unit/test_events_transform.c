/*
 * test_events_transform.c — target input options, replayed from
 * tests/data/events/transform/cases.json, and the Scheduled Event and rule ARNs.
 *
 * A case: {"name", "target_id"?, "input"? | "input_path"? | "template" (+ "paths"),
 * "event": OBJECT or a name from "events", then "expect": the exact body, or "error": the
 * exact message}. Cases without "paths" but with a template use the file's "paths".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/events/event.h"
#include "cloud/events/transform.h"
#include "core/ids.h"

static void test_transform_cases(void **state)
{
    (void)state;
    char path[1024];
    const char *d = getenv("HAAR_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/data/events/transform/cases.json", d ? d : ".");
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (doc == NULL)
        fail_msg("%s:%d: %s", path, je.line, je.text);
    json_t *ctxj = json_object_get(doc, "context");
    struct events_input_ctx ctx = {
        json_string_value(json_object_get(ctxj, "rule_arn")),
        json_string_value(json_object_get(ctxj, "rule_name")),
        json_string_value(json_object_get(ctxj, "ingestion_time")),
    };
    json_t *events = json_object_get(doc, "events");
    json_t *default_paths = json_object_get(doc, "paths");
    size_t i;
    json_t *c;
    int ok = 0, errors = 0, bad = 0;
    json_array_foreach(json_object_get(doc, "cases"), i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        struct events_input_spec spec = {0};
        spec.target_id = json_string_value(json_object_get(c, "target_id"));
        if (spec.target_id == NULL)
            spec.target_id = "t";
        spec.input = json_string_value(json_object_get(c, "input"));
        spec.input_path = json_string_value(json_object_get(c, "input_path"));
        spec.template_ = json_string_value(json_object_get(c, "template"));
        spec.has_transformer = spec.template_ != NULL;
        spec.paths_map = json_object_get(c, "paths");
        if (spec.paths_map == NULL && spec.has_transformer)
            spec.paths_map = default_paths;
        char err[EVENTS_INPUT_ERR_MAX] = "";
        struct events_input *in = events_input_new(&spec, err, sizeof err);
        const char *want_err = json_string_value(json_object_get(c, "error"));
        if (want_err != NULL) {
            if (in != NULL) {
                print_error("case %zu (%s): accepted, want error %s\n", i, name, want_err);
                bad++;
            } else if (strcmp(err, want_err) != 0) {
                print_error("case %zu (%s):\n  got:  %s\n  want: %s\n", i, name, err, want_err);
                bad++;
            } else {
                errors++;
            }
            events_input_free(in);
            continue;
        }
        if (in == NULL) {
            print_error("case %zu (%s): refused: %s\n", i, name, err);
            bad++;
            continue;
        }
        json_t *ev = json_object_get(c, "event");
        if (json_is_string(ev))
            ev = json_object_get(events, json_string_value(ev));
        size_t len = 0;
        char *body = events_input_render(in, ev, &ctx, &len);
        const char *want = json_string_value(json_object_get(c, "expect"));
        if (body == NULL || strcmp(body, want) != 0 || len != strlen(want)) {
            print_error("case %zu (%s):\n  got:  %s\n  want: %s\n", i, name, body ? body : "(null)",
                        want);
            bad++;
        } else {
            ok++;
        }
        /* a target without options takes the whole event: the text the deliveries share */
        bool whole = spec.input == NULL && spec.input_path == NULL && !spec.has_transformer;
        size_t tlen = 0;
        char *text = whole ? events_input_event_text(ev, &tlen) : NULL;
        if (events_input_is_event(in) != whole ||
            (whole && (body == NULL || text == NULL || tlen != len || strcmp(text, body) != 0))) {
            print_error("case %zu (%s): whole event %d, text %s\n", i, name, whole,
                        text ? text : "(null)");
            bad++;
        }
        free(text);
        free(body);
        events_input_free(in);
    }
    print_message("transform: %d bodies, %d refusals\n", ok, errors);
    json_decref(doc);
    assert_int_equal(bad, 0);
    assert_true(ok >= 25 && errors >= 8);
}

static void test_json_path(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        int valid;
    } cases[] = {
        {"$", 1},   {"$.a", 1},  {"$.a.b-c.d_e", 1}, {"$.detail-type", 1}, {"", 0},
        {"a", 0},   {"$.", 0},   {"$..a", 0},        {"$.a[0]", 0},        {"$['a']", 0},
        {"$.*", 0}, {"$.a.", 0}, {"$a", 0},          {"$.a b", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (events_json_path_valid(cases[i].path) != cases[i].valid)
            fail_msg("events_json_path_valid(\"%s\") != %d", cases[i].path, cases[i].valid);
    json_t *doc = json_pack("{s:{s:{s:i}}, s:[i]}", "a", "b", "c", 7, "l", 1);
    assert_int_equal(json_integer_value(events_json_path(doc, "$.a.b.c")), 7);
    assert_ptr_equal(events_json_path(doc, "$"), doc);
    assert_null(events_json_path(doc, "$.a.x"));
    assert_null(events_json_path(doc, "$.l.x"));
    assert_null(events_json_path(doc, "$.a.b.c.d"));
    json_decref(doc);
    /* 100 InputPathsMap entries are allowed, 101 are not */
    json_t *m = json_object();
    for (int k = 0; k < 101; k++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", k);
        if (k < 100)
            json_object_set_new(m, key, json_string("$.detail"));
    }
    struct events_input_spec spec = {"t", NULL, NULL, 1, m, "\"<k99>\""};
    char err[EVENTS_INPUT_ERR_MAX];
    struct events_input *in = events_input_new(&spec, err, sizeof err);
    assert_non_null(in);
    events_input_free(in);
    json_object_set_new(m, "k100", json_string("$.detail"));
    assert_null(events_input_new(&spec, err, sizeof err));
    assert_string_equal(
        err, "haar: InputPathsMap for target t has 101 entries; at most 100 are allowed.");
    json_decref(m);
    events_input_free(NULL);
}

/* The Scheduled Event of AWS-CONTRACTS.md §5, byte for byte. */
static void test_scheduled_event(void **state)
{
    (void)state;
    char arn[EVENTS_ARN_MAX];
    assert_int_equal(
        events_rule_arn(arn, sizeof arn, "us-east-1", "123456789012", NULL, "haar-dev-schedule"),
        (int)strlen("arn:aws:events:us-east-1:123456789012:rule/haar-dev-schedule"));
    assert_string_equal(arn, "arn:aws:events:us-east-1:123456789012:rule/haar-dev-schedule");
    events_rule_arn(arn, sizeof arn, "us-east-1", "123456789012", "default", "r");
    assert_string_equal(arn, "arn:aws:events:us-east-1:123456789012:rule/r");
    events_rule_arn(arn, sizeof arn, "eu-west-1", "111111111111", "bus-1", "r");
    assert_string_equal(arn, "arn:aws:events:eu-west-1:111111111111:rule/bus-1/r");
    char small[8];
    assert_int_equal(events_rule_arn(small, sizeof small, "us-east-1", "1", NULL, "r"), -1);

    events_rule_arn(arn, sizeof arn, "us-east-1", "123456789012", NULL, "name");
    json_t *e = events_scheduled_event("123456789012", "us-east-1", arn, 1444323186000LL,
                                       "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa");
    assert_non_null(e);
    char *s = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(s, "{\"version\":\"0\",\"id\":\"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa\","
                           "\"detail-type\":\"Scheduled Event\",\"source\":\"aws.events\","
                           "\"account\":\"123456789012\",\"time\":\"2015-10-08T16:53:06Z\","
                           "\"region\":\"us-east-1\",\"resources\":"
                           "[\"arn:aws:events:us-east-1:123456789012:rule/name\"],\"detail\":{}}");
    free(s);
    json_decref(e);
    /* a random id is a UUID; milliseconds are dropped from the time */
    e = events_scheduled_event("1", "r", arn, 1444323186999LL, NULL);
    const char *id = json_string_value(json_object_get(e, "id"));
    assert_true(ids_is_uuid(id, strlen(id)));
    assert_string_equal(json_string_value(json_object_get(e, "time")), "2015-10-08T16:53:06Z");
    json_decref(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transform_cases),
        cmocka_unit_test(test_json_path),
        cmocka_unit_test(test_scheduled_event),
    };
    return cmocka_run_group_tests_name("events_transform", tests, NULL, NULL);
}
