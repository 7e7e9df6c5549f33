/*
 * cli.c — `haar schedule next EXPR [--count N] [--from ISO8601]` and `haar trigger RULE`
 * (see cli.h).
 */
#include "cloud/events/cli.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/client.h"
#include "cloud/events/schedule.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"

#define DEFAULT_COUNT 5
#define MAX_COUNT     1000000

static const char usage[] =
    "usage: haar schedule next EXPR [--count N] [--from ISO8601]\n"
    "\n"
    "Prints the next fire times of an EventBridge schedule expression, in UTC, one per line.\n"
    "\n"
    "  EXPR            rate(value unit) or cron(min hour day-of-month month day-of-week year);\n"
    "                  - reads expressions from stdin, one per line, and prints one line for\n"
    "                  each: its fire times separated by spaces (empty when invalid)\n"
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

/* Prints up to count fire times after from_ms (a rate anchored at from_ms), each followed by
 * sep; with sep ' ' the line ends with a newline instead of the last space. */
static void print_times(const struct events_schedule *s, int64_t from_ms, long count, char sep)
{
    int64_t t = from_ms;
    for (long i = 0; i < count; i++) {
        t = events_schedule_next(s, from_ms, t);
        char when[32];
        if (t == EVENTS_SCHEDULE_NONE || clock_format_iso(t, false, when, sizeof when) < 0)
            break;
        if (sep == '\n' || i == 0)
            fputs(when, stdout);
        else
            printf(" %s", when);
        if (sep == '\n')
            putchar('\n');
    }
    if (sep != '\n')
        putchar('\n');
}

/* The batch form: one expression a line on stdin, one line of fire times each on stdout. */
static int schedule_batch(long count, int64_t from_ms)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    int rc = 0;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        struct events_schedule s;
        char detail[256];
        if (events_schedule_parse(line, (size_t)n, &s, detail, sizeof detail) != 0) {
            fprintf(stderr, "haar schedule: line %ld: %s (%s)\n", lineno, EVENTS_SCHEDULE_INVALID,
                    detail);
            putchar('\n');
            rc = 2;
            continue;
        }
        print_times(&s, from_ms, count, ' ');
    }
    free(line);
    if (fflush(stdout) != 0)
        return 1;
    return rc;
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
    int64_t from_ms = clock_now_ms();
    if (from != NULL && clock_parse_iso8601(from, &from_ms) != 0) {
        fprintf(stderr, "haar schedule: --from %s is not an ISO-8601 time (2026-11-24T12:00:00Z)\n",
                from);
        return 2;
    }
    if (strcmp(expr, "-") == 0)
        return schedule_batch(count, from_ms);
    struct events_schedule s;
    char detail[256];
    if (events_schedule_parse(expr, strlen(expr), &s, detail, sizeof detail) != 0) {
        fprintf(stderr, "haar schedule: %s (%s)\n", EVENTS_SCHEDULE_INVALID, detail);
        return 2;
    }
    print_times(&s, from_ms, count, '\n');
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- haar trigger ---- */

static const char trigger_usage[] = "usage: haar trigger RULE [--bus NAME] [--endpoint URL]\n";

/* POST /_haar/events/trigger for rule on bus (unsigned: /_haar/ paths take none); the
 * answer's JSON in *doc (new reference). Returns the HTTP status, or -1 when the daemon
 * cannot be reached. */
static long trigger_once(struct client *c, const char *rule, const char *bus, json_t **doc)
{
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    json_t *req = json_pack("{s:s, s:s}", "rule", rule, "bus", bus);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    struct client_reply r = {0};
    long status = -1;
    if (body != NULL && client_request(c, "POST", "/_haar/events/trigger", NULL, headers, body,
                                       strlen(body), &r) == 0)
        status = r.status;
    free(body);
    *doc = status > 0 ? client_reply_json(&r) : NULL;
    buf_destroy(&r.body);
    return status;
}

int events_trigger_cli(int argc, char **argv)
{
    const char *rule = NULL, *bus = "default", *endpoint = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bus") == 0 && i + 1 < argc) {
            bus = argv[++i];
        } else if (strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc) {
            endpoint = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(trigger_usage, stdout);
            return 0;
        } else if (rule == NULL && argv[i][0] != '-') {
            rule = argv[i];
        } else {
            fputs(trigger_usage, stderr);
            return 2;
        }
    }
    if (rule == NULL) {
        fputs(trigger_usage, stderr);
        return 2;
    }
    struct client c;
    if (client_init(&c, "trigger", endpoint, NULL) != 0)
        return 1;
    json_t *doc = NULL;
    long status = trigger_once(&c, rule, bus, &doc);
    if (status == 404) {
        /* the environment's short form: "schedule" is <project>-<environment>-schedule */
        char full[300];
        struct client_reply r = {0};
        json_t *h = NULL;
        if (client_request(&c, "GET", "/_haar/health", NULL, NULL, NULL, 0, &r) == 0 &&
            r.status == 200)
            h = client_reply_json(&r);
        buf_destroy(&r.body);
        snprintf(full, sizeof full, "%s-%s-%s", jsonh_str(h, "project", "haar"),
                 jsonh_str(h, "environment", "dev"), rule);
        json_decref(h);
        json_t *again = NULL;
        long st = trigger_once(&c, full, bus, &again);
        if (st == 200) {
            json_decref(doc);
            doc = again;
            status = st;
        } else {
            json_decref(again);
        }
    }
    int rc = 1;
    if (status < 0) {
        fprintf(stderr, "haar: no daemon answers at %s (is `haar up` running?)\n", c.endpoint);
    } else if (status != 200) {
        fprintf(stderr, "haar trigger: %s\n", jsonh_str(doc, "message", "failed"));
    } else {
        long long n = 0;
        jsonh_int(doc, "targets", &n);
        printf("%s fired at %s (%lld target%s)\n", jsonh_str(doc, "arn", rule),
               jsonh_str(doc, "time", "?"), n, n == 1 ? "" : "s");
        rc = 0;
    }
    json_decref(doc);
    client_destroy(&c);
    return rc;
}
