/*
 * schedule.h — EventBridge schedule expressions: rate(...) and 6-field cron(...), parsed
 * once into a compiled schedule, then asked for fire times (AWS-CONTRACTS.md §5).
 *
 * rate(value unit): value a positive integer (no sign, no leading zero, at most 9 digits),
 * unit minute|hour|day when value is 1, minutes|hours|days otherwise; lowercase, no spaces
 * but the one between value and unit. A rate fires at anchor + k * period, k >= 1, where
 * the anchor is the rule's creation time (the caller keeps it).
 *
 * cron(Minutes Hours Day-of-month Month Day-of-week Year), always UTC:
 *   Minutes 0-59, Hours 0-23, Day-of-month 1-31, Month 1-12 or JAN-DEC,
 *   Day-of-week 1-7 or SUN-SAT (1 = SUN), Year 1970-2199;
 *   "," lists, "-" ranges (wrapping around, e.g. hours 20-2, except in Year),
 *   "*" every value, "/" increments ("1/10", "*" "/15", "8-17/2"),
 *   "?" in exactly one of Day-of-month / Day-of-week,
 *   Day-of-month: "L" last day, "L-n" n days before it, "nW" weekday nearest day n,
 *   "LW" last weekday; Day-of-week: "L" (= 7, SAT), "nL" last weekday n of the month,
 *   "n#k" k-th weekday n (1..5), alone in its field. Names are case-insensitive.
 * Any other text is refused.
 *
 * Everything here is pure computation: thread-safe, no allocation after parse.
 */
#ifndef HAAR_CLOUD_EVENTS_SCHEDULE_H
#define HAAR_CLOUD_EVENTS_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The one message EventBridge gives for any bad ScheduleExpression (ValidationException,
 * HTTP 400): AWS-RECORDED.md §4, from LocalStack's snapshot of real AWS answers
 * (test_events_schedule.snapshot.json) and moto's aws_verified test_put_rule_with_invalid_
 * schedule_rate. AWS never says more than this; the detail events_schedule_parse writes is
 * for people (config errors, the CLI). */
#define EVENTS_SCHEDULE_INVALID "Parameter ScheduleExpression is not valid."

/* Longest ScheduleExpression PutRule accepts (botocore events model: max 256). */
#define EVENTS_SCHEDULE_MAX_LEN 256

/* First and last year a cron expression can name. */
#define EVENTS_CRON_YEAR_MIN 1970
#define EVENTS_CRON_YEAR_MAX 2199

/* No fire time: events_schedule_next found nothing (a cron whose years are all past). */
#define EVENTS_SCHEDULE_NONE INT64_MIN

enum events_schedule_kind { EVENTS_SCHEDULE_RATE, EVENTS_SCHEDULE_CRON };

/* A compiled schedule. Plain data, caller-allocated; copy it freely. Fields are read-only
 * to callers (use the functions below). */
struct events_schedule {
    enum events_schedule_kind kind;
    int64_t period_ms; /* rate: the period */
    uint64_t minutes;  /* cron: bit m set = minute m matches (0..59) */
    uint32_t hours;    /* bit h (0..23) */
    uint32_t months;   /* bit m (1..12) */
    uint64_t years[4]; /* bit (y - 1970) */
    /* Day-of-month rule (dom_any true when the field is "?") */
    bool dom_any;
    uint32_t dom_days; /* plain days: bit d (1..31) */
    bool dom_last;     /* "L" / "L-n": last day minus dom_last_offset */
    int dom_last_offset;
    bool dom_last_weekday; /* "LW" */
    int dom_nearest;       /* "nW": n (1..31), 0 if unused */
    /* Day-of-week rule (dow_any true when the field is "?") */
    bool dow_any;
    uint8_t dow_days; /* bit d (1..7, 1 = Sunday) */
    int dow_last;     /* "nL": n (1..7), 0 if unused */
    int dow_nth_day;  /* "n#k": n (1..7), 0 if unused */
    int dow_nth;      /* k (1..5) */
};

/*
 * Parses len bytes of expr (no NUL needed) into *out. Returns 0, or -1 when the
 * expression is not one EventBridge accepts: then the API answer is EVENTS_SCHEDULE_INVALID
 * and `detail` (if not NULL) gets a one-line explanation for people, such as
 * "the unit must be minute(s), hour(s) or day(s)" — phrased to follow the quoted
 * expression after ": ", or after a space when it starts with "must".
 */
int events_schedule_parse(const char *expr, size_t len, struct events_schedule *out, char *detail,
                          size_t detaillen);

/* True when the text is a valid schedule expression (events_schedule_parse without output). */
bool events_schedule_valid(const char *expr, size_t len);

/*
 * The first fire time strictly after `after_ms` (epoch milliseconds, UTC), or
 * EVENTS_SCHEDULE_NONE. Cron times are whole minutes; the search is bounded by the last
 * year (2199), so it always ends. Rate times are anchor_ms + k * period (k >= 1); cron
 * ignores anchor_ms.
 */
int64_t events_schedule_next(const struct events_schedule *s, int64_t anchor_ms, int64_t after_ms);

#endif
