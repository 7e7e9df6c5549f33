/*
 * registry.c — the functions: lookup, the commands that change them (each durable before it
 * completes), their persistence in the store, and restore at start.
 *
 * A command either applies its change in memory and commits the function's record, undoing
 * the change if the commit fails (configuration, tags, concurrency, event config), or
 * commits first and applies after (deletion); code changes unpack off the loop first. Every
 * command completes through a struct op, whose callback always runs later, from a timer or
 * a store completion.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloud/lambda/lambda_int.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/fs.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"

#define DEFAULT_MAX_RETRIES 2
#define DEFAULT_MAX_AGE_S   21600

/* ---- schema ---- */

static const char *const schema_steps[] = {
    /* 1: typed tables */
    "CREATE TABLE IF NOT EXISTS lambda_functions (name TEXT PRIMARY KEY, doc TEXT NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS lambda_events (seq INTEGER PRIMARY KEY, rid TEXT NOT NULL UNIQUE,"
    " function TEXT NOT NULL, attempt INTEGER NOT NULL, enqueued_ms INTEGER NOT NULL,"
    " not_before_ms INTEGER NOT NULL, client_context TEXT, payload BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS lambda_events_fn ON lambda_events(function);"
    "CREATE TABLE IF NOT EXISTS lambda_pids (pid INTEGER NOT NULL, start INTEGER NOT NULL,"
    " PRIMARY KEY (pid, start)) WITHOUT ROWID;",
    /* 2: what haar's first store (one kind/key/value table) held */
    "CREATE TABLE IF NOT EXISTS records (kind TEXT NOT NULL, key TEXT NOT NULL,"
    " value BLOB NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (kind, key));"
    "INSERT OR IGNORE INTO lambda_functions SELECT key, CAST(value AS TEXT) FROM records"
    " WHERE kind = 'function';"
    "WITH a AS (SELECT key, seq, CAST(value AS TEXT) AS v, instr(CAST(value AS TEXT), char(10))"
    " AS i1 FROM records WHERE kind = 'event'),"
    " b AS (SELECT key, seq, v, i1, i1 + instr(substr(v, i1 + 1), char(10)) AS i2 FROM a"
    " WHERE i1 > 0)"
    " INSERT OR IGNORE INTO lambda_events (rid, function, attempt, enqueued_ms, not_before_ms,"
    " payload) SELECT key, substr(v, 1, i1 - 1), CAST(substr(v, i1 + 1, i2 - i1 - 1) AS INTEGER),"
    " CAST(strftime('%s', 'now') AS INTEGER) * 1000, 0, CAST(substr(v, i2 + 1) AS BLOB) FROM b"
    " WHERE i2 > i1 ORDER BY seq;"
    "DROP TABLE records;",
    /* 3: versions, aliases and layers (functions' documents hold their versions and
     * aliases); events remember the qualifier they were invoked by and its settings */
    "CREATE TABLE IF NOT EXISTS lambda_layers (name TEXT NOT NULL, version INTEGER NOT NULL,"
    " doc TEXT NOT NULL, PRIMARY KEY (name, version)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS lambda_layer_names (name TEXT PRIMARY KEY, last INTEGER NOT"
    " NULL) WITHOUT ROWID;"
    "ALTER TABLE lambda_events ADD COLUMN via TEXT;"
    "ALTER TABLE lambda_events ADD COLUMN max_retries INTEGER;"
    "ALTER TABLE lambda_events ADD COLUMN max_age INTEGER;",
};

static const struct store_schema schema = {"lambda", schema_steps,
                                           sizeof schema_steps / sizeof schema_steps[0]};

static int prepare_all(struct lambda *lm, char *err, size_t errlen)
{
    struct {
        struct store_stmt **out;
        const char *sql;
    } stmts[] = {
        {&lm->st_fn_put, "INSERT OR REPLACE INTO lambda_functions (name, doc) VALUES (?1, ?2)"},
        {&lm->st_fn_del, "DELETE FROM lambda_functions WHERE name = ?1"},
        {&lm->st_fn_all, "SELECT name, doc FROM lambda_functions"},
        {&lm->st_ev_put,
         "INSERT OR REPLACE INTO lambda_events (rid, function, attempt, enqueued_ms,"
         " not_before_ms, client_context, payload, via, max_retries, max_age) VALUES (?1, ?2,"
         " ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"},
        {&lm->st_ev_attempt,
         "UPDATE lambda_events SET attempt = ?2, not_before_ms = ?3 WHERE rid = ?1"},
        {&lm->st_ev_del, "DELETE FROM lambda_events WHERE rid = ?1"},
        /* a function's events, and its versions' (queued on "name:N") */
        {&lm->st_ev_del_fn, "DELETE FROM lambda_events WHERE function = ?1 OR"
                            " substr(function, 1, length(?1) + 1) = ?1 || ':'"},
        {&lm->st_ev_all,
         "SELECT rid, function, attempt, enqueued_ms, not_before_ms, client_context,"
         " length(payload), via, max_retries, max_age FROM lambda_events ORDER BY seq"},
        {&lm->st_ev_payload, "SELECT payload FROM lambda_events WHERE rid = ?1"},
        {&lm->st_pid_put, "INSERT OR IGNORE INTO lambda_pids (pid, start) VALUES (?1, ?2)"},
        {&lm->st_pid_del, "DELETE FROM lambda_pids WHERE pid = ?1 AND start = ?2"},
        {&lm->st_pid_all, "SELECT pid, start FROM lambda_pids"},
        {&lm->st_layer_put,
         "INSERT OR REPLACE INTO lambda_layers (name, version, doc) VALUES (?1, ?2, ?3)"},
        {&lm->st_layer_del, "DELETE FROM lambda_layers WHERE name = ?1 AND version = ?2"},
        {&lm->st_layer_all, "SELECT name, version, doc FROM lambda_layers ORDER BY name, version"},
        {&lm->st_layer_seq_put,
         "INSERT OR REPLACE INTO lambda_layer_names (name, last) VALUES (?1, ?2)"},
        {&lm->st_layer_seq_all, "SELECT name, last FROM lambda_layer_names"},
    };
    if (store_schema_apply(lm->store, &schema, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++)
        if ((*stmts[i].out = store_prepare(lm->store, stmts[i].sql, err, errlen)) == NULL)
            return -1;
    return 0;
}

/* ---- lookup ---- */

unsigned lambda__hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % LAMBDA_NBUCKETS;
}

struct lambda_fn *lambda__find_any(struct lambda *lm, const char *key)
{
    for (struct lambda_fn *fn = lm->buckets[lambda__hash(key)]; fn; fn = fn->hnext)
        if (!fn->deleted && strcmp(fn->key, key) == 0)
            return fn;
    return NULL;
}

static struct lambda_fn *find_any(struct lambda *lm, const char *name)
{
    return lambda__find_any(lm, name);
}

static bool visible(const struct lambda_fn *fn)
{
    return fn && !fn->deleting && !fn->creating && !fn->base->deleting && !fn->base->creating;
}

struct lambda_fn *lambda_fn_find(struct lambda *lm, const char *name)
{
    struct lambda_fn *fn = find_any(lm, name);
    return visible(fn) && fn->kind == FN_LATEST ? fn : NULL;
}

bool lambda__qualified_key(char *key, size_t cap, const char *name, const char *qualifier)
{
    size_t nl = strlen(name), ql = strlen(qualifier);
    if (nl + 1 + ql >= cap)
        return false;
    memcpy(key, name, nl);
    key[nl] = ':';
    memcpy(key + nl + 1, qualifier, ql + 1);
    return true;
}

struct lambda_fn *lambda_fn_find_qualified(struct lambda *lm, const char *name,
                                           const char *qualifier)
{
    if (qualifier == NULL || qualifier[0] == '\0' || strcmp(qualifier, "$LATEST") == 0)
        return lambda_fn_find(lm, name);
    char key[sizeof((struct lambda_fn *)0)->key];
    if (!lambda__qualified_key(key, sizeof key, name, qualifier))
        return NULL;
    struct lambda_fn *fn = find_any(lm, key);
    return visible(fn) ? fn : NULL;
}

struct lambda_fn *lambda_fn_find_arn(struct lambda *lm, const char *ref)
{
    char name[80], qual[140], msg[256];
    if (ref == NULL || lambda_resolve_ref(ref, strlen(ref), name, sizeof name, qual, sizeof qual,
                                          msg, sizeof msg) != ERR_OK)
        return NULL;
    return lambda_fn_find_qualified(lm, name, qual);
}

static void fn_insert(struct lambda *lm, struct lambda_fn *fn)
{
    unsigned h = lambda__hash(fn->key);
    fn->hnext = lm->buckets[h];
    lm->buckets[h] = fn;
    lm->n_fns++;
}

static void fn_unlink(struct lambda *lm, struct lambda_fn *fn)
{
    struct lambda_fn **pp = &lm->buckets[lambda__hash(fn->key)];
    while (*pp && *pp != fn)
        pp = &(*pp)->hnext;
    if (*pp) {
        *pp = fn->hnext;
        lm->n_fns--;
    }
}

static void fn_free(struct lambda_fn *fn)
{
    if (fn == NULL)
        return;
    timer_destroy(&fn->pending_timer);
    timer_destroy(&fn->retry_timer);
    timer_destroy(&fn->pc_timer);
    free(fn->role);
    free(fn->handler);
    free(fn->description);
    json_decref(fn->env_vars);
    json_decref(fn->tags);
    json_decref(fn->policy);
    json_decref(fn->evcfg.destinations);
    json_decref(fn->layers);
    json_decref(fn->url.cors);
    free(fn);
}

void lambda__fn_maybe_free(struct lambda_fn *fn)
{
    if (fn->deleted && fn->envs == NULL && fn->inflight == 0 && fn->busy_ops == 0 &&
        fn->pending.head == NULL && fn->events.head == NULL && fn->nchildren == 0) {
        struct lambda_fn *base = fn->base;
        fn_unlink(fn->lm, fn);
        if (fn->opt_dir[0] != '\0' && fn->lm != NULL)
            lambda__opt_release(fn->lm, fn->opt_dir);
        fn_free(fn);
        if (base != fn) { /* the function goes once its last version and alias have */
            base->nchildren--;
            lambda__fn_maybe_free(base);
        }
    }
}

static void on_pending_timer(struct timer *t);
static void on_retry_timer(struct timer *t);

static void on_pc_timer(struct timer *t);

static struct lambda_fn *fn_alloc(struct lambda *lm, const char *name)
{
    struct lambda_fn *fn = calloc(1, sizeof *fn);
    if (fn == NULL)
        return NULL;
    if (timer_init(&fn->pending_timer, TIMER_REAL, on_pending_timer, fn) != 0 ||
        timer_init(&fn->retry_timer, TIMER_CLOCK, on_retry_timer, fn) != 0 ||
        timer_init(&fn->pc_timer, TIMER_REAL, on_pc_timer, fn) != 0) {
        fn_free(fn);
        return NULL;
    }
    fn->lm = lm;
    fn->kind = FN_LATEST;
    fn->base = fn;
    snprintf(fn->name, sizeof fn->name, "%s", name);
    snprintf(fn->key, sizeof fn->key, "%s", name);
    snprintf(fn->qual, sizeof fn->qual, "$LATEST");
    snprintf(fn->arn, sizeof fn->arn, "arn:aws:lambda:%s:000000000000:function:%s", lm->region,
             name);
    snprintf(fn->runtime, sizeof fn->runtime, "provided.al2023");
    snprintf(fn->arch, sizeof fn->arch, "x86_64");
    fn->timeout = 3;
    fn->memory = 128;
    fn->reserved = -1;
    fn->evcfg.max_retries = DEFAULT_MAX_RETRIES;
    fn->evcfg.max_age_seconds = DEFAULT_MAX_AGE_S;
    memcpy(fn->key_id, "ASIA", 4);
    ids_alnum_upper(fn->key_id + 4, 16);
    ids_secret(fn->secret, 40);
    ids_secret(fn->token, 88);
    fn->last_modified = clock_now_ms();
    ids_uuid4(fn->revision);
    return fn;
}

static char *xstrdup(const char *s);
static void replace_json(json_t **slot, json_t *v);

struct lambda_fn *lambda__fn_child(struct lambda_fn *base, enum fn_kind kind, const char *qual)
{
    struct lambda_fn *fn = fn_alloc(base->lm, base->name);
    if (fn == NULL)
        return NULL;
    fn->kind = kind;
    fn->base = base;
    fn->managed = base->managed;
    snprintf(fn->qual, sizeof fn->qual, "%s", qual);
    snprintf(fn->key, sizeof fn->key, "%.64s:%.128s", base->name, fn->qual);
    snprintf(fn->arn, sizeof fn->arn, "%.250s:%.128s", base->arn, fn->qual);
    fn->key_id[0] = fn->secret[0] = fn->token[0] = '\0'; /* the function's are used */
    if (kind == FN_VERSION) { /* $LATEST as it is now: code and configuration */
        snprintf(fn->runtime, sizeof fn->runtime, "%s", base->runtime);
        fn->role = xstrdup(base->role);
        fn->handler = xstrdup(base->handler);
        fn->description = xstrdup(base->description);
        snprintf(fn->arch, sizeof fn->arch, "%s", base->arch);
        fn->timeout = base->timeout;
        fn->memory = base->memory;
        replace_json(&fn->env_vars, base->env_vars);
        fn->layers = base->layers ? json_deep_copy(base->layers) : NULL;
        snprintf(fn->opt_dir, sizeof fn->opt_dir, "%s", base->opt_dir);
        snprintf(fn->code_dir, sizeof fn->code_dir, "%s", base->code_dir);
        fn->code_size = base->code_size;
        fn->code_unzipped = base->code_unzipped;
        snprintf(fn->sha, sizeof fn->sha, "%s", base->sha);
        fn->last_modified = base->last_modified;
        fn->published_rev = base->config_rev;
    }
    fn_insert(base->lm, fn);
    base->nchildren++;
    return fn;
}

void lambda__new_revision(struct lambda_fn *fn)
{
    ids_uuid4(fn->revision);
}

uint64_t lambda__random(struct lambda *lm)
{
    if (lm->rng == 0) {
        char hex[17];
        ids_hex(hex, 8);
        lm->rng = strtoull(hex, NULL, 16) | 1;
    }
    uint64_t x = lm->rng; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    lm->rng = x;
    return x * 2685821657736338717ull;
}

/* The timers of a function live here; what they do is invoke.c's. */
static void on_pending_timer(struct timer *t)
{
    lambda__spawn_for_pending(t->data, true);
}

static void on_retry_timer(struct timer *t)
{
    lambda__dispatch_events(t->data);
}

static void on_pc_timer(struct timer *t)
{
    lambda__pc_fill(t->data);
}

/* ---- the record: everything that persists, as one JSON document per function ---- */

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static json_t *evcfg_doc(const struct lambda_event_config *c)
{
    return json_pack("{s:b, s:i, s:i, s:O?, s:I}", "set", c->set, "max_retries", c->max_retries,
                     "max_age", c->max_age_seconds, "destinations", c->destinations, "modified",
                     (json_int_t)c->last_modified);
}

/* One object's fields (a version's or alias's record sits in its function's). */
static json_t *obj_doc(const struct lambda_fn *fn)
{
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s, s:i, s:i, s:O?, s:s, s:I, s:I, s:s, s:I, s:o,"
        " s:O?, s:s, s:s, s:O?, s:s, s:{s:b, s:i, s:I}}",
        "name", fn->name, "qual", fn->qual, "runtime", fn->runtime, "role", fn->role, "handler",
        fn->handler, "description", fn->description, "arch", fn->arch, "timeout", fn->timeout,
        "memory", fn->memory, "env", fn->env_vars, "code_dir", fn->code_dir, "code_size",
        (json_int_t)fn->code_size, "code_unzipped", (json_int_t)fn->code_unzipped, "sha", fn->sha,
        "last_modified", (json_int_t)fn->last_modified, "evcfg", evcfg_doc(&fn->evcfg), "policy",
        fn->policy, "policy_rev", fn->policy_rev, "revision", fn->revision, "layers", fn->layers,
        "opt_dir", fn->opt_dir, "pc", "set", fn->pc.set, "requested", fn->pc.requested, "modified",
        (json_int_t)fn->pc.modified);
    if (j == NULL)
        return NULL;
    if (fn->url.set)
        json_object_set_new(j, "url",
                            json_pack("{s:s, s:s, s:s, s:O?, s:I, s:I}", "id", fn->url.id, "auth",
                                      fn->url.auth, "mode", fn->url.mode, "cors", fn->url.cors,
                                      "created", (json_int_t)fn->url.created, "modified",
                                      (json_int_t)fn->url.modified));
    if (fn->kind == FN_VERSION)
        json_object_set_new(j, "published_rev", json_integer(fn->published_rev));
    if (fn->kind == FN_ALIAS)
        json_object_set_new(j, "alias",
                            json_pack("{s:s, s:s, s:f}", "to", fn->alias_to, "extra",
                                      fn->alias_extra, "weight", fn->alias_weight));
    if (fn->kind == FN_LATEST) {
        json_object_set_new(j, "reserved", json_integer(fn->reserved));
        json_object_set_new(j, "key", json_string(fn->key_id));
        json_object_set_new(j, "secret", json_string(fn->secret));
        json_object_set_new(j, "token", json_string(fn->token));
        json_object_set_new(j, "last_version", json_integer(fn->last_version));
        json_object_set_new(j, "config_rev", json_integer(fn->config_rev));
        if (fn->tags != NULL)
            json_object_set(j, "tags", fn->tags);
    }
    return j;
}

static int cmp_child(const void *a, const void *b)
{
    const struct lambda_fn *x = *(struct lambda_fn *const *)a, *y = *(struct lambda_fn *const *)b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->kind == FN_VERSION)
        return atoll(x->qual) < atoll(y->qual) ? -1 : atoll(x->qual) > atoll(y->qual);
    return strcmp(x->qual, y->qual);
}

size_t lambda__children(struct lambda_fn *base, struct lambda_fn ***out)
{
    struct lambda *lm = base->lm;
    size_t n = 0, cap = (size_t)base->nchildren + 1;
    struct lambda_fn **all = calloc(cap, sizeof *all);
    *out = all;
    if (all == NULL || base->nchildren == 0)
        return 0;
    for (int b = 0; b < LAMBDA_NBUCKETS; b++)
        for (struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext)
            if (fn->base == base && fn != base && !fn->deleted && n < cap)
                all[n++] = fn;
    qsort(all, n, sizeof *all, cmp_child);
    return n;
}

/* The function's record: $LATEST with its versions and aliases (those being deleted left
 * out: their deletion is what is being committed). */
static json_t *fn_doc(struct lambda_fn *base)
{
    json_t *j = obj_doc(base), *versions = json_array(), *aliases = json_array();
    struct lambda_fn **kids;
    size_t n = lambda__children(base, &kids);
    for (size_t i = 0; j && versions && aliases && i < n; i++)
        if (!kids[i]->deleting)
            json_array_append_new(kids[i]->kind == FN_VERSION ? versions : aliases,
                                  obj_doc(kids[i]));
    free(kids);
    if (j == NULL || versions == NULL || aliases == NULL) {
        json_decref(j);
        json_decref(versions);
        json_decref(aliases);
        return NULL;
    }
    json_object_set_new(j, "versions", versions);
    json_object_set_new(j, "aliases", aliases);
    return j;
}

static void set_reserved(struct lambda_fn *fn, int n)
{
    struct lambda *lm = fn->lm;
    if (fn->lm == NULL || fn->kind != FN_LATEST)
        return;
    /* moving between the shared pool and a reservation keeps in-flight counts right */
    if (fn->reserved < 0 && n >= 0)
        lm->unreserved_inflight -= fn->total_inflight;
    else if (fn->reserved >= 0 && n < 0)
        lm->unreserved_inflight += fn->total_inflight;
    lm->reserved_total += (n >= 0 ? n : 0) - (fn->reserved >= 0 ? fn->reserved : 0);
    fn->reserved = n < 0 ? -1 : n;
}

static void replace_json(json_t **slot, json_t *v)
{
    json_t *copy = json_is_object(v) ? json_deep_copy(v) : NULL;
    json_decref(*slot);
    *slot = copy;
}

static void replace_array(json_t **slot, json_t *v)
{
    json_t *copy = json_is_array(v) ? json_deep_copy(v) : NULL;
    json_decref(*slot);
    *slot = copy;
}

/* Sets one object's persisted fields from its record. */
static void obj_apply(struct lambda_fn *fn, const json_t *j)
{
    long long v;
    if (fn->kind != FN_ALIAS) {
        snprintf(fn->runtime, sizeof fn->runtime, "%s", jsonh_str(j, "runtime", "provided.al2023"));
        free(fn->role);
        fn->role = xstrdup(jsonh_str(j, "role", NULL));
        free(fn->handler);
        fn->handler = xstrdup(jsonh_str(j, "handler", NULL));
        snprintf(fn->arch, sizeof fn->arch, "%s", jsonh_str(j, "arch", "x86_64"));
        if (jsonh_int(j, "timeout", &v) == 1)
            fn->timeout = (int)v;
        if (jsonh_int(j, "memory", &v) == 1)
            fn->memory = (int)v;
        if (jsonh_int(j, "code_size", &v) == 1)
            fn->code_size = v;
        if (jsonh_int(j, "code_unzipped", &v) == 1)
            fn->code_unzipped = v;
        if (jsonh_int(j, "last_modified", &v) == 1)
            fn->last_modified = v;
        replace_json(&fn->env_vars, json_object_get(j, "env"));
        snprintf(fn->code_dir, sizeof fn->code_dir, "%s", jsonh_str(j, "code_dir", fn->code_dir));
        snprintf(fn->sha, sizeof fn->sha, "%s", jsonh_str(j, "sha", ""));
        replace_array(&fn->layers, json_object_get(j, "layers"));
        snprintf(fn->opt_dir, sizeof fn->opt_dir, "%s", jsonh_str(j, "opt_dir", ""));
    }
    free(fn->description);
    fn->description = xstrdup(jsonh_str(j, "description", NULL));
    snprintf(fn->revision, sizeof fn->revision, "%s", jsonh_str(j, "revision", fn->revision));
    json_t *ev = json_object_get(j, "evcfg");
    fn->evcfg.set = json_is_true(json_object_get(ev, "set"));
    fn->evcfg.max_retries = jsonh_int(ev, "max_retries", &v) == 1 ? (int)v : DEFAULT_MAX_RETRIES;
    fn->evcfg.max_age_seconds = jsonh_int(ev, "max_age", &v) == 1 ? (int)v : DEFAULT_MAX_AGE_S;
    fn->evcfg.last_modified = jsonh_int(ev, "modified", &v) == 1 ? v : 0;
    replace_json(&fn->evcfg.destinations, json_object_get(ev, "destinations"));
    replace_json(&fn->policy, json_object_get(j, "policy"));
    snprintf(fn->policy_rev, sizeof fn->policy_rev, "%s", jsonh_str(j, "policy_rev", ""));
    json_t *pc = json_object_get(j, "pc");
    fn->pc.set = json_is_true(json_object_get(pc, "set"));
    fn->pc.requested = jsonh_int(pc, "requested", &v) == 1 ? (int)v : 0;
    fn->pc.modified = jsonh_int(pc, "modified", &v) == 1 ? v : 0;
    json_t *url = json_object_get(j, "url");
    fn->url.set = json_is_object(url);
    snprintf(fn->url.id, sizeof fn->url.id, "%s", jsonh_str(url, "id", ""));
    snprintf(fn->url.auth, sizeof fn->url.auth, "%s", jsonh_str(url, "auth", "NONE"));
    snprintf(fn->url.mode, sizeof fn->url.mode, "%s", jsonh_str(url, "mode", "BUFFERED"));
    replace_json(&fn->url.cors, json_object_get(url, "cors"));
    fn->url.created = jsonh_int(url, "created", &v) == 1 ? v : 0;
    fn->url.modified = jsonh_int(url, "modified", &v) == 1 ? v : 0;
    if (fn->kind == FN_VERSION && jsonh_int(j, "published_rev", &v) == 1)
        fn->published_rev = (unsigned)v;
    if (fn->kind == FN_ALIAS) {
        json_t *al = json_object_get(j, "alias");
        snprintf(fn->alias_to, sizeof fn->alias_to, "%s", jsonh_str(al, "to", ""));
        snprintf(fn->alias_extra, sizeof fn->alias_extra, "%s", jsonh_str(al, "extra", ""));
        json_t *w = json_object_get(al, "weight");
        fn->alias_weight = json_is_number(w) ? json_number_value(w) : 0;
    }
    if (fn->kind == FN_LATEST) {
        set_reserved(fn, jsonh_int(j, "reserved", &v) == 1 ? (int)v : -1);
        replace_json(&fn->tags, json_object_get(j, "tags"));
        snprintf(fn->key_id, sizeof fn->key_id, "%s", jsonh_str(j, "key", fn->key_id));
        snprintf(fn->secret, sizeof fn->secret, "%s", jsonh_str(j, "secret", fn->secret));
        snprintf(fn->token, sizeof fn->token, "%s", jsonh_str(j, "token", fn->token));
        fn->last_version = jsonh_int(j, "last_version", &v) == 1 ? (int)v : 0;
        fn->config_rev = jsonh_int(j, "config_rev", &v) == 1 ? (unsigned)v : 0;
    }
}

/* Makes the function's versions or aliases (kind) those of the record's list: creates the
 * missing (restore), sets each, and lets go of those it does not hold (a failed publish or
 * alias creation undone). */
static void sync_children(struct lambda_fn *base, enum fn_kind kind, const json_t *list)
{
    struct lambda_fn **kids;
    size_t n = lambda__children(base, &kids);
    for (size_t i = 0; i < n; i++) {
        if (kids[i]->kind != kind)
            continue;
        bool kept = false;
        size_t k;
        json_t *d;
        json_array_foreach(list, k, d) kept |= strcmp(jsonh_str(d, "qual", ""), kids[i]->qual) == 0;
        if (!kept)
            lambda__fn_gone(kids[i]);
    }
    free(kids);
    size_t k;
    json_t *d;
    json_array_foreach(list, k, d)
    {
        const char *q = jsonh_str(d, "qual", "");
        char key[sizeof base->key];
        struct lambda_fn *fn = q[0] && lambda__qualified_key(key, sizeof key, base->name, q)
                                   ? find_any(base->lm, key)
                                   : NULL;
        if (fn == NULL && q[0])
            fn = lambda__fn_child(base, kind, q);
        if (fn != NULL)
            obj_apply(fn, d);
    }
}

/* Sets every persisted field from a record (restore, and undoing a failed change). */
static void fn_apply_doc(struct lambda_fn *base, const json_t *j)
{
    obj_apply(base, j);
    sync_children(base, FN_VERSION, json_object_get(j, "versions"));
    sync_children(base, FN_ALIAS, json_object_get(j, "aliases"));
}

void lambda__persist_fn(struct lambda_fn *fn, void (*done)(void *arg, int rc), void *arg)
{
    struct lambda *lm = fn->lm;
    fn = fn->base;
    struct store_batch *b = store_batch_new(lm->store);
    if (b != NULL && fn->deleting) {
        struct store_val k = store_text(fn->name);
        store_batch_add(b, lm->st_fn_del, &k, 1);
        store_batch_add(b, lm->st_ev_del_fn, &k, 1);
    } else if (b != NULL) {
        json_t *doc = fn_doc(fn);
        char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        struct store_val v[2] = {store_text(fn->name), store_text(s)};
        if (s == NULL || store_batch_add(b, lm->st_fn_put, v, 2) != 0) {
            store_batch_discard(b);
            b = NULL;
        }
        free(s);
        json_decref(doc);
    }
    store_batch_submit(lm->store, b, done, arg);
}

/* ---- commands ---- */

enum op_kind { OP_CHANGE, OP_CREATE, OP_CODE, OP_DELETE };

struct op {
    struct lambda *lm;
    enum op_kind kind;
    lambda_op_fn done;
    void *arg;
    enum err err;
    char msg[1024];
    struct lambda_fn *fn;
    json_t *before; /* the record before an in-memory change */
    struct timer t; /* TIMER_REAL: a deferred completion */
    /* code: unpacked off the loop */
    struct work w;
    void *zip;
    size_t zip_len;
    char tmp_dir[PATH_MAX];
    char final_dir[PATH_MAX];
    char old_dir[PATH_MAX];
    unsigned char sha[32];
    int64_t unzipped;
    int rc;
    /* layers: merged off the loop */
    struct opt_merge *merge;
    char old_opt[PATH_MAX];
    /* Publish with the change (CreateFunction, UpdateFunctionCode) */
    bool publish;
    char *version_out;
};

static void op_finish(struct op *op)
{
    if (op->fn != NULL) {
        op->fn->busy_ops--;
        lambda__fn_maybe_free(op->fn);
    }
    if (op->done)
        op->done(op->arg, op->err, op->err == ERR_OK ? NULL : op->msg);
    json_decref(op->before);
    free(op->zip);
    timer_destroy(&op->t);
    free(op);
}

static void op_timer(struct timer *t)
{
    op_finish(t->data);
}

static struct op *op_new(struct lambda *lm, enum op_kind kind, struct lambda_fn *fn,
                         lambda_op_fn done, void *arg)
{
    struct op *op = calloc(1, sizeof *op);
    if (op == NULL || timer_init(&op->t, TIMER_REAL, op_timer, op) != 0) {
        free(op);
        return NULL;
    }
    op->lm = lm;
    op->kind = kind;
    op->done = done;
    op->arg = arg;
    op->fn = fn;
    if (fn != NULL)
        fn->busy_ops++;
    return op;
}

/* Completes now-decided commands later, as every completion is. */
#define op_complete lambda__op_complete
void lambda__op_complete(struct op *op, enum err e, const char *fmt, ...)
{
    op->err = e;
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(op->msg, sizeof op->msg, fmt, ap);
        va_end(ap);
    }
    timer_start(&op->t, 0);
}

char *lambda__op_msg(struct op *op, size_t *len)
{
    *len = sizeof op->msg;
    return op->msg;
}

/* No memory for an op: the caller still gets one answer, later. */
struct nomem {
    struct timer t;
    lambda_op_fn done;
    void *arg;
};

static void nomem_timer(struct timer *t)
{
    struct nomem *n = t->data;
    n->done(n->arg, ERR_LAMBDA_SERVICE, "out of memory");
    timer_destroy(&n->t);
    free(n);
}

static void fail_nomem(lambda_op_fn done, void *arg)
{
    struct nomem *n = calloc(1, sizeof *n);
    if (n == NULL || timer_init(&n->t, TIMER_REAL, nomem_timer, n) != 0) {
        free(n);
        LOG_ERROR("lambda", NULL, "out of memory: a command is lost");
        return;
    }
    n->done = done;
    n->arg = arg;
    timer_start(&n->t, 0);
}

static void change_committed(void *arg, int rc)
{
    struct op *op = arg;
    if (rc != 0) {
        LOG_ERROR("store", NULL, "%s: cannot commit the change; undone", op->fn->name);
        if (op->before)
            fn_apply_doc(op->fn->base, op->before);
        op->err = ERR_LAMBDA_SERVICE;
        snprintf(op->msg, sizeof op->msg, "The change could not be stored");
    }
    op_finish(op);
}

/* An in-memory change was made after op->before was taken: commit it (functions provisioned
 * from the config are not persisted, so theirs completes at once). */
static void op_commit_change(struct op *op)
{
    if (op->lm->store == NULL || op->fn->base->managed) {
        op_complete(op, ERR_OK, NULL);
        return;
    }
    lambda__persist_fn(op->fn, change_committed, op);
}

void lambda__op_commit(struct op *op)
{
    op_commit_change(op);
}

/* Starts an in-memory change of fn: NULL (after completing with an error) when fn is busy
 * being deleted. */
static struct op *begin_change(struct lambda *lm, struct lambda_fn *fn, lambda_op_fn done,
                               void *arg)
{
    struct op *op = op_new(lm, OP_CHANGE, fn, done, arg);
    if (op == NULL) {
        fail_nomem(done, arg);
        return NULL;
    }
    op->before = fn_doc(fn->base);
    if (op->before == NULL) {
        op_complete(op, ERR_LAMBDA_SERVICE, "out of memory");
        return NULL;
    }
    return op;
}

struct op *lambda__op_change(struct lambda *lm, struct lambda_fn *fn, lambda_op_fn done, void *arg)
{
    return begin_change(lm, fn, done, arg);
}

static void child_delete_committed(void *arg, int rc)
{
    struct op *op = arg;
    struct lambda_fn *child = op->fn;
    if (rc != 0) {
        LOG_ERROR("store", NULL, "%s: cannot commit the deletion", child->key);
        child->deleting = false;
        op->err = ERR_LAMBDA_SERVICE;
        snprintf(op->msg, sizeof op->msg, "The deletion could not be stored");
    } else {
        struct lambda_fn *base = child->base;
        lambda__fn_gone(child);
        lambda__pc_reconcile(base);
        LOG_INFO("function_deleted", NULL, "%s", child->key);
    }
    op_finish(op);
}

void lambda__op_commit_delete(struct op *op, struct lambda_fn *child)
{
    child->deleting = true; /* not found from now on; undone if the commit fails */
    if (op->lm->store == NULL || child->base->managed) {
        struct lambda_fn *base = child->base;
        lambda__fn_gone(child);
        lambda__pc_reconcile(base);
        op_complete(op, ERR_OK, NULL);
        return;
    }
    lambda__persist_fn(child, child_delete_committed, op);
}

void lambda__op_refuse(struct lambda *lm, lambda_op_fn done, void *arg, enum err e, const char *fmt,
                       ...)
{
    struct op *op = op_new(lm, OP_CHANGE, NULL, done, arg);
    if (op == NULL) {
        fail_nomem(done, arg);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(op->msg, sizeof op->msg, fmt, ap);
    va_end(ap);
    op->err = e;
    timer_start(&op->t, 0);
}

static void not_found(struct lambda *lm, const char *name, struct op *op)
{
    lambda_not_found_msg(lm, name, op->msg, sizeof op->msg);
    op_complete(op, ERR_LAMBDA_NOT_FOUND, NULL);
}

/* ---- code ---- */

static void unzip_run(struct work *w)
{
    struct op *op = w->data;
    op->rc = lambda__code_unpack(op->zip, op->zip_len, op->tmp_dir, "deployment package", op->sha,
                                 &op->unzipped, op->msg, sizeof op->msg);
}

static void discard_tmp(struct op *op)
{
    char zpath[PATH_MAX + 8];
    snprintf(zpath, sizeof zpath, "%s.zip", op->tmp_dir);
    unlink(zpath);
    fs_remove_tree(op->tmp_dir);
    /* the function's folder too, when nothing else is in it (a failed create) */
    char *slash = strrchr(op->tmp_dir, '/');
    if (slash != NULL) {
        *slash = '\0';
        rmdir(op->tmp_dir);
        *slash = '/';
    }
}

/* Moves the unpacked code into place: <state>/lambda/<name>/<sha16>-<rand>[.zip]. */
static int place_code(struct op *op, struct lambda_fn *fn)
{
    char hex[17], rnd[9];
    codec_hex(op->sha, 8, hex);
    ids_hex(rnd, 4);
    int n = snprintf(op->final_dir, sizeof op->final_dir, "%s/lambda/%s/%s-%s", op->lm->state_dir,
                     fn->name, hex, rnd);
    if (n < 0 || (size_t)n >= sizeof fn->code_dir)
        return -1;
    char zfrom[PATH_MAX + 8], zto[PATH_MAX + 8];
    snprintf(zfrom, sizeof zfrom, "%s.zip", op->tmp_dir);
    snprintf(zto, sizeof zto, "%s.zip", op->final_dir);
    if (rename(op->tmp_dir, op->final_dir) != 0)
        return -1;
    if (rename(zfrom, zto) != 0) {
        rename(op->final_dir, op->tmp_dir);
        return -1;
    }
    memcpy(op->old_dir, fn->code_dir, sizeof op->old_dir);
    memcpy(fn->code_dir, op->final_dir, (size_t)n + 1);
    lambda__sha_b64(op->sha, fn->sha);
    fn->code_size = (long long)op->zip_len;
    op->lm->code_bytes += op->unzipped + (int64_t)op->zip_len;
    return 0;
}

/* Undoes place_code after a failed commit. */
static void unplace_code(struct op *op, struct lambda_fn *fn)
{
    memcpy(fn->code_dir, op->old_dir, sizeof fn->code_dir);
    lambda__code_release(op->lm, op->final_dir);
}

/* Starts unpacking op->zip (copied) into a temporary folder of fn. */
static void start_unzip(struct op *op, const char *name, const void *zip, size_t len)
{
    if (lambda__code_over_quota(op->lm, (int64_t)len, op->msg, sizeof op->msg)) {
        op_complete(op, ERR_LAMBDA_CODE_STORAGE, NULL);
        return;
    }
    op->zip = malloc(len ? len : 1);
    if (op->zip == NULL) {
        op_complete(op, ERR_LAMBDA_SERVICE, "out of memory");
        return;
    }
    memcpy(op->zip, zip, len);
    op->zip_len = len;
    char rnd[17];
    ids_hex(rnd, 8);
    if (snprintf(op->tmp_dir, sizeof op->tmp_dir, "%s/lambda/%s/.tmp-%s", op->lm->state_dir, name,
                 rnd) >= (int)sizeof op->tmp_dir) {
        op_complete(op, ERR_LAMBDA_SERVICE, "The state directory path is too long");
        return;
    }
    op->w.data = op;
    op->w.run = unzip_run;
    work_submit(&op->w);
}

/* ---- layers and publishing, shared by the commands that change code or configuration ---- */

static void merge_run(struct work *w)
{
    struct op *op = w->data;
    lambda__opt_run(op->merge);
}

/* Starts merging fn's layers into op->final_dir... rather fn->opt_dir, off the loop; then
 * next(w) on the loop, with op->rc and op->msg. */
static void start_merge(struct op *op, struct lambda_fn *fn, void (*next)(struct work *w))
{
    op->merge = lambda__opt_prepare(op->lm, fn->layers);
    if (op->merge == NULL) {
        op->rc = -1;
        snprintf(op->msg, sizeof op->msg, "out of memory");
        next(&op->w);
        return;
    }
    op->w = (struct work){.run = merge_run, .done = next, .data = op};
    work_submit(&op->w);
}

/* The merged folder into fn->opt_dir (op->rc -1 with op->msg when it failed). */
static void end_merge(struct op *op, struct lambda_fn *fn)
{
    op->rc = lambda__opt_finish(op->merge, fn->opt_dir, op->msg, sizeof op->msg);
    op->merge = NULL;
}

/* Publishes fn's $LATEST as it is now with the change (Publish: true). */
static void publish_with(struct op *op, struct lambda_fn *fn)
{
    if (!op->publish)
        return;
    bool created;
    struct lambda_fn *v = lambda__publish(fn, NULL, &created);
    if (v != NULL && op->version_out != NULL)
        snprintf(op->version_out, 16, "%.15s", v->qual);
}

/* Lets go of every version and alias of base (a failed create). */
static void drop_children(struct lambda_fn *base)
{
    struct lambda_fn **kids;
    size_t n = lambda__children(base, &kids);
    for (size_t i = 0; i < n; i++)
        lambda__fn_gone(kids[i]);
    free(kids);
}

/* Refuses a runtime the machine cannot run when strict_runtimes is set. */
static enum err check_runnable(struct lambda *lm, const char *runtime, char *msg, size_t msglen)
{
    if (runtime == NULL || !lambda__managed_runtime(runtime) || !lm->opt.strict_runtimes)
        return ERR_OK;
    return lambda__interp_for(lm, runtime, msg, msglen) != NULL ? ERR_OK
                                                                : ERR_LAMBDA_INVALID_PARAMETER;
}

/* ---- CreateFunction ---- */

static void create_committed(void *arg, int rc)
{
    struct op *op = arg;
    struct lambda_fn *fn = op->fn;
    if (rc == 0) {
        fn->creating = false;
        LOG_INFO("function_created", NULL, "%s code=%s", fn->name, fn->code_dir);
    } else {
        LOG_ERROR("store", NULL, "%s: cannot commit the new function", fn->name);
        unplace_code(op, fn);
        drop_children(fn);
        fn->deleted = true;
        set_reserved(fn, -1);
        op->err = ERR_LAMBDA_SERVICE;
        snprintf(op->msg, sizeof op->msg, "The function could not be stored");
    }
    op_finish(op);
}

/* The code is in place (and the layers merged): publish if asked, then commit. */
static void create_ready(struct op *op)
{
    struct lambda_fn *fn = op->fn;
    publish_with(op, fn);
    if (op->lm->store == NULL) {
        create_committed(op, 0);
        return;
    }
    lambda__persist_fn(fn, create_committed, op);
}

/* A failure after the code was placed: the new function goes, with its code. */
static void create_fail(struct op *op, enum err e)
{
    unplace_code(op, op->fn);
    op->fn->deleted = true;
    op->err = e;
    op_finish(op);
}

static void create_merged(struct work *w)
{
    struct op *op = w->data;
    end_merge(op, op->fn);
    if (op->rc != 0) {
        create_fail(op, ERR_LAMBDA_SERVICE);
        return;
    }
    create_ready(op);
}

static void create_unzipped(struct work *w)
{
    struct op *op = w->data;
    struct lambda_fn *fn = op->fn;
    if (op->rc != 0) {
        discard_tmp(op);
        fn->deleted = true;
        op->err = ERR_LAMBDA_INVALID_PARAMETER;
        op_finish(op);
        return;
    }
    if (lambda__code_over_quota(op->lm, op->unzipped + (int64_t)op->zip_len, op->msg,
                                sizeof op->msg)) {
        discard_tmp(op);
        fn->deleted = true;
        op->err = ERR_LAMBDA_CODE_STORAGE;
        op_finish(op);
        return;
    }
    if (place_code(op, fn) != 0) {
        discard_tmp(op);
        fn->deleted = true;
        op->err = ERR_LAMBDA_SERVICE;
        snprintf(op->msg, sizeof op->msg, "Cannot store the function code");
        op_finish(op);
        return;
    }
    fn->code_unzipped = op->unzipped;
    if (fn->layers != NULL) {
        enum err e =
            lambda__layers_check(op->lm, fn->layers, fn->code_unzipped, op->msg, sizeof op->msg);
        if (e != ERR_OK) {
            create_fail(op, e);
            return;
        }
        start_merge(op, fn, create_merged);
        return;
    }
    create_ready(op);
}

static void apply_spec(struct lambda_fn *fn, const struct lambda_fn_spec *spec)
{
    if (spec->runtime)
        snprintf(fn->runtime, sizeof fn->runtime, "%s", spec->runtime);
    if (spec->role) {
        free(fn->role);
        fn->role = strdup(spec->role);
    }
    if (spec->handler) {
        free(fn->handler);
        fn->handler = strdup(spec->handler);
    }
    if (spec->description) {
        free(fn->description);
        fn->description = strdup(spec->description);
    }
    if (spec->architecture)
        snprintf(fn->arch, sizeof fn->arch, "%s", spec->architecture);
    if (spec->timeout)
        fn->timeout = spec->timeout;
    if (spec->memory)
        fn->memory = spec->memory;
    if (spec->has_env)
        replace_json(&fn->env_vars, spec->env_vars);
    if (spec->tags != NULL && json_object_size(spec->tags) > 0)
        replace_json(&fn->tags, spec->tags);
    if (spec->has_layers)
        replace_array(&fn->layers,
                      json_array_size(spec->layers) > 0 ? (json_t *)spec->layers : NULL);
}

void lambda_fn_create(struct lambda *lm, const struct lambda_fn_spec *spec, lambda_op_fn done,
                      void *arg)
{
    struct op *op = op_new(lm, OP_CREATE, NULL, done, arg);
    if (op == NULL) {
        fail_nomem(done, arg);
        return;
    }
    char name[80];
    enum err e = lambda_resolve_name(spec->name, strlen(spec->name), name, sizeof name, op->msg,
                                     sizeof op->msg);
    if (e != ERR_OK) {
        op_complete(op, e == ERR_LAMBDA_NOT_FOUND ? ERR_LAMBDA_VALIDATION : e, NULL);
        return;
    }
    if (find_any(lm, name) != NULL) {
        op_complete(op, ERR_LAMBDA_CONFLICT, "Function already exist: %s", name);
        return;
    }
    if ((e = check_runnable(lm, spec->runtime, op->msg, sizeof op->msg)) != ERR_OK ||
        (spec->has_layers && json_array_size(spec->layers) > 0 &&
         (e = lambda__layers_check(lm, spec->layers, 0, op->msg, sizeof op->msg)) != ERR_OK)) {
        op_complete(op, e, NULL);
        return;
    }
    struct lambda_fn *fn = fn_alloc(lm, name);
    if (fn == NULL) {
        op_complete(op, ERR_LAMBDA_SERVICE, "out of memory");
        return;
    }
    apply_spec(fn, spec);
    fn->creating = true;
    fn_insert(lm, fn);
    op->fn = fn;
    op->publish = spec->publish;
    op->version_out = spec->version_out;
    fn->busy_ops++;
    op->w.done = create_unzipped;
    start_unzip(op, name, spec->zip, spec->zip_len);
}

/* Code from a build folder: size and sha of its bootstrap. */
static void code_from_dir(struct lambda_fn *fn, const char *dir)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/bootstrap", dir);
    snprintf(fn->code_dir, sizeof fn->code_dir, "%s", dir);
    fn->code_size = 0;
    snprintf(fn->sha, sizeof fn->sha, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    struct buf data;
    buf_init(&data, 256u << 20);
    if (fstat(fd, &st) == 0 && st.st_size > 0)
        buf_reserve(&data, (size_t)st.st_size);
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        if (buf_append(&data, chunk, (size_t)n) != BUF_OK)
            break;
    close(fd);
    unsigned char h[32];
    codec_sha256(data.data ? data.data : "", data.len, h);
    lambda__sha_b64(h, fn->sha);
    fn->code_size = (long long)data.len;
    fn->code_unzipped = (long long)data.len;
    buf_destroy(&data);
}

enum err lambda_fn_provision(struct lambda *lm, const struct lambda_fn_spec *spec, char *msg,
                             size_t msglen)
{
    char name[80];
    enum err e =
        lambda_resolve_name(spec->name, strlen(spec->name), name, sizeof name, msg, msglen);
    if (e != ERR_OK)
        return e == ERR_LAMBDA_NOT_FOUND ? ERR_LAMBDA_VALIDATION : e;
    struct lambda_fn *old = find_any(lm, name);
    if (old != NULL && !old->managed) {
        snprintf(msg, msglen, "Function already exist: %s", name);
        return ERR_LAMBDA_CONFLICT;
    }
    if (old != NULL) { /* provisioned again: replaced */
        drop_children(old);
        old->deleted = true;
        lambda__drop_queues(old, "replaced");
        lambda__retire_envs(old);
        set_reserved(old, -1);
        lambda__fn_maybe_free(old);
    }
    struct lambda_fn *fn = fn_alloc(lm, name);
    if (fn == NULL)
        return ERR_LAMBDA_SERVICE;
    apply_spec(fn, spec);
    fn->managed = true;
    code_from_dir(fn, spec->dir);
    fn_insert(lm, fn);
    return ERR_OK;
}

/* ---- UpdateFunctionCode ---- */

static void code_committed(void *arg, int rc)
{
    struct op *op = arg;
    struct lambda_fn *fn = op->fn;
    if (rc != 0) {
        LOG_ERROR("store", NULL, "%s: cannot commit the new code; kept the old", fn->name);
        unplace_code(op, fn);
        fn_apply_doc(fn, op->before);
        op->err = ERR_LAMBDA_SERVICE;
        snprintf(op->msg, sizeof op->msg, "The code could not be stored");
    } else {
        lambda__retire_envs(fn);
        lambda__code_release(op->lm, op->old_dir);
    }
    op_finish(op);
}

static void code_unzipped(struct work *w)
{
    struct op *op = w->data;
    struct lambda_fn *fn = op->fn;
    if (op->rc != 0 || fn->deleted || fn->deleting) {
        discard_tmp(op);
        if (op->rc == 0)
            lambda_not_found_msg(op->lm, fn->name, op->msg, sizeof op->msg);
        op->err = op->rc != 0 ? ERR_LAMBDA_INVALID_PARAMETER : ERR_LAMBDA_NOT_FOUND;
        op_finish(op);
        return;
    }
    if (lambda__code_over_quota(op->lm, op->unzipped + (int64_t)op->zip_len, op->msg,
                                sizeof op->msg)) {
        discard_tmp(op);
        op->err = ERR_LAMBDA_CODE_STORAGE;
        op_finish(op);
        return;
    }
    enum err e =
        fn->layers ? lambda__layers_check(op->lm, fn->layers, op->unzipped, op->msg, sizeof op->msg)
                   : ERR_OK;
    if (e != ERR_OK) {
        discard_tmp(op);
        op->err = e;
        op_finish(op);
        return;
    }
    char old_sha[sizeof fn->sha];
    memcpy(old_sha, fn->sha, sizeof old_sha);
    if (place_code(op, fn) != 0) {
        discard_tmp(op);
        op->err = ERR_LAMBDA_SERVICE;
        snprintf(op->msg, sizeof op->msg, "Cannot store the function code");
        op_finish(op);
        return;
    }
    fn->code_unzipped = op->unzipped;
    fn->last_modified = clock_now_ms();
    if (strcmp(old_sha, fn->sha) != 0) /* the same package again changes nothing to publish */
        fn->config_rev++;
    lambda__new_revision(fn);
    publish_with(op, fn);
    if (op->lm->store == NULL || fn->managed) {
        code_committed(op, 0);
        return;
    }
    lambda__persist_fn(fn, code_committed, op);
}

/* A RevisionId that is not fn's: answers PreconditionFailed and returns true. */
static bool stale_fn_revision(struct op *op, const struct lambda_fn *fn, const char *rev)
{
    if (rev == NULL || strcmp(rev, fn->revision) == 0)
        return false;
    op_complete(op, ERR_LAMBDA_PRECONDITION,
                "The Revision Id provided does not match the latest Revision Id. Call the "
                "GetFunction/GetAlias API to retrieve the latest Revision Id");
    return true;
}

void lambda_fn_update_code_ex(struct lambda *lm, const char *name,
                              const struct lambda_code_update *u, lambda_op_fn done, void *arg)
{
    struct lambda_fn *fn = lambda_fn_find(lm, name);
    struct op *op = fn ? begin_change(lm, fn, done, arg) : op_new(lm, OP_CODE, NULL, done, arg);
    if (op == NULL) {
        if (fn == NULL)
            fail_nomem(done, arg);
        return;
    }
    if (fn == NULL) {
        not_found(lm, name, op);
        return;
    }
    if (stale_fn_revision(op, fn, u->revision_id))
        return;
    op->kind = OP_CODE;
    op->publish = u->publish;
    op->version_out = u->version_out;
    op->w.done = code_unzipped;
    start_unzip(op, fn->name, u->zip, u->len);
}

void lambda_fn_update_code(struct lambda *lm, const char *name, const void *zip, size_t len,
                           lambda_op_fn done, void *arg)
{
    struct lambda_code_update u = {.zip = zip, .len = len};
    lambda_fn_update_code_ex(lm, name, &u, done, arg);
}

/* ---- configuration, concurrency, tags, event config ---- */

static void config_committed(void *arg, int rc)
{
    struct op *op = arg;
    struct lambda_fn *fn = op->fn;
    char now_opt[PATH_MAX];
    snprintf(now_opt, sizeof now_opt, "%s", fn->opt_dir);
    if (rc != 0) {
        LOG_ERROR("store", NULL, "%s: cannot commit the change; undone", fn->name);
        fn_apply_doc(fn, op->before);
        op->err = ERR_LAMBDA_SERVICE;
        snprintf(op->msg, sizeof op->msg, "The change could not be stored");
        if (strcmp(now_opt, fn->opt_dir) != 0)
            lambda__opt_release(op->lm, now_opt); /* the merge made for it */
    } else {
        lambda__retire_envs(fn);
        if (strcmp(op->old_opt, fn->opt_dir) != 0)
            lambda__opt_release(op->lm, op->old_opt);
    }
    op_finish(op);
}

static void config_commit(struct op *op)
{
    if (op->lm->store == NULL || op->fn->managed) {
        config_committed(op, 0);
        return;
    }
    lambda__persist_fn(op->fn, config_committed, op);
}

static void config_merged(struct work *w)
{
    struct op *op = w->data;
    end_merge(op, op->fn);
    if (op->rc != 0) {
        fn_apply_doc(op->fn, op->before);
        op->err = ERR_LAMBDA_SERVICE;
        op_finish(op);
        return;
    }
    config_commit(op);
}

void lambda_fn_update_config(struct lambda *lm, const struct lambda_fn_spec *spec,
                             lambda_op_fn done, void *arg)
{
    struct lambda_fn *fn = lambda_fn_find(lm, spec->name);
    if (fn == NULL) {
        struct op *op = op_new(lm, OP_CHANGE, NULL, done, arg);
        if (op == NULL)
            fail_nomem(done, arg);
        else
            not_found(lm, spec->name, op);
        return;
    }
    struct op *op = begin_change(lm, fn, done, arg);
    if (op == NULL || stale_fn_revision(op, fn, spec->revision_id))
        return;
    enum err e = check_runnable(lm, spec->runtime, op->msg, sizeof op->msg);
    if (e == ERR_OK && spec->has_layers && json_array_size(spec->layers) > 0)
        e = lambda__layers_check(lm, spec->layers, fn->code_unzipped, op->msg, sizeof op->msg);
    if (e != ERR_OK) {
        op_complete(op, e, NULL);
        return;
    }
    snprintf(op->old_opt, sizeof op->old_opt, "%s", fn->opt_dir);
    apply_spec(fn, spec);
    fn->last_modified = clock_now_ms();
    fn->config_rev++;
    lambda__new_revision(fn);
    if (spec->has_layers && fn->layers == NULL)
        fn->opt_dir[0] = '\0';
    if (spec->has_layers && fn->layers != NULL) {
        start_merge(op, fn, config_merged);
        return;
    }
    config_commit(op);
}

/* Can fn reserve n (>= 0) without leaving the account less than its unreserved minimum?
 * ERR_OK, or an error with AWS's message. */
static enum err check_reserved(struct lambda *lm, struct lambda_fn *fn, int n, char *msg,
                               size_t msglen)
{
    int others = lm->reserved_total - (fn->reserved >= 0 ? fn->reserved : 0);
    /* AWS keeps 100 unreserved; a small emulated account keeps a tenth of its limit */
    int limit = lm->opt.account_concurrency;
    int min_unreserved = limit >= 1000 ? 100 : limit / 10;
    int provisioned = 0;
    struct lambda_fn **kids;
    size_t nk = lambda__children(fn, &kids);
    for (size_t i = 0; i < nk; i++)
        provisioned += kids[i]->pc.set ? kids[i]->pc.requested : 0;
    free(kids);
    if (n >= 0 && n < provisioned) {
        snprintf(msg, msglen,
                 " ReservedConcurrentExecutions  %d should not be lower than function's total "
                 "provisioned concurrency [%d].",
                 n, provisioned);
        return ERR_LAMBDA_INVALID_PARAMETER;
    }
    if (n >= 0 && others + n > limit - min_unreserved) {
        snprintf(msg, msglen,
                 "Specified ReservedConcurrentExecutions for function decreases account's "
                 "UnreservedConcurrentExecution below its minimum value of [%d].",
                 min_unreserved);
        return ERR_LAMBDA_INVALID_PARAMETER;
    }
    return ERR_OK;
}

enum err lambda_fn_provision_concurrency(struct lambda *lm, const char *name, int n, char *msg,
                                         size_t msglen)
{
    struct lambda_fn *fn = lambda_fn_find(lm, name);
    if (fn == NULL || !fn->managed) {
        lambda_not_found_msg(lm, name, msg, msglen);
        return ERR_LAMBDA_NOT_FOUND;
    }
    enum err e = check_reserved(lm, fn, n, msg, msglen);
    if (e == ERR_OK)
        set_reserved(fn, n);
    return e;
}

void lambda_fn_set_concurrency(struct lambda *lm, const char *name, int n, lambda_op_fn done,
                               void *arg)
{
    struct lambda_fn *fn = lambda_fn_find(lm, name);
    if (fn == NULL) {
        struct op *op = op_new(lm, OP_CHANGE, NULL, done, arg);
        if (op == NULL)
            fail_nomem(done, arg);
        else
            not_found(lm, name, op);
        return;
    }
    struct op *op = begin_change(lm, fn, done, arg);
    if (op == NULL)
        return;
    enum err e = check_reserved(lm, fn, n, op->msg, sizeof op->msg);
    if (e != ERR_OK) {
        op_complete(op, e, NULL);
        return;
    }
    set_reserved(fn, n);
    lambda__dispatch_events(fn); /* more room may let queued events run */
    op_commit_change(op);
}

void lambda_fn_tag(struct lambda *lm, struct lambda_fn *fn, json_t *tags, lambda_op_fn done,
                   void *arg)
{
    struct op *op = begin_change(lm, fn, done, arg);
    if (op == NULL)
        return;
    json_t *merged = fn->tags ? json_copy(fn->tags) : json_object();
    if (merged == NULL || json_object_update(merged, tags) != 0) {
        json_decref(merged);
        op_complete(op, ERR_LAMBDA_SERVICE, "out of memory");
        return;
    }
    if (json_object_size(merged) > LAMBDA_MAX_TAGS) {
        json_decref(merged);
        op_complete(op, ERR_LAMBDA_INVALID_PARAMETER,
                    "The number of tags exceeds the limit of %d for this resource.",
                    LAMBDA_MAX_TAGS);
        return;
    }
    json_decref(fn->tags);
    fn->tags = merged;
    op_commit_change(op);
}

void lambda_fn_untag(struct lambda *lm, struct lambda_fn *fn, json_t *keys, lambda_op_fn done,
                     void *arg)
{
    struct op *op = begin_change(lm, fn, done, arg);
    if (op == NULL)
        return;
    size_t i;
    json_t *k;
    if (fn->tags != NULL)
        json_array_foreach(keys, i, k) json_object_del(fn->tags, json_string_value(k));
    if (fn->tags != NULL && json_object_size(fn->tags) == 0) {
        json_decref(fn->tags);
        fn->tags = NULL;
    }
    op_commit_change(op);
}

const struct lambda_event_config *lambda_fn_event_config(const struct lambda_fn *fn)
{
    return &fn->evcfg;
}

void lambda_fn_put_event_config(struct lambda *lm, struct lambda_fn *fn, bool merge,
                                int max_retries, int max_age_seconds, json_t *destinations,
                                lambda_op_fn done, void *arg)
{
    struct op *op = begin_change(lm, fn, done, arg);
    if (op == NULL)
        return;
    struct lambda_event_config *c = &fn->evcfg;
    if (!merge || !c->set) {
        c->max_retries = DEFAULT_MAX_RETRIES;
        c->max_age_seconds = DEFAULT_MAX_AGE_S;
        replace_json(&c->destinations, NULL);
    }
    if (max_retries >= 0)
        c->max_retries = max_retries;
    if (max_age_seconds >= 0)
        c->max_age_seconds = max_age_seconds;
    if (destinations != NULL)
        replace_json(&c->destinations, destinations);
    c->set = true;
    c->last_modified = clock_now_ms();
    op_commit_change(op);
}

void lambda_fn_delete_event_config(struct lambda *lm, struct lambda_fn *fn, lambda_op_fn done,
                                   void *arg)
{
    struct op *op = begin_change(lm, fn, done, arg);
    if (op == NULL)
        return;
    fn->evcfg.set = false;
    fn->evcfg.max_retries = DEFAULT_MAX_RETRIES;
    fn->evcfg.max_age_seconds = DEFAULT_MAX_AGE_S;
    replace_json(&fn->evcfg.destinations, NULL);
    op_commit_change(op);
}

/* ---- the resource policy ---- */

json_t *lambda__policy_statement(const json_t *policy, const char *sid, size_t *at)
{
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(policy, "Statement"), i, st)
    {
        if (strcmp(jsonh_str(st, "Sid", ""), sid) == 0) {
            if (at != NULL)
                *at = i;
            return st;
        }
    }
    return NULL;
}

int lambda__policy_add(json_t **policy, const json_t *st)
{
    if (*policy == NULL)
        *policy =
            json_pack("{s:s, s:s, s:[]}", "Version", "2012-10-17", "Id", "default", "Statement");
    return json_array_append_new(json_object_get(*policy, "Statement"), json_deep_copy(st));
}

void lambda__policy_remove(json_t **policy, size_t at)
{
    json_t *list = json_object_get(*policy, "Statement");
    json_array_remove(list, at);
    if (json_array_size(list) == 0) {
        json_decref(*policy);
        *policy = NULL;
    }
}

static bool stale_revision(struct op *op, struct lambda_fn *fn, const char *rev)
{
    if (rev == NULL || strcmp(rev, fn->policy_rev) == 0)
        return false;
    op_complete(op, ERR_LAMBDA_PRECONDITION,
                "The Revision Id provided does not match the latest "
                "Revision Id. Call the GetPolicy API to retrieve the latest Revision Id");
    return true;
}

void lambda_fn_add_permission(struct lambda *lm, struct lambda_fn *fn, const json_t *statement,
                              const char *revision_id, lambda_op_fn done, void *arg)
{
    struct op *op = begin_change(lm, fn, done, arg);
    if (op == NULL || stale_revision(op, fn, revision_id))
        return;
    const char *sid = jsonh_str(statement, "Sid", "");
    if (lambda__policy_statement(fn->policy, sid, NULL) != NULL) {
        op_complete(op, ERR_LAMBDA_CONFLICT,
                    "The statement id (%s) provided already exists. "
                    "Please specify a new statement id, or remove the existing statement.",
                    sid);
        return;
    }
    if (lambda__policy_add(&fn->policy, statement) != 0) {
        op_complete(op, ERR_LAMBDA_SERVICE, "out of memory");
        return;
    }
    ids_uuid4(fn->policy_rev);
    op_commit_change(op);
}

void lambda_fn_remove_permission(struct lambda *lm, struct lambda_fn *fn, const char *sid,
                                 const char *revision_id, lambda_op_fn done, void *arg)
{
    struct op *op = begin_change(lm, fn, done, arg);
    if (op == NULL || stale_revision(op, fn, revision_id))
        return;
    size_t at;
    if (fn->policy == NULL) {
        op_complete(op, ERR_LAMBDA_NOT_FOUND, "No policy is associated with the given resource.");
        return;
    }
    if (lambda__policy_statement(fn->policy, sid, &at) == NULL) {
        op_complete(op, ERR_LAMBDA_NOT_FOUND, "Statement %s is not found in resource policy.", sid);
        return;
    }
    lambda__policy_remove(&fn->policy, at);
    ids_uuid4(fn->policy_rev);
    op_commit_change(op);
}

const json_t *lambda_fn_policy(const struct lambda_fn *fn, const char **revision_id)
{
    if (revision_id != NULL)
        *revision_id = fn->policy_rev;
    return fn->policy;
}

/* A string or an array of strings holding one that fits s (exactly, or as a pattern). */
static bool any_of(const json_t *v, const char *s, bool pattern)
{
    if (json_is_string(v))
        return pattern ? str_glob(json_string_value(v), s) : strcmp(json_string_value(v), s) == 0;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) if (any_of(e, s, pattern)) return true;
    return false;
}

/* Every condition of a statement holds for this source (unknown keys never hold). */
static bool conditions_hold(const json_t *cond, const char *source_arn, const char *account)
{
    const char *op;
    json_t *kv;
    json_object_foreach((json_t *)cond, op, kv)
    {
        bool like = strcmp(op, "ArnLike") == 0 || strcmp(op, "StringLike") == 0;
        if (!like && strcmp(op, "ArnEquals") != 0 && strcmp(op, "StringEquals") != 0)
            return false;
        const char *key;
        json_t *v;
        json_object_foreach(kv, key, v)
        {
            const char *have = strcasecmp(key, "AWS:SourceArn") == 0       ? source_arn
                               : strcasecmp(key, "AWS:SourceAccount") == 0 ? account
                                                                           : NULL;
            if (have == NULL || !any_of(v, have, like))
                return false;
        }
    }
    return true;
}

bool lambda_fn_permits(const struct lambda_fn *fn, const char *service, const char *source_arn,
                       const char *account)
{
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(fn->policy, "Statement"), i, st)
    {
        json_t *pr = json_object_get(st, "Principal");
        json_t *act = json_object_get(st, "Action");
        bool who = (json_is_string(pr) && strcmp(json_string_value(pr), "*") == 0) ||
                   any_of(json_object_get(pr, "Service"), service, false);
        bool what = any_of(act, "lambda:InvokeFunction", false) || any_of(act, "lambda:*", false) ||
                    any_of(act, "*", false);
        if (strcmp(jsonh_str(st, "Effect", ""), "Allow") == 0 && who && what &&
            conditions_hold(json_object_get(st, "Condition"), source_arn, account))
            return true;
    }
    return false;
}

bool lambda_fn_permits_url(const struct lambda_fn *fn, const char *auth_type)
{
    size_t i;
    json_t *st;
    json_array_foreach(json_object_get(fn->policy, "Statement"), i, st)
    {
        json_t *pr = json_object_get(st, "Principal");
        json_t *act = json_object_get(st, "Action");
        bool anyone = (json_is_string(pr) && strcmp(json_string_value(pr), "*") == 0) ||
                      any_of(json_object_get(pr, "AWS"), "*", false);
        bool what = any_of(act, "lambda:InvokeFunctionUrl", false) ||
                    any_of(act, "lambda:*", false) || any_of(act, "*", false);
        if (strcmp(jsonh_str(st, "Effect", ""), "Allow") != 0 || !anyone || !what)
            continue;
        /* a condition on lambda:FunctionUrlAuthType must name this auth type; any other
         * condition is one this request cannot be shown to meet */
        bool holds = true;
        const char *op;
        json_t *kv;
        json_object_foreach(json_object_get(st, "Condition"), op, kv)
        {
            const char *key;
            json_t *v;
            json_object_foreach(kv, key, v) holds &=
                strcmp(op, "StringEquals") == 0 &&
                strcasecmp(key, "lambda:FunctionUrlAuthType") == 0 && any_of(v, auth_type, false);
        }
        if (holds)
            return true;
    }
    return false;
}

/* ---- DeleteFunction ---- */

void lambda__fn_gone(struct lambda_fn *fn)
{
    if (fn->deleted)
        return;
    fn->deleting = false;
    fn->deleted = true;
    lambda__drop_queues(fn, "deleted");
    lambda__retire_envs(fn);
    for (struct lambda_env *e = fn->envs; e; e = e->next)
        lambda__env_kill(e, KILL_RETIRE);
    timer_stop(&fn->pc_timer);
    if (fn->kind == FN_VERSION && !fn->managed)
        lambda__code_release(fn->lm, fn->code_dir);
    lambda__fn_maybe_free(fn);
}

static void delete_now(struct lambda_fn *fn)
{
    struct lambda *lm = fn->lm;
    fn->deleting = false;
    fn->deleted = true;
    drop_children(fn);
    set_reserved(fn, -1);
    lambda__drop_queues(fn, "deleted");
    lambda__retire_envs(fn);
    for (struct lambda_env *e = fn->envs; e; e = e->next)
        lambda__env_kill(e, KILL_RETIRE);
    if (!fn->managed)
        lambda__code_release(lm, fn->code_dir);
    LOG_INFO("function_deleted", NULL, "%s", fn->name);
}

static void delete_committed(void *arg, int rc)
{
    struct op *op = arg;
    if (rc != 0) {
        LOG_ERROR("store", NULL, "%s: cannot commit the deletion", op->fn->name);
        op->fn->deleting = false;
        op->err = ERR_LAMBDA_SERVICE;
        snprintf(op->msg, sizeof op->msg, "The deletion could not be stored");
    } else {
        delete_now(op->fn);
    }
    op_finish(op);
}

void lambda_fn_delete(struct lambda *lm, const char *name, lambda_op_fn done, void *arg)
{
    struct lambda_fn *fn = lambda_fn_find(lm, name);
    struct op *op = op_new(lm, OP_DELETE, fn, done, arg);
    if (op == NULL) {
        fail_nomem(done, arg);
        return;
    }
    if (fn == NULL) {
        not_found(lm, name, op);
        return;
    }
    fn->deleting = true; /* not found from now on; undone if the commit fails */
    if (lm->store == NULL || fn->managed) {
        delete_committed(op, 0);
        return;
    }
    lambda__persist_fn(fn, delete_committed, op);
}

/* ---- reading ---- */

void lambda_fn_info(const struct lambda_fn *fn, struct lambda_fn_info *out)
{
    static __thread char zip[PATH_MAX + 8];
    const struct lambda_fn *base = fn->base;
    *out = (struct lambda_fn_info){
        .name = fn->name,
        .arn = fn->arn,
        .runtime = fn->runtime,
        .role = fn->role ? fn->role : "",
        .handler = fn->handler ? fn->handler : "",
        .description = fn->description ? fn->description : "",
        .arch = fn->arch,
        .code_sha256 = fn->sha,
        .code_size = fn->code_size,
        .timeout = fn->timeout,
        .memory = fn->memory,
        .reserved = base->reserved,
        .last_modified = fn->last_modified,
        .env_vars = fn->env_vars,
        .tags = base->tags,
        .managed = base->managed,
        .version = fn->kind == FN_ALIAS ? NULL : fn->qual,
        .qualifier = fn->qual,
        .revision = fn->revision,
        .layers = fn->layers,
        .is_alias = fn->kind == FN_ALIAS,
    };
    snprintf(zip, sizeof zip, "%s.zip", fn->code_dir);
    out->code_zip = !base->managed && fn->kind != FN_ALIAS && access(zip, R_OK) == 0 ? zip : NULL;
}

const char *lambda_secret_for_key(const struct lambda *lm, const char *access_key,
                                  const char *token, const char **fn_name, const char **role)
{
    for (int b = 0; b < LAMBDA_NBUCKETS; b++)
        for (const struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext)
            if (!fn->deleted && fn->kind == FN_LATEST && strcmp(fn->key_id, access_key) == 0) {
                if (strcmp(fn->token, token) != 0)
                    return NULL;
                if (fn_name)
                    *fn_name = fn->name;
                if (role)
                    *role = fn->role ? fn->role : "";
                return fn->secret;
            }
    return NULL;
}

void lambda_not_found_msg(const struct lambda *lm, const char *name, char *msg, size_t msglen)
{
    snprintf(msg, msglen, "Function not found: arn:aws:lambda:%s:000000000000:function:%s",
             lm->region, name);
}

const char *lambda_region(const struct lambda *lm)
{
    return lm->region;
}

static int cmp_fn(const void *a, const void *b)
{
    return strcmp((*(struct lambda_fn *const *)a)->name, (*(struct lambda_fn *const *)b)->name);
}

void lambda_fn_each(struct lambda *lm, bool (*cb)(void *arg, struct lambda_fn *fn), void *arg)
{
    struct lambda_fn **all = calloc((size_t)lm->n_fns + 1, sizeof *all);
    if (all == NULL)
        return;
    int n = 0;
    for (int b = 0; b < LAMBDA_NBUCKETS; b++)
        for (struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext)
            if (fn->kind == FN_LATEST && !fn->deleted && !fn->deleting && !fn->creating &&
                n < lm->n_fns)
                all[n++] = fn;
    qsort(all, (size_t)n, sizeof *all, cmp_fn);
    for (int i = 0; i < n; i++)
        if (!cb(arg, all[i]))
            break;
    free(all);
}

json_t *lambda_health_json(const struct lambda *lm)
{
    json_t *arr = json_array(), *by_name = json_object();
    for (int pass = 0; pass < 2; pass++)
        for (int b = 0; b < LAMBDA_NBUCKETS; b++) {
            for (struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext) {
                if (fn->deleted || fn->base->creating || (fn->kind == FN_LATEST) != (pass == 0))
                    continue;
                int idle = 0;
                for (struct lambda_env *e = fn->idle; e; e = e->idle_next)
                    idle++;
                if (pass == 0) { /* the function, counting over its versions */
                    json_t *o =
                        json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "name",
                                  fn->name, "state", "Active", "environments", fn->total_envs,
                                  "idle", idle, "in_flight", fn->total_inflight, "queued_events",
                                  fn->events.n, "memory_mb", fn->memory, "reserved_concurrency",
                                  fn->reserved, "versions", 0, "aliases", 0);
                    json_object_set(by_name, fn->name, o);
                    json_array_append_new(arr, o);
                    continue;
                }
                json_t *o = json_object_get(by_name, fn->name);
                const char *k = fn->kind == FN_VERSION ? "versions" : "aliases";
                json_object_set_new(o, k,
                                    json_integer(json_integer_value(json_object_get(o, k)) + 1));
                json_object_set_new(
                    o, "idle", json_integer(json_integer_value(json_object_get(o, "idle")) + idle));
                json_object_set_new(
                    o, "queued_events",
                    json_integer(json_integer_value(json_object_get(o, "queued_events")) +
                                 fn->events.n));
            }
        }
    json_decref(by_name);
    return arr;
}

/* ---- lifecycle ---- */

static bool restore_fn(void *arg, const struct store_row *row)
{
    struct lambda *lm = arg;
    size_t nl, dl;
    const char *name = store_row_text(row, 0, &nl);
    const char *doc = store_row_text(row, 1, &dl);
    char n[80];
    snprintf(n, sizeof n, "%.*s", (int)(nl < 79 ? nl : 79), name);
    json_t *j = jsonh_parse(doc, dl, NULL, 0);
    if (!json_is_object(j) || find_any(lm, n) != NULL) {
        json_decref(j);
        return true;
    }
    struct lambda_fn *fn = fn_alloc(lm, n);
    if (fn != NULL) {
        fn_insert(lm, fn);
        fn_apply_doc(fn, j);
        lm->code_bytes += lambda__code_size(fn->code_dir);
        struct lambda_fn **kids;
        size_t nk = lambda__children(fn, &kids);
        for (size_t i = 0; i < nk; i++) {
            struct lambda_fn *k = kids[i];
            if (k->kind == FN_VERSION && strcmp(k->code_dir, fn->code_dir) != 0)
                lm->code_bytes += lambda__code_size(k->code_dir);
        }
        /* merged layers lost (a state dir copied without them): built again */
        for (size_t i = 0; i <= nk; i++) {
            struct lambda_fn *o = i < nk ? kids[i] : fn;
            if (o->layers != NULL && o->opt_dir[0] != '\0' && access(o->opt_dir, F_OK) != 0 &&
                lambda__opt_build_now(lm, o->layers, o->opt_dir) != 0)
                LOG_WARN("layers", NULL, "%s: its layers cannot be merged again", o->key);
        }
        free(kids);
    }
    json_decref(j);
    return true;
}

static void on_sweep(struct timer *t);

struct lambda *lambda_new(const struct lambda_options *opt, const struct lambda_host *host,
                          struct logs *logs, struct store *store, char *err, size_t errlen)
{
    struct lambda *lm = calloc(1, sizeof *lm);
    if (lm == NULL || timer_init(&lm->sweep, TIMER_REAL, on_sweep, lm) != 0) {
        free(lm);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    lm->opt = *opt;
    snprintf(lm->region, sizeof lm->region, "%s", opt->region ? opt->region : "us-east-1");
    snprintf(lm->state_dir, sizeof lm->state_dir, "%s", opt->state_dir ? opt->state_dir : ".");
    snprintf(lm->runtimes_dir, sizeof lm->runtimes_dir, "%s",
             opt->runtimes_dir ? opt->runtimes_dir : "");
    lm->opt.region = lm->region;
    lm->opt.state_dir = lm->state_dir;
    lm->opt.runtimes_dir = lm->runtimes_dir;
    if (lm->opt.account_concurrency <= 0)
        lm->opt.account_concurrency = 1000;
    lm->host = *host;
    lm->logs = logs;
    lm->store = store;
    if (store != NULL && prepare_all(lm, err, errlen) != 0) {
        timer_destroy(&lm->sweep);
        free(lm);
        return NULL;
    }
    lambda__cg_init(lm);
    lambda__opt_init(lm);
    return lm;
}

void lambda_restore(struct lambda *lm)
{
    if (lm->store == NULL)
        return;
    lambda__reap_orphans(lm);
    lambda__layers_restore(lm);
    store_query(lm->store, lm->st_fn_all, NULL, 0, restore_fn, lm);
    lambda__code_gc(lm);
    lambda__opt_gc(lm);
    lambda__restore_events(lm);
    lambda_start_provisioned(lm);
}

void lambda_start_provisioned(struct lambda *lm)
{
    for (int b = 0; b < LAMBDA_NBUCKETS; b++)
        for (struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext)
            if (fn->kind == FN_VERSION && !fn->deleted && lambda__pc_wanted(fn) > 0)
                timer_start(&fn->pc_timer, 0);
}

void lambda_free(struct lambda *lm)
{
    if (lm == NULL)
        return;
    /* environments and invocations first: an environment's end touches its function's */
    for (int b = 0; b < LAMBDA_NBUCKETS; b++)
        for (struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext) {
            while (fn->envs) {
                struct lambda_env *e = fn->envs;
                lambda__env_kill(e, KILL_RETIRE);
                lambda__inv_free(e->inv); /* running at exit: no one waits for it now */
                e->inv = NULL;
                lambda__env_destroy(e);
            }
            struct lambda_inv *inv;
            while ((inv = fn->pending.head) != NULL) {
                fn->pending.head = inv->next;
                lambda__inv_free(inv);
            }
            while ((inv = fn->events.head) != NULL) {
                fn->events.head = inv->next;
                lambda__inv_free(inv);
            }
        }
    for (int b = 0; b < LAMBDA_NBUCKETS; b++) {
        struct lambda_fn *fn = lm->buckets[b];
        while (fn) {
            struct lambda_fn *n = fn->hnext;
            fn_free(fn);
            lm->buckets[b] = fn = n; /* the next teardown walks the buckets: no freed fn there */
        }
    }
    lambda__layers_free(lm);
    lambda__cg_shutdown(lm);
    if (lm->cg_dir[0] != '\0')
        rmdir(lm->cg_dir); /* when nothing is left in it */
    timer_destroy(&lm->sweep);
    free(lm);
}

static void on_sweep(struct timer *t)
{
    lambda__sweep(t->data);
}
