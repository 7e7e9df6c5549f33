/*
 * proto_json.c — the EventBridge JSON 1.1 adapter (see proto_json.h): request bytes →
 * model checks → engine calls (events.h) → JSON answers or AWS-shaped errors (core/err.h).
 *
 * Model checks come from one table per operation (struct field), walked recursively: required
 * members, string lengths in characters, the model's patterns and enums, integer ranges, list
 * and map sizes. Violations are reported as AWS's validation layer words them, members named
 * in lowerCamel with list elements as "targets.1.member.id", several joined by "; ". A member
 * of the wrong JSON type is a SerializationException, as AWS's JSON protocol answers it.
 *
 * Paging tokens are the name (rules, buses) or Id (targets) of the last item returned.
 * Commands that change state answer from their completion, once durable; the request is
 * kept until then (forgotten if the client goes away).
 */
#include "cloud/events/proto_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cloud/events/event.h"
#include "cloud/events/events.h"
#include "cloud/events/pattern.h"
#include "cloud/events/transform.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/utf8.h"

enum {
    ANSWER_MAX = 16 << 20,
    MSG_MAX = 1 << 20,
    MAX_REQUEST_BYTES = 262144, /* PutEvents: the entries' total size */
    DEFAULT_LIMIT = 100,
};

/* ---- the model's constraints ---- */

enum ftype { F_STR, F_INT, F_BOOL, F_NUM, F_OBJ, F_LIST, F_MAP, F_ANY };
enum fpat { P_NONE, P_NAME, P_BUS_NAME, P_BUS_OR_ARN, P_ENTRY_BUS, P_PATH_KEY, P_ENDPOINT };

static const char *const pattern_text[] = {
    [P_NONE] = "",
    [P_NAME] = "[\\.\\-_A-Za-z0-9]+",
    [P_BUS_NAME] = "[/\\.\\-_A-Za-z0-9]+",
    [P_BUS_OR_ARN] = "(arn:aws[\\w-]*:events:[a-z]{2}-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?"
                     "[/\\.\\-_A-Za-z0-9]+",
    [P_ENTRY_BUS] = "(arn:aws[\\w-]*:events:[a-z]{2}-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?"
                    "[\\.\\-_A-Za-z0-9]+",
    [P_PATH_KEY] = "[A-Za-z0-9\\_\\-]+",
    [P_ENDPOINT] = "^[A-Za-z0-9\\-]+[\\.][A-Za-z0-9\\-]+$",
};

/* A member of a request shape. F_OBJ: sub lists its members (ended by a NULL name); F_LIST:
 * sub[0] describes an element; F_MAP: sub[0] a key, sub[1] a value. min/max: characters of
 * a string, entries of a list or map, the value of an integer; -1 = unbounded. */
struct field {
    const char *name;
    enum ftype type;
    bool required;
    long min, max;
    enum fpat pat;
    const char *const *enums;
    const struct field *sub;
};

#define STR(n, req, lo, hi, p)                                                                     \
    {                                                                                              \
        n, F_STR, req, lo, hi, p, NULL, NULL                                                       \
    }
#define INT(n, lo, hi)                                                                             \
    {                                                                                              \
        n, F_INT, false, lo, hi, P_NONE, NULL, NULL                                                \
    }
#define BOOL(n)                                                                                    \
    {                                                                                              \
        n, F_BOOL, false, -1, -1, P_NONE, NULL, NULL                                               \
    }
#define OBJ(n, req, sub)                                                                           \
    {                                                                                              \
        n, F_OBJ, req, -1, -1, P_NONE, NULL, sub                                                   \
    }
#define LIST(n, req, lo, hi, e)                                                                    \
    {                                                                                              \
        n, F_LIST, req, lo, hi, P_NONE, NULL, e                                                    \
    }
#define ANY(n)                                                                                     \
    {                                                                                              \
        n, F_ANY, false, -1, -1, P_NONE, NULL, NULL                                                \
    }
#define END                                                                                        \
    {                                                                                              \
        NULL, F_ANY, false, -1, -1, P_NONE, NULL, NULL                                             \
    }

static const char *const STATES[] = {"ENABLED", "DISABLED", NULL};

#define BUS_OR_ARN STR("EventBusName", false, 1, 1600, P_BUS_OR_ARN)
#define NEXT_TOKEN STR("NextToken", false, 1, 2048, P_NONE)
#define LIMIT      INT("Limit", 1, 100)

static const struct field tag[] = {STR("Key", true, 1, 128, P_NONE),
                                   STR("Value", true, 0, 256, P_NONE), END};
static const struct field tag_elem[] = {OBJ("", false, tag)};
static const struct field tag_key_elem[] = {STR("", false, 1, 128, P_NONE)};
static const struct field target_id_elem[] = {STR("", false, 1, 64, P_NAME)};
static const struct field string_elem[] = {STR("", false, -1, -1, P_NONE)};

static const struct field retry_policy[] = {INT("MaximumRetryAttempts", 0, 185),
                                            INT("MaximumEventAgeInSeconds", 60, 86400), END};
static const struct field dead_letter[] = {STR("Arn", false, 1, 1600, P_NONE), END};
static const struct field sqs_params[] = {STR("MessageGroupId", false, -1, 100, P_NONE), END};
static const struct field paths_map_kv[] = {STR("", false, 1, 256, P_PATH_KEY),
                                            STR("", false, -1, 256, P_NONE)};
static const struct field transformer[] = {
    {"InputPathsMap", F_MAP, false, -1, 100, P_NONE, NULL, paths_map_kv},
    STR("InputTemplate", true, 1, 8192, P_NONE),
    END};
static const struct field target[] = {
    STR("Id", true, 1, 64, P_NAME),
    STR("Arn", true, 1, 1600, P_NONE),
    STR("RoleArn", false, 1, 1600, P_NONE),
    STR("Input", false, -1, 8192, P_NONE),
    STR("InputPath", false, -1, 256, P_NONE),
    OBJ("InputTransformer", false, transformer),
    ANY("KinesisParameters"),
    ANY("RunCommandParameters"),
    ANY("EcsParameters"),
    ANY("BatchParameters"),
    OBJ("SqsParameters", false, sqs_params),
    ANY("HttpParameters"),
    ANY("RedshiftDataParameters"),
    ANY("SageMakerPipelineParameters"),
    OBJ("DeadLetterConfig", false, dead_letter),
    OBJ("RetryPolicy", false, retry_policy),
    ANY("AppSyncParameters"),
    END,
};
static const struct field target_elem[] = {OBJ("", false, target)};

static const struct field entry[] = {
    {"Time", F_NUM, false, -1, -1, P_NONE, NULL, NULL},
    STR("Source", false, -1, -1, P_NONE),
    LIST("Resources", false, -1, -1, string_elem),
    STR("DetailType", false, -1, -1, P_NONE),
    STR("Detail", false, -1, -1, P_NONE),
    STR("EventBusName", false, 1, 1600, P_ENTRY_BUS),
    STR("TraceHeader", false, 1, 500, P_NONE),
    END,
};
static const struct field entry_elem[] = {OBJ("", false, entry)};

static const struct field put_rule[] = {
    STR("Name", true, 1, 64, P_NAME),
    STR("ScheduleExpression", false, -1, 256, P_NONE),
    STR("EventPattern", false, -1, 4096, P_NONE),
    {"State", F_STR, false, -1, -1, P_NONE, STATES, NULL},
    STR("Description", false, -1, 512, P_NONE),
    STR("RoleArn", false, 1, 1600, P_NONE),
    LIST("Tags", false, -1, -1, tag_elem),
    BUS_OR_ARN,
    END,
};
static const struct field rule_name[] = {STR("Name", true, 1, 64, P_NAME), BUS_OR_ARN, END};
static const struct field delete_rule[] = {STR("Name", true, 1, 64, P_NAME), BUS_OR_ARN,
                                           BOOL("Force"), END};
static const struct field list_rules[] = {STR("NamePrefix", false, 1, 64, P_NAME), BUS_OR_ARN,
                                          NEXT_TOKEN, LIMIT, END};
static const struct field put_targets[] = {STR("Rule", true, 1, 64, P_NAME), BUS_OR_ARN,
                                           LIST("Targets", true, 1, 100, target_elem), END};
static const struct field list_targets[] = {STR("Rule", true, 1, 64, P_NAME), BUS_OR_ARN,
                                            NEXT_TOKEN, LIMIT, END};
static const struct field remove_targets[] = {STR("Rule", true, 1, 64, P_NAME), BUS_OR_ARN,
                                              LIST("Ids", true, 1, 100, target_id_elem),
                                              BOOL("Force"), END};
static const struct field names_by_target[] = {STR("TargetArn", true, 1, 1600, P_NONE), BUS_OR_ARN,
                                               NEXT_TOKEN, LIMIT, END};
static const struct field put_events[] = {LIST("Entries", true, 1, 10, entry_elem),
                                          STR("EndpointId", false, 1, 50, P_ENDPOINT), END};
static const struct field test_pattern[] = {STR("EventPattern", true, -1, 4096, P_NONE),
                                            STR("Event", true, -1, -1, P_NONE), END};
static const struct field describe_bus[] = {STR("Name", false, 1, 1600, P_BUS_OR_ARN), END};
static const struct field create_bus[] = {STR("Name", true, 1, 256, P_BUS_NAME),
                                          STR("EventSourceName", false, 1, 256, P_NONE),
                                          LIST("Tags", false, -1, -1, tag_elem), END};
static const struct field delete_bus[] = {STR("Name", true, 1, 256, P_BUS_NAME), END};
static const struct field list_buses[] = {STR("NamePrefix", false, 1, 256, P_BUS_NAME), NEXT_TOKEN,
                                          LIMIT, END};
static const struct field tag_resource[] = {STR("ResourceARN", true, 1, 1600, P_NONE),
                                            LIST("Tags", true, -1, -1, tag_elem), END};
static const struct field untag_resource[] = {STR("ResourceARN", true, 1, 1600, P_NONE),
                                              LIST("TagKeys", true, -1, -1, tag_key_elem), END};
static const struct field list_tags[] = {STR("ResourceARN", true, 1, 1600, P_NONE), END};

/* ---- patterns ---- */

static bool all_of(const char *s, size_t n, const char *extra)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (c != '\0' && strchr(extra, c) != NULL)))
            return false;
    }
    return true;
}

static bool word_chars(const char *s, size_t n, bool dash)
{
    return all_of(s, n, dash ? "_-" : "_");
}

static bool lower_letters(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z')
            return false;
    return true;
}

/* The length of a leading "arn:aws[\w-]*:events:<region>:<12 digits>:event-bus/", or 0. */
static size_t bus_arn_prefix(const char *s)
{
    if (strncmp(s, "arn:aws", 7) != 0)
        return 0;
    const char *p = s + 7, *c = strchr(p, ':');
    if (c == NULL || (c > p && !word_chars(p, (size_t)(c - p), true)))
        return 0;
    if (strncmp(c, ":events:", 8) != 0)
        return 0;
    p = c + 8; /* region: [a-z]{2}-[a-z]+-[\w-]+ */
    c = strchr(p, ':');
    if (c == NULL || c - p < 6 || !lower_letters(p, 2) || p[2] != '-')
        return 0;
    const char *d = memchr(p + 3, '-', (size_t)(c - p - 3));
    if (d == NULL || !lower_letters(p + 3, (size_t)(d - p - 3)) ||
        !word_chars(d + 1, (size_t)(c - d - 1), true))
        return 0;
    p = c + 1;
    for (int i = 0; i < 12; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    if (strncmp(p + 12, ":event-bus/", 11) != 0)
        return 0;
    return (size_t)(p + 23 - s);
}

static bool pattern_ok(enum fpat pat, const char *s, size_t n)
{
    size_t k;
    switch (pat) {
    case P_NONE:
        return true;
    case P_NAME:
        return all_of(s, n, ".-_");
    case P_BUS_NAME:
        return all_of(s, n, "/.-_");
    case P_BUS_OR_ARN:
        k = strlen(s) == n ? bus_arn_prefix(s) : 0;
        return all_of(s + k, n - k, "/.-_");
    case P_ENTRY_BUS:
        k = strlen(s) == n ? bus_arn_prefix(s) : 0;
        return all_of(s + k, n - k, ".-_");
    case P_PATH_KEY:
        return all_of(s, n, "_-");
    case P_ENDPOINT: {
        const char *dot = memchr(s, '.', n);
        return dot && all_of(s, (size_t)(dot - s), "-") &&
               all_of(dot + 1, n - (size_t)(dot - s) - 1, "-");
    }
    }
    return false;
}

/* The bus name in an EventBusName that may be an ARN ("arn:...:event-bus/<name>"). */
static const char *bus_of(const char *v)
{
    if (v == NULL)
        return NULL;
    size_t k = bus_arn_prefix(v);
    return v + k;
}

/* ---- validation ---- */

struct vctx {
    struct buf msgs; /* the violations, joined by "; " */
    int count;
    bool type_error;
    char type_msg[600];
};

static void lower_camel(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s", name);
    if (out[0] >= 'A' && out[0] <= 'Z')
        out[0] = (char)(out[0] - 'A' + 'a');
}

/* Appends a value as AWS's validation layer shows it (Java's toString of the model's type). */
static void show_value(struct buf *b, const json_t *v)
{
    if (json_is_string(v)) {
        buf_append(b, json_string_value(v), json_string_length(v));
    } else if (json_is_integer(v)) {
        buf_printf(b, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        buf_printf(b, "%g", json_real_value(v));
    } else if (json_is_array(v)) {
        buf_puts(b, "[");
        size_t i;
        json_t *e;
        json_array_foreach((json_t *)v, i, e)
        {
            if (i > 0)
                buf_puts(b, ", ");
            show_value(b, e);
        }
        buf_puts(b, "]");
    } else if (json_is_object(v)) {
        buf_puts(b, "{");
        const char *k;
        json_t *e;
        bool first = true;
        json_object_foreach((json_t *)v, k, e)
        {
            buf_printf(b, "%s%s=", first ? "" : ", ", k);
            show_value(b, e);
            first = false;
        }
        buf_puts(b, "}");
    } else {
        buf_puts(b, "null");
    }
}

static void violation(struct vctx *c, const json_t *v, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void violation(struct vctx *c, const json_t *v, const char *path, const char *fmt, ...)
{
    if (c->count++ > 0)
        buf_puts(&c->msgs, "; ");
    if (v == NULL) {
        buf_printf(&c->msgs, "Value null at '%s' failed to satisfy constraint: ", path);
    } else {
        buf_puts(&c->msgs, "Value '");
        show_value(&c->msgs, v);
        buf_printf(&c->msgs, "' at '%s' failed to satisfy constraint: ", path);
    }
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&c->msgs, fmt, ap);
    va_end(ap);
}

static void type_error(struct vctx *c, const char *path, const char *want)
{
    if (!c->type_error)
        snprintf(c->type_msg, sizeof c->type_msg, "Expected %s for member '%s'.", want, path);
    c->type_error = true;
}

static void check_fields(struct vctx *c, const struct field *fields, const json_t *obj,
                         const char *path);

static void check_value(struct vctx *c, const struct field *f, const json_t *v, const char *path)
{
    switch (f->type) {
    case F_ANY:
        return;
    case F_STR: {
        if (!json_is_string(v)) {
            type_error(c, path, "a string");
            return;
        }
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        size_t chars = strlen(s) == n ? utf8_chars(s) : n;
        if (f->max >= 0 && (long)chars > f->max)
            violation(c, v, path, "Member must have length less than or equal to %ld", f->max);
        if (f->min >= 0 && (long)chars < f->min)
            violation(c, v, path, "Member must have length greater than or equal to %ld", f->min);
        if (f->pat != P_NONE && n > 0 && !pattern_ok(f->pat, s, n))
            violation(c, v, path, "Member must satisfy regular expression pattern: %s",
                      pattern_text[f->pat]);
        if (f->enums != NULL) {
            bool ok = false;
            for (const char *const *e = f->enums; *e; e++)
                ok = ok || strcmp(*e, s) == 0;
            if (!ok) {
                char set[256] = "";
                for (const char *const *e = f->enums; *e; e++) {
                    size_t k = strlen(set);
                    snprintf(set + k, sizeof set - k, "%s%s", e == f->enums ? "" : ", ", *e);
                }
                violation(c, v, path, "Member must satisfy enum value set: [%s]", set);
            }
        }
        return;
    }
    case F_INT:
        if (!json_is_integer(v)) {
            type_error(c, path, "an integer");
            return;
        }
        if (f->min >= 0 && json_integer_value(v) < f->min)
            violation(c, v, path, "Member must have value greater than or equal to %ld", f->min);
        if (f->max >= 0 && json_integer_value(v) > f->max)
            violation(c, v, path, "Member must have value less than or equal to %ld", f->max);
        return;
    case F_BOOL:
        if (!json_is_boolean(v))
            type_error(c, path, "a boolean");
        return;
    case F_NUM:
        if (!json_is_number(v))
            type_error(c, path, "a timestamp");
        return;
    case F_OBJ:
        if (!json_is_object(v)) {
            type_error(c, path, "a structure");
            return;
        }
        check_fields(c, f->sub, v, path);
        return;
    case F_LIST: {
        if (!json_is_array(v)) {
            type_error(c, path, "a list");
            return;
        }
        long n = (long)json_array_size(v);
        if (f->max >= 0 && n > f->max)
            violation(c, v, path, "Member must have length less than or equal to %ld", f->max);
        if (f->min >= 0 && n < f->min)
            violation(c, v, path, "Member must have length greater than or equal to %ld", f->min);
        size_t i;
        json_t *e;
        json_array_foreach((json_t *)v, i, e)
        {
            char sub[512];
            snprintf(sub, sizeof sub, "%s.%zu.member", path, i + 1);
            if (json_is_null(e))
                type_error(c, sub, "a value");
            else
                check_value(c, &f->sub[0], e, sub);
        }
        return;
    }
    case F_MAP: {
        if (!json_is_object(v)) {
            type_error(c, path, "a map");
            return;
        }
        long n = (long)json_object_size(v);
        if (f->max >= 0 && n > f->max)
            violation(c, v, path, "Member must have length less than or equal to %ld", f->max);
        const char *k;
        json_t *e;
        json_object_foreach((json_t *)v, k, e)
        {
            char sub[512];
            snprintf(sub, sizeof sub, "%s.%s", path, k);
            json_t *key = json_string(k);
            check_value(c, &f->sub[0], key, sub);
            json_decref(key);
            check_value(c, &f->sub[1], e, sub);
        }
        return;
    }
    }
}

static void check_fields(struct vctx *c, const struct field *fields, const json_t *obj,
                         const char *path)
{
    for (const struct field *f = fields; f->name != NULL; f++) {
        char wire[64], sub[512];
        lower_camel(wire, sizeof wire, f->name);
        if (path[0])
            snprintf(sub, sizeof sub, "%s.%s", path, wire);
        else
            snprintf(sub, sizeof sub, "%s", wire);
        const json_t *v = json_object_get(obj, f->name);
        if (v == NULL || json_is_null(v)) {
            if (f->required)
                violation(c, NULL, sub, "Member must not be null");
            continue;
        }
        check_value(c, f, v, sub);
    }
}

/* ---- requests ---- */

struct ctx {
    struct events *ev;
    struct proto_req *r;
    json_t *req;
    struct buf out;
    struct jsonw w;
    char msg[2048];
};

/* A string member already checked (NULL when absent). */
static const char *str(const struct ctx *c, const char *key)
{
    return jsonh_str(c->req, key, NULL);
}

static long limit_of(const struct ctx *c)
{
    long long v;
    return jsonh_int(c->req, "Limit", &v) == 1 ? (long)v : DEFAULT_LIMIT;
}

/* A request kept until its command completes. */
struct pend {
    struct proto_req *r; /* NULL once the client went away */
    struct buf body;     /* the answer when the command succeeds */
};

static void pend_gone(void *arg)
{
    ((struct pend *)arg)->r = NULL;
}

static void pend_done(void *arg, enum err e, const char *msg)
{
    struct pend *p = arg;
    if (p->r != NULL) {
        if (e == ERR_OK)
            proto_ok(p->r, 200, p->body.data ? p->body.data : "{}", p->body.data ? p->body.len : 2);
        else
            proto_error(p->r, e, msg);
    }
    buf_destroy(&p->body);
    free(p);
}

/* A pend for this request whose success answer is what c->out holds (or "{}"). */
static struct pend *pend_new(struct ctx *c)
{
    struct pend *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->r = c->r;
    buf_init(&p->body, ANSWER_MAX);
    if (c->out.len > 0 && buf_append(&p->body, c->out.data, c->out.len) != BUF_OK) {
        buf_destroy(&p->body);
        free(p);
        return NULL;
    }
    return p;
}

/* Runs a command: answers its error now, or waits for its completion. Returns ERR_OK (the
 * request is answered or kept). */
typedef enum err (*command_fn)(struct ctx *c, events_done_fn done, void *arg);

static enum err run_command(struct ctx *c, command_fn fn)
{
    struct pend *p = pend_new(c);
    if (p == NULL) {
        snprintf(c->msg, sizeof c->msg, "out of memory");
        return ERR_EVENTS_INTERNAL;
    }
    c->msg[0] = '\0';
    enum err e = fn(c, pend_done, p);
    if (e != ERR_OK) {
        buf_destroy(&p->body);
        free(p);
        return e;
    }
    proto_on_gone(c->r, pend_gone, p);
    c->r = NULL; /* kept: answered by pend_done */
    return ERR_OK;
}

/* The tags of a TagList ([{Key, Value}]) as an object (new reference). */
static json_t *tags_object(const json_t *list)
{
    json_t *o = json_object();
    size_t i;
    json_t *t;
    json_array_foreach((json_t *)list, i, t)
    {
        json_object_set(o, jsonh_str(t, "Key", ""), json_object_get(t, "Value"));
    }
    return o;
}

static void write_tags(struct jsonw *w, const json_t *tags)
{
    jw_key(w, "Tags");
    jw_arr(w);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)tags, k, v)
    {
        jw_obj(w);
        jw_kstr(w, "Key", k);
        jw_kstrn(w, "Value", json_string_value(v), json_string_length(v));
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

/* ---- rules ---- */

static enum err cmd_put_rule(struct ctx *c, events_done_fn done, void *arg)
{
    json_t *tags =
        json_object_get(c->req, "Tags") ? tags_object(json_object_get(c->req, "Tags")) : NULL;
    struct events_rule_spec s = {
        .bus = bus_of(str(c, "EventBusName")),
        .name = str(c, "Name"),
        .pattern = str(c, "EventPattern"),
        .schedule = str(c, "ScheduleExpression"),
        .state = str(c, "State"),
        .description = str(c, "Description"),
        .role_arn = str(c, "RoleArn"),
        .tags = tags,
    };
    if (s.pattern != NULL && s.pattern[0] == '\0') /* empty members count as absent */
        s.pattern = NULL;
    if (s.schedule != NULL && s.schedule[0] == '\0')
        s.schedule = NULL;
    enum err e = events_put_rule(c->ev, &s, c->msg, sizeof c->msg, done, arg);
    json_decref(tags);
    return e;
}

static enum err op_put_rule(struct ctx *c)
{
    char arn[EVENTS_ARN_MAX];
    events_rule_arn(arn, sizeof arn, events_region(c->ev), events_account(c->ev),
                    bus_of(str(c, "EventBusName")), str(c, "Name"));
    jw_obj(&c->w);
    jw_kstr(&c->w, "RuleArn", arn);
    jw_obj_end(&c->w);
    return run_command(c, cmd_put_rule);
}

static void write_rule(struct jsonw *w, const struct events_rule_info *r, bool describe,
                       const char *account)
{
    jw_obj(w);
    jw_kstr(w, "Name", r->name);
    jw_kstr(w, "Arn", r->arn);
    if (r->pattern)
        jw_kstr(w, "EventPattern", r->pattern);
    if (r->schedule)
        jw_kstr(w, "ScheduleExpression", r->schedule);
    jw_kstr(w, "State", r->state);
    if (r->description)
        jw_kstr(w, "Description", r->description);
    if (r->role_arn)
        jw_kstr(w, "RoleArn", r->role_arn);
    jw_kstr(w, "EventBusName", r->bus);
    if (describe)
        jw_kstr(w, "CreatedBy", account);
    jw_obj_end(w);
}

static enum err rule_not_found(struct ctx *c, const char *name, const char *bus)
{
    snprintf(c->msg, sizeof c->msg, "Rule %s does not exist on EventBus %s.", name,
             bus && *bus ? bus : EVENTS_DEFAULT_BUS);
    return ERR_EVENTS_NOT_FOUND;
}

static enum err op_describe_rule(struct ctx *c)
{
    const char *bus = bus_of(str(c, "EventBusName")), *name = str(c, "Name");
    struct events_rule_info r;
    if (!events_rule_get(c->ev, bus, name, &r))
        return rule_not_found(c, name, bus);
    write_rule(&c->w, &r, true, events_account(c->ev));
    return ERR_OK;
}

struct page {
    struct jsonw *w;
    long left;
    const char *last;
    bool more;
    const char *target_arn; /* ListRuleNamesByTarget */
};

static bool list_rule(void *arg, const struct events_rule_info *r)
{
    struct page *p = arg;
    if (p->left == 0) {
        p->more = true;
        return false;
    }
    write_rule(p->w, r, false, NULL);
    p->left--;
    p->last = r->name;
    return true;
}

static void next_token(struct jsonw *w, const struct page *p)
{
    if (p->more && p->last)
        jw_kstr(w, "NextToken", p->last);
}

static enum err bus_not_found(struct ctx *c, const char *bus)
{
    snprintf(c->msg, sizeof c->msg, "Event bus %s does not exist.",
             bus && *bus ? bus : EVENTS_DEFAULT_BUS);
    return ERR_EVENTS_NOT_FOUND;
}

static enum err op_list_rules(struct ctx *c)
{
    const char *bus = bus_of(str(c, "EventBusName"));
    struct page p = {.w = &c->w, .left = limit_of(c)};
    jw_obj(&c->w);
    jw_key(&c->w, "Rules");
    jw_arr(&c->w);
    if (!events_rule_each(c->ev, bus, str(c, "NamePrefix"), str(c, "NextToken"), list_rule, &p))
        return bus_not_found(c, bus);
    jw_arr_end(&c->w);
    next_token(&c->w, &p);
    jw_obj_end(&c->w);
    return ERR_OK;
}

static enum err cmd_enable(struct ctx *c, events_done_fn done, void *arg)
{
    return events_set_rule_state(c->ev, bus_of(str(c, "EventBusName")), str(c, "Name"), true,
                                 c->msg, sizeof c->msg, done, arg);
}

static enum err cmd_disable(struct ctx *c, events_done_fn done, void *arg)
{
    return events_set_rule_state(c->ev, bus_of(str(c, "EventBusName")), str(c, "Name"), false,
                                 c->msg, sizeof c->msg, done, arg);
}

static enum err cmd_delete_rule(struct ctx *c, events_done_fn done, void *arg)
{
    /* Force concerns rules managed by other AWS services: there are none here */
    return events_delete_rule(c->ev, bus_of(str(c, "EventBusName")), str(c, "Name"), c->msg,
                              sizeof c->msg, done, arg);
}

static enum err op_enable_rule(struct ctx *c)
{
    return run_command(c, cmd_enable);
}

static enum err op_disable_rule(struct ctx *c)
{
    return run_command(c, cmd_disable);
}

static enum err op_delete_rule(struct ctx *c)
{
    return run_command(c, cmd_delete_rule);
}

/* ---- targets ---- */

/* What the input options' own checks would say with a "haar:" message, in AWS's validation
 * form, for target i (1-based). Returns false after writing the message. */
static bool check_inputs(struct ctx *c, const json_t *t, size_t i)
{
    char path[96];
    const char *input = jsonh_str(t, "Input", NULL);
    if (input != NULL) {
        json_t *j = json_loads(input, JSON_DECODE_ANY, NULL);
        json_decref(j);
        if (j == NULL) {
            snprintf(c->msg, sizeof c->msg,
                     "1 validation error detected: Value '%.1024s' at 'targets.%zu.member.input' "
                     "failed to satisfy constraint: Member must be valid JSON text",
                     input, i);
            return false;
        }
    }
    const char *ipath = jsonh_str(t, "InputPath", NULL);
    if (ipath != NULL && !events_json_path_valid(ipath)) {
        snprintf(c->msg, sizeof c->msg,
                 "1 validation error detected: Value '%s' at 'targets.%zu.member.inputPath' "
                 "failed to satisfy constraint: Member must be a JSONPath in dot notation",
                 ipath, i);
        return false;
    }
    json_t *map = json_object_get(json_object_get(t, "InputTransformer"), "InputPathsMap");
    const char *k;
    json_t *v;
    json_object_foreach(map, k, v)
    {
        if (!events_json_path_valid(json_string_value(v))) {
            snprintf(path, sizeof path, "targets.%zu.member.inputTransformer.inputPathsMap", i);
            snprintf(c->msg, sizeof c->msg,
                     "1 validation error detected: Value '%s' at '%s.%s' failed to satisfy "
                     "constraint: Member must be a JSONPath in dot notation",
                     json_string_value(v), path, k);
            return false;
        }
    }
    return true;
}

static enum err cmd_put_targets(struct ctx *c, events_done_fn done, void *arg)
{
    return events_put_targets(c->ev, bus_of(str(c, "EventBusName")), str(c, "Rule"),
                              json_object_get(c->req, "Targets"), c->msg, sizeof c->msg, done, arg);
}

static void failed_entries(struct jsonw *w)
{
    jw_obj(w);
    jw_kint(w, "FailedEntryCount", 0);
    jw_key(w, "FailedEntries");
    jw_arr(w);
    jw_arr_end(w);
    jw_obj_end(w);
}

static enum err op_put_targets(struct ctx *c)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(c->req, "Targets"), i, t)
    {
        if (!check_inputs(c, t, i + 1))
            return ERR_EVENTS_VALIDATION;
    }
    failed_entries(&c->w);
    return run_command(c, cmd_put_targets);
}

static enum err cmd_remove_targets(struct ctx *c, events_done_fn done, void *arg)
{
    return events_remove_targets(c->ev, bus_of(str(c, "EventBusName")), str(c, "Rule"),
                                 json_object_get(c->req, "Ids"), c->msg, sizeof c->msg, done, arg);
}

static enum err op_remove_targets(struct ctx *c)
{
    failed_entries(&c->w);
    return run_command(c, cmd_remove_targets);
}

static enum err op_list_targets(struct ctx *c)
{
    const char *bus = bus_of(str(c, "EventBusName")), *name = str(c, "Rule");
    const char *after = str(c, "NextToken");
    struct events_rule_info r;
    if (!events_rule_get(c->ev, bus, name, &r))
        return rule_not_found(c, name, bus);
    struct page p = {.w = &c->w, .left = limit_of(c)};
    jw_obj(&c->w);
    jw_key(&c->w, "Targets");
    jw_arr(&c->w);
    for (size_t i = 0; i < r.ntargets; i++) {
        const char *id = jsonh_str(r.targets[i], "Id", "");
        if (after && strcmp(id, after) <= 0)
            continue;
        if (p.left == 0) {
            p.more = true;
            break;
        }
        jw_json(&c->w, r.targets[i]);
        p.left--;
        p.last = id;
    }
    jw_arr_end(&c->w);
    next_token(&c->w, &p);
    jw_obj_end(&c->w);
    return ERR_OK;
}

static bool list_name_by_target(void *arg, const struct events_rule_info *r)
{
    struct page *p = arg;
    bool has = false;
    for (size_t i = 0; i < r->ntargets && !has; i++)
        has = strcmp(jsonh_str(r->targets[i], "Arn", ""), p->target_arn) == 0;
    if (!has)
        return true;
    if (p->left == 0) {
        p->more = true;
        return false;
    }
    jw_str(p->w, r->name);
    p->left--;
    p->last = r->name;
    return true;
}

static enum err op_list_rule_names_by_target(struct ctx *c)
{
    const char *bus = bus_of(str(c, "EventBusName"));
    struct page p = {.w = &c->w, .left = limit_of(c), .target_arn = str(c, "TargetArn")};
    jw_obj(&c->w);
    jw_key(&c->w, "RuleNames");
    jw_arr(&c->w);
    if (!events_rule_each(c->ev, bus, NULL, str(c, "NextToken"), list_name_by_target, &p))
        return bus_not_found(c, bus);
    jw_arr_end(&c->w);
    next_token(&c->w, &p);
    jw_obj_end(&c->w);
    return ERR_OK;
}

/* ---- events ---- */

/* The size AWS counts for an entry (the user guide's "Calculating PutEvents event entry
 * size"): 14 bytes for a Time, then the UTF-8 bytes of Source, DetailType, Detail and each
 * Resource. */
static size_t entry_size(const json_t *e)
{
    size_t n = json_object_get(e, "Time") ? 14 : 0;
    static const char *const keys[] = {"Source", "DetailType", "Detail"};
    for (size_t i = 0; i < 3; i++)
        n += json_string_length(json_object_get(e, keys[i]));
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(e, "Resources"), i, r) n += json_string_length(r);
    return n;
}

/* Java's toString of a PutEventsRequestEntry, as AWS quotes entries in a validation error. */
static void java_entry(struct buf *b, const json_t *e)
{
    const json_t *t = json_object_get(e, "Time");
    buf_puts(b, "PutEventsRequestEntry(time=");
    if (json_is_number(t)) {
        time_t secs = (time_t)json_number_value(t);
        struct tm tm;
        char when[64];
        gmtime_r(&secs, &tm);
        strftime(when, sizeof when, "%a %b %d %H:%M:%S UTC %Y", &tm);
        buf_puts(b, when);
    } else {
        buf_puts(b, "null");
    }
    static const struct {
        const char *label, *key;
    } parts[] = {
        {"source", "Source"}, {"resources", "Resources"},       {"detailType", "DetailType"},
        {"detail", "Detail"}, {"eventBusName", "EventBusName"}, {"traceHeader", "TraceHeader"}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        buf_printf(b, ", %s=", parts[i].label);
        show_value(b, json_object_get(e, parts[i].key));
    }
    buf_puts(b, ", kmsKeyIdentifier=null, internalMetadata=null)");
}

static enum err entries_count_error(struct ctx *c, const json_t *entries)
{
    struct buf b;
    buf_init(&b, MSG_MAX);
    buf_puts(&b, "1 validation error detected: Value '[");
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)entries, i, e)
    {
        if (i > 0)
            buf_puts(&b, ", ");
        java_entry(&b, e);
    }
    buf_puts(&b, "]' at 'entries' failed to satisfy constraint: Member must have length less "
                 "than or equal to 10");
    proto_error(c->r, ERR_EVENTS_VALIDATION, b.data);
    c->r = NULL;
    buf_destroy(&b);
    return ERR_OK;
}

static const struct {
    const char *key, *label;
} required_entry[] = {{"Source", "Source"}, {"DetailType", "DetailType"}, {"Detail", "Detail"}};

static enum err op_put_events(struct ctx *c)
{
    const json_t *entries = json_object_get(c->req, "Entries");
    size_t n = json_array_size(entries), total = 0;
    for (size_t i = 0; i < n; i++)
        total += entry_size(json_array_get(entries, i));
    if (total > MAX_REQUEST_BYTES) {
        snprintf(c->msg, sizeof c->msg,
                 "Total size of the entries in the request is over the "
                 "limit.");
        return ERR_EVENTS_VALIDATION;
    }
    struct events_entry ok[10];
    json_t *details[10] = {NULL};
    const char *errors[10][2] = {{NULL}};
    size_t nok = 0, failed = 0;
    int slot[10];
    for (size_t i = 0; i < n && i < 10; i++) {
        const json_t *e = json_array_get(entries, i);
        slot[i] = -1;
        const char *code = NULL, *message = NULL;
        for (size_t k = 0; k < 3 && code == NULL; k++) {
            const char *v = jsonh_str(e, required_entry[k].key, NULL);
            if (v == NULL || v[0] == '\0') {
                code = "InvalidArgument";
                message = k == 0   ? "Parameter Source is not valid. Reason: Source is a "
                                     "required argument."
                          : k == 1 ? "Parameter DetailType is not valid. Reason: DetailType is "
                                     "a required argument."
                                   : "Parameter Detail is not valid. Reason: Detail is a "
                                     "required argument.";
            }
        }
        json_t *detail = NULL;
        if (code == NULL) {
            const json_t *d = json_object_get(e, "Detail");
            detail = events_event_parse(json_string_value(d), json_string_length(d));
            if (!json_is_object(detail)) {
                json_decref(detail);
                detail = NULL;
                code = "MalformedDetail";
                message = "Detail is malformed.";
            }
        }
        if (code != NULL) {
            errors[i][0] = code;
            errors[i][1] = message;
            failed++;
            continue;
        }
        const json_t *t = json_object_get(e, "Time");
        details[nok] = detail;
        ok[nok] = (struct events_entry){
            .bus = bus_of(jsonh_str(e, "EventBusName", NULL)),
            .source = jsonh_str(e, "Source", ""),
            .detail_type = jsonh_str(e, "DetailType", ""),
            .detail = detail,
            .resources = json_object_get(e, "Resources"),
            .time_ms = json_is_number(t) ? (int64_t)(json_number_value(t) * 1000.0) : -1,
        };
        slot[i] = (int)nok++;
    }
    struct pend *p = calloc(1, sizeof *p);
    if (p == NULL) {
        for (size_t k = 0; k < nok; k++)
            json_decref(details[k]);
        snprintf(c->msg, sizeof c->msg, "out of memory");
        return ERR_EVENTS_INTERNAL;
    }
    p->r = c->r;
    buf_init(&p->body, ANSWER_MAX);
    bool waits = nok > 0 && events_put_events(c->ev, ok, nok, pend_done, p);
    for (size_t k = 0; k < nok; k++)
        json_decref(details[k]);
    jw_obj(&c->w);
    jw_kint(&c->w, "FailedEntryCount", (int64_t)failed);
    jw_key(&c->w, "Entries");
    jw_arr(&c->w);
    for (size_t i = 0; i < n && i < 10; i++) {
        jw_obj(&c->w);
        if (slot[i] >= 0) {
            jw_kstr(&c->w, "EventId", ok[slot[i]].id);
        } else {
            jw_kstr(&c->w, "ErrorCode", errors[i][0]);
            jw_kstr(&c->w, "ErrorMessage", errors[i][1]);
        }
        jw_obj_end(&c->w);
    }
    jw_arr_end(&c->w);
    jw_obj_end(&c->w);
    if (!waits) {
        buf_destroy(&p->body);
        free(p);
        return ERR_OK;
    }
    buf_append(&p->body, c->out.data, c->out.len);
    proto_on_gone(c->r, pend_gone, p);
    c->r = NULL;
    return ERR_OK;
}

static enum err op_test_event_pattern(struct ctx *c)
{
    const json_t *pat = json_object_get(c->req, "EventPattern");
    const json_t *event = json_object_get(c->req, "Event");
    char *err = malloc(EVENTS_PATTERN_ERR_MAX);
    if (err == NULL)
        return ERR_EVENTS_INTERNAL;
    enum events_pattern_result res = events_pattern_test(
        json_string_value(pat), json_string_length(pat), json_string_value(event),
        json_string_length(event), err, EVENTS_PATTERN_ERR_MAX);
    enum err e = ERR_OK;
    if (res == EVENTS_PATTERN_BAD_PATTERN || res == EVENTS_PATTERN_BAD_EVENT) {
        e = res == EVENTS_PATTERN_BAD_PATTERN ? ERR_EVENTS_INVALID_PATTERN : ERR_EVENTS_VALIDATION;
        snprintf(c->msg, sizeof c->msg, "%s", err);
    } else {
        jw_obj(&c->w);
        jw_kbool(&c->w, "Result", res == EVENTS_PATTERN_MATCH);
        jw_obj_end(&c->w);
    }
    free(err);
    return e;
}

/* ---- buses ---- */

static void write_bus(struct jsonw *w, const struct events_bus_info *b)
{
    jw_obj(w);
    jw_kstr(w, "Name", b->name);
    jw_kstr(w, "Arn", b->arn);
    /* timestamps in JSON 1.1 are epoch seconds */
    char secs[32];
    int n = snprintf(secs, sizeof secs, "%lld.%03lld", (long long)(b->created_ms / 1000),
                     (long long)(b->created_ms % 1000));
    jw_key(w, "CreationTime");
    jw_raw(w, secs, (size_t)n);
    jw_key(w, "LastModifiedTime");
    jw_raw(w, secs, (size_t)n);
    jw_obj_end(w);
}

static enum err op_describe_event_bus(struct ctx *c)
{
    const char *name = bus_of(str(c, "Name"));
    struct events_bus_info b;
    if (!events_bus_get(c->ev, name, &b))
        return bus_not_found(c, name);
    write_bus(&c->w, &b);
    return ERR_OK;
}

static enum err cmd_create_bus(struct ctx *c, events_done_fn done, void *arg)
{
    const json_t *list = json_object_get(c->req, "Tags");
    json_t *tags = list ? tags_object(list) : NULL;
    enum err e = events_create_bus(c->ev, str(c, "Name"), tags, c->msg, sizeof c->msg, done, arg);
    json_decref(tags);
    return e;
}

static enum err op_create_event_bus(struct ctx *c)
{
    jw_obj(&c->w);
    char arn[EVENTS_ARN_MAX];
    snprintf(arn, sizeof arn, "arn:aws:events:%s:%s:event-bus/%s", events_region(c->ev),
             events_account(c->ev), str(c, "Name"));
    jw_kstr(&c->w, "EventBusArn", arn);
    jw_obj_end(&c->w);
    return run_command(c, cmd_create_bus);
}

static enum err cmd_delete_bus(struct ctx *c, events_done_fn done, void *arg)
{
    return events_delete_bus(c->ev, str(c, "Name"), c->msg, sizeof c->msg, done, arg);
}

static enum err op_delete_event_bus(struct ctx *c)
{
    return run_command(c, cmd_delete_bus);
}

static bool list_bus(void *arg, const struct events_bus_info *b)
{
    struct page *p = arg;
    if (p->left == 0) {
        p->more = true;
        return false;
    }
    write_bus(p->w, b);
    p->left--;
    p->last = b->name;
    return true;
}

static enum err op_list_event_buses(struct ctx *c)
{
    struct page p = {.w = &c->w, .left = limit_of(c)};
    jw_obj(&c->w);
    jw_key(&c->w, "EventBuses");
    jw_arr(&c->w);
    events_bus_each(c->ev, str(c, "NamePrefix"), str(c, "NextToken"), list_bus, &p);
    jw_arr_end(&c->w);
    next_token(&c->w, &p);
    jw_obj_end(&c->w);
    return ERR_OK;
}

/* ---- tags ---- */

static enum err cmd_tag(struct ctx *c, events_done_fn done, void *arg)
{
    json_t *tags = tags_object(json_object_get(c->req, "Tags"));
    enum err e = events_tag(c->ev, str(c, "ResourceARN"), tags, c->msg, sizeof c->msg, done, arg);
    json_decref(tags);
    return e;
}

static enum err cmd_untag(struct ctx *c, events_done_fn done, void *arg)
{
    return events_untag(c->ev, str(c, "ResourceARN"), json_object_get(c->req, "TagKeys"), c->msg,
                        sizeof c->msg, done, arg);
}

static enum err op_tag_resource(struct ctx *c)
{
    return run_command(c, cmd_tag);
}

static enum err op_untag_resource(struct ctx *c)
{
    return run_command(c, cmd_untag);
}

static enum err op_list_tags(struct ctx *c)
{
    const json_t *tags = events_tags(c->ev, str(c, "ResourceARN"), c->msg, sizeof c->msg);
    if (tags == NULL)
        return ERR_EVENTS_NOT_FOUND;
    jw_obj(&c->w);
    write_tags(&c->w, tags);
    jw_obj_end(&c->w);
    return ERR_OK;
}

/* ---- dispatch ---- */

static const struct {
    const char *name;
    const struct field *shape;
    enum err (*fn)(struct ctx *c);
} ops[] = {
    {"PutRule", put_rule, op_put_rule},
    {"DescribeRule", rule_name, op_describe_rule},
    {"ListRules", list_rules, op_list_rules},
    {"EnableRule", rule_name, op_enable_rule},
    {"DisableRule", rule_name, op_disable_rule},
    {"DeleteRule", delete_rule, op_delete_rule},
    {"PutTargets", put_targets, op_put_targets},
    {"ListTargetsByRule", list_targets, op_list_targets},
    {"RemoveTargets", remove_targets, op_remove_targets},
    {"ListRuleNamesByTarget", names_by_target, op_list_rule_names_by_target},
    {"PutEvents", put_events, op_put_events},
    {"TestEventPattern", test_pattern, op_test_event_pattern},
    {"DescribeEventBus", describe_bus, op_describe_event_bus},
    {"CreateEventBus", create_bus, op_create_event_bus},
    {"DeleteEventBus", delete_bus, op_delete_event_bus},
    {"ListEventBuses", list_buses, op_list_event_buses},
    {"TagResource", tag_resource, op_tag_resource},
    {"UntagResource", untag_resource, op_untag_resource},
    {"ListTagsForResource", list_tags, op_list_tags},
};

static void events_proto(void *engine, struct proto_req *r)
{
    struct ctx c = {.ev = engine, .r = r};
    buf_init(&c.out, ANSWER_MAX);
    jw_init(&c.w, &c.out);
    enum err e = ERR_UNKNOWN_OPERATION;
    size_t i = 0;
    while (i < sizeof ops / sizeof ops[0] &&
           !(strlen(ops[i].name) == r->op_len && memcmp(ops[i].name, r->op, r->op_len) == 0))
        i++;
    if (i == sizeof ops / sizeof ops[0]) {
        snprintf(c.msg, sizeof c.msg, "Unknown operation %.*s",
                 (int)(r->op_len < 100 ? r->op_len : 100), r->op);
        goto answer;
    }
    json_error_t jerr;
    c.req = r->body_len == 0 ? json_object()
                             : jsonh_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(c.req)) {
        e = ERR_SERIALIZATION;
        c.msg[0] = '\0';
        goto answer;
    }
    struct vctx v = {.count = 0};
    buf_init(&v.msgs, MSG_MAX);
    check_fields(&v, ops[i].shape, c.req, "");
    if (v.type_error) {
        e = ERR_SERIALIZATION;
        snprintf(c.msg, sizeof c.msg, "%s", v.type_msg);
        buf_destroy(&v.msgs);
        goto answer;
    }
    if (v.count > 0) {
        /* PutEvents quotes its entries in Java's form when there are too many */
        const json_t *entries = json_object_get(c.req, "Entries");
        if (strcmp(ops[i].name, "PutEvents") == 0 && json_array_size(entries) > 10 &&
            v.count == 1) {
            buf_destroy(&v.msgs);
            e = entries_count_error(&c, entries);
            goto answer;
        }
        struct buf m;
        buf_init(&m, MSG_MAX + 64);
        buf_printf(&m, "%d validation error%s detected: ", v.count, v.count == 1 ? "" : "s");
        buf_append(&m, v.msgs.data, v.msgs.len);
        proto_error(r, ERR_EVENTS_VALIDATION, m.data);
        c.r = NULL;
        buf_destroy(&m);
        buf_destroy(&v.msgs);
        e = ERR_OK;
        goto answer;
    }
    buf_destroy(&v.msgs);
    e = ops[i].fn(&c);
answer:
    if (c.r != NULL) {
        if (e != ERR_OK)
            proto_error(c.r, e, c.msg[0] ? c.msg : NULL);
        else if (!jw_ok(&c.w))
            proto_error(c.r, ERR_EVENTS_INTERNAL, "The answer is too large.");
        else
            proto_ok(c.r, 200, c.out.len ? c.out.data : "{}", c.out.len ? c.out.len : 2);
    }
    json_decref(c.req);
    buf_destroy(&c.out);
}

void events_service(struct events *ev, struct proto_service *out)
{
    *out = (struct proto_service){
        .name = "events",
        .protocol = PROTO_JSON11,
        .target_prefix = "AWSEvents.",
        .json_type_ns = "",
        .json_content_type = "application/x-amz-json-1.1",
        .max_body = 4 << 20,
        .handle = events_proto,
        .engine = ev,
    };
}

/* ---- /_haar/events/trigger ---- */

static void trigger_answer(struct proto_req *r, int status, json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    struct proto_hdr h[1] = {{"content-type", "application/json", 0}};
    proto_respond(r, s ? status : 500, h, 1, s ? s : "{}", s ? strlen(s) : 2);
    free(s);
    json_decref(j);
}

void events_trigger_endpoint(void *arg, struct proto_req *r)
{
    struct events *ev = arg;
    if (!proto_method_is(r, "POST")) {
        trigger_answer(r, 405, json_pack("{s:s}", "message", "Method Not Allowed"));
        return;
    }
    json_t *doc = jsonh_parse(r->body, r->body_len, NULL, 0);
    const char *rule = jsonh_str(doc, "rule", NULL), *bus = jsonh_str(doc, "bus", NULL);
    if (rule == NULL || rule[0] == '\0') {
        json_decref(doc);
        trigger_answer(r, 400, json_pack("{s:s}", "message", "Send {\"rule\": NAME}"));
        return;
    }
    int64_t when = 0;
    size_t n = 0;
    char msg[512], iso[32];
    if (events_trigger(ev, bus, rule, &when, &n, msg, sizeof msg) != ERR_OK) {
        trigger_answer(r, 404, json_pack("{s:s}", "message", msg));
    } else {
        struct events_rule_info info;
        events_rule_get(ev, bus, rule, &info);
        clock_format_iso(when, false, iso, sizeof iso);
        trigger_answer(r, 200,
                       json_pack("{s:s, s:s, s:s, s:s, s:I}", "rule", rule, "bus",
                                 bus && *bus ? bus : EVENTS_DEFAULT_BUS, "arn", info.arn, "time",
                                 iso, "targets", (json_int_t)n));
    }
    json_decref(doc);
}
