/*
 * test_events_schedule.c — schedule expressions: replays the conformance files in
 * tests/data/events/schedule/ (valid expressions with their fire times, invalid ones with
 * their detail), plus the clock's ISO parsing/formatting as `haar schedule` uses it, and a
 * speed check.
 *
 * Data file format (one case per block):
 *   > EXPR            a valid expression
 *   anchor ISO        (rates, optional) the creation time; default: the from instant
 *   from ISO          the instant the search starts strictly after (@MS: epoch ms)
 *   ISO ...           the expected next fire times, in order
 *   end               (optional) no fire time after the last one listed
 *   ! EXPR            an invalid expression
 *   detail TEXT       what events_schedule_parse explains (a prefix)
 * Lines starting with '#' and blank lines are ignored.
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

#include "cloud/events/schedule.h"
#include "core/clock.h"

#define MAX_LINE 1024

static const char *data_dir(char *buf, size_t len)
{
    const char *d = getenv("HAAR_SOURCE_DIR");
    snprintf(buf, len, "%s/tests/data/events/schedule", d ? d : ".");
    return buf;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

static int64_t iso(const char *s, const char *where)
{
    int64_t t;
    if (s[0] == '@') { /* epoch ms, for instants before 1970 */
        char *end;
        t = strtoll(s + 1, &end, 10);
        if (*end != '\0')
            fail_msg("%s: bad epoch time \"%s\" in the data file", where, s);
        return t;
    }
    if (clock_parse_iso8601(s, &t) != 0)
        fail_msg("%s: bad time \"%s\" in the data file", where, s);
    return t;
}

struct replay {
    int valid, invalid, times;
};

/* A pending valid case: its expression, anchor, cursor and line for messages. */
struct vcase {
    bool open;
    char expr[MAX_LINE];
    struct events_schedule s;
    bool have_anchor, have_from;
    int64_t anchor, cursor;
    int line;
};

static void replay_file(const char *path, struct replay *r)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    char line[MAX_LINE], where[1200], pending_invalid[MAX_LINE] = "";
    bool invalid_open = false;
    struct vcase c = {0};
    int no = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        no++;
        chomp(line);
        snprintf(where, sizeof where, "%s:%d", path, no);
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (invalid_open && strncmp(line, "detail ", 7) != 0)
            fail_msg("%s: an invalid case needs a detail line", where);
        if (line[0] == '>') {
            memset(&c, 0, sizeof c);
            c.open = true;
            c.line = no;
            snprintf(c.expr, sizeof c.expr, "%s", line + 2);
            char detail[256];
            if (events_schedule_parse(c.expr, strlen(c.expr), &c.s, detail, sizeof detail) != 0)
                fail_msg("%s: \"%s\" refused: %s", where, c.expr, detail);
            r->valid++;
        } else if (line[0] == '!') {
            c.open = false;
            snprintf(pending_invalid, sizeof pending_invalid, "%s", line[1] == ' ' ? line + 2 : "");
            invalid_open = true;
        } else if (strncmp(line, "detail ", 7) == 0) {
            if (!invalid_open)
                fail_msg("%s: detail without an invalid case", where);
            char detail[256];
            struct events_schedule s;
            if (events_schedule_parse(pending_invalid, strlen(pending_invalid), &s, detail,
                                      sizeof detail) == 0)
                fail_msg("%s: \"%s\" accepted, should be refused", where, pending_invalid);
            if (strncmp(detail, line + 7, strlen(line + 7)) != 0)
                fail_msg("%s: \"%s\": detail\n  got:  %s\n  want: %s...", where, pending_invalid,
                         detail, line + 7);
            if (events_schedule_valid(pending_invalid, strlen(pending_invalid)))
                fail_msg("%s: events_schedule_valid disagrees", where);
            invalid_open = false;
            r->invalid++;
        } else if (!c.open) {
            fail_msg("%s: line outside a case", where);
        } else if (strncmp(line, "anchor ", 7) == 0) {
            c.anchor = iso(line + 7, where);
            c.have_anchor = true;
        } else if (strncmp(line, "from ", 5) == 0) {
            c.cursor = iso(line + 5, where);
            c.have_from = true;
            if (!c.have_anchor)
                c.anchor = c.cursor;
        } else if (strcmp(line, "end") == 0) {
            int64_t t = events_schedule_next(&c.s, c.anchor, c.cursor);
            if (t != EVENTS_SCHEDULE_NONE) {
                char got[32];
                clock_format_iso(t, false, got, sizeof got);
                fail_msg("%s: \"%s\": expected no more fire times, got %s", where, c.expr, got);
            }
            c.open = false;
        } else {
            if (!c.have_from)
                fail_msg("%s: fire time before the from line", where);
            int64_t want = iso(line, where);
            int64_t t = events_schedule_next(&c.s, c.anchor, c.cursor);
            char got[32] = "none";
            if (t != EVENTS_SCHEDULE_NONE)
                clock_format_iso(t, false, got, sizeof got);
            if (t != want)
                fail_msg("%s: \"%s\" (case at line %d): got %s, want %s", where, c.expr, c.line,
                         got, line);
            c.cursor = t;
            r->times++;
        }
    }
    if (invalid_open)
        fail_msg("%s: the last invalid case has no detail line", path);
    fclose(f);
}

static void test_conformance_files(void **state)
{
    (void)state;
    char dir[512];
    data_dir(dir, sizeof dir);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct replay r = {0};
    int files = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".txt") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        replay_file(path, &r);
        files++;
    }
    closedir(d);
    print_message(
        "schedule conformance: %d files, %d valid expressions, %d fire times, %d invalid\n", files,
        r.valid, r.times, r.invalid);
    assert_true(files >= 5);
    assert_true(r.valid >= 50);
    assert_true(r.invalid >= 40);
}

static void test_time_format_parse(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        const char *out; /* formatted back */
    } cases[] = {
        {"2026-11-24T12:00:00Z", 0, "2026-11-24T12:00:00Z"},
        {"2026-11-24T12:00Z", 0, "2026-11-24T12:00:00Z"},
        {"2026-11-24T12:00", 0, "2026-11-24T12:00:00Z"},
        {"2026-11-24", 0, "2026-11-24T00:00:00Z"},
        {"2026-11-24T12:00:00.999Z", 0, "2026-11-24T12:00:00Z"},
        {"2026-11-24T14:00:00+02:00", 0, "2026-11-24T12:00:00Z"},
        {"2026-11-24T07:30:00-0430", 0, "2026-11-24T12:00:00Z"},
        {"2028-02-29T23:59:59Z", 0, "2028-02-29T23:59:59Z"},
        {"1969-12-31T23:59:59Z", -1, NULL}, /* the clock starts at 1970 */
        {"2199-12-31T23:59:00Z", 0, "2199-12-31T23:59:00Z"},
        {"2027-02-29", -1, NULL},
        {"2026-13-01", -1, NULL},
        {"2026-11-24T24:00:00Z", -1, NULL},
        {"2026-11-24T12:00:00Q", -1, NULL},
        {"2026-11-24T12", -1, NULL},
        {"2026-11-24T12:00:00.Z", -1, NULL},
        {"26-11-24", -1, NULL},
        {"", -1, NULL},
        {"now", -1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t t = 0;
        int rc = clock_parse_iso8601(cases[i].in, &t);
        if (rc != cases[i].rc)
            fail_msg("clock_parse_iso8601(\"%s\") = %d, want %d", cases[i].in, rc, cases[i].rc);
        if (rc != 0)
            continue;
        char out[32];
        assert_true(clock_format_iso(t, false, out, sizeof out) > 0);
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("%s formats as %s, want %s", cases[i].in, out, cases[i].out);
    }
    char small[20];
    assert_int_equal(clock_format_iso(0, false, small, sizeof small), -1);
}

/* A cron never needs more than one bounded search, even when nothing matches until the
 * end of time; and 10,000 expressions × 3 next() calls take well under a second. */
static void test_speed(void **state)
{
    (void)state;
    static const struct {
        const char *pre, *post; /* the expression is pre, a number, post */
    } forms[] = {
        {"cron(", "/5 8-17 ? * MON-FRI *)"},
        {"cron(", " 10 L * ? *)"},
        {"cron(", " 9 ? * 6L *)"},
        {"cron(", " 0 29 2 ? *)"},
        {"cron(", " 12 ? * 3#5 2026-2199)"},
        {"cron(", " 0 15W * ? *)"},
        {"rate(", " minutes)"},
        {"cron(", " 0 31 2 ? *)"},
    };
    char expr[64];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int64_t from = 1795564800000LL; /* 2026-11-25 */
    long fires = 0;
    for (int i = 0; i < 10000; i++) {
        snprintf(expr, sizeof expr, "%s%d%s", forms[i % 8].pre, i % 58 + 2, forms[i % 8].post);
        struct events_schedule s;
        assert_int_equal(events_schedule_parse(expr, strlen(expr), &s, NULL, 0), 0);
        int64_t t = from;
        for (int k = 0; k < 3; k++) {
            t = events_schedule_next(&s, from, t);
            if (t == EVENTS_SCHEDULE_NONE)
                break;
            fires++;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    print_message("10000 expressions parsed, %ld fire times in %.3f s\n", fires, secs);
    assert_true(secs < 1.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conformance_files),
        cmocka_unit_test(test_time_format_parse),
        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests_name("events_schedule", tests, NULL, NULL);
}
