/*
 * test_events_pattern.c — event patterns: replays the files in tests/data/events/patterns/
 * (pattern, event, match or not; invalid patterns with AWS's exact message), then
 * TestEventPattern's rules and a speed check.
 *
 * File format: {"events": {NAME: EVENT, ...}, "cases": [CASE, ...]} where a CASE is
 *   {"name", "pattern": OBJECT or "exact text", "event": OBJECT or NAME, "match": bool}
 *   {"pattern": "exact text", "error": "the whole message"}   (invalid patterns)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloud/events/pattern.h"

static const char *data_dir(char *buf, size_t len)
{
    const char *d = getenv("HAAR_SOURCE_DIR");
    snprintf(buf, len, "%s/tests/data/events/patterns", d ? d : ".");
    return buf;
}

struct tally {
    int match, nomatch, invalid, recorded, bad;
};

#define BAD(t, ...) ((t)->bad++, print_error(__VA_ARGS__))

static void replay_file(const char *path, struct tally *t)
{
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (doc == NULL)
        fail_msg("%s:%d: %s", path, je.line, je.text);
    json_t *events = json_object_get(doc, "events");
    json_t *cases = json_object_get(doc, "cases");
    assert_true(json_is_array(cases));
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        json_t *pj = json_object_get(c, "pattern");
        char *ptext = json_is_string(pj) ? strdup(json_string_value(pj))
                                         : json_dumps(pj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_non_null(ptext);
        size_t plen = json_is_string(pj) ? json_string_length(pj) : strlen(ptext);
        static char err[EVENTS_PATTERN_ERR_MAX];
        struct events_pattern *p = events_pattern_compile(ptext, plen, err, sizeof err);
        json_t *want_err = json_object_get(c, "error");
        if (want_err != NULL) {
            if (p != NULL)
                BAD(t, "%s case %zu: pattern accepted, want error\n  %s\n", path, i, ptext);
            else if (strcmp(err, json_string_value(want_err)) != 0)
                BAD(t, "%s case %zu: pattern %s\n  got:  %s\n  want: %s\n", path, i, ptext, err,
                    json_string_value(want_err));
            events_pattern_free(p);
            t->invalid++;
            if (json_is_true(json_object_get(c, "recorded")))
                t->recorded++;
            free(ptext);
            continue;
        }
        if (p == NULL) {
            BAD(t, "%s case %zu (%s): pattern refused: %s\n", path, i, name, err);
            free(ptext);
            continue;
        }
        json_t *ev = json_object_get(c, "event");
        if (json_is_string(ev))
            ev = json_object_get(events, json_string_value(ev));
        assert_non_null(ev);
        bool want = json_is_true(json_object_get(c, "match"));
        bool got = events_pattern_match(p, ev);
        if (got != want) {
            char *es = json_dumps(ev, JSON_COMPACT);
            BAD(t, "%s case %zu (%s): got %s, want %s\n  pattern %s\n  event   %s\n", path, i, name,
                got ? "match" : "no match", want ? "match" : "no match", ptext, es);
            free(es);
        }
        if (want)
            t->match++;
        else
            t->nomatch++;
        events_pattern_free(p);
        free(ptext);
    }
    json_decref(doc);
}

static void test_pattern_files(void **state)
{
    (void)state;
    char dir[512];
    data_dir(dir, sizeof dir);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct tally t = {0};
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        replay_file(path, &t);
    }
    closedir(d);
    print_message("patterns: %d match, %d no match, %d invalid (%d recorded from AWS)\n", t.match,
                  t.nomatch, t.invalid, t.recorded);
    assert_int_equal(t.bad, 0);
    assert_true(t.match >= 60 && t.nomatch >= 50 && t.invalid >= 60);
}

/* TestEventPattern: the event must be an object with AWS's mandatory fields. */
static void test_test_event_pattern(void **state)
{
    (void)state;
    static const char full[] =
        "{\"id\":\"1\",\"account\":\"123456789012\",\"source\":\"s\",\"time\":\"2026-11-24T12:00:"
        "00Z\","
        "\"region\":\"us-east-1\",\"resources\":[],\"detail-type\":\"t\",\"detail\":{\"a\":1}}";
    static const struct {
        const char *pattern, *event;
        enum events_pattern_result want;
        const char *err;
    } cases[] = {
        {"{\"source\":[\"s\"]}", full, EVENTS_PATTERN_MATCH, NULL},
        {"{\"detail\":{\"a\":[2]}}", full, EVENTS_PATTERN_NO_MATCH, NULL},
        {"{\"source\":[\"s\"]}", "\"plain string\"", EVENTS_PATTERN_BAD_EVENT,
         EVENTS_EVENT_INVALID},
        {"{\"source\":[\"s\"]}", "{\"source\":\"s\"}", EVENTS_PATTERN_BAD_EVENT,
         EVENTS_EVENT_INVALID},
        {"{\"source\":[\"s\"]}", "not json", EVENTS_PATTERN_BAD_EVENT, EVENTS_EVENT_INVALID},
        {"{\"source\":\"s\"}", "not json", EVENTS_PATTERN_BAD_PATTERN,
         "Event pattern is not valid. Reason: \"source\" must be an object or an array\n at "
         "[Source: "
         "(String)\"{\"source\":\"s\"}\"; line: 1, column: 12]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[EVENTS_PATTERN_ERR_MAX] = "";
        enum events_pattern_result r =
            events_pattern_test(cases[i].pattern, strlen(cases[i].pattern), cases[i].event,
                                strlen(cases[i].event), err, sizeof err);
        if (r != cases[i].want)
            fail_msg("case %zu: result %d, want %d (%s)", i, r, cases[i].want, err);
        if (cases[i].err != NULL && strcmp(err, cases[i].err) != 0)
            fail_msg("case %zu: message\n  got:  %s\n  want: %s", i, err, cases[i].err);
    }
}

static void test_edges(void **state)
{
    (void)state;
    events_pattern_free(NULL);
    assert_false(events_pattern_match(NULL, NULL));
    char err[64];
    /* a message longer than the buffer is cut, never overrun */
    assert_null(events_pattern_compile("{\"a\": 1}", 8, err, sizeof err));
    assert_int_equal(strlen(err), sizeof err - 1);
    assert_null(events_pattern_compile("{\"a\": 1}", 8, NULL, 0));
    /* a long pattern is quoted to 500 characters, as AWS's reader does */
    char big[700];
    memset(big, ' ', sizeof big);
    memcpy(big, "{\"a\": 1", 7);
    big[sizeof big - 1] = '}';
    static char e2[EVENTS_PATTERN_ERR_MAX];
    assert_null(events_pattern_compile(big, sizeof big, e2, sizeof e2));
    assert_non_null(strstr(e2, "\"[truncated 200 chars]; line: 1, column: 8]"));
    /* an event that is not an object never matches */
    struct events_pattern *p =
        events_pattern_compile("{\"a\":[{\"exists\":false}]}", 24, err, sizeof err);
    assert_non_null(p);
    json_t *arr = json_array();
    assert_false(events_pattern_match(p, arr));
    json_decref(arr);
    events_pattern_free(p);
    /* integers beyond 64 bits are read, as reals */
    json_t *ev = events_event_parse("{\"n\": 123456789012345678901234567890}", 37);
    assert_non_null(ev);
    json_decref(ev);
}

/* 100 patterns × 2,000 events in well under a second (5 s allowed: sanitizer builds, busy CI). */
static void test_speed(void **state)
{
    (void)state;
    struct events_pattern *ps[100];
    char buf[256], err[EVENTS_PATTERN_ERR_MAX];
    for (int i = 0; i < 100; i++) {
        int n = snprintf(buf, sizeof buf,
                         "{\"source\":[\"app.%d\"],\"detail-type\":[{\"prefix\":\"order\"}],"
                         "\"detail\":{\"amount\":[{\"numeric\":[\">\",%d]}],\"state\":[{\"anything-"
                         "but\":\"x\"}]}}",
                         i % 10, i);
        ps[i] = events_pattern_compile(buf, (size_t)n, err, sizeof err);
        if (ps[i] == NULL)
            fail_msg("%s", err);
    }
    json_t *ev = json_pack("{s:s,s:s,s:s,s:{s:i,s:s,s:[i,i,i]}}", "id", "1", "source", "app.3",
                           "detail-type", "order placed", "detail", "amount", 50, "state", "new",
                           "items", 1, 2, 3);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    long hits = 0;
    for (int e = 0; e < 2000; e++)
        for (int i = 0; i < 100; i++)
            hits += events_pattern_match(ps[i], ev);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    print_message("200000 matches (%ld hits) in %.3f s\n", hits, secs);
    assert_int_equal(hits, 2000 * 5);
    assert_true(secs < 5.0);
    json_decref(ev);
    for (int i = 0; i < 100; i++)
        events_pattern_free(ps[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pattern_files),
        cmocka_unit_test(test_test_event_pattern),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests_name("events_pattern", tests, NULL, NULL);
}
