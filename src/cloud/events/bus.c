/*
 * bus.c — event buses, rules and targets (see events.h): the commands that change them, their
 * rows in the store, the schedules' timers, the match index, and the reads.
 *
 * Tables (store schema "events"):
 *   events_buses   (name) -> doc {"created": ms, "tags": {...}}
 *   events_rules   (bus, name) -> doc {"EventPattern", "ScheduleExpression", "State",
 *                  "Description", "RoleArn", "Tags": {...}, "anchor": ms, "created": ms}
 *   events_targets (bus, rule, id) -> the Target object as put
 *   events_deliveries (seq) -> one pending delivery (deliver.c)
 * A rule change rewrites the rule's row and all its target rows (at most five) in one batch.
 */
#include "cloud/events/events_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/store/store.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"

static const char *const steps[] = {
    "CREATE TABLE IF NOT EXISTS events_buses (name TEXT PRIMARY KEY, doc TEXT NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS events_rules (bus TEXT NOT NULL, name TEXT NOT NULL,"
    " doc TEXT NOT NULL, PRIMARY KEY (bus, name)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS events_targets (bus TEXT NOT NULL, rule TEXT NOT NULL,"
    " id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (bus, rule, id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS events_deliveries (seq INTEGER PRIMARY KEY, bus TEXT NOT NULL,"
    " rule TEXT NOT NULL, target TEXT NOT NULL, event TEXT NOT NULL, body TEXT,"
    " event_ms INTEGER NOT NULL, attempts INTEGER NOT NULL, due_ms INTEGER NOT NULL);",
};
static const struct store_schema schema = {"events", steps, 1};

static const struct {
    size_t off;
    const char *sql;
} statements[] = {
    {offsetof(struct events, bus_put), "INSERT OR REPLACE INTO events_buses VALUES (?1, ?2)"},
    {offsetof(struct events, bus_del), "DELETE FROM events_buses WHERE name = ?1"},
    {offsetof(struct events, bus_all), "SELECT name, doc FROM events_buses"},
    {offsetof(struct events, rule_put), "INSERT OR REPLACE INTO events_rules VALUES (?1, ?2, ?3)"},
    {offsetof(struct events, rule_del), "DELETE FROM events_rules WHERE bus = ?1 AND name = ?2"},
    {offsetof(struct events, rule_del_bus), "DELETE FROM events_rules WHERE bus = ?1"},
    {offsetof(struct events, rule_all), "SELECT bus, name, doc FROM events_rules"},
    {offsetof(struct events, tgt_put),
     "INSERT OR REPLACE INTO events_targets VALUES (?1, ?2, ?3, ?4)"},
    {offsetof(struct events, tgt_del_rule),
     "DELETE FROM events_targets WHERE bus = ?1 AND rule = ?2"},
    {offsetof(struct events, tgt_del_bus), "DELETE FROM events_targets WHERE bus = ?1"},
    {offsetof(struct events, tgt_all), "SELECT bus, rule, id, doc FROM events_targets"},
    {offsetof(struct events, dl_put),
     "INSERT OR REPLACE INTO events_deliveries VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"},
    {offsetof(struct events, dl_upd),
     "UPDATE events_deliveries SET attempts = ?2, due_ms = ?3 WHERE seq = ?1"},
    {offsetof(struct events, dl_del), "DELETE FROM events_deliveries WHERE seq = ?1"},
    {offsetof(struct events, dl_all),
     "SELECT seq, bus, rule, target, event, body, event_ms, attempts, due_ms"
     " FROM events_deliveries ORDER BY seq"},
    {offsetof(struct events, dl_max), "SELECT MAX(seq) FROM events_deliveries"},
};

static const char NO_PATTERN_OR_SCHEDULE[] =
    "Parameter(s) EventPattern or ScheduleExpression must be specified.";
static const char SCHEDULE_DEFAULT_ONLY[] =
    "ScheduleExpression is supported only on the default event bus.";
static const char HAS_TARGETS[] = "Rule can't be deleted since it has targets.";
static const char STORE_FAILED[] = "An internal error occurred: the change could not be stored.";
static const char OOM[] = "An internal error occurred: out of memory.";

/* ---- small helpers ---- */

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

static bool grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 8;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * size);
    if (p == NULL)
        return false;
    *arr = p;
    *cap = n;
    return true;
}

static enum err fail(char *msg, size_t msglen, enum err e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum err fail(char *msg, size_t msglen, enum err e, const char *fmt, ...)
{
    if (msg != NULL && msglen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return e;
}

static const char *bus_name(const char *name)
{
    return name && *name ? name : EVENTS_DEFAULT_BUS;
}

static enum err rule_not_found(char *msg, size_t msglen, const char *name, const char *bus)
{
    return fail(msg, msglen, ERR_EVENTS_NOT_FOUND, "Rule %s does not exist on EventBus %s.", name,
                bus_name(bus));
}

static enum err bus_not_found(char *msg, size_t msglen, const char *bus)
{
    return fail(msg, msglen, ERR_EVENTS_NOT_FOUND, "Event bus %s does not exist.", bus_name(bus));
}

/* Removes members whose value is null, at every level (a null member counts as absent). */
static void strip_nulls(json_t *j)
{
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(j, tmp, k, v)
        {
            if (json_is_null(v))
                json_object_del(j, k);
            else
                strip_nulls(v);
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) strip_nulls(v);
    }
}

/* ---- patterns and targets ---- */

static void pat_unref(struct ev_pat *p)
{
    if (p == NULL || --p->refs > 0)
        return;
    for (size_t i = 0; i < p->nsources; i++)
        free(p->sources[i]);
    free(p->sources);
    events_pattern_free(p->p);
    free(p->text);
    free(p);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The values a top-level "source" must take when it is a list of plain strings (every
 * matching event's source is one of them), sorted and unique; none otherwise. */
static void pat_sources(struct ev_pat *p)
{
    json_t *doc = json_loads(p->text, 0, NULL);
    json_t *src = json_object_get(doc, "source");
    size_t n = json_array_size(src);
    bool ok = n > 0;
    for (size_t i = 0; ok && i < n; i++)
        ok = json_is_string(json_array_get(src, i)) &&
             strlen(json_string_value(json_array_get(src, i))) ==
                 json_string_length(json_array_get(src, i));
    if (ok && (p->sources = calloc(n, sizeof *p->sources)) != NULL) {
        for (size_t i = 0; i < n; i++) {
            p->sources[i] = strdup(json_string_value(json_array_get(src, i)));
            if (p->sources[i] == NULL) {
                ok = false;
                break;
            }
            p->nsources++;
        }
        if (ok) {
            qsort(p->sources, p->nsources, sizeof *p->sources, cmp_cstr);
            size_t u = 0;
            for (size_t i = 0; i < p->nsources; i++) {
                if (u > 0 && strcmp(p->sources[u - 1], p->sources[i]) == 0)
                    free(p->sources[i]);
                else
                    p->sources[u++] = p->sources[i];
            }
            p->nsources = u;
        } else { /* out of memory: not indexed, always tried */
            for (size_t i = 0; i < p->nsources; i++)
                free(p->sources[i]);
            free(p->sources);
            p->sources = NULL;
            p->nsources = 0;
        }
    }
    json_decref(doc);
}

/* Compiles a pattern; NULL with InvalidEventPatternException's message (or OOM) in msg. */
static struct ev_pat *pat_new(const char *text, char *msg, size_t msglen, enum err *e)
{
    struct ev_pat *p = calloc(1, sizeof *p);
    char *perr = malloc(EVENTS_PATTERN_ERR_MAX);
    *e = ERR_EVENTS_INTERNAL;
    if (p == NULL || perr == NULL || (p->text = strdup(text)) == NULL) {
        fail(msg, msglen, ERR_EVENTS_INTERNAL, "%s", OOM);
        goto fail;
    }
    p->refs = 1;
    p->p = events_pattern_compile(text, strlen(text), perr, EVENTS_PATTERN_ERR_MAX);
    if (p->p == NULL) {
        *e = ERR_EVENTS_INVALID_PATTERN;
        fail(msg, msglen, *e, "%s", perr);
        goto fail;
    }
    pat_sources(p);
    free(perr);
    return p;
fail:
    free(perr);
    if (p != NULL)
        p->refs = 1;
    pat_unref(p);
    return NULL;
}

static void target_unref(struct ev_target *t)
{
    if (t == NULL || --t->refs > 0)
        return;
    events_input_free(t->in);
    json_decref(t->doc);
    free(t);
}

static int get_int(const json_t *obj, const char *key, int dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

/* Builds a target from a Target object (copied). NULL with a ValidationException message
 * (input options) or an internal error in *e. */
static struct ev_target *target_new(const json_t *in, char *msg, size_t msglen, enum err *e)
{
    struct ev_target *t = calloc(1, sizeof *t);
    *e = ERR_EVENTS_INTERNAL;
    if (t == NULL || (t->doc = json_deep_copy(in)) == NULL) {
        fail(msg, msglen, ERR_EVENTS_INTERNAL, "%s", OOM);
        free(t);
        return NULL;
    }
    t->refs = 1;
    strip_nulls(t->doc);
    t->id = jsonh_str(t->doc, "Id", "");
    t->arn = jsonh_str(t->doc, "Arn", "");
    json_t *rp = json_object_get(t->doc, "RetryPolicy");
    t->max_retries = get_int(rp, "MaximumRetryAttempts", EVENTS_DEFAULT_RETRIES);
    t->max_age_s = get_int(rp, "MaximumEventAgeInSeconds", EVENTS_DEFAULT_MAX_AGE);
    t->dlq = jsonh_str(json_object_get(t->doc, "DeadLetterConfig"), "Arn", NULL);
    t->group = jsonh_str(json_object_get(t->doc, "SqsParameters"), "MessageGroupId", NULL);
    json_t *tr = json_object_get(t->doc, "InputTransformer");
    struct events_input_spec spec = {
        .target_id = t->id,
        .input = jsonh_str(t->doc, "Input", NULL),
        .input_path = jsonh_str(t->doc, "InputPath", NULL),
        .has_transformer = tr != NULL,
        .paths_map = json_object_get(tr, "InputPathsMap"),
        .template_ = jsonh_str(tr, "InputTemplate", NULL),
    };
    char err[EVENTS_INPUT_ERR_MAX];
    t->in = events_input_new(&spec, err, sizeof err);
    if (t->in == NULL) {
        *e = strcmp(err, "out of memory") == 0 ? ERR_EVENTS_INTERNAL : ERR_EVENTS_VALIDATION;
        fail(msg, msglen, *e, "%s", err);
        target_unref(t);
        return NULL;
    }
    return t;
}

/* ---- rule states ---- */

static void state_ref(struct ev_state *dst, const struct ev_state *src)
{
    *dst = *src;
    json_incref(dst->doc);
    json_incref(dst->tags);
    if (dst->pat)
        dst->pat->refs++;
    for (size_t i = 0; i < dst->nt; i++)
        dst->t[i]->refs++;
}

static void state_release(struct ev_state *s)
{
    json_decref(s->doc);
    json_decref(s->tags);
    pat_unref(s->pat);
    for (size_t i = 0; i < s->nt; i++)
        target_unref(s->t[i]);
    memset(s, 0, sizeof *s);
}

static void doc_set(json_t *doc, const char *key, const char *v)
{
    if (v != NULL)
        json_object_set_new(doc, key, json_string(v));
    else
        json_object_del(doc, key);
}

/* Fills the configured part of a state (doc, pattern, schedule, enabled) from PutRule's
 * arguments. On error st is left empty and msg holds AWS's message. */
static enum err state_config(struct ev_state *st, const char *bus, const char *pattern,
                             const char *schedule, const char *state, const char *description,
                             const char *role, char *msg, size_t msglen)
{
    enum err e;
    memset(st, 0, sizeof *st);
    if (pattern == NULL && schedule == NULL)
        return fail(msg, msglen, ERR_EVENTS_VALIDATION, "%s", NO_PATTERN_OR_SCHEDULE);
    if (schedule != NULL) {
        if (strcmp(bus_name(bus), EVENTS_DEFAULT_BUS) != 0)
            return fail(msg, msglen, ERR_EVENTS_VALIDATION, "%s", SCHEDULE_DEFAULT_ONLY);
        if (events_schedule_parse(schedule, strlen(schedule), &st->sched, NULL, 0) != 0)
            return fail(msg, msglen, ERR_EVENTS_VALIDATION, "%s", EVENTS_SCHEDULE_INVALID);
        st->has_sched = true;
    }
    if (pattern != NULL && (st->pat = pat_new(pattern, msg, msglen, &e)) == NULL) {
        memset(st, 0, sizeof *st);
        return e;
    }
    st->enabled = state == NULL || strcmp(state, "DISABLED") != 0;
    st->doc = json_object();
    st->tags = json_object();
    if (st->doc == NULL || st->tags == NULL) {
        state_release(st);
        return fail(msg, msglen, ERR_EVENTS_INTERNAL, "%s", OOM);
    }
    doc_set(st->doc, "EventPattern", pattern);
    doc_set(st->doc, "ScheduleExpression", schedule);
    doc_set(st->doc, "State", st->enabled ? "ENABLED" : "DISABLED");
    doc_set(st->doc, "Description", description);
    doc_set(st->doc, "RoleArn", role);
    return ERR_OK;
}

/* A copy of src whose doc and tags are new objects (members shared), safe to change. */
static bool state_fork(struct ev_state *dst, const struct ev_state *src)
{
    state_ref(dst, src);
    json_t *doc = json_copy(src->doc), *tags = json_copy(src->tags);
    json_decref(dst->doc);
    json_decref(dst->tags);
    dst->doc = doc;
    dst->tags = tags;
    if (doc == NULL || tags == NULL) {
        state_release(dst);
        return false;
    }
    return true;
}

static int cmp_target(const void *a, const void *b)
{
    return strcmp((*(struct ev_target *const *)a)->id, (*(struct ev_target *const *)b)->id);
}

/* ---- buses and rules in memory ---- */

static void rule_arm(struct ev_rule *r, int64_t after_ms);

/* The timer of a fire time: noted, for on_flush to send once the clock stands still. */
static void on_fire(struct timer *t)
{
    struct ev_rule *r = t->data;
    int64_t when = r->next_ms, now = clock_now_ms();
    r->next_ms = -1;
    if (r->fires == NULL)
        r->fires = malloc(EVENTS_MAX_BACKLOG * sizeof *r->fires);
    if (r->fires == NULL) {
        r->ev->stats.missed++;
    } else {
        if (r->nfires == EVENTS_MAX_BACKLOG) { /* the oldest waiting fire is missed */
            r->fire_head = (r->fire_head + 1) % EVENTS_MAX_BACKLOG;
            r->nfires--;
            r->ev->stats.missed++;
        }
        r->fires[(r->fire_head + r->nfires++) % EVENTS_MAX_BACKLOG] = when;
        if (!timer_pending(&r->flush))
            timer_start(&r->flush, 0);
    }
    rule_arm(r, when > now ? when : now);
}

/* Sends the noted fires, oldest first; those older than a day by now are missed. */
static void on_flush(struct timer *t)
{
    struct ev_rule *r = t->data;
    int64_t now = clock_now_ms();
    size_t missed = 0;
    while (r->nfires > 0) {
        int64_t when = r->fires[r->fire_head];
        r->fire_head = (r->fire_head + 1) % EVENTS_MAX_BACKLOG;
        r->nfires--;
        if (now - when >= EVENTS_MAX_BACKLOG_MS)
            missed++;
        else
            events__fire(r, when);
    }
    r->fire_head = 0;
    r->ev->stats.missed += missed;
    if (missed > 0)
        LOG_WARN("events_missed", NULL, "%s: %zu fire(s) more than a day old were not sent", r->arn,
                 missed);
}

/* Arms the rule's timer for its first fire time strictly after after_ms (a rate counts from
 * its anchor), or stops it (disabled, no schedule, or a cron whose years ran out). */
static void rule_arm(struct ev_rule *r, int64_t after_ms)
{
    int64_t next = EVENTS_SCHEDULE_NONE;
    if (r->st.enabled && r->st.has_sched)
        next = events_schedule_next(&r->st.sched, r->st.anchor_ms, after_ms);
    if (next == EVENTS_SCHEDULE_NONE) {
        timer_stop(&r->timer);
        r->next_ms = -1;
        return;
    }
    r->next_ms = next;
    timer_start_epoch(&r->timer, next);
}

static struct ev_rule *rule_new(struct events *ev, struct ev_bus *b, const char *name)
{
    struct ev_rule *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->ev = ev;
    r->bus = b;
    r->next_ms = -1;
    r->name = strdup(name);
    if (r->name == NULL || timer_init(&r->timer, TIMER_CLOCK, on_fire, r) != 0 ||
        timer_init(&r->flush, TIMER_REAL, on_flush, r) != 0 ||
        events_rule_arn(r->arn, sizeof r->arn, ev->region, ev->account, b->name, name) < 0) {
        timer_destroy(&r->timer);
        free(r->name);
        free(r);
        return NULL;
    }
    return r;
}

static void rule_free(struct ev_rule *r)
{
    if (r == NULL)
        return;
    timer_destroy(&r->timer);
    timer_destroy(&r->flush);
    state_release(&r->st);
    free(r->fires);
    free(r->name);
    free(r);
}

static const char *rule_name_at(const void *rules, size_t i)
{
    return ((struct ev_rule *const *)rules)[i]->name;
}

/* Index of the first rule whose name is >= name. */
static size_t rule_lower(const struct ev_bus *b, const char *name)
{
    return str_lower_bound(b->rules, b->nrules, rule_name_at, name);
}

struct ev_rule *events__rule(struct ev_bus *b, const char *name)
{
    if (b == NULL)
        return NULL;
    size_t i = rule_lower(b, name);
    return i < b->nrules && strcmp(b->rules[i]->name, name) == 0 ? b->rules[i] : NULL;
}

static bool rule_insert(struct ev_bus *b, struct ev_rule *r)
{
    if (!grow((void **)&b->rules, &b->caprules, b->nrules + 1, sizeof *b->rules))
        return false;
    size_t i = rule_lower(b, r->name);
    memmove(b->rules + i + 1, b->rules + i, (b->nrules - i) * sizeof *b->rules);
    b->rules[i] = r;
    b->nrules++;
    r->bus = b;
    b->index_dirty = true;
    return true;
}

static void rule_remove(struct ev_bus *b, struct ev_rule *r)
{
    size_t i = rule_lower(b, r->name);
    if (i < b->nrules && b->rules[i] == r) {
        memmove(b->rules + i, b->rules + i + 1, (b->nrules - i - 1) * sizeof *b->rules);
        b->nrules--;
    }
    timer_stop(&r->timer);
    r->next_ms = -1;
    b->index_dirty = true;
}

static const char *bus_name_at(const void *buses, size_t i)
{
    return ((struct ev_bus *const *)buses)[i]->name;
}

/* Index of the first bus whose name is >= name. */
static size_t bus_lower(const struct events *ev, const char *name)
{
    return str_lower_bound(ev->buses, ev->nbuses, bus_name_at, name);
}

struct ev_bus *events__bus(struct events *ev, const char *name)
{
    name = bus_name(name);
    size_t i = bus_lower(ev, name);
    return i < ev->nbuses && strcmp(ev->buses[i]->name, name) == 0 ? ev->buses[i] : NULL;
}

static struct ev_bus *bus_new(struct events *ev, const char *name, int64_t created_ms)
{
    struct ev_bus *b = calloc(1, sizeof *b);
    if (b == NULL || (b->name = strdup(name)) == NULL || (b->tags = json_object()) == NULL) {
        if (b)
            free(b->name);
        free(b);
        return NULL;
    }
    snprintf(b->arn, sizeof b->arn, "arn:aws:events:%s:%s:event-bus/%s", ev->region, ev->account,
             name);
    b->created_ms = created_ms;
    return b;
}

static void bus_free(struct ev_bus *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->nrules; i++)
        rule_free(b->rules[i]);
    free(b->rules);
    free(b->idx);
    free(b->scan);
    json_decref(b->tags);
    free(b->name);
    free(b);
}

static bool bus_insert(struct events *ev, struct ev_bus *b)
{
    if (!grow((void **)&ev->buses, &ev->capbuses, ev->nbuses + 1, sizeof *ev->buses))
        return false;
    size_t i = bus_lower(ev, b->name);
    memmove(ev->buses + i + 1, ev->buses + i, (ev->nbuses - i) * sizeof *ev->buses);
    ev->buses[i] = b;
    ev->nbuses++;
    return true;
}

static void bus_remove(struct events *ev, struct ev_bus *b)
{
    size_t i = bus_lower(ev, b->name);
    if (i < ev->nbuses && ev->buses[i] == b) {
        memmove(ev->buses + i, ev->buses + i + 1, (ev->nbuses - i - 1) * sizeof *ev->buses);
        ev->nbuses--;
    }
    for (size_t k = 0; k < b->nrules; k++) {
        timer_stop(&b->rules[k]->timer);
        b->rules[k]->next_ms = -1;
    }
}

struct ev_target *events__target(struct ev_rule *r, const char *id)
{
    for (size_t i = 0; i < r->st.nt; i++)
        if (strcmp(r->st.t[i]->id, id) == 0)
            return r->st.t[i];
    return NULL;
}

/* ---- the match index ---- */

static const char *src_at(const void *idx, size_t i)
{
    return ((const struct ev_src *)idx)[i].source;
}

static int cmp_src(const void *a, const void *b)
{
    return strcmp(((const struct ev_src *)a)->source, ((const struct ev_src *)b)->source);
}

static bool index_rebuild(struct ev_bus *b)
{
    b->nidx = b->nscan = 0;
    for (size_t i = 0; i < b->nrules; i++) {
        struct ev_rule *r = b->rules[i];
        if (!r->st.enabled || r->st.pat == NULL)
            continue;
        struct ev_pat *p = r->st.pat;
        if (p->nsources == 0) {
            if (!grow((void **)&b->scan, &b->capscan, b->nscan + 1, sizeof *b->scan))
                return false;
            b->scan[b->nscan++] = r;
            continue;
        }
        if (!grow((void **)&b->idx, &b->capidx, b->nidx + p->nsources, sizeof *b->idx))
            return false;
        for (size_t k = 0; k < p->nsources; k++)
            b->idx[b->nidx++] = (struct ev_src){p->sources[k], r};
    }
    if (b->nidx > 1)
        qsort(b->idx, b->nidx, sizeof *b->idx, cmp_src);
    b->index_dirty = false;
    return true;
}

void events__candidates(struct ev_bus *b, const char *source,
                        void (*cb)(void *arg, struct ev_rule *r), void *arg)
{
    if (b->index_dirty && !index_rebuild(b)) { /* out of memory: try every rule */
        b->index_dirty = true;
        for (size_t i = 0; i < b->nrules; i++)
            if (b->rules[i]->st.enabled && b->rules[i]->st.pat != NULL)
                cb(arg, b->rules[i]);
        return;
    }
    size_t lo = str_lower_bound(b->idx, b->nidx, src_at, source);
    /* the callback may not change the bus, so the index stays valid while it runs */
    for (size_t i = lo; i < b->nidx && strcmp(b->idx[i].source, source) == 0; i++)
        cb(arg, b->idx[i].rule);
    for (size_t i = 0; i < b->nscan; i++)
        cb(arg, b->scan[i]);
}

/* ---- rows ---- */

static char *rule_doc_text(const struct ev_rule *r)
{
    json_t *d = json_copy(r->st.doc);
    if (d == NULL)
        return NULL;
    json_object_set(d, "Tags", r->st.tags);
    json_object_set_new(d, "anchor", json_integer(r->st.anchor_ms));
    json_object_set_new(d, "created", json_integer(r->st.created_ms));
    char *s = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    return s;
}

/* The rule's row and all its target rows, replacing what the store held. */
static void add_rule_rows(struct events *ev, struct store_batch *b, const struct ev_rule *r)
{
    if (ev->store == NULL || b == NULL)
        return;
    char *doc = rule_doc_text(r);
    struct store_val v[4] = {store_text(r->bus->name), store_text(r->name), store_text(doc)};
    store_batch_add(b, ev->rule_put, v, 3);
    free(doc);
    store_batch_add(b, ev->tgt_del_rule, v, 2);
    for (size_t i = 0; i < r->st.nt; i++) {
        char *td = json_dumps(r->st.t[i]->doc, JSON_COMPACT);
        v[2] = store_text(r->st.t[i]->id);
        v[3] = store_text(td);
        store_batch_add(b, ev->tgt_put, v, 4);
        free(td);
    }
}

static void add_rule_delete(struct events *ev, struct store_batch *b, const char *bus,
                            const char *name)
{
    if (ev->store == NULL || b == NULL)
        return;
    struct store_val v[2] = {store_text(bus), store_text(name)};
    store_batch_add(b, ev->rule_del, v, 2);
    store_batch_add(b, ev->tgt_del_rule, v, 2);
}

static void add_bus_row(struct events *ev, struct store_batch *b, const struct ev_bus *bus)
{
    if (ev->store == NULL || b == NULL)
        return;
    json_t *d = json_pack("{s:I, s:O}", "created", (json_int_t)bus->created_ms, "tags", bus->tags);
    char *s = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    struct store_val v[2] = {store_text(bus->name), store_text(s)};
    store_batch_add(b, ev->bus_put, v, 2);
    free(s);
}

static void add_bus_delete(struct events *ev, struct store_batch *b, const char *name)
{
    if (ev->store == NULL || b == NULL)
        return;
    struct store_val v = store_text(name);
    store_batch_add(b, ev->tgt_del_bus, &v, 1);
    store_batch_add(b, ev->rule_del_bus, &v, 1);
    store_batch_add(b, ev->bus_del, &v, 1);
}

/* ---- changes: applied now, acknowledged once durable, undone if the commit fails ---- */

enum ch_kind { CH_NOP, CH_RULE, CH_RULE_GONE, CH_BUS_NEW, CH_BUS_GONE, CH_BUS_TAGS };

struct change {
    struct events *ev;
    enum ch_kind kind;
    char *bus, *name;
    bool had;                /* CH_RULE: the rule existed before */
    struct ev_state before;  /* CH_RULE: its state then */
    uint64_t gen;            /* CH_RULE: the state this change made */
    struct ev_rule *gone;    /* CH_RULE_GONE: the rule taken out */
    struct ev_bus *gone_bus; /* CH_BUS_GONE: the bus taken out; CH_BUS_NEW: the bus made */
    json_t *tags_before;     /* CH_BUS_TAGS */
    events_done_fn done;
    void *arg;
    struct timer t; /* TIMER_REAL: the completion when nothing persists */
};

static void change_free(struct change *ch)
{
    timer_destroy(&ch->t);
    state_release(&ch->before);
    rule_free(ch->gone);
    if (ch->kind == CH_BUS_GONE)
        bus_free(ch->gone_bus);
    json_decref(ch->tags_before);
    free(ch->bus);
    free(ch->name);
    free(ch);
}

static void undo(struct change *ch)
{
    struct events *ev = ch->ev;
    struct ev_bus *b = events__bus(ev, ch->bus);
    struct ev_rule *r = ch->name ? events__rule(b, ch->name) : NULL;
    switch (ch->kind) {
    case CH_NOP:
        break;
    case CH_RULE:
        if (r == NULL || r->gen != ch->gen) {
            LOG_WARN("events_undo", NULL, "rule %s: a later change stands", ch->name);
        } else if (ch->had) {
            state_release(&r->st);
            r->st = ch->before;
            memset(&ch->before, 0, sizeof ch->before);
            r->gen = ++ev->gen;
            b->index_dirty = true;
            rule_arm(r, clock_now_ms());
        } else {
            rule_remove(b, r);
            rule_free(r);
        }
        break;
    case CH_RULE_GONE:
        if (b != NULL && r == NULL && rule_insert(b, ch->gone)) {
            rule_arm(ch->gone, clock_now_ms());
            ch->gone = NULL;
        }
        break;
    case CH_BUS_NEW:
        if (b != NULL && b == ch->gone_bus && b->nrules == 0) {
            bus_remove(ev, b);
            bus_free(b);
        }
        break;
    case CH_BUS_GONE:
        if (b == NULL && bus_insert(ev, ch->gone_bus)) {
            for (size_t i = 0; i < ch->gone_bus->nrules; i++)
                rule_arm(ch->gone_bus->rules[i], clock_now_ms());
            ch->gone_bus = NULL;
        }
        break;
    case CH_BUS_TAGS:
        if (b != NULL) {
            json_decref(b->tags);
            b->tags = ch->tags_before;
            ch->tags_before = NULL;
        }
        break;
    }
}

static void change_done(void *arg, int rc)
{
    struct change *ch = arg;
    if (rc != 0) {
        LOG_ERROR("events_store", NULL, "a change to %s%s%s could not be stored: undone",
                  bus_name(ch->bus), ch->name ? "/" : "", ch->name ? ch->name : "");
        undo(ch);
    }
    if (ch->done != NULL)
        ch->done(ch->arg, rc == 0 ? ERR_OK : ERR_EVENTS_INTERNAL, rc == 0 ? NULL : STORE_FAILED);
    change_free(ch);
}

static void change_timer(struct timer *t)
{
    change_done(t->data, 0);
}

static struct change *change_new(struct events *ev, enum ch_kind kind, const char *bus,
                                 const char *name, events_done_fn done, void *arg)
{
    struct change *ch = calloc(1, sizeof *ch);
    if (ch == NULL)
        return NULL;
    ch->ev = ev;
    ch->kind = kind;
    ch->done = done;
    ch->arg = arg;
    ch->bus = strdup(bus_name(bus));
    ch->name = dup_str(name);
    if (ch->bus == NULL || (name && ch->name == NULL) ||
        timer_init(&ch->t, TIMER_REAL, change_timer, ch) != 0) {
        free(ch->bus);
        free(ch->name);
        free(ch);
        return NULL;
    }
    return ch;
}

/* A batch for the change, or NULL when nothing persists (or out of memory: the submission
 * then fails and the change is undone). */
static struct store_batch *batch_new(struct events *ev)
{
    return ev->store ? store_batch_new(ev->store) : NULL;
}

static void commit(struct change *ch, struct store_batch *b)
{
    if (ch->ev->store == NULL) {
        timer_start(&ch->t, 0);
        return;
    }
    store_batch_submit(ch->ev->store, b, change_done, ch);
}

/* Installs state st (taken) as rule r's, recording the change; r is new when !ch->had. */
static void install(struct change *ch, struct ev_rule *r, struct ev_state *st)
{
    struct events *ev = ch->ev;
    if (ch->had)
        ch->before = r->st; /* moved: kept until the commit */
    else
        memset(&ch->before, 0, sizeof ch->before);
    r->st = *st;
    memset(st, 0, sizeof *st);
    r->gen = ch->gen = ++ev->gen;
    r->bus->index_dirty = true;
    rule_arm(r, clock_now_ms());
    struct store_batch *b = batch_new(ev);
    add_rule_rows(ev, b, r);
    commit(ch, b);
}

/* ---- life cycle ---- */

struct events *events_new(const struct events_options *o, struct store *store, struct lambda *lm,
                          char *err, size_t errlen)
{
    struct events *ev = calloc(1, sizeof *ev);
    if (ev == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(ev->region, sizeof ev->region, "%s", o->region ? o->region : "us-east-1");
    snprintf(ev->account, sizeof ev->account, "%s", o->account ? o->account : "000000000000");
    ev->store = store;
    ev->lm = lm;
    ev->next_seq = 1;
    if (store != NULL) {
        if (store_schema_apply(store, &schema, err, errlen) != 0)
            goto fail;
        for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
            struct store_stmt *s = store_prepare(store, statements[i].sql, err, errlen);
            if (s == NULL)
                goto fail;
            *(struct store_stmt **)((char *)ev + statements[i].off) = s;
        }
    }
    struct ev_bus *def = bus_new(ev, EVENTS_DEFAULT_BUS, clock_now_ms());
    if (def == NULL || !bus_insert(ev, def)) {
        bus_free(def);
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    return ev;
fail:
    events_free(ev);
    return NULL;
}

void events_set_host(struct events *ev, const struct events_host *host)
{
    if (host != NULL)
        ev->host = *host;
    else
        memset(&ev->host, 0, sizeof ev->host);
}

void events_free(struct events *ev)
{
    if (ev == NULL)
        return;
    events__free_deliveries(ev);
    for (size_t i = 0; i < ev->nbuses; i++)
        bus_free(ev->buses[i]);
    free(ev->buses);
    free(ev);
}

/* ---- restore ---- */

static char *row_str(const struct store_row *row, int col)
{
    size_t n;
    const char *s = store_row_text(row, col, &n);
    return s ? strndup(s, n) : NULL;
}

struct restore_ctx {
    struct events *ev;
    bool saw_default;
};

static bool restore_bus(void *arg, const struct store_row *row)
{
    struct restore_ctx *c = arg;
    struct events *ev = c->ev;
    char *name = row_str(row, 0), *doc = row_str(row, 1);
    json_t *d = doc ? json_loads(doc, 0, NULL) : NULL;
    struct ev_bus *b = name ? events__bus(ev, name) : NULL;
    if (name != NULL && b == NULL) {
        b = bus_new(ev, name, 0);
        if (b != NULL && !bus_insert(ev, b)) {
            bus_free(b);
            b = NULL;
        }
    }
    if (b != NULL && strcmp(b->name, EVENTS_DEFAULT_BUS) == 0)
        c->saw_default = true;
    if (b != NULL) {
        json_t *tags = json_object_get(d, "tags");
        if (json_is_object(tags)) {
            json_decref(b->tags);
            b->tags = json_incref(tags);
        }
        json_t *created = json_object_get(d, "created");
        if (json_is_integer(created))
            b->created_ms = json_integer_value(created);
    }
    json_decref(d);
    free(name);
    free(doc);
    return true;
}

static bool restore_rule(void *arg, const struct store_row *row)
{
    struct events *ev = arg;
    char *bus = row_str(row, 0), *name = row_str(row, 1), *doc = row_str(row, 2);
    json_t *d = doc ? json_loads(doc, 0, NULL) : NULL;
    struct ev_bus *b = bus ? events__bus(ev, bus) : NULL;
    struct ev_rule *r = NULL;
    struct ev_state st;
    char msg[512];
    memset(&st, 0, sizeof st);
    if (b == NULL || name == NULL || !json_is_object(d)) {
        LOG_WARN("events_restore", NULL, "rule %s/%s: unreadable row skipped", bus ? bus : "?",
                 name ? name : "?");
        goto out;
    }
    if (state_config(&st, bus, jsonh_str(d, "EventPattern", NULL),
                     jsonh_str(d, "ScheduleExpression", NULL), jsonh_str(d, "State", NULL),
                     jsonh_str(d, "Description", NULL), jsonh_str(d, "RoleArn", NULL), msg,
                     sizeof msg) != ERR_OK) {
        LOG_WARN("events_restore", NULL, "rule %s/%s skipped: %s", bus, name, msg);
        goto out;
    }
    json_t *tags = json_object_get(d, "Tags");
    if (json_is_object(tags)) {
        json_decref(st.tags);
        st.tags = json_incref(tags);
    }
    json_t *anchor = json_object_get(d, "anchor"), *created = json_object_get(d, "created");
    st.anchor_ms = json_is_integer(anchor) ? json_integer_value(anchor) : clock_now_ms();
    st.created_ms = json_is_integer(created) ? json_integer_value(created) : st.anchor_ms;
    if (events__rule(b, name) != NULL || (r = rule_new(ev, b, name)) == NULL ||
        !rule_insert(b, r)) {
        rule_free(r);
        goto out;
    }
    r->st = st;
    memset(&st, 0, sizeof st);
    r->gen = ++ev->gen;
out:
    state_release(&st);
    json_decref(d);
    free(bus);
    free(name);
    free(doc);
    return true;
}

static bool restore_target(void *arg, const struct store_row *row)
{
    struct events *ev = arg;
    char *bus = row_str(row, 0), *rule = row_str(row, 1), *doc = row_str(row, 3);
    json_t *d = doc ? json_loads(doc, 0, NULL) : NULL;
    struct ev_rule *r = bus && rule ? events__rule(events__bus(ev, bus), rule) : NULL;
    char msg[512];
    enum err e;
    struct ev_target *t = NULL;
    if (r != NULL && json_is_object(d) && r->st.nt < EVENTS_MAX_TARGETS &&
        (t = target_new(d, msg, sizeof msg, &e)) != NULL) {
        r->st.t[r->st.nt++] = t;
        qsort(r->st.t, r->st.nt, sizeof r->st.t[0], cmp_target);
    } else {
        LOG_WARN("events_restore", NULL, "target of %s/%s skipped", bus ? bus : "?",
                 rule ? rule : "?");
    }
    json_decref(d);
    free(bus);
    free(rule);
    free(doc);
    return true;
}

void events_restore(struct events *ev)
{
    if (ev->store != NULL) {
        struct restore_ctx c = {ev, false};
        store_query(ev->store, ev->bus_all, NULL, 0, restore_bus, &c);
        store_query(ev->store, ev->rule_all, NULL, 0, restore_rule, ev);
        store_query(ev->store, ev->tgt_all, NULL, 0, restore_target, ev);
        if (!c.saw_default) { /* the default bus keeps its first start as its creation time */
            struct store_batch *b = store_batch_new(ev->store);
            add_bus_row(ev, b, events__bus(ev, EVENTS_DEFAULT_BUS));
            store_batch_submit(ev->store, b, NULL, NULL);
        }
    }
    /* times missed while the daemon was down are not replayed: the next fire after now */
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < ev->nbuses; i++) {
        struct ev_bus *b = ev->buses[i];
        b->index_dirty = true;
        for (size_t k = 0; k < b->nrules; k++)
            rule_arm(b->rules[k], now);
    }
    events__restore_deliveries(ev);
}

/* ---- commands ---- */

/* Installs the new state st of rule name of bus b as the change ch: r is the rule, or NULL to
 * create it. Consumes ch and st, also on failure (out of memory, ch or st's tags NULL). */
static enum err put_rule(struct events *ev, struct ev_bus *b, struct ev_rule *r, const char *name,
                         struct change *ch, struct ev_state *st, char *msg, size_t msglen)
{
    bool fresh = r == NULL;
    if (ch == NULL || st->tags == NULL || (fresh && (r = rule_new(ev, b, name)) == NULL) ||
        (fresh && !rule_insert(b, r))) {
        if (fresh)
            rule_free(r);
        if (ch)
            change_free(ch);
        state_release(st);
        return fail(msg, msglen, ERR_EVENTS_INTERNAL, "%s", OOM);
    }
    ch->had = !fresh;
    install(ch, r, st);
    return ERR_OK;
}

enum err events_put_rule(struct events *ev, const struct events_rule_spec *s, char *msg,
                         size_t msglen, events_done_fn done, void *arg)
{
    struct ev_bus *b = events__bus(ev, s->bus);
    if (b == NULL)
        return bus_not_found(msg, msglen, s->bus);
    struct ev_rule *r = events__rule(b, s->name);
    if (r == NULL && b->nrules >= EVENTS_MAX_RULES)
        return fail(msg, msglen, ERR_EVENTS_LIMIT_EXCEEDED, "%s",
                    err_message(ERR_EVENTS_LIMIT_EXCEEDED));
    struct ev_state st;
    enum err e = state_config(&st, b->name, s->pattern, s->schedule, s->state, s->description,
                              s->role_arn, msg, msglen);
    if (e != ERR_OK)
        return e;
    int64_t now = clock_now_ms();
    if (r != NULL) { /* the rule's targets and tags stay; a rate keeps its anchor if unchanged */
        json_decref(st.tags);
        st.tags = json_incref(r->st.tags);
        for (size_t i = 0; i < r->st.nt; i++) {
            st.t[i] = r->st.t[i];
            st.t[i]->refs++;
        }
        st.nt = r->st.nt;
        st.created_ms = r->st.created_ms;
        const char *old = jsonh_str(r->st.doc, "ScheduleExpression", NULL);
        st.anchor_ms = old && s->schedule && strcmp(old, s->schedule) == 0 ? r->st.anchor_ms : now;
    } else {
        st.created_ms = st.anchor_ms = now;
        if (s->tags != NULL) {
            json_decref(st.tags);
            st.tags = json_deep_copy(s->tags);
        }
    }
    struct change *ch = change_new(ev, CH_RULE, b->name, s->name, done, arg);
    return put_rule(ev, b, r, s->name, ch, &st, msg, msglen);
}

enum err events_set_rule_state(struct events *ev, const char *bus, const char *name, bool enabled,
                               char *msg, size_t msglen, events_done_fn done, void *arg)
{
    struct ev_rule *r = events__rule(events__bus(ev, bus), name);
    if (r == NULL)
        return rule_not_found(msg, msglen, name, bus);
    struct ev_state st;
    struct change *ch = change_new(ev, CH_RULE, bus, name, done, arg);
    if (ch == NULL || !state_fork(&st, &r->st)) {
        if (ch)
            change_free(ch);
        return fail(msg, msglen, ERR_EVENTS_INTERNAL, "%s", OOM);
    }
    st.enabled = enabled;
    doc_set(st.doc, "State", enabled ? "ENABLED" : "DISABLED");
    ch->had = true;
    install(ch, r, &st);
    return ERR_OK;
}

enum err events_delete_rule(struct events *ev, const char *bus, const char *name, char *msg,
                            size_t msglen, events_done_fn done, void *arg)
{
    struct ev_bus *b = events__bus(ev, bus);
    struct ev_rule *r = events__rule(b, name);
    if (r != NULL && r->st.nt > 0)
        return fail(msg, msglen, ERR_EVENTS_VALIDATION, "%s", HAS_TARGETS);
    struct change *ch = change_new(ev, r ? CH_RULE_GONE : CH_NOP, bus, name, done, arg);
    if (ch == NULL)
        return fail(msg, msglen, ERR_EVENTS_INTERNAL, "%s", OOM);
    if (r == NULL) { /* nothing to delete: still acknowledged later */
        timer_start(&ch->t, 0);
        return ERR_OK;
    }
    rule_remove(b, r);
    ch->gone = r;
    struct store_batch *bt = batch_new(ev);
    add_rule_delete(ev, bt, b->name, name);
    commit(ch, bt);
    return ERR_OK;
}

enum err events_put_targets(struct events *ev, const char *bus, const char *rule,
                            const json_t *targets, char *msg, size_t msglen, events_done_fn done,
                            void *arg)
{
    struct ev_rule *r = events__rule(events__bus(ev, bus), rule);
    if (r == NULL)
        return rule_not_found(msg, msglen, rule, bus);
    struct ev_target *list[EVENTS_MAX_TARGETS + 100];
    size_t n = 0;
    bool over = false;
    enum err e = ERR_OK;
    for (size_t i = 0; i < r->st.nt; i++) {
        list[n] = r->st.t[i];
        list[n++]->refs++;
    }
    size_t k;
    json_t *tj;
    json_array_foreach(targets, k, tj)
    {
        struct ev_target *t = target_new(tj, msg, msglen, &e);
        if (t == NULL)
            goto fail;
        size_t j = 0;
        while (j < n && strcmp(list[j]->id, t->id) != 0)
            j++;
        if (j < n) { /* the same Id: replaced */
            target_unref(list[j]);
            list[j] = t;
        } else if (n < sizeof list / sizeof list[0]) {
            list[n++] = t;
        } else {
            target_unref(t);
            over = true;
        }
    }
    if (over || n > EVENTS_MAX_TARGETS) {
        e = fail(msg, msglen, ERR_EVENTS_LIMIT_EXCEEDED, "%s",
                 err_message(ERR_EVENTS_LIMIT_EXCEEDED));
        goto fail;
    }
    struct ev_state st;
    struct change *ch = change_new(ev, CH_RULE, bus, rule, done, arg);
    if (ch == NULL || !state_fork(&st, &r->st)) {
        if (ch)
            change_free(ch);
        e = fail(msg, msglen, ERR_EVENTS_INTERNAL, "%s", OOM);
        goto fail;
    }
    for (size_t i = 0; i < st.nt; i++)
        target_unref(st.t[i]);
    qsort(list, n, sizeof list[0], cmp_target);
    memcpy(st.t, list, n * sizeof list[0]);
    st.nt = n;
    ch->had = true;
    install(ch, r, &st);
    return ERR_OK;
fail:
    for (size_t i = 0; i < n; i++)
        target_unref(list[i]);
    return e;
}

enum err events_remove_targets(struct events *ev, const char *bus, const char *rule,
                               const json_t *ids, char *msg, size_t msglen, events_done_fn done,
                               void *arg)
{
    struct ev_rule *r = events__rule(events__bus(ev, bus), rule);
    if (r == NULL)
        return rule_not_found(msg, msglen, rule, bus);
    struct ev_state st;
    struct change *ch = change_new(ev, CH_RULE, bus, rule, done, arg);
    if (ch == NULL || !state_fork(&st, &r->st)) {
        if (ch)
            change_free(ch);
        return fail(msg, msglen, ERR_EVENTS_INTERNAL, "%s", OOM);
    }
    size_t keep = 0;
    for (size_t i = 0; i < st.nt; i++) {
        bool drop = false;
        size_t k;
        json_t *id;
        json_array_foreach(ids, k, id)
        {
            if (json_is_string(id) && strcmp(json_string_value(id), st.t[i]->id) == 0)
                drop = true;
        }
        if (drop)
            target_unref(st.t[i]);
        else
            st.t[keep++] = st.t[i];
    }
    st.nt = keep;
    ch->had = true;
    install(ch, r, &st);
    return ERR_OK;
}

enum err events_create_bus(struct events *ev, const char *name, const json_t *tags, char *msg,
                           size_t msglen, events_done_fn done, void *arg)
{
    if (events__bus(ev, name) != NULL)
        return fail(msg, msglen, ERR_EVENTS_ALREADY_EXISTS, "Event bus %s already exists.", name);
    if (ev->nbuses > EVENTS_MAX_BUSES)
        return fail(msg, msglen, ERR_EVENTS_LIMIT_EXCEEDED, "%s",
                    err_message(ERR_EVENTS_LIMIT_EXCEEDED));
    struct change *ch = change_new(ev, CH_BUS_NEW, name, NULL, done, arg);
    struct ev_bus *b = ch ? bus_new(ev, name, clock_now_ms()) : NULL;
    if (b != NULL && tags != NULL) {
        json_decref(b->tags);
        b->tags = json_deep_copy(tags);
    }
    if (b == NULL || b->tags == NULL || !bus_insert(ev, b)) {
        bus_free(b);
        if (ch)
            change_free(ch);
        return fail(msg, msglen, ERR_EVENTS_INTERNAL, "%s", OOM);
    }
    ch->gone_bus = b;
    struct store_batch *bt = batch_new(ev);
    add_bus_row(ev, bt, b);
    commit(ch, bt);
    return ERR_OK;
}

enum err events_delete_bus(struct events *ev, const char *name, char *msg, size_t msglen,
                           events_done_fn done, void *arg)
{
    if (strcmp(bus_name(name), EVENTS_DEFAULT_BUS) == 0)
        return fail(msg, msglen, ERR_EVENTS_VALIDATION, "Cannot delete event bus default.");
    struct ev_bus *b = events__bus(ev, name);
    struct change *ch = change_new(ev, b ? CH_BUS_GONE : CH_NOP, name, NULL, done, arg);
    if (ch == NULL)
        return fail(msg, msglen, ERR_EVENTS_INTERNAL, "%s", OOM);
    if (b == NULL) {
        timer_start(&ch->t, 0);
        return ERR_OK;
    }
    bus_remove(ev, b);
    ch->gone_bus = b;
    struct store_batch *bt = batch_new(ev);
    add_bus_delete(ev, bt, name);
    commit(ch, bt);
    return ERR_OK;
}

/* Splits a rule or bus ARN of this region and account: "...:rule/<name>",
 * "...:rule/<bus>/<name>" or "...:event-bus/<name>". */
static bool parse_arn(const struct events *ev, const char *arn, char *bus, size_t buslen,
                      char *rule, size_t rulelen)
{
    char prefix[96];
    int n = snprintf(prefix, sizeof prefix, "arn:aws:events:%s:%s:", ev->region, ev->account);
    if (n < 0 || strncmp(arn, prefix, (size_t)n) != 0)
        return false;
    const char *rest = arn + n;
    rule[0] = '\0';
    if (strncmp(rest, "event-bus/", 10) == 0 && rest[10] != '\0') {
        snprintf(bus, buslen, "%s", rest + 10);
        return true;
    }
    if (strncmp(rest, "rule/", 5) != 0 || rest[5] == '\0')
        return false;
    rest += 5;
    const char *slash = strrchr(rest, '/');
    if (slash == NULL) {
        snprintf(bus, buslen, "%s", EVENTS_DEFAULT_BUS);
        snprintf(rule, rulelen, "%s", rest);
    } else {
        snprintf(bus, buslen, "%.*s", (int)(slash - rest), rest);
        snprintf(rule, rulelen, "%s", slash + 1);
    }
    return rule[0] != '\0';
}

/* The tags object of the ARN's resource (rule: *r set; bus: *b set), or NULL + message. */
static json_t *arn_tags(struct events *ev, const char *arn, struct ev_bus **b, struct ev_rule **r,
                        char *msg, size_t msglen)
{
    char bus[300], rule[128];
    *b = NULL;
    *r = NULL;
    if (!parse_arn(ev, arn, bus, sizeof bus, rule, sizeof rule)) {
        fail(msg, msglen, ERR_EVENTS_NOT_FOUND, "Resource %s does not exist.", arn);
        return NULL;
    }
    *b = events__bus(ev, bus);
    if (rule[0] == '\0') {
        if (*b == NULL)
            bus_not_found(msg, msglen, bus);
        return *b ? (*b)->tags : NULL;
    }
    *r = events__rule(*b, rule);
    if (*r == NULL)
        rule_not_found(msg, msglen, rule, bus);
    return *r ? (*r)->st.tags : NULL;
}

const json_t *events_tags(struct events *ev, const char *arn, char *msg, size_t msglen)
{
    struct ev_bus *b;
    struct ev_rule *r;
    return arn_tags(ev, arn, &b, &r, msg, msglen);
}

/* Tag (add non-NULL) or untag (keys non-NULL). */
static enum err retag(struct events *ev, const char *arn, const json_t *add, const json_t *keys,
                      char *msg, size_t msglen, events_done_fn done, void *arg)
{
    struct ev_bus *b;
    struct ev_rule *r;
    json_t *old = arn_tags(ev, arn, &b, &r, msg, msglen);
    if (old == NULL)
        return ERR_EVENTS_NOT_FOUND;
    json_t *tags = json_copy(old);
    if (tags == NULL)
        return fail(msg, msglen, ERR_EVENTS_INTERNAL, "%s", OOM);
    if (add != NULL)
        json_object_update(tags, (json_t *)add);
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        if (json_is_string(k))
            json_object_del(tags, json_string_value(k));
    }
    if (json_object_size(tags) > EVENTS_MAX_TAGS) {
        json_decref(tags);
        return fail(msg, msglen, ERR_EVENTS_LIMIT_EXCEEDED, "%s",
                    err_message(ERR_EVENTS_LIMIT_EXCEEDED));
    }
    struct change *ch =
        change_new(ev, r ? CH_RULE : CH_BUS_TAGS, b->name, r ? r->name : NULL, done, arg);
    if (ch == NULL) {
        json_decref(tags);
        return fail(msg, msglen, ERR_EVENTS_INTERNAL, "%s", OOM);
    }
    if (r != NULL) {
        struct ev_state st;
        if (!state_fork(&st, &r->st)) {
            json_decref(tags);
            change_free(ch);
            return fail(msg, msglen, ERR_EVENTS_INTERNAL, "%s", OOM);
        }
        json_decref(st.tags);
        st.tags = tags;
        ch->had = true;
        install(ch, r, &st);
        return ERR_OK;
    }
    ch->tags_before = b->tags;
    b->tags = tags;
    struct store_batch *bt = batch_new(ev);
    add_bus_row(ev, bt, b);
    commit(ch, bt);
    return ERR_OK;
}

enum err events_tag(struct events *ev, const char *arn, const json_t *tags, char *msg,
                    size_t msglen, events_done_fn done, void *arg)
{
    return retag(ev, arn, tags, NULL, msg, msglen, done, arg);
}

enum err events_untag(struct events *ev, const char *arn, const json_t *keys, char *msg,
                      size_t msglen, events_done_fn done, void *arg)
{
    return retag(ev, arn, NULL, keys, msg, msglen, done, arg);
}

/* ---- the environment's schedule ---- */

enum err events_provision_schedule(struct events *ev, const struct events_provision *p, char *msg,
                                   size_t msglen)
{
    struct ev_bus *b = events__bus(ev, EVENTS_DEFAULT_BUS);
    struct ev_rule *r = events__rule(b, p->rule);
    struct ev_state st;
    enum err e =
        state_config(&st, EVENTS_DEFAULT_BUS, NULL, p->expression,
                     p->enabled ? "ENABLED" : "DISABLED", p->description, NULL, msg, msglen);
    if (e != ERR_OK)
        return e;
    int64_t now = clock_now_ms();
    json_t *target = json_pack("{s:s, s:s, s:{s:i, s:i}}", "Id", p->target_id, "Arn", p->target_arn,
                               "RetryPolicy", "MaximumRetryAttempts", p->max_retries,
                               "MaximumEventAgeInSeconds", p->max_age_seconds);
    if (target != NULL && p->dlq_arn != NULL &&
        json_object_set_new(target, "DeadLetterConfig", json_pack("{s:s}", "Arn", p->dlq_arn)) != 0) {
        json_decref(target);
        target = NULL;
    }
    struct ev_target *t = target ? target_new(target, msg, msglen, &e) : NULL;
    json_decref(target);
    if (t == NULL) {
        state_release(&st);
        return target ? e : fail(msg, msglen, ERR_EVENTS_INTERNAL, "%s", OOM);
    }
    st.t[st.nt++] = t;
    st.created_ms = st.anchor_ms = now;
    if (r != NULL) {
        const char *old = jsonh_str(r->st.doc, "ScheduleExpression", NULL);
        if (old != NULL && strcmp(old, p->expression) == 0)
            st.anchor_ms = r->st.anchor_ms;
        st.created_ms = r->st.created_ms;
        for (size_t i = 0; i < r->st.nt; i++) {
            if (strcmp(r->st.t[i]->id, p->target_id) == 0)
                continue;
            if (st.nt == EVENTS_MAX_TARGETS) {
                state_release(&st);
                return fail(msg, msglen, ERR_EVENTS_LIMIT_EXCEEDED, "%s",
                            err_message(ERR_EVENTS_LIMIT_EXCEEDED));
            }
            st.t[st.nt] = r->st.t[i];
            st.t[st.nt++]->refs++;
        }
        qsort(st.t, st.nt, sizeof st.t[0], cmp_target);
    }
    if (p->tags != NULL) {
        json_decref(st.tags);
        st.tags = json_deep_copy(p->tags);
    }
    struct change *ch = change_new(ev, CH_RULE, EVENTS_DEFAULT_BUS, p->rule, NULL, NULL);
    return put_rule(ev, b, r, p->rule, ch, &st, msg, msglen);
}

/* ---- reads ---- */

static void rule_info(const struct ev_rule *r, struct events_rule_info *out)
{
    memset(out, 0, sizeof *out);
    out->name = r->name;
    out->bus = r->bus->name;
    out->arn = r->arn;
    out->pattern = jsonh_str(r->st.doc, "EventPattern", NULL);
    out->schedule = jsonh_str(r->st.doc, "ScheduleExpression", NULL);
    out->description = jsonh_str(r->st.doc, "Description", NULL);
    out->role_arn = jsonh_str(r->st.doc, "RoleArn", NULL);
    out->state = r->st.enabled ? "ENABLED" : "DISABLED";
    out->tags = r->st.tags;
    for (size_t i = 0; i < r->st.nt; i++)
        out->targets[i] = r->st.t[i]->doc;
    out->ntargets = r->st.nt;
    out->next_fire_ms = r->next_ms;
}

bool events_rule_get(struct events *ev, const char *bus, const char *name,
                     struct events_rule_info *out)
{
    struct ev_rule *r = events__rule(events__bus(ev, bus), name);
    if (r == NULL)
        return false;
    rule_info(r, out);
    return true;
}

bool events_rule_each(struct events *ev, const char *bus, const char *prefix, const char *after,
                      bool (*cb)(void *arg, const struct events_rule_info *r), void *arg)
{
    struct ev_bus *b = events__bus(ev, bus);
    if (b == NULL)
        return false;
    size_t plen = prefix ? strlen(prefix) : 0;
    size_t i = after ? str_upper_bound(b->rules, b->nrules, rule_name_at, after) : 0;
    for (; i < b->nrules; i++) {
        if (plen && strncmp(b->rules[i]->name, prefix, plen) != 0)
            continue;
        struct events_rule_info info;
        rule_info(b->rules[i], &info);
        if (!cb(arg, &info))
            break;
    }
    return true;
}

static void bus_info(const struct ev_bus *b, struct events_bus_info *out)
{
    out->name = b->name;
    out->arn = b->arn;
    out->created_ms = b->created_ms;
    out->tags = b->tags;
    out->nrules = b->nrules;
}

bool events_bus_get(struct events *ev, const char *name, struct events_bus_info *out)
{
    struct ev_bus *b = events__bus(ev, name);
    if (b == NULL)
        return false;
    bus_info(b, out);
    return true;
}

void events_bus_each(struct events *ev, const char *prefix, const char *after,
                     bool (*cb)(void *arg, const struct events_bus_info *b), void *arg)
{
    size_t plen = prefix ? strlen(prefix) : 0;
    size_t i = after ? str_upper_bound(ev->buses, ev->nbuses, bus_name_at, after) : 0;
    for (; i < ev->nbuses; i++) {
        if (plen && strncmp(ev->buses[i]->name, prefix, plen) != 0)
            continue;
        struct events_bus_info info;
        bus_info(ev->buses[i], &info);
        if (!cb(arg, &info))
            break;
    }
}

void events_get_stats(const struct events *ev, struct events_stats *out)
{
    *out = ev->stats;
    out->buses = ev->nbuses;
    out->rules = 0;
    for (size_t i = 0; i < ev->nbuses; i++)
        out->rules += ev->buses[i]->nrules;
}

json_t *events_health_json(const struct events *ev)
{
    struct events_stats s;
    events_get_stats(ev, &s);
    size_t schedules = 0;
    for (size_t i = 0; i < ev->nbuses; i++)
        for (size_t k = 0; k < ev->buses[i]->nrules; k++)
            schedules += ev->buses[i]->rules[k]->next_ms >= 0;
    json_t *d = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "pending", (json_int_t)s.pending,
                          "matched", (json_int_t)s.matched, "delivered", (json_int_t)s.delivered,
                          "retried", (json_int_t)s.retried, "dead_lettered",
                          (json_int_t)s.dead_lettered, "dlq_failed", (json_int_t)s.dlq_failed,
                          "dropped", (json_int_t)s.dropped);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:o*}", "buses", (json_int_t)s.buses, "rules",
                     (json_int_t)s.rules, "schedules", (json_int_t)schedules, "fired",
                     (json_int_t)s.fired, "missed", (json_int_t)s.missed, "deliveries", d);
}

const char *events_region(const struct events *ev)
{
    return ev->region;
}

const char *events_account(const struct events *ev)
{
    return ev->account;
}
