/*
 * proto_json.c — the CloudWatch Logs JSON 1.1 adapter (X-Amz-Target: Logs_20140328.<Op>):
 * request bytes → engine calls (store.c) → JSON answer or an AWS-shaped error (core/err.h).
 *
 * Paging tokens:
 *   DescribeLogGroups   "g/<last group name>"      (names are [.-_/#A-Za-z0-9] only)
 *   DescribeLogStreams  "s/<offset>"               (into the ordered list)
 *   GetLogEvents        "f/<ts>_<off>" (events after) and "b/<ts>_<off>" (events before);
 *                       (ts, off) — the event's timestamp and its byte offset in the
 *                       day segment — orders a stream's events and never changes
 *   FilterLogEvents     "e/<ts>_<stream hash>_<off>" (events after), the order of the answer
 *
 * Operations: CreateLogGroup (with tags, kmsKeyId, logGroupClass), DeleteLogGroup,
 * DescribeLogGroups, PutRetentionPolicy, DeleteRetentionPolicy, CreateLogStream,
 * DeleteLogStream, DescribeLogStreams, PutLogEvents, GetLogEvents, FilterLogEvents, and log
 * group tags: TagResource, UntagResource, ListTagsForResource (by ARN) and the older
 * TagLogGroup, UntagLogGroup, ListTagsLogGroup (by name). Tags are checked whole before
 * any is applied, so a refused request changes nothing.
 * Runs on the daemon's loop thread; not thread-safe.
 */
#include "cloud/logs/logs_int.h"
#include "cloud/logs/proto_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/utf8.h"

#define MSG_CAP         700
#define MAX_EVENTS      10000
#define MAX_BATCH_BYTES 1048576
#define EVENT_OVERHEAD  26
#define TOO_OLD_MS      (14 * LOGS_DAY_MS)
#define TOO_NEW_MS      (2 * 3600 * 1000LL)
#define MAX_PATTERN_LEN 1024
#define MAX_TAGS        50 /* per resource, and per request */
#define TAG_KEY_MAX     128
#define TAG_VALUE_MAX   256
#define KMS_KEY_MAX     256
#define ARN_MAX         1011

static const char ACCOUNT[] = "000000000000";
static const char STREAM_NOT_FOUND[] = "The specified log stream does not exist.";
static const char GROUP_NOT_FOUND[] = "The specified log group does not exist.";
static const char TOO_MANY_TAGS[] = "A resource can have no more than 50 tags.";
static const char KEY_RULES[] =
    "[Member must have length less than or equal to 128, Member must have length greater than "
    "or equal to 1, Member must satisfy regular expression pattern: "
    "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$]";
static const char VALUE_RULES[] =
    "[Member must have length less than or equal to 256, Member must satisfy regular "
    "expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$]";

struct ctx {
    struct logs *lg;
    json_t *req;
    struct buf *out;
    char msg[MSG_CAP];
    bool out_full;
    size_t start; /* out->len when the request began */
};

/* ---- output ---- */

static void put(struct ctx *c, const char *s)
{
    if (buf_puts(c->out, s) != BUF_OK)
        c->out_full = true;
}

static void putf(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (buf_vprintf(c->out, fmt, ap) != BUF_OK)
        c->out_full = true;
    va_end(ap);
}

/* Appends a JSON string literal (invalid UTF-8 becomes U+FFFD). */
static void json_str(struct buf *b, const char *s, size_t len, bool *full)
{
    if (jw_escape(b, s, len) != BUF_OK)
        *full = true;
}

static void put_str(struct ctx *c, const char *s)
{
    json_str(c->out, s, strlen(s), &c->out_full);
}

/* ---- request parameters ---- */

static enum err invalid(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static enum err invalid(struct ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return ERR_LOGS_INVALID_PARAMETER;
}

static enum err not_found(struct ctx *c, const char *what)
{
    snprintf(c->msg, sizeof c->msg, "%s", what);
    return ERR_LOGS_NOT_FOUND;
}

/* A string member: *v NULL when absent (an error if required). */
static enum err get_str(struct ctx *c, const char *key, bool required, const char **v)
{
    json_t *j = json_object_get(c->req, key);
    *v = NULL;
    if (j == NULL || json_is_null(j)) {
        if (required)
            return invalid(c,
                           "1 validation error detected: Value null at '%s' failed to satisfy "
                           "constraint: Member must not be null",
                           key);
        return ERR_OK;
    }
    if (!json_is_string(j))
        return invalid(c, "Invalid type for parameter %s: expected a string", key);
    *v = json_string_value(j);
    if (strlen(*v) != json_string_length(j))
        return invalid(c, "Invalid value for parameter %s: contains NUL", key);
    return ERR_OK;
}

static enum err get_int(struct ctx *c, const char *key, int64_t lo, int64_t hi, int64_t *v,
                        bool *present)
{
    json_t *j = json_object_get(c->req, key);
    *present = false;
    if (j == NULL || json_is_null(j))
        return ERR_OK;
    if (!json_is_integer(j))
        return invalid(c, "Invalid type for parameter %s: expected an integer", key);
    json_int_t x = json_integer_value(j);
    if (x < lo || x > hi)
        return invalid(c,
                       "1 validation error detected: Value '%lld' at '%s' failed to satisfy "
                       "constraint: Member must be between %lld and %lld",
                       (long long)x, key, (long long)lo, (long long)hi);
    *v = x;
    *present = true;
    return ERR_OK;
}

static enum err get_bool(struct ctx *c, const char *key, bool *v)
{
    json_t *j = json_object_get(c->req, key);
    if (j == NULL || json_is_null(j))
        return ERR_OK;
    if (!json_is_boolean(j))
        return invalid(c, "Invalid type for parameter %s: expected a boolean", key);
    *v = json_is_true(j);
    return ERR_OK;
}

static enum err check_group_name(struct ctx *c, const char *key, const char *name)
{
    if (!logs__valid_group_name(name, strlen(name)))
        return invalid(c,
                       "1 validation error detected: Value '%.200s' at '%s' failed to satisfy "
                       "constraint: Member must satisfy regular expression pattern: "
                       "[\\.\\-_/#A-Za-z0-9]+ and have length between 1 and 512",
                       name, key);
    return ERR_OK;
}

static enum err check_stream_name(struct ctx *c, const char *key, const char *name)
{
    if (!logs__valid_stream_name(name, strlen(name)))
        return invalid(c,
                       "1 validation error detected: Value '%.200s' at '%s' failed to satisfy "
                       "constraint: Member must satisfy regular expression pattern: [^:*]* and "
                       "have length between 1 and 512",
                       name, key);
    return ERR_OK;
}

/* logGroupName, or logGroupIdentifier (a name or an ARN), of an existing group. */
static enum err get_group(struct ctx *c, bool identifier_ok, struct logs_group **g)
{
    const char *name, *ident = NULL;
    enum err e = get_str(c, "logGroupName", false, &name);
    if (e == ERR_OK && identifier_ok)
        e = get_str(c, "logGroupIdentifier", false, &ident);
    if (e != ERR_OK)
        return e;
    if (name && ident)
        return invalid(c, "LogGroup name and LogGroup ARN are mutually exclusive parameters.");
    char buf[LOGS_NAME_MAX + 1];
    if (ident) {
        /* arn:aws:logs:<region>:<account>:log-group:<name>[:*] */
        const char *p = ident;
        if (strncmp(p, "arn:", 4) == 0) {
            const char *lgp = strstr(p, ":log-group:");
            if (lgp == NULL)
                return invalid(c, "Invalid logGroupIdentifier: %.200s", ident);
            p = lgp + strlen(":log-group:");
        }
        size_t n = strcspn(p, ":");
        if (n > LOGS_NAME_MAX)
            return invalid(c, "Invalid logGroupIdentifier: %.200s", ident);
        memcpy(buf, p, n);
        buf[n] = '\0';
        name = buf;
    }
    if (name == NULL)
        return invalid(c, "1 validation error detected: Value null at 'logGroupName' failed to "
                          "satisfy constraint: Member must not be null");
    if ((e = check_group_name(c, ident ? "logGroupIdentifier" : "logGroupName", name)) != ERR_OK)
        return e;
    *g = logs__group_find(c->lg, name);
    if (*g == NULL)
        return not_found(c, GROUP_NOT_FOUND);
    return ERR_OK;
}

static void put_group_arn(struct ctx *c, const char *group, bool star)
{
    putf(c, "\"arn:aws:logs:%s:%s:log-group:%s%s\"", logs__region(c->lg), ACCOUNT, group,
         star ? ":*" : "");
}

/* ---- log groups ---- */

static enum err get_class(struct ctx *c, const char **cls)
{
    enum err e = get_str(c, "logGroupClass", false, cls);
    if (e != ERR_OK || *cls == NULL)
        return e;
    if (strcmp(*cls, "STANDARD") != 0 && strcmp(*cls, "INFREQUENT_ACCESS") != 0 &&
        strcmp(*cls, "DELIVERY") != 0)
        return invalid(c,
                       "1 validation error detected: Value '%.100s' at 'logGroupClass' failed to "
                       "satisfy constraint: Member must satisfy enum value set: [STANDARD, "
                       "INFREQUENT_ACCESS, DELIVERY]",
                       *cls);
    return ERR_OK;
}

/* kmsKeyId is kept and reported back, not used: haar encrypts nothing. It is one line of
 * the group's meta file, hence no control characters. */
static enum err get_kms(struct ctx *c, const char **kms)
{
    enum err e = get_str(c, "kmsKeyId", false, kms);
    if (e != ERR_OK || *kms == NULL)
        return e;
    if (strlen(*kms) > KMS_KEY_MAX)
        return invalid(c, "1 validation error detected: Value at 'kmsKeyId' failed to satisfy "
                          "constraint: Member must have length less than or equal to 256");
    for (const unsigned char *u = (const unsigned char *)*kms; *u; u++)
        if (*u < 0x20 || *u == 0x7F)
            return invalid(c, "Invalid kmsKeyId: %.100s", *kms);
    if (**kms == '\0')
        *kms = NULL;
    return ERR_OK;
}

static enum err get_tags(struct ctx *c, const char *key, size_t min, json_t **tags);

static enum err op_create_log_group(struct ctx *c)
{
    const char *name, *cls, *kms;
    json_t *tags;
    enum err e = get_str(c, "logGroupName", true, &name);
    if (e == ERR_OK)
        e = check_group_name(c, "logGroupName", name);
    if (e == ERR_OK)
        e = get_tags(c, "tags", 0, &tags);
    if (e == ERR_OK)
        e = get_kms(c, &kms);
    if (e == ERR_OK)
        e = get_class(c, &cls);
    if (e != ERR_OK)
        return e;
    bool exists;
    struct logs_group *g = logs__group_create(c->lg, name, 0, &exists);
    if (g == NULL)
        return exists ? ERR_LOGS_ALREADY_EXISTS : ERR_INTERNAL;
    /* all or nothing: a group that cannot keep what was asked of it is not left behind */
    if (((cls && strcmp(cls, "STANDARD") != 0) || kms) &&
        logs__group_set_class(c->lg, g, cls ? cls : "STANDARD", kms) != 0) {
        logs__group_delete(c->lg, g);
        return ERR_INTERNAL;
    }
    if (tags && json_object_size(tags) > 0 && logs__group_set_tags(c->lg, g, tags) != 0) {
        logs__group_delete(c->lg, g);
        return ERR_INTERNAL;
    }
    put(c, "{}");
    return ERR_OK;
}

static enum err op_delete_log_group(struct ctx *c)
{
    struct logs_group *g;
    enum err e = get_group(c, false, &g);
    if (e != ERR_OK)
        return e;
    logs__group_delete(c->lg, g);
    put(c, "{}");
    return ERR_OK;
}

static enum err op_put_retention(struct ctx *c)
{
    struct logs_group *g;
    int64_t days = 0;
    bool present;
    enum err e = get_group(c, false, &g);
    if (e == ERR_OK)
        e = get_int(c, "retentionInDays", INT32_MIN, INT32_MAX, &days, &present);
    if (e != ERR_OK)
        return e;
    if (!present)
        return invalid(c, "1 validation error detected: Value null at 'retentionInDays' failed "
                          "to satisfy constraint: Member must not be null");
    if (!logs__valid_retention((long)days))
        return invalid(c,
                       "1 validation error detected: Value '%lld' at 'retentionInDays' failed "
                       "to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, "
                       "14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, "
                       "2557, 2922, 3288, 3653]",
                       (long long)days);
    if (logs__group_set_retention(c->lg, g, (int)days) != 0)
        return ERR_INTERNAL;
    put(c, "{}");
    return ERR_OK;
}

static enum err op_delete_retention(struct ctx *c)
{
    struct logs_group *g;
    enum err e = get_group(c, false, &g);
    if (e != ERR_OK)
        return e;
    if (logs__group_set_retention(c->lg, g, 0) != 0)
        return ERR_INTERNAL;
    put(c, "{}");
    return ERR_OK;
}

static enum err op_describe_log_groups(struct ctx *c)
{
    const char *prefix, *pattern, *token, *cls;
    int64_t limit = 50;
    bool has_limit;
    enum err e = get_str(c, "logGroupNamePrefix", false, &prefix);
    if (e == ERR_OK)
        e = get_class(c, &cls);
    if (e == ERR_OK)
        e = get_str(c, "logGroupNamePattern", false, &pattern);
    if (e == ERR_OK)
        e = get_str(c, "nextToken", false, &token);
    if (e == ERR_OK)
        e = get_int(c, "limit", 1, 50, &limit, &has_limit);
    if (e == ERR_OK && prefix)
        e = check_group_name(c, "logGroupNamePrefix", prefix);
    if (e != ERR_OK)
        return e;
    if (prefix && pattern)
        return invalid(c, "LogGroup name prefix and LogGroup name pattern are mutually "
                          "exclusive parameters.");
    if (token && (strncmp(token, "g/", 2) != 0 || strlen(token) > LOGS_NAME_MAX + 2))
        return invalid(c, "The specified nextToken is invalid.");
    size_t n;
    struct logs_group **v = logs__groups_sorted(c->lg, &n);
    if (v == NULL)
        return ERR_INTERNAL;
    put(c, "{\"logGroups\":[");
    int64_t count = 0;
    const char *last = NULL;
    bool more = false;
    for (size_t i = 0; i < n; i++) {
        const char *name = logs__group_name(v[i]);
        if (prefix && strncmp(name, prefix, strlen(prefix)) != 0)
            continue;
        if (pattern && strstr(name, pattern) == NULL)
            continue;
        if (token && strcmp(name, token + 2) <= 0)
            continue;
        if (cls && strcmp(logs__group_class(v[i]), cls) != 0)
            continue;
        if (count == limit) {
            more = true;
            break;
        }
        put(c, count ? ",{\"logGroupName\":" : "{\"logGroupName\":");
        put_str(c, name);
        putf(c, ",\"creationTime\":%lld", (long long)logs__group_created(v[i]));
        if (logs__group_retention(v[i]) > 0)
            putf(c, ",\"retentionInDays\":%d", logs__group_retention(v[i]));
        put(c, ",\"metricFilterCount\":0,\"arn\":");
        put_group_arn(c, name, true);
        if (logs__group_kms(v[i])) {
            put(c, ",\"kmsKeyId\":");
            put_str(c, logs__group_kms(v[i]));
        }
        putf(c, ",\"storedBytes\":%lld,\"logGroupClass\":\"%s\",\"logGroupArn\":",
             (long long)logs__group_bytes(v[i]), logs__group_class(v[i]));
        put_group_arn(c, name, false);
        put(c, "}");
        count++;
        last = name;
    }
    put(c, "]");
    if (more && last) {
        put(c, ",\"nextToken\":\"g/");
        put(c, last); /* safe: group names need no JSON escaping */
        put(c, "\"");
    }
    put(c, "}");
    free(v);
    return ERR_OK;
}

/* ---- log streams ---- */

static enum err op_create_log_stream(struct ctx *c)
{
    struct logs_group *g;
    const char *name;
    enum err e = get_str(c, "logStreamName", true, &name);
    if (e == ERR_OK)
        e = check_stream_name(c, "logStreamName", name);
    if (e == ERR_OK)
        e = get_group(c, false, &g);
    if (e != ERR_OK)
        return e;
    bool exists;
    if (logs__stream_create(c->lg, g, name, &exists) == NULL) {
        if (!exists)
            return ERR_INTERNAL;
        snprintf(c->msg, sizeof c->msg, "The specified log stream already exists");
        return ERR_LOGS_ALREADY_EXISTS;
    }
    put(c, "{}");
    return ERR_OK;
}

struct stream_row {
    struct logs_stream *s;
    bool has;
    int64_t first, last, ingest;
};

struct stream_order {
    bool by_last_event;
    bool descending;
};

static int cmp_stream_row(const void *a, const void *b, void *arg)
{
    const struct stream_row *x = a, *y = b;
    const struct stream_order *o = arg;
    int r;
    if (o->by_last_event) {
        int64_t lx = x->has ? x->last : INT64_MIN, ly = y->has ? y->last : INT64_MIN;
        r = lx < ly ? -1 : lx > ly;
        if (r == 0)
            r = strcmp(logs__stream_name(x->s), logs__stream_name(y->s));
    } else {
        r = strcmp(logs__stream_name(x->s), logs__stream_name(y->s));
    }
    return o->descending ? -r : r;
}

static enum err op_describe_log_streams(struct ctx *c)
{
    struct logs_group *g;
    const char *prefix, *order, *token;
    int64_t limit = 50;
    bool has_limit, desc = false;
    enum err e = get_str(c, "logStreamNamePrefix", false, &prefix);
    if (e == ERR_OK)
        e = get_str(c, "orderBy", false, &order);
    if (e == ERR_OK)
        e = get_str(c, "nextToken", false, &token);
    if (e == ERR_OK)
        e = get_int(c, "limit", 1, 50, &limit, &has_limit);
    if (e == ERR_OK)
        e = get_bool(c, "descending", &desc);
    if (e == ERR_OK && prefix && *prefix)
        e = check_stream_name(c, "logStreamNamePrefix", prefix);
    if (e != ERR_OK)
        return e;
    bool by_time = false;
    if (order && strcmp(order, "LastEventTime") == 0)
        by_time = true;
    else if (order && strcmp(order, "LogStreamName") != 0)
        return invalid(c,
                       "1 validation error detected: Value '%.100s' at 'orderBy' failed to "
                       "satisfy constraint: Member must satisfy enum value set: "
                       "[LogStreamName, LastEventTime]",
                       order);
    if (by_time && prefix)
        return invalid(c, "Cannot order by LastEventTime with a logStreamNamePrefix.");
    long long skip = 0;
    if (token) {
        char *end;
        if (strncmp(token, "s/", 2) != 0 || (skip = strtoll(token + 2, &end, 10)) < 0 ||
            end == token + 2 || *end != '\0')
            return invalid(c, "The specified nextToken is invalid.");
    }
    if ((e = get_group(c, true, &g)) != ERR_OK)
        return e;
    size_t n;
    struct logs_stream **all = logs__group_streams(g, &n);
    struct stream_row *rows = calloc(n + 1, sizeof *rows);
    if (rows == NULL)
        return ERR_INTERNAL;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (prefix && strncmp(logs__stream_name(all[i]), prefix, strlen(prefix)) != 0)
            continue;
        rows[m].s = all[i];
        rows[m].has =
            logs__stream_stats(c->lg, all[i], &rows[m].first, &rows[m].last, &rows[m].ingest);
        m++;
    }
    struct stream_order order_by = {by_time, desc};
    if (m > 1)
        qsort_r(rows, m, sizeof *rows, cmp_stream_row, &order_by);
    put(c, "{\"logStreams\":[");
    long long i = skip, count = 0;
    for (; i < (long long)m && count < limit; i++, count++) {
        struct stream_row *r = &rows[i];
        const char *name = logs__stream_name(r->s);
        put(c, count ? ",{\"logStreamName\":" : "{\"logStreamName\":");
        put_str(c, name);
        putf(c, ",\"creationTime\":%lld", (long long)logs__stream_created(r->s));
        if (r->has)
            putf(c,
                 ",\"firstEventTimestamp\":%lld,\"lastEventTimestamp\":%lld,"
                 "\"lastIngestionTime\":%lld",
                 (long long)r->first, (long long)r->last, (long long)r->ingest);
        putf(c,
             ",\"uploadSequenceToken\":\"1\",\"arn\":\"arn:aws:logs:%s:%s:log-group:%s:log-stream:",
             logs__region(c->lg), ACCOUNT, logs__group_name(g));
        /* the stream name may need escaping: write it as a JSON string and splice */
        size_t before = c->out->len;
        json_str(c->out, name, strlen(name), &c->out_full);
        if (!c->out_full) {
            memmove(c->out->data + before, c->out->data + before + 1, c->out->len - before - 1);
            c->out->len--;
            c->out->data[c->out->len] = '\0';
        }
        putf(c, ",\"storedBytes\":%lld}", (long long)logs__stream_bytes(r->s));
    }
    put(c, "]");
    if (i < (long long)m)
        putf(c, ",\"nextToken\":\"s/%lld\"", i);
    put(c, "}");
    free(rows);
    return ERR_OK;
}

/* ---- events ---- */

static enum err op_put_log_events(struct ctx *c)
{
    struct logs_group *g;
    struct logs_stream *s;
    const char *sname;
    enum err e = get_str(c, "logStreamName", true, &sname);
    if (e == ERR_OK)
        e = check_stream_name(c, "logStreamName", sname);
    if (e != ERR_OK)
        return e;
    json_t *events = json_object_get(c->req, "logEvents");
    if (events == NULL || json_is_null(events))
        return invalid(c, "1 validation error detected: Value null at 'logEvents' failed to "
                          "satisfy constraint: Member must not be null");
    if (!json_is_array(events))
        return invalid(c, "Invalid type for parameter logEvents: expected a list");
    size_t n = json_array_size(events);
    if (n < 1 || n > MAX_EVENTS)
        return invalid(c,
                       "1 validation error detected: Value at 'logEvents' failed to satisfy "
                       "constraint: Member must have length between 1 and %d",
                       MAX_EVENTS);
    size_t total = 0;
    int64_t min_ts = INT64_MAX, max_ts = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        json_t *ev = json_array_get(events, i);
        json_t *ts = json_object_get(ev, "timestamp"), *msg = json_object_get(ev, "message");
        if (!json_is_object(ev) || !json_is_integer(ts) || !json_is_string(msg))
            return invalid(c,
                           "logEvents[%zu] must be an object with an integer timestamp and a "
                           "string message",
                           i);
        if (json_integer_value(ts) < 0)
            return invalid(c, "logEvents[%zu].timestamp must be >= 0", i);
        if (json_string_length(msg) == 0)
            return invalid(c,
                           "1 validation error detected: Value '' at 'logEvents.%zu.member."
                           "message' failed to satisfy constraint: Member must have length "
                           "greater than or equal to 1",
                           i + 1);
        total += json_string_length(msg) + EVENT_OVERHEAD;
    }
    if (total > MAX_BATCH_BYTES)
        return invalid(c, "Upload too large: %zu bytes exceeds limit of %d", total,
                       MAX_BATCH_BYTES);
    if ((e = get_group(c, false, &g)) != ERR_OK)
        return e;
    if ((s = logs__stream_find(c->lg, g, sname)) == NULL)
        return not_found(c, STREAM_NOT_FOUND);

    int64_t now = logs__now(c->lg);
    int retention = logs__group_retention(g);
    int64_t expired_before = retention > 0 ? now - (int64_t)retention * LOGS_DAY_MS : INT64_MIN;
    long too_new_start = -1, too_old_end = -1, expired_end = -1;
    for (size_t i = 0; i < n; i++) {
        int64_t ts = json_integer_value(json_object_get(json_array_get(events, i), "timestamp"));
        if (ts > now + TOO_NEW_MS) {
            if (too_new_start < 0)
                too_new_start = (long)i;
        } else if (ts < expired_before) {
            expired_end = (long)i + 1;
        } else if (ts < now - TOO_OLD_MS) {
            too_old_end = (long)i + 1;
        } else {
            if (ts < min_ts)
                min_ts = ts;
            if (ts > max_ts)
                max_ts = ts;
        }
    }
    if (max_ts != INT64_MIN && max_ts - min_ts > LOGS_DAY_MS)
        return invalid(c, "The batch of log events in a single PutLogEvents request cannot span "
                          "more than 24 hours.");
    for (size_t i = 0; i < n; i++) {
        json_t *ev = json_array_get(events, i);
        int64_t ts = json_integer_value(json_object_get(ev, "timestamp"));
        if (ts > now + TOO_NEW_MS || ts < expired_before || ts < now - TOO_OLD_MS)
            continue;
        json_t *msg = json_object_get(ev, "message");
        if (logs__put_at(c->lg, s, ts, now, json_string_value(msg), json_string_length(msg)) != 0)
            return ERR_INTERNAL;
    }
    putf(c, "{\"nextSequenceToken\":\"%020lld%036lld\"", (long long)now,
         (long long)logs__stream_bytes(s));
    if (too_new_start >= 0 || too_old_end >= 0 || expired_end >= 0) {
        put(c, ",\"rejectedLogEventsInfo\":{");
        const char *sep = "";
        if (too_new_start >= 0) {
            putf(c, "\"tooNewLogEventStartIndex\":%ld", too_new_start);
            sep = ",";
        }
        if (too_old_end >= 0) {
            putf(c, "%s\"tooOldLogEventEndIndex\":%ld", sep, too_old_end);
            sep = ",";
        }
        if (expired_end >= 0)
            putf(c, "%s\"expiredLogEventEndIndex\":%ld", sep, expired_end);
        put(c, "}");
    }
    put(c, "}");
    return ERR_OK;
}

/* The size an event adds to an answer, roughly (message + fixed fields). */
static size_t event_cost(const struct logs_event *e)
{
    return e->len + 100;
}

static enum err get_time_range(struct ctx *c, int64_t *start, int64_t *end)
{
    bool has;
    *start = INT64_MIN;
    *end = INT64_MAX;
    enum err e = get_int(c, "startTime", 0, INT64_MAX, start, &has);
    if (e == ERR_OK && !has)
        *start = INT64_MIN;
    if (e == ERR_OK)
        e = get_int(c, "endTime", 0, INT64_MAX, end, &has);
    if (e == ERR_OK && !has)
        *end = INT64_MAX;
    return e;
}

static bool parse_key2(const char *s, int64_t *a, int64_t *b)
{
    char *end;
    long long x = strtoll(s, &end, 10);
    if (end == s || *end != '_')
        return false;
    s = end + 1;
    long long y = strtoll(s, &end, 10);
    if (end == s || *end != '\0')
        return false;
    *a = x;
    *b = y;
    return true;
}

/* (ts, off) order within one stream */
static int key_cmp(const struct logs_event *e, int64_t ts, int64_t off)
{
    if (e->ts != ts)
        return e->ts < ts ? -1 : 1;
    return e->off < off ? -1 : e->off > off;
}

static enum err op_get_log_events(struct ctx *c)
{
    struct logs_group *g;
    struct logs_stream *s;
    const char *sname, *token;
    int64_t start, end, limit = MAX_EVENTS;
    bool has_limit, head = false;
    enum err e = get_str(c, "logStreamName", true, &sname);
    if (e == ERR_OK)
        e = check_stream_name(c, "logStreamName", sname);
    if (e == ERR_OK)
        e = get_str(c, "nextToken", false, &token);
    if (e == ERR_OK)
        e = get_time_range(c, &start, &end);
    if (e == ERR_OK)
        e = get_int(c, "limit", 1, MAX_EVENTS, &limit, &has_limit);
    if (e == ERR_OK)
        e = get_bool(c, "startFromHead", &head);
    if (e != ERR_OK)
        return e;
    int dir = 0; /* 0: none, 1: forward, -1: backward */
    int64_t kts = 0, koff = 0;
    if (token) {
        if (strncmp(token, "f/", 2) == 0)
            dir = 1;
        else if (strncmp(token, "b/", 2) == 0)
            dir = -1;
        if (dir == 0 || !parse_key2(token + 2, &kts, &koff))
            return invalid(c, "The specified nextToken is invalid.");
    }
    if ((e = get_group(c, true, &g)) != ERR_OK)
        return e;
    if ((s = logs__stream_find(c->lg, g, sname)) == NULL)
        return not_found(c, STREAM_NOT_FOUND);
    logs_flush(c->lg);
    struct logs_evset set = {0};
    if (logs__stream_read(c->lg, s, start, end, &set) != 0) {
        logs__evset_destroy(&set);
        return ERR_INTERNAL;
    }
    if (set.n > 1)
        qsort(set.v, set.n, sizeof *set.v, logs__event_cmp);
    /* candidates: [lo, hi) */
    size_t lo = 0, hi = set.n;
    if (dir == 1)
        while (lo < hi && key_cmp(&set.v[lo], kts, koff) <= 0)
            lo++;
    if (dir == -1)
        while (hi > lo && key_cmp(&set.v[hi - 1], kts, koff) >= 0)
            hi--;
    size_t a, b, budget = LOGS_RESPONSE_MAX - 200;
    if (dir == 1 || (dir == 0 && head)) {
        a = lo;
        b = lo;
        while (b < hi && (int64_t)(b - a) < limit && event_cost(&set.v[b]) <= budget)
            budget -= event_cost(&set.v[b++]);
    } else {
        a = hi;
        b = hi;
        while (a > lo && (int64_t)(b - a) < limit && event_cost(&set.v[a - 1]) <= budget)
            budget -= event_cost(&set.v[--a]);
    }
    put(c, "{\"events\":[");
    for (size_t i = a; i < b; i++) {
        const struct logs_event *ev = &set.v[i];
        putf(c, "%s{\"timestamp\":%lld,\"message\":", i > a ? "," : "", (long long)ev->ts);
        json_str(c->out, ev->msg, ev->len, &c->out_full);
        putf(c, ",\"ingestionTime\":%lld}", (long long)ev->ingest);
    }
    put(c, "]");
    if (a < b) {
        putf(c, ",\"nextForwardToken\":\"f/%lld_%lld\",\"nextBackwardToken\":\"b/%lld_%lld\"",
             (long long)set.v[b - 1].ts, (long long)set.v[b - 1].off, (long long)set.v[a].ts,
             (long long)set.v[a].off);
    } else if (dir != 0) {
        putf(c, ",\"nextForwardToken\":\"f/%lld_%lld\",\"nextBackwardToken\":\"b/%lld_%lld\"",
             (long long)kts, (long long)koff, (long long)kts, (long long)koff);
    } else {
        /* nothing in range: forward from the very start, backward from the very end */
        putf(c, ",\"nextForwardToken\":\"f/%lld_0\",\"nextBackwardToken\":\"b/%lld_0\"",
             (long long)INT64_MIN, (long long)INT64_MAX);
    }
    put(c, "}");
    logs__evset_destroy(&set);
    return ERR_OK;
}

static enum err op_filter_log_events(struct ctx *c)
{
    struct logs_group *g;
    const char *prefix, *pattern, *token;
    int64_t start, end, limit = MAX_EVENTS;
    bool has_limit;
    enum err e = get_str(c, "logStreamNamePrefix", false, &prefix);
    if (e == ERR_OK)
        e = get_str(c, "filterPattern", false, &pattern);
    if (e == ERR_OK)
        e = get_str(c, "nextToken", false, &token);
    if (e == ERR_OK)
        e = get_time_range(c, &start, &end);
    if (e == ERR_OK)
        e = get_int(c, "limit", 1, MAX_EVENTS, &limit, &has_limit);
    if (e != ERR_OK)
        return e;
    json_t *names = json_object_get(c->req, "logStreamNames");
    if (json_is_null(names))
        names = NULL;
    if (names) {
        size_t i;
        json_t *v;
        if (!json_is_array(names))
            return invalid(c, "Invalid type for parameter logStreamNames: expected a list");
        if (json_array_size(names) < 1 || json_array_size(names) > 100)
            return invalid(c, "1 validation error detected: Value at 'logStreamNames' failed to "
                              "satisfy constraint: Member must have length between 1 and 100");
        json_array_foreach(names, i, v)
        {
            if (!json_is_string(v))
                return invalid(c, "Invalid type for parameter logStreamNames[%zu]", i);
            if ((e = check_stream_name(c, "logStreamNames", json_string_value(v))) != ERR_OK)
                return e;
        }
    }
    if (names && prefix)
        return invalid(c, "logStreamNames and logStreamNamePrefix are mutually exclusive");
    if (pattern && strlen(pattern) > MAX_PATTERN_LEN)
        return invalid(c, "1 validation error detected: Value at 'filterPattern' failed to "
                          "satisfy constraint: Member must have length less than or equal to 1024");
    int64_t kts = 0, koff = 0;
    uint64_t khash = 0;
    if (token) {
        char *p;
        long long ts;
        unsigned long long h;
        long long off;
        if (strncmp(token, "e/", 2) != 0)
            return invalid(c, "The specified nextToken is invalid.");
        ts = strtoll(token + 2, &p, 10);
        if (p == token + 2 || *p != '_')
            return invalid(c, "The specified nextToken is invalid.");
        const char *q = p + 1;
        h = strtoull(q, &p, 10);
        if (p == q || *p != '_')
            return invalid(c, "The specified nextToken is invalid.");
        q = p + 1;
        off = strtoll(q, &p, 10);
        if (p == q || *p != '\0')
            return invalid(c, "The specified nextToken is invalid.");
        kts = ts;
        khash = h;
        koff = off;
    }
    struct logs_pattern pat;
    char perr[200];
    if (logs__pattern_compile(&pat, pattern ? pattern : "", pattern ? strlen(pattern) : 0, perr,
                              sizeof perr) != 0)
        return invalid(c, "%s", perr);
    if ((e = get_group(c, true, &g)) != ERR_OK) {
        logs__pattern_destroy(&pat);
        return e;
    }
    const char *wanted[100];
    size_t nwanted = 0;
    for (size_t i = 0; names && i < json_array_size(names); i++)
        wanted[nwanted++] = json_string_value(json_array_get(names, i));
    struct logs_filter f = {.names = names ? wanted : NULL,
                            .nnames = nwanted,
                            .prefix = prefix,
                            .pattern = &pat,
                            .start = start,
                            .end = end,
                            .limit = limit,
                            .has_after = token != NULL,
                            .after_ts = kts,
                            .after_hash = khash,
                            .after_off = koff};
    struct logs_evset set = {0};
    bool more = false;
    int64_t read_until;
    if (logs__filter(c->lg, g, &f, &set, &more, &read_until) != 0) {
        e = ERR_INTERNAL;
        goto done;
    }
    size_t n;
    struct logs_stream **streams = logs__group_streams(g, &n);
    put(c, "{\"searchedLogStreams\":[");
    size_t searched = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = logs__stream_name(streams[i]);
        if (!logs__filter_selected(&f, name))
            continue;
        put(c, searched++ ? ",{\"logStreamName\":" : "{\"logStreamName\":");
        put_str(c, name);
        put(c, more ? ",\"searchedCompletely\":false}" : ",\"searchedCompletely\":true}");
    }
    put(c, "],\"events\":[");
    /* at most ~1 MB of events: the next one must fit by its raw size (escaping aside) */
    size_t k = 0;
    for (; k < set.n && (int64_t)k < limit; k++) {
        const struct logs_event *ev = &set.v[k];
        size_t used = c->out->len - c->start;
        size_t cost = ev->len + strlen(logs__stream_name(ev->stream)) + 160;
        if (k > 0 && used + cost > LOGS_RESPONSE_MAX - 1024)
            break;
        put(c, k ? ",{\"logStreamName\":" : "{\"logStreamName\":");
        put_str(c, logs__stream_name(ev->stream));
        putf(c, ",\"timestamp\":%lld,\"message\":", (long long)ev->ts);
        json_str(c->out, ev->msg, ev->len, &c->out_full);
        putf(c, ",\"ingestionTime\":%lld,\"eventId\":\"%020lld%020llu%016lld\"}",
             (long long)ev->ingest, (long long)ev->ts,
             (unsigned long long)logs__stream_hash(ev->stream), (long long)ev->off);
        if (c->out_full)
            break;
    }
    put(c, "]");
    if ((k < set.n || more) && k > 0) {
        const struct logs_event *ev = &set.v[k - 1];
        putf(c, ",\"nextToken\":\"e/%lld_%llu_%lld\"", (long long)ev->ts,
             (unsigned long long)logs__stream_hash(ev->stream), (long long)ev->off);
    } else if (more) { /* nothing matched in what was read: go on after it */
        putf(c, ",\"nextToken\":\"e/%lld_%llu_%lld\"", (long long)(read_until - 1),
             (unsigned long long)UINT64_MAX, (long long)INT64_MAX);
    }
    put(c, "}");
done:
    logs__evset_destroy(&set);
    logs__pattern_destroy(&pat);
    return e;
}

static enum err op_delete_log_stream(struct ctx *c)
{
    struct logs_group *g;
    const char *sname;
    enum err e = get_str(c, "logStreamName", true, &sname);
    if (e == ERR_OK)
        e = check_stream_name(c, "logStreamName", sname);
    if (e == ERR_OK)
        e = get_group(c, false, &g);
    if (e != ERR_OK)
        return e;
    struct logs_stream *s = logs__stream_find(c->lg, g, sname);
    if (s == NULL)
        return not_found(c, STREAM_NOT_FOUND);
    if (logs__stream_delete(c->lg, s) != 0)
        return ERR_INTERNAL;
    put(c, "{}");
    return ERR_OK;
}

/* ---- tags ---- */

/*
 * A tag key or value against ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$: ASCII letters, digits, space
 * and _.:/=+-@; every non-ASCII character is let through (jansson has checked it is UTF-8,
 * and telling Unicode letters from symbols needs tables haar does not carry). Sets *chars
 * to the length in characters, which is what AWS's limits count.
 */
static bool tag_text_ok(const char *s, size_t *chars)
{
    static const char extra[] = "_.:/=+-@ ";
    size_t n = 0;
    for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
        if ((*u & 0xC0) != 0x80)
            n++;
        bool ok = *u >= 0x80 || (*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') ||
                  (*u >= '0' && *u <= '9') || strchr(extra, *u) != NULL;
        if (!ok)
            return false;
    }
    *chars = n;
    return true;
}

static enum err check_tag_key(struct ctx *c, const char *field, const char *key, size_t len)
{
    size_t chars;
    /* a key of the "tags" map, or a member of a list of keys */
    const char *what = strcmp(field, "tags") == 0 ? "Map keys" : "Member";
    if (strlen(key) != len || !tag_text_ok(key, &chars) || chars < 1 || chars > TAG_KEY_MAX)
        return invalid(c,
                       "1 validation error detected: Value '%.200s' at '%s' failed to satisfy "
                       "constraint: %s must satisfy constraint: %s",
                       key, field, what, KEY_RULES);
    return ERR_OK;
}

/* A map of tags to set: min..50 pairs, valid keys and values, none under the reserved
 * "aws:" prefix. *tags is borrowed from the request, NULL when absent (min 0). */
static enum err get_tags(struct ctx *c, const char *key, size_t min, json_t **tags)
{
    json_t *j = json_object_get(c->req, key);
    *tags = NULL;
    if (j == NULL || json_is_null(j)) {
        if (min > 0)
            return invalid(c,
                           "1 validation error detected: Value null at '%s' failed to satisfy "
                           "constraint: Member must not be null",
                           key);
        return ERR_OK;
    }
    if (!json_is_object(j))
        return invalid(c, "Invalid type for parameter %s: expected a map", key);
    size_t n = json_object_size(j);
    if (n < min || n > MAX_TAGS)
        return invalid(c,
                       "1 validation error detected: Value at '%s' failed to satisfy "
                       "constraint: Member must have length %s %d",
                       key, n < min ? "greater than or equal to" : "less than or equal to",
                       n < min ? (int)min : MAX_TAGS);
    for (void *it = json_object_iter(j); it; it = json_object_iter_next(j, it)) {
        const char *k = json_object_iter_key(it);
        json_t *v = json_object_iter_value(it);
        enum err e = check_tag_key(c, key, k, strlen(k));
        if (e != ERR_OK)
            return e;
        if (!json_is_string(v))
            return invalid(c, "Invalid type for parameter %s.%.128s: expected a string", key, k);
        size_t chars;
        const char *val = json_string_value(v);
        if (strlen(val) != json_string_length(v) || !tag_text_ok(val, &chars) ||
            chars > TAG_VALUE_MAX)
            return invalid(c,
                           "1 validation error detected: Value '%.300s' at '%s' failed to "
                           "satisfy constraint: Map value must satisfy constraint: %s",
                           val, key, VALUE_RULES);
        /* AWS keeps the prefix for its own tags, whatever its case */
        if (strncasecmp(k, "aws:", 4) == 0)
            return invalid(c, "Tag keys starting with 'aws:' are reserved for AWS use: %.128s", k);
    }
    *tags = j;
    return ERR_OK;
}

/* A list of tag keys to remove: min..50 valid keys. *keys is borrowed from the request. */
static enum err get_tag_keys(struct ctx *c, const char *key, size_t min, json_t **keys)
{
    json_t *j = json_object_get(c->req, key);
    *keys = NULL;
    if (j == NULL || json_is_null(j))
        return invalid(c,
                       "1 validation error detected: Value null at '%s' failed to satisfy "
                       "constraint: Member must not be null",
                       key);
    if (!json_is_array(j))
        return invalid(c, "Invalid type for parameter %s: expected a list", key);
    size_t n = json_array_size(j), i;
    if (n < min || n > MAX_TAGS)
        return invalid(c,
                       "1 validation error detected: Value at '%s' failed to satisfy "
                       "constraint: Member must have length %s %d",
                       key, n < min ? "greater than or equal to" : "less than or equal to",
                       n < min ? (int)min : MAX_TAGS);
    for (i = 0; i < n; i++) {
        json_t *v = json_array_get(j, i);
        if (!json_is_string(v))
            return invalid(c, "Invalid type for parameter %s[%zu]: expected a string", key, i);
        enum err e = check_tag_key(c, key, json_string_value(v), json_string_length(v));
        if (e != ERR_OK)
            return e;
    }
    *keys = j;
    return ERR_OK;
}

/*
 * resourceArn of an existing log group: arn:<partition>:logs:<region>:<account>:
 * log-group:<name>, with or without the ":*" that DescribeLogGroups' "arn" carries.
 * Region and account are not compared with ours: haar serves a single account, and an
 * SDK or Terraform may build the ARN from its own idea of the account id.
 */
static enum err get_arn_group(struct ctx *c, struct logs_group **g)
{
    const char *arn;
    enum err e = get_str(c, "resourceArn", true, &arn);
    if (e != ERR_OK)
        return e;
    size_t len = strlen(arn);
    if (len < 1 || len > ARN_MAX)
        return invalid(c, "1 validation error detected: Value at 'resourceArn' failed to "
                          "satisfy constraint: Member must have length between 1 and 1011");
    /* the five ':'-separated fields before the resource */
    const char *f[5], *p = arn;
    size_t fl[5];
    for (int i = 0; i < 5; i++) {
        const char *colon = strchr(p, ':');
        if (colon == NULL)
            return invalid(c, "Invalid resourceArn: %.200s", arn);
        f[i] = p;
        fl[i] = (size_t)(colon - p);
        p = colon + 1;
    }
    bool account_ok = fl[4] == 12 && strspn(f[4], "0123456789") >= 12;
    if (fl[0] != 3 || memcmp(f[0], "arn", 3) != 0 || fl[1] < 3 || memcmp(f[1], "aws", 3) != 0 ||
        fl[2] != 4 || memcmp(f[2], "logs", 4) != 0 || fl[3] == 0 || !account_ok)
        return invalid(c, "Invalid resourceArn: %.200s", arn);
    if (strncmp(p, "destination:", 12) == 0)
        return not_found(c, "The specified destination does not exist.");
    if (strncmp(p, "log-group:", 10) != 0)
        return invalid(c, "Invalid resourceArn: %.200s", arn);
    p += 10;
    size_t n = strlen(p);
    if (n >= 2 && strcmp(p + n - 2, ":*") == 0)
        n -= 2;
    char name[LOGS_NAME_MAX + 1];
    if (n == 0 || n > LOGS_NAME_MAX || !logs__valid_group_name(p, n))
        return invalid(c, "Invalid resourceArn: %.200s", arn);
    memcpy(name, p, n);
    name[n] = '\0';
    *g = logs__group_find(c->lg, name);
    if (*g == NULL)
        return not_found(c, GROUP_NOT_FOUND);
    return ERR_OK;
}

/* Adds (or replaces) add's pairs in g's tags; past MAX_TAGS in all, answers too_many and
 * changes nothing. */
static enum err tags_merge(struct ctx *c, struct logs_group *g, json_t *add, enum err too_many)
{
    json_t *cur = logs__group_tags(g);
    json_t *m = cur ? json_copy(cur) : json_object();
    if (m == NULL || json_object_update(m, add) != 0) {
        json_decref(m);
        return ERR_INTERNAL;
    }
    enum err e = ERR_OK;
    if (json_object_size(m) > MAX_TAGS) {
        snprintf(c->msg, sizeof c->msg, "%s", TOO_MANY_TAGS);
        e = too_many;
    } else if (logs__group_set_tags(c->lg, g, m) != 0) {
        e = ERR_INTERNAL;
    }
    json_decref(m);
    return e;
}

/* Removes the listed keys from g's tags; keys it does not have are no error, as in AWS. */
static enum err tags_remove(struct ctx *c, struct logs_group *g, json_t *keys)
{
    json_t *cur = logs__group_tags(g), *m;
    size_t i;
    if (cur == NULL)
        return ERR_OK;
    if ((m = json_copy(cur)) == NULL)
        return ERR_INTERNAL;
    for (i = 0; i < json_array_size(keys); i++)
        json_object_del(m, json_string_value(json_array_get(keys, i)));
    enum err e = ERR_OK;
    if (json_object_size(m) != json_object_size(cur) && logs__group_set_tags(c->lg, g, m) != 0)
        e = ERR_INTERNAL;
    json_decref(m);
    return e;
}

/* {"tags":{...}}, keys sorted so answers are stable. */
static enum err put_tags(struct ctx *c, struct logs_group *g)
{
    json_t *t = logs__group_tags(g);
    char *text = t ? json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (t && text == NULL)
        return ERR_INTERNAL;
    put(c, "{\"tags\":");
    put(c, text ? text : "{}");
    put(c, "}");
    free(text);
    return ERR_OK;
}

static enum err op_tag_resource(struct ctx *c)
{
    struct logs_group *g;
    json_t *tags;
    enum err e = get_tags(c, "tags", 1, &tags);
    if (e == ERR_OK)
        e = get_arn_group(c, &g);
    if (e == ERR_OK)
        e = tags_merge(c, g, tags, ERR_LOGS_TOO_MANY_TAGS);
    if (e == ERR_OK)
        put(c, "{}");
    return e;
}

static enum err op_untag_resource(struct ctx *c)
{
    struct logs_group *g;
    json_t *keys;
    enum err e = get_tag_keys(c, "tagKeys", 0, &keys);
    if (e == ERR_OK)
        e = get_arn_group(c, &g);
    if (e == ERR_OK)
        e = tags_remove(c, g, keys);
    if (e == ERR_OK)
        put(c, "{}");
    return e;
}

static enum err op_list_tags_for_resource(struct ctx *c)
{
    struct logs_group *g;
    enum err e = get_arn_group(c, &g);
    return e == ERR_OK ? put_tags(c, g) : e;
}

/* The older by-name operations (deprecated by AWS, still used by older SDKs and tools).
 * Their documented errors have no TooManyTagsException: past 50 they answer
 * InvalidParameterException. */
static enum err op_tag_log_group(struct ctx *c)
{
    struct logs_group *g;
    json_t *tags;
    enum err e = get_tags(c, "tags", 1, &tags);
    if (e == ERR_OK)
        e = get_group(c, false, &g);
    if (e == ERR_OK)
        e = tags_merge(c, g, tags, ERR_LOGS_INVALID_PARAMETER);
    if (e == ERR_OK)
        put(c, "{}");
    return e;
}

static enum err op_untag_log_group(struct ctx *c)
{
    struct logs_group *g;
    json_t *keys;
    enum err e = get_tag_keys(c, "tags", 1, &keys);
    if (e == ERR_OK)
        e = get_group(c, false, &g);
    if (e == ERR_OK)
        e = tags_remove(c, g, keys);
    if (e == ERR_OK)
        put(c, "{}");
    return e;
}

static enum err op_list_tags_log_group(struct ctx *c)
{
    struct logs_group *g;
    enum err e = get_group(c, false, &g);
    return e == ERR_OK ? put_tags(c, g) : e;
}

/* ---- dispatch ---- */

typedef enum err (*op_fn)(struct ctx *c);

static const struct {
    const char *name;
    op_fn fn;
} ops[] = {
    {"CreateLogGroup", op_create_log_group},
    {"DeleteLogGroup", op_delete_log_group},
    {"DescribeLogGroups", op_describe_log_groups},
    {"PutRetentionPolicy", op_put_retention},
    {"DeleteRetentionPolicy", op_delete_retention},
    {"CreateLogStream", op_create_log_stream},
    {"DeleteLogStream", op_delete_log_stream},
    {"DescribeLogStreams", op_describe_log_streams},
    {"PutLogEvents", op_put_log_events},
    {"GetLogEvents", op_get_log_events},
    {"FilterLogEvents", op_filter_log_events},
    {"TagResource", op_tag_resource},
    {"UntagResource", op_untag_resource},
    {"ListTagsForResource", op_list_tags_for_resource},
    {"TagLogGroup", op_tag_log_group},
    {"UntagLogGroup", op_untag_log_group},
    {"ListTagsLogGroup", op_list_tags_log_group},
};

int logs_api_handle(struct logs *lg, const char *op, const char *body, size_t len, int *status,
                    struct buf *out)
{
    struct ctx c = {.lg = lg, .out = out, .start = out->len};
    enum err e = ERR_UNKNOWN_OPERATION;
    size_t start = out->len;
    op_fn fn = NULL;
    for (size_t i = 0; op && i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(ops[i].name, op) == 0)
            fn = ops[i].fn;
    if (fn == NULL) {
        snprintf(c.msg, sizeof c.msg, "Unknown operation %.100s", op ? op : "");
        goto fail;
    }
    json_error_t jerr;
    /* an empty body is an empty request, as AWS treats it */
    c.req =
        len == 0 ? json_object() : jsonh_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (c.req == NULL || !json_is_object(c.req)) {
        e = ERR_SERIALIZATION;
        c.msg[0] = '\0';
        goto fail;
    }
    e = fn(&c);
    json_decref(c.req);
    c.req = NULL;
    if (e == ERR_OK && !c.out_full) {
        *status = 200;
        return 0;
    }
    if (e == ERR_OK) { /* the answer did not fit the caller's buffer */
        e = ERR_INTERNAL;
        snprintf(c.msg, sizeof c.msg, "The answer is too large.");
    }
fail:
    json_decref(c.req);
    out->len = start;
    if (out->data)
        out->data[start] = '\0';
    *status = err_status(e);
    return err_json_body(e, "", c.msg[0] ? c.msg : NULL, out) == BUF_OK ? 0 : -1;
}

/* ---- the router row ---- */

static void logs_proto(void *engine, struct proto_req *r)
{
    char op[128];
    snprintf(op, sizeof op, "%.*s", (int)(r->op_len < 100 ? r->op_len : 100), r->op);
    struct buf out;
    buf_init(&out, 64 * 1024 * 1024);
    int status = 500;
    if (logs_api_handle(engine, op, r->body, r->body_len, &status, &out) != 0) {
        proto_error(r, ERR_INTERNAL, NULL);
    } else {
        struct proto_hdr h[2] = {{"content-type", "application/x-amz-json-1.1", 0},
                                 {"x-amzn-requestid", r->request_id, 0}};
        proto_respond(r, status, h, 2, out.data ? out.data : "", out.len);
    }
    buf_destroy(&out);
}

void logs_service(struct logs *lg, struct proto_service *out)
{
    *out = (struct proto_service){
        .name = "logs",
        .protocol = PROTO_JSON11,
        .target_prefix = "Logs_20140328.",
        .json_type_ns = "",
        .json_content_type = "application/x-amz-json-1.1",
        .max_body = 2 * 1024 * 1024,
        .handle = logs_proto,
        .engine = lg,
    };
}
