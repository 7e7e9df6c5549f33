/*
 * cli.c — `haar logs NAME [--follow] [--since 10m] [--endpoint URL]`: reads a function's
 * log group from a running daemon through the CloudWatch Logs API (FilterLogEvents,
 * SigV4-signed by libcurl), as `aws logs tail` does, and prints the events.
 *
 * A process-level verb: it installs a SIGINT handler while following. Not thread-safe.
 */
#include "cloud/logs/logs_int.h"

#include "cloud/client.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_INTERVAL_MS 1000
#define DEFAULT_ENDPOINT "http://127.0.0.1:4566"
#define DEFAULT_SINCE    "10m"
#define MAX_SEEN         100000

static const char usage[] =
    "usage: haar logs NAME [--follow] [--since WHEN] [--filter PATTERN]\n"
    "                      [--format detailed|short|message] [--endpoint URL] [--region R]\n"
    "\n"
    "Prints the log events of a function (log group /aws/lambda/NAME) from a running haar\n"
    "daemon, oldest first, one event per line, like `aws logs tail`.\n"
    "\n"
    "  NAME             a function name, full (haar-dev-api) or short (api, expanded to\n"
    "                   <project>-<environment>-api using the daemon's /_haar/health), or a\n"
    "                   log group name starting with '/'\n"
    "  -f, --follow     keep polling (every second) for new events until interrupted\n"
    "  --since WHEN     start from WHEN: a duration before now (30s, 10m, 2h, 1d, 1w) or an\n"
    "                   ISO-8601 time (2026-11-25T10:00:00Z); default 10m, as `aws logs tail`\n"
    "  --filter PATTERN a CloudWatch filter pattern: terms that must all appear, \"quoted\n"
    "                   phrases\", -excluded terms, ?any-of terms\n"
    "  --format F       detailed (default): <UTC time> <stream> <message>;\n"
    "                   short: <UTC time> <message>; message: the message alone\n"
    "  --endpoint URL   the daemon's AWS endpoint (default $HAAR_ENDPOINT, else " DEFAULT_ENDPOINT
    ")\n"
    "  --region R       region for request signing (default: the daemon's, from its\n"
    "                   /_haar/health; else $AWS_REGION, else us-east-1)\n"
    "\n"
    "Exit status: 0 ok (or interrupted while following), 1 failure, 2 usage.\n";

enum fmt { FMT_DETAILED, FMT_SHORT, FMT_MESSAGE };

struct cli {
    struct client cl;
    struct client_reply r;
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

void logs__fmt_time(int64_t ms, char *out, size_t outlen)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (int64_t)t * 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(out, outlen, "%lld", (long long)ms);
        return;
    }
    snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

/* One HTTP exchange; body NULL means GET of path, else a Logs call (target). Returns 0
 * (with c->r set) or -1 (transport). */
static int http(struct cli *c, const char *path, const char *target, const char *body)
{
    char th[128];
    snprintf(th, sizeof th, "X-Amz-Target: Logs_20140328.%s", target ? target : "");
    const char *const hdrs[] = {th, "Content-Type: application/x-amz-json-1.1", NULL};
    return client_request(&c->cl, body ? "POST" : "GET", path, body ? "logs" : NULL,
                          body ? hdrs : NULL, body, body ? strlen(body) : 0, &c->r);
}

static void unreachable(const struct cli *c)
{
    fprintf(stderr,
            "haar logs: cannot reach the haar daemon at %s (%s); is `haar up` running? "
            "(set --endpoint or HAAR_ENDPOINT)\n",
            c->cl.endpoint, c->cl.err);
}

/* A Logs API call: 0 with *out the parsed answer; 1 an AWS error (type/message set);
 * -1 transport or garbage (message printed). */
static int logs_call(struct cli *c, const char *op, json_t *req, json_t **out, char *etype,
                     size_t etlen, char *emsg, size_t emlen)
{
    *out = NULL;
    char *body = json_dumps(req, JSON_COMPACT);
    if (body == NULL)
        return -1;
    int rc = http(c, "/", op, body);
    free(body);
    if (rc != 0) {
        unreachable(c);
        return -1;
    }
    json_error_t jerr;
    json_t *ans = json_loadb(c->r.body.data ? c->r.body.data : "", c->r.body.len, 0, &jerr);
    if (c->r.status != 200) {
        const char *t = json_string_value(json_object_get(ans, "__type"));
        const char *m = json_string_value(json_object_get(ans, "message"));
        if (m == NULL)
            m = json_string_value(json_object_get(ans, "Message"));
        if (t && strchr(t, '#'))
            t = strchr(t, '#') + 1;
        snprintf(etype, etlen, "%s", t ? t : "HTTP error");
        snprintf(emsg, emlen, "%s", m ? m : (c->r.body.data ? c->r.body.data : ""));
        if (t == NULL)
            snprintf(emsg, emlen, "HTTP %ld from %.200s", c->r.status, c->cl.endpoint);
        json_decref(ans);
        return 1;
    }
    if (!json_is_object(ans)) {
        fprintf(stderr, "haar logs: %s answered %s with something other than JSON\n", c->cl.endpoint,
                op);
        json_decref(ans);
        return -1;
    }
    *out = ans;
    return 0;
}

/* True when the log group exists (exact name). -1 on transport errors. */
static int group_exists(struct cli *c, const char *group)
{
    json_t *req = json_pack("{s:s}", "logGroupNamePrefix", group), *ans;
    char et[128], em[512];
    int rc = logs_call(c, "DescribeLogGroups", req, &ans, et, sizeof et, em, sizeof em);
    json_decref(req);
    if (rc < 0)
        return -1;
    if (rc > 0)
        return 0;
    int found = 0;
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(ans, "logGroups"), i, g)
    {
        const char *n = json_string_value(json_object_get(g, "logGroupName"));
        if (n && strcmp(n, group) == 0)
            found = 1;
    }
    json_decref(ans);
    return found;
}

/* What the daemon's GET /_haar/health tells about itself (top-level keys). */
struct health {
    char project[64];
    char environment[64];
    char region[LOGS_REGION_MAX];
};

/* Reads /_haar/health. Returns 0 (fields empty when absent or not JSON) or -1 unreachable. */
static int read_health(struct cli *c, struct health *h)
{
    memset(h, 0, sizeof *h);
    if (http(c, "/_haar/health", NULL, NULL) != 0) {
        unreachable(c);
        return -1;
    }
    json_error_t jerr;
    json_t *j = c->r.status == 200 ? json_loadb(c->r.body.data, c->r.body.len, 0, &jerr) : NULL;
    const char *p = json_string_value(json_object_get(j, "project"));
    const char *e = json_string_value(json_object_get(j, "environment"));
    const char *r = json_string_value(json_object_get(j, "region"));
    snprintf(h->project, sizeof h->project, "%s", p ? p : "");
    snprintf(h->environment, sizeof h->environment, "%s", e ? e : "");
    snprintf(h->region, sizeof h->region, "%s", r ? r : "");
    json_decref(j);
    return 0;
}

/*
 * NAME → log group. '/…' is a group already. Otherwise /aws/lambda/NAME if that group
 * exists, or when NAME already starts with "<project>-<environment>-"; else the short
 * name expanded to /aws/lambda/<project>-<environment>-NAME (project and environment
 * from the daemon's health answer).
 */
static int resolve_group(struct cli *c, const struct health *h, const char *name, char *group,
                         size_t glen)
{
    if (name[0] == '/') {
        snprintf(group, glen, "%s", name);
        return 0;
    }
    snprintf(group, glen, "/aws/lambda/%s", name);
    if (h->project[0] == '\0' || h->environment[0] == '\0')
        return 0;
    char prefix[160];
    snprintf(prefix, sizeof prefix, "%s-%s-", h->project, h->environment);
    if (strncmp(name, prefix, strlen(prefix)) == 0)
        return 0;
    int ex = group_exists(c, group);
    if (ex != 0)
        return ex < 0 ? -1 : 0;
    snprintf(group, glen, "/aws/lambda/%s%s", prefix, name);
    return 0;
}

struct seen {
    int64_t ts; /* the newest timestamp printed */
    char **ids; /* eventIds printed with that timestamp */
    size_t n, cap;
};

static bool seen_has(const struct seen *s, int64_t ts, const char *id)
{
    if (ts != s->ts)
        return false;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            return true;
    return false;
}

static void seen_clear(struct seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->ids[i]);
    s->n = 0;
}

static void seen_add(struct seen *s, int64_t ts, const char *id)
{
    if (ts > s->ts) {
        seen_clear(s);
        s->ts = ts;
    }
    if (ts < s->ts || s->n >= MAX_SEEN)
        return;
    if (s->n == s->cap) {
        size_t n = s->cap ? s->cap * 2 : 16;
        char **v = realloc(s->ids, n * sizeof *v);
        if (v == NULL)
            return;
        s->ids = v;
        s->cap = n;
    }
    char *d = strdup(id);
    if (d)
        s->ids[s->n++] = d;
}

static void print_event(enum fmt f, json_t *ev)
{
    const char *msg = json_string_value(json_object_get(ev, "message"));
    const char *stream = json_string_value(json_object_get(ev, "logStreamName"));
    json_int_t ts = json_integer_value(json_object_get(ev, "timestamp"));
    size_t mlen = json_string_length(json_object_get(ev, "message"));
    char when[40];
    logs__fmt_time(ts, when, sizeof when);
    if (f == FMT_DETAILED)
        printf("%s %s ", when, stream ? stream : "-");
    else if (f == FMT_SHORT)
        printf("%s ", when);
    if (msg) {
        /* a trailing newline of the message is not doubled */
        if (mlen > 0 && msg[mlen - 1] == '\n')
            mlen--;
        fwrite(msg, 1, mlen, stdout);
    }
    putchar('\n');
}

/* One pass over the group from `since`, all pages. Returns 0, or the exit status. */
static int fetch(struct cli *c, const char *group, const char *pattern, enum fmt f, int64_t since,
                 struct seen *seen)
{
    char *token = NULL;
    int rc = 0;
    for (int page = 0; page < 100000 && !interrupted; page++) {
        json_t *req = json_pack("{s:s,s:I,s:b}", "logGroupName", group, "startTime",
                                (json_int_t)since, "interleaved", 1);
        if (pattern)
            json_object_set_new(req, "filterPattern", json_string(pattern));
        if (token)
            json_object_set_new(req, "nextToken", json_string(token));
        json_t *ans;
        char et[128], em[512];
        int r = logs_call(c, "FilterLogEvents", req, &ans, et, sizeof et, em, sizeof em);
        json_decref(req);
        if (r < 0) {
            rc = 1;
            break;
        }
        if (r > 0) {
            if (strcmp(et, "ResourceNotFoundException") == 0)
                fprintf(stderr,
                        "haar logs: log group %s does not exist (a function's group appears "
                        "when it first logs)\n",
                        group);
            else
                fprintf(stderr, "haar logs: %s: %s\n", et, em);
            rc = 1;
            break;
        }
        size_t i;
        json_t *ev;
        json_array_foreach(json_object_get(ans, "events"), i, ev)
        {
            const char *id = json_string_value(json_object_get(ev, "eventId"));
            json_int_t ts = json_integer_value(json_object_get(ev, "timestamp"));
            if (id == NULL)
                id = "";
            if (ts < seen->ts || seen_has(seen, ts, id))
                continue;
            print_event(f, ev);
            seen_add(seen, ts, id);
        }
        fflush(stdout);
        free(token);
        token = NULL;
        const char *next = json_string_value(json_object_get(ans, "nextToken"));
        if (next)
            token = strdup(next);
        json_decref(ans);
        if (token == NULL)
            break;
    }
    free(token);
    return rc;
}

static const struct {
    const char *name;
    enum fmt f;
} formats[] = {{"detailed", FMT_DETAILED}, {"short", FMT_SHORT}, {"message", FMT_MESSAGE}};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int logs_cli(int argc, char **argv)
{
    const char *name = NULL, *since_s = DEFAULT_SINCE, *endpoint = NULL, *pattern = NULL;
    const char *region = NULL;
    bool follow = false;
    enum fmt f = FMT_DETAILED;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "-f") == 0 || strcmp(a, "--follow") == 0) {
            follow = true;
            continue;
        } else if (strcmp(a, "--since") == 0) {
            dst = &since_s;
        } else if (strcmp(a, "--endpoint") == 0) {
            dst = &endpoint;
        } else if (strcmp(a, "--filter") == 0 || strcmp(a, "--filter-pattern") == 0) {
            dst = &pattern;
        } else if (strcmp(a, "--region") == 0) {
            dst = &region;
        } else if (strcmp(a, "--format") == 0) {
            if (i + 1 >= argc)
                goto usage_error;
            const char *v = argv[++i];
            size_t k = 0;
            for (; k < sizeof formats / sizeof formats[0]; k++)
                if (strcmp(formats[k].name, v) == 0)
                    break;
            if (k == sizeof formats / sizeof formats[0]) {
                fprintf(stderr, "haar logs: unknown --format %s (detailed, short, message)\n", v);
                return 2;
            }
            f = formats[k].f;
            continue;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "haar logs: unknown option %s\n", a);
            goto usage_error;
        } else if (name == NULL) {
            name = a;
            continue;
        } else {
            fprintf(stderr, "haar logs: one NAME only (got %s and %s)\n", name, a);
            goto usage_error;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "haar logs: %s needs a value\n", a);
            goto usage_error;
        }
        *dst = argv[++i];
    }
    if (name == NULL || name[0] == '\0')
        goto usage_error;
    int64_t since;
    if (logs__parse_since(since_s, now_ms(), &since) != 0) {
        fprintf(stderr,
                "haar logs: bad --since %s (use e.g. 30s, 10m, 2h, 1d, 1w or "
                "2026-11-25T10:00:00Z)\n",
                since_s);
        return 2;
    }

    struct cli c;
    memset(&c, 0, sizeof c);

    int rc = 1;
    struct seen seen = {.ts = INT64_MIN};
    struct sigaction sa, old;
    bool handler = false;
    char group[700];
    if (client_init(&c.cl, "logs", endpoint, region) != 0)
        goto out;
    struct health h;
    if (read_health(&c, &h) != 0)
        goto out;
    /* sign for --region, else the daemon's own region, else the environment's */
    if (region == NULL && h.region[0])
        client_set_region(&c.cl, h.region);
    if (resolve_group(&c, &h, name, group, sizeof group) != 0)
        goto out;
    if (follow) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        handler = sigaction(SIGINT, &sa, &old) == 0;
    }
    interrupted = 0;
    rc = fetch(&c, group, pattern, f, since, &seen);
    while (rc == 0 && follow && !interrupted) {
        for (int t = 0; t < POLL_INTERVAL_MS / 50 && !interrupted; t++) {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (interrupted)
            break;
        rc = fetch(&c, group, pattern, f, seen.ts > since ? seen.ts : since, &seen);
    }
    if (interrupted)
        rc = 0;
out:
    if (handler)
        sigaction(SIGINT, &old, NULL);
    seen_clear(&seen);
    free(seen.ids);
    client_destroy(&c.cl);
    buf_destroy(&c.r.body);
    return rc;
usage_error:
    fputs(usage, stderr);
    return 2;
}
