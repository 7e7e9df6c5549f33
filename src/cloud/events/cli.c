/*
 * cli.c — `haar schedule next EXPR [--count N] [--from ISO8601]` (see cli.h).
 */
#include "cloud/events/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/events/schedule.h"
#include "core/clock.h"

#define DEFAULT_COUNT 5
#define MAX_COUNT     1000000

static const char usage[] =
    "usage: haar schedule next EXPR [--count N] [--from ISO8601]\n"
    "\n"
    "Prints the next fire times of an EventBridge schedule expression, in UTC, one per line.\n"
    "\n"
    "  EXPR            rate(value unit) or cron(min hour day-of-month month day-of-week year)\n"
    "  --count N       how many times to print (default 5, at most 1000000)\n"
    "  --from TIME     start strictly after TIME (default now): 2026-11-24T12:00:00Z,\n"
    "                  2026-11-24T12:00, 2026-11-24 (UTC unless an offset is given);\n"
    "                  a rate counts from TIME, as if the rule were created then\n"
    "\n"
    "Exit status: 0 ok, 2 usage or an invalid expression.\n";

static int parse_count(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > MAX_COUNT)
        return -1;
    *out = v;
    return 0;
}

int events_schedule_cli(int argc, char **argv)
{
    const char *expr = NULL, *from = NULL;
    long count = DEFAULT_COUNT;
    if (argc < 2 || strcmp(argv[1], "next") != 0) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            fputs(usage, stdout);
            return 0;
        }
        fputs(usage, stderr);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            if (parse_count(argv[++i], &count) != 0) {
                fprintf(stderr, "haar schedule: --count must be an integer 1..%d\n", MAX_COUNT);
                return 2;
            }
        } else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
            from = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (expr == NULL && (argv[i][0] != '-' || argv[i][1] == '\0')) {
            expr = argv[i];
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (expr == NULL) {
        fputs(usage, stderr);
        return 2;
    }
    int64_t t = clock_now_ms();
    if (from != NULL && events_time_parse(from, strlen(from), &t) != 0) {
        fprintf(stderr, "haar schedule: --from %s is not an ISO-8601 time (2026-11-24T12:00:00Z)\n",
                from);
        return 2;
    }
    struct events_schedule s;
    char detail[256];
    if (events_schedule_parse(expr, strlen(expr), &s, detail, sizeof detail) != 0) {
        fprintf(stderr, "haar schedule: %s (%s)\n", EVENTS_SCHEDULE_INVALID, detail);
        return 2;
    }
    int64_t anchor = t;
    for (long i = 0; i < count; i++) {
        t = events_schedule_next(&s, anchor, t);
        char line[32];
        if (t == EVENTS_SCHEDULE_NONE || events_time_format(t, line, sizeof line) < 0)
            break;
        puts(line);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
