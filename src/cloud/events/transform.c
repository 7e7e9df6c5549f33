/*
 * transform.c — target input options (see transform.h).
 *
 * Where each message comes from:
 *   "Only one of Input, InputPath, or InputTransformer must be provided for target <id>."
 *   "InputTemplate for target <id> contains invalid placeholder <name>."
 *       recorded against AWS (AWS-RECORDED.md §4, LocalStack test_events_inputs.snapshot.json);
 *   "InputTemplate for target <id> contains placeholder <name> valid only for JSON template."
 *       quoted as measured against AWS (PutTargets, us-east-1) in a public policy-check project;
 *   the others (bad Input JSON, bad paths, map size) are not recorded anywhere we could find:
 *       they are worded after the recorded ones and marked "haar:" below.
 */
#include "cloud/events/transform.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum input_kind { IN_EVENT, IN_CONSTANT, IN_PATH, IN_TRANSFORMER };

/* The predefined placeholders. */
enum predef { P_NONE, P_RULE_ARN, P_RULE_NAME, P_INGESTION_TIME, P_EVENT, P_EVENT_JSON };

static const struct {
    const char *name;
    enum predef id;
    bool json_only; /* only in a template that is a JSON object */
} PREDEFINED[] = {
    {"aws.events.rule-arn", P_RULE_ARN, false},
    {"aws.events.rule-name", P_RULE_NAME, false},
    {"aws.events.event.ingestion-time", P_INGESTION_TIME, false},
    {"aws.events.event", P_EVENT, true},
    {"aws.events.event.json", P_EVENT_JSON, true},
};

/* One piece of a compiled template: literal text, then (maybe) a placeholder. */
struct piece {
    size_t lit_off, lit_len;
    bool has_var;
    bool in_string; /* the placeholder sits inside a JSON string literal */
    enum predef predef;
    char *path; /* InputPathsMap JSONPath (owned) when not predefined */
};

struct events_input {
    enum input_kind kind;
    char *text; /* constant Input, or the template */
    char *path; /* InputPath */
    struct piece *pieces;
    size_t npieces;
};

void events_input_free(struct events_input *in)
{
    if (in == NULL)
        return;
    for (size_t i = 0; i < in->npieces; i++)
        free(in->pieces[i].path);
    free(in->pieces);
    free(in->text);
    free(in->path);
    free(in);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int events_json_path_valid(const char *path)
{
    if (path == NULL || path[0] != '$')
        return 0;
    const char *p = path + 1;
    if (*p == '\0')
        return 1;
    while (*p == '.') {
        p++;
        size_t n = 0;
        while (p[n] != '\0' && p[n] != '.' && p[n] != '[' && p[n] != ']' && p[n] != '*' &&
               p[n] != ' ')
            n++;
        if (n == 0)
            return 0;
        p += n;
    }
    return *p == '\0';
}

const json_t *events_json_path(const json_t *doc, const char *path)
{
    if (!events_json_path_valid(path))
        return NULL;
    const json_t *cur = doc;
    const char *p = path + 1;
    char key[EVENTS_INPUT_PATH_MAX + 1];
    while (*p == '.' && cur != NULL) {
        p++;
        size_t n = strcspn(p, ".");
        if (n > EVENTS_INPUT_PATH_MAX)
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
        p += n;
    }
    return cur;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

static bool is_json_object_template(const char *t)
{
    while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r')
        t++;
    return *t == '{';
}

static bool add_piece(struct events_input *in, struct piece pc)
{
    struct piece *p = realloc(in->pieces, (in->npieces + 1) * sizeof *p);
    if (p == NULL)
        return false;
    in->pieces = p;
    in->pieces[in->npieces++] = pc;
    return true;
}

/* Splits the template into literal text and placeholders, checking each placeholder. */
static int compile_template(struct events_input *in, const struct events_input_spec *spec,
                            char *err, size_t errlen)
{
    const char *t = in->text;
    bool json_obj = is_json_object_template(t);
    bool in_str = false;
    size_t lit = 0, i = 0, n = strlen(t);
    while (i < n) {
        char c = t[i];
        if (c == '\\' && in_str) {
            i += 2;
            continue;
        }
        if (c == '"') {
            in_str = !in_str;
            i++;
            continue;
        }
        if (c != '<') {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < n && name_char(t[j]))
            j++;
        if (j == i + 1 || j >= n || t[j] != '>') {
            i++;
            continue;
        }
        char name[EVENTS_PATHS_MAP_KEY_MAX + 1];
        size_t nl = j - i - 1;
        if (nl > EVENTS_PATHS_MAP_KEY_MAX)
            return fail(err, errlen,
                        "InputTemplate for target %s contains invalid placeholder %.*s.",
                        spec->target_id, (int)nl, t + i + 1);
        memcpy(name, t + i + 1, nl);
        name[nl] = '\0';
        struct piece pc = {lit, i - lit, true, in_str, P_NONE, NULL};
        const json_t *path = spec->paths_map ? json_object_get(spec->paths_map, name) : NULL;
        if (path != NULL) {
            pc.path = strdup(json_string_value(path));
            if (pc.path == NULL)
                return fail(err, errlen, "out of memory");
        } else {
            for (size_t k = 0; k < sizeof PREDEFINED / sizeof PREDEFINED[0]; k++)
                if (strcmp(name, PREDEFINED[k].name) == 0) {
                    if (PREDEFINED[k].json_only && !json_obj)
                        return fail(
                            err, errlen,
                            "InputTemplate for target %s contains placeholder %s valid only "
                            "for JSON template.",
                            spec->target_id, name);
                    pc.predef = PREDEFINED[k].id;
                }
            if (pc.predef == P_NONE)
                return fail(err, errlen,
                            "InputTemplate for target %s contains invalid placeholder %s.",
                            spec->target_id, name);
        }
        if (!add_piece(in, pc)) {
            free(pc.path);
            return fail(err, errlen, "out of memory");
        }
        i = j + 1;
        lit = i;
    }
    struct piece tail = {lit, n - lit, false, false, P_NONE, NULL};
    if (!add_piece(in, tail))
        return fail(err, errlen, "out of memory");
    return 0;
}

static int check_paths_map(const struct events_input_spec *spec, char *err, size_t errlen)
{
    const json_t *m = spec->paths_map;
    if (m == NULL)
        return 0;
    if (!json_is_object(m))
        return fail(err, errlen, "haar: InputPathsMap for target %s must be an object.",
                    spec->target_id);
    if (json_object_size(m) > EVENTS_PATHS_MAP_MAX)
        return fail(err, errlen,
                    "haar: InputPathsMap for target %s has %zu entries; at most %d are allowed.",
                    spec->target_id, json_object_size(m), EVENTS_PATHS_MAP_MAX);
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)m, k, v)
    {
        size_t kl = strlen(k);
        bool ok = kl >= 1 && kl <= EVENTS_PATHS_MAP_KEY_MAX;
        for (size_t i = 0; ok && i < kl; i++)
            ok = name_char(k[i]) && k[i] != '.';
        if (!ok)
            return fail(err, errlen,
                        "haar: InputPathsMap key '%.64s' for target %s must be 1-256 of "
                        "[A-Za-z0-9_-].",
                        k, spec->target_id);
        const char *p = json_string_value(v);
        if (p == NULL || strlen(p) > EVENTS_INPUT_PATH_MAX || !events_json_path_valid(p))
            return fail(
                err, errlen,
                "haar: InputPathsMap value for key '%.64s' of target %s is not a JSONPath in "
                "dot notation ($.detail.name).",
                k, spec->target_id);
    }
    return 0;
}

struct events_input *events_input_new(const struct events_input_spec *spec, char *err,
                                      size_t errlen)
{
    int given = (spec->input != NULL) + (spec->input_path != NULL) + (spec->has_transformer != 0);
    const char *id = spec->target_id ? spec->target_id : "";
    if (given > 1) {
        fail(err, errlen,
             "Only one of Input, InputPath, or InputTransformer must be provided for target %s.",
             id);
        return NULL;
    }
    struct events_input *in = calloc(1, sizeof *in);
    if (in == NULL) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    if (spec->input != NULL) {
        json_error_t je;
        json_t *j = strlen(spec->input) <= EVENTS_INPUT_MAX
                        ? json_loads(spec->input, JSON_DECODE_ANY, &je)
                        : NULL;
        if (j == NULL) {
            fail(err, errlen, "haar: Input for target %s is not valid JSON text.", id);
            goto fail;
        }
        json_decref(j);
        in->kind = IN_CONSTANT;
        in->text = strdup(spec->input);
    } else if (spec->input_path != NULL) {
        if (strlen(spec->input_path) > EVENTS_INPUT_PATH_MAX ||
            !events_json_path_valid(spec->input_path)) {
            fail(err, errlen,
                 "haar: InputPath for target %s is not a JSONPath in dot notation ($.detail.name).",
                 id);
            goto fail;
        }
        in->kind = IN_PATH;
        in->path = strdup(spec->input_path);
    } else if (spec->has_transformer) {
        struct events_input_spec s = *spec;
        s.target_id = id;
        if (spec->template_ == NULL || spec->template_[0] == '\0' ||
            strlen(spec->template_) > EVENTS_TEMPLATE_MAX) {
            fail(err, errlen, "haar: InputTemplate for target %s must be 1-%d characters.", id,
                 EVENTS_TEMPLATE_MAX);
            goto fail;
        }
        if (check_paths_map(&s, err, errlen) != 0)
            goto fail;
        in->kind = IN_TRANSFORMER;
        in->text = strdup(spec->template_);
        if (in->text == NULL || compile_template(in, &s, err, errlen) != 0)
            goto fail;
    } else {
        in->kind = IN_EVENT;
    }
    if ((in->kind == IN_CONSTANT && in->text == NULL) ||
        (in->kind == IN_PATH && in->path == NULL)) {
        fail(err, errlen, "out of memory");
        goto fail;
    }
    return in;
fail:
    events_input_free(in);
    return NULL;
}

/* ---- rendering ---- */

struct out {
    char *s;
    size_t n, cap;
    bool oom;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->n + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->n + n + 1)
            cap *= 2;
        char *t = realloc(o->s, cap);
        if (t == NULL) {
            o->oom = true;
            return;
        }
        o->s = t;
        o->cap = cap;
    }
    memcpy(o->s + o->n, s, n);
    o->n += n;
    o->s[o->n] = '\0';
}

/* How a value goes into a body as JSON (the whole event included). */
#define DUMP_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER)

static void put_json(struct out *o, const json_t *v)
{
    char *d = json_dumps(v, DUMP_FLAGS);
    if (d == NULL) {
        o->oom = true;
        return;
    }
    put(o, d, strlen(d));
    free(d);
}

/* <aws.events.event>: the event without detail, "detail-type" as "detailType". */
static json_t *event_summary(const json_t *event)
{
    json_t *r = json_object();
    const char *k;
    const json_t *v;
    if (r == NULL)
        return NULL;
    json_object_foreach((json_t *)event, k, v)
    {
        if (strcmp(k, "detail") == 0)
            continue;
        json_object_set(r, strcmp(k, "detail-type") == 0 ? "detailType" : k, (json_t *)v);
    }
    return r;
}

/* Removes whitespace outside strings when text is JSON; leaves other text alone. */
static void minify_if_json(struct out *o)
{
    if (o->s == NULL)
        return;
    json_error_t je;
    json_t *j = json_loadb(o->s, o->n, JSON_DECODE_ANY, &je);
    if (j == NULL)
        return;
    json_decref(j);
    size_t w = 0;
    bool in_str = false;
    for (size_t r = 0; r < o->n; r++) {
        char c = o->s[r];
        if (in_str) {
            o->s[w++] = c;
            if (c == '\\' && r + 1 < o->n)
                o->s[w++] = o->s[++r];
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
            o->s[w++] = c;
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            o->s[w++] = c;
        }
    }
    o->n = w;
    o->s[w] = '\0';
}

static void put_value(struct out *o, const json_t *v, bool in_string)
{
    if (v == NULL) {
        if (!in_string)
            put(o, "null", 4);
        return;
    }
    if (in_string && json_is_string(v))
        put(o, json_string_value(v), json_string_length(v));
    else
        put_json(o, v);
}

static void put_text_value(struct out *o, const char *s, bool in_string)
{
    json_t *j = json_string(s ? s : "");
    put_value(o, j, in_string);
    json_decref(j);
}

bool events_input_is_event(const struct events_input *in)
{
    return in->kind == IN_EVENT;
}

char *events_input_event_text(const json_t *event, size_t *len)
{
    char *d = json_dumps(event, DUMP_FLAGS);
    if (d != NULL)
        *len = strlen(d);
    return d;
}

char *events_input_render(const struct events_input *in, const json_t *event,
                          const struct events_input_ctx *ctx, size_t *len)
{
    struct out o = {0};
    static const struct events_input_ctx none = {"", "", ""};
    if (ctx == NULL)
        ctx = &none;
    switch (in->kind) {
    case IN_EVENT:
        put_json(&o, event);
        break;
    case IN_CONSTANT:
        put(&o, in->text, strlen(in->text));
        break;
    case IN_PATH:
        put_value(&o, events_json_path(event, in->path), false);
        break;
    case IN_TRANSFORMER:
        for (size_t i = 0; i < in->npieces; i++) {
            const struct piece *pc = &in->pieces[i];
            put(&o, in->text + pc->lit_off, pc->lit_len);
            if (!pc->has_var)
                continue;
            switch (pc->predef) {
            case P_NONE:
                put_value(&o, events_json_path(event, pc->path), pc->in_string);
                break;
            case P_RULE_ARN:
                put_text_value(&o, ctx->rule_arn, pc->in_string);
                break;
            case P_RULE_NAME:
                put_text_value(&o, ctx->rule_name, pc->in_string);
                break;
            case P_INGESTION_TIME:
                put_text_value(&o, ctx->ingestion_time, pc->in_string);
                break;
            case P_EVENT: {
                json_t *s = event_summary(event);
                put_value(&o, s, pc->in_string);
                json_decref(s);
                break;
            }
            case P_EVENT_JSON:
                put_value(&o, event, pc->in_string);
                break;
            }
        }
        minify_if_json(&o);
        break;
    }
    if (o.oom || o.s == NULL) {
        free(o.s);
        if (o.oom)
            return NULL;
        o.s = strdup("");
        if (o.s == NULL)
            return NULL;
    }
    if (len != NULL)
        *len = o.n;
    return o.s;
}
