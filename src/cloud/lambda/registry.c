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
         " not_before_ms, client_context, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
        {&lm->st_ev_attempt,
         "UPDATE lambda_events SET attempt = ?2, not_before_ms = ?3 WHERE rid = ?1"},
        {&lm->st_ev_del, "DELETE FROM lambda_events WHERE rid = ?1"},
        {&lm->st_ev_del_fn, "DELETE FROM lambda_events WHERE function = ?1"},
        {&lm->st_ev_all,
         "SELECT rid, function, attempt, enqueued_ms, not_before_ms, client_context,"
         " length(payload) FROM lambda_events ORDER BY seq"},
        {&lm->st_ev_payload, "SELECT payload FROM lambda_events WHERE rid = ?1"},
        {&lm->st_pid_put, "INSERT OR IGNORE INTO lambda_pids (pid, start) VALUES (?1, ?2)"},
        {&lm->st_pid_del, "DELETE FROM lambda_pids WHERE pid = ?1 AND start = ?2"},
        {&lm->st_pid_all, "SELECT pid, start FROM lambda_pids"},
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

/* Any function of that name, whatever its state (deleted ones excepted). */
static struct lambda_fn *find_any(struct lambda *lm, const char *name)
{
    for (struct lambda_fn *fn = lm->buckets[lambda__hash(name)]; fn; fn = fn->hnext)
        if (!fn->deleted && strcmp(fn->name, name) == 0)
            return fn;
    return NULL;
}

struct lambda_fn *lambda_fn_find(struct lambda *lm, const char *name)
{
    struct lambda_fn *fn = find_any(lm, name);
    return fn && !fn->deleting && !fn->creating ? fn : NULL;
}

static void fn_insert(struct lambda *lm, struct lambda_fn *fn)
{
    unsigned h = lambda__hash(fn->name);
    fn->hnext = lm->buckets[h];
    lm->buckets[h] = fn;
    lm->n_fns++;
}

static void fn_unlink(struct lambda *lm, struct lambda_fn *fn)
{
    struct lambda_fn **pp = &lm->buckets[lambda__hash(fn->name)];
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
    free(fn->role);
    free(fn->handler);
    free(fn->description);
    json_decref(fn->env_vars);
    json_decref(fn->tags);
    json_decref(fn->policy);
    json_decref(fn->evcfg.destinations);
    free(fn);
}

void lambda__fn_maybe_free(struct lambda_fn *fn)
{
    if (fn->deleted && fn->envs == NULL && fn->inflight == 0 && fn->busy_ops == 0 &&
        fn->pending.head == NULL && fn->events.head == NULL) {
        fn_unlink(fn->lm, fn);
        fn_free(fn);
    }
}

static void on_pending_timer(struct timer *t);
static void on_retry_timer(struct timer *t);

static struct lambda_fn *fn_alloc(struct lambda *lm, const char *name)
{
    struct lambda_fn *fn = calloc(1, sizeof *fn);
    if (fn == NULL)
        return NULL;
    if (timer_init(&fn->pending_timer, TIMER_REAL, on_pending_timer, fn) != 0 ||
        timer_init(&fn->retry_timer, TIMER_CLOCK, on_retry_timer, fn) != 0) {
        fn_free(fn);
        return NULL;
    }
    fn->lm = lm;
    snprintf(fn->name, sizeof fn->name, "%s", name);
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
    return fn;
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

/* ---- the record: everything that persists, as one JSON document ---- */

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static json_t *fn_doc(const struct lambda_fn *fn)
{
    json_t *j = json_pack(
        "{s:s, s:s, s:s?, s:s?, s:s?, s:s, s:i, s:i, s:O?, s:s, s:I, s:s, s:I, s:i, s:s, s:s,"
        " s:s, s:O?, s:{s:b, s:i, s:i, s:O?, s:I}, s:O?, s:s}",
        "name", fn->name, "runtime", fn->runtime, "role", fn->role, "handler", fn->handler,
        "description", fn->description, "arch", fn->arch, "timeout", fn->timeout, "memory",
        fn->memory, "env", fn->env_vars, "code_dir", fn->code_dir, "code_size",
        (json_int_t)fn->code_size, "sha", fn->sha, "last_modified", (json_int_t)fn->last_modified,
        "reserved", fn->reserved, "key", fn->key_id, "secret", fn->secret, "token", fn->token,
        "tags", fn->tags, "evcfg", "set", fn->evcfg.set, "max_retries", fn->evcfg.max_retries,
        "max_age", fn->evcfg.max_age_seconds, "destinations", fn->evcfg.destinations, "modified",
        (json_int_t)fn->evcfg.last_modified, "policy", fn->policy, "policy_rev",
        fn->policy_rev);
    return j;
}

static void set_reserved(struct lambda_fn *fn, int n)
{
    struct lambda *lm = fn->lm;
    if (fn->lm == NULL)
        return;
    /* moving between the shared pool and a reservation keeps in-flight counts right */
    if (fn->reserved < 0 && n >= 0)
        lm->unreserved_inflight -= fn->inflight;
    else if (fn->reserved >= 0 && n < 0)
        lm->unreserved_inflight += fn->inflight;
    lm->reserved_total += (n >= 0 ? n : 0) - (fn->reserved >= 0 ? fn->reserved : 0);
    fn->reserved = n < 0 ? -1 : n;
}

static void replace_json(json_t **slot, json_t *v)
{
    json_t *copy = json_is_object(v) ? json_deep_copy(v) : NULL;
    json_decref(*slot);
    *slot = copy;
}

/* Sets every persisted field from a record (restore, and undoing a failed change). */
static void fn_apply_doc(struct lambda_fn *fn, const json_t *j)
{
    snprintf(fn->runtime, sizeof fn->runtime, "%s", jsonh_str(j, "runtime", "provided.al2023"));
    free(fn->role);
    fn->role = xstrdup(jsonh_str(j, "role", NULL));
    free(fn->handler);
    fn->handler = xstrdup(jsonh_str(j, "handler", NULL));
    free(fn->description);
    fn->description = xstrdup(jsonh_str(j, "description", NULL));
    snprintf(fn->arch, sizeof fn->arch, "%s", jsonh_str(j, "arch", "x86_64"));
    long long v;
    if (jsonh_int(j, "timeout", &v) == 1)
        fn->timeout = (int)v;
    if (jsonh_int(j, "memory", &v) == 1)
        fn->memory = (int)v;
    if (jsonh_int(j, "code_size", &v) == 1)
        fn->code_size = v;
    if (jsonh_int(j, "last_modified", &v) == 1)
        fn->last_modified = v;
    set_reserved(fn, jsonh_int(j, "reserved", &v) == 1 ? (int)v : -1);
    replace_json(&fn->env_vars, json_object_get(j, "env"));
    replace_json(&fn->tags, json_object_get(j, "tags"));
    snprintf(fn->code_dir, sizeof fn->code_dir, "%s", jsonh_str(j, "code_dir", fn->code_dir));
    snprintf(fn->sha, sizeof fn->sha, "%s", jsonh_str(j, "sha", ""));
    snprintf(fn->key_id, sizeof fn->key_id, "%s", jsonh_str(j, "key", fn->key_id));
    snprintf(fn->secret, sizeof fn->secret, "%s", jsonh_str(j, "secret", fn->secret));
    snprintf(fn->token, sizeof fn->token, "%s", jsonh_str(j, "token", fn->token));
    json_t *ev = json_object_get(j, "evcfg");
    fn->evcfg.set = json_is_true(json_object_get(ev, "set"));
    fn->evcfg.max_retries = jsonh_int(ev, "max_retries", &v) == 1 ? (int)v : DEFAULT_MAX_RETRIES;
    fn->evcfg.max_age_seconds = jsonh_int(ev, "max_age", &v) == 1 ? (int)v : DEFAULT_MAX_AGE_S;
    fn->evcfg.last_modified = jsonh_int(ev, "modified", &v) == 1 ? v : 0;
    replace_json(&fn->evcfg.destinations, json_object_get(ev, "destinations"));
    replace_json(&fn->policy, json_object_get(j, "policy"));
    snprintf(fn->policy_rev, sizeof fn->policy_rev, "%s", jsonh_str(j, "policy_rev", ""));
}

void lambda__persist_fn(struct lambda_fn *fn, void (*done)(void *arg, int rc), void *arg)
{
    struct lambda *lm = fn->lm;
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
static void op_complete(struct op *op, enum err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void op_complete(struct op *op, enum err e, const char *fmt, ...)
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
            fn_apply_doc(op->fn, op->before);
        op->err = ERR_LAMBDA_SERVICE;
        snprintf(op->msg, sizeof op->msg, "The change could not be stored");
    }
    op_finish(op);
}

/* An in-memory change was made after op->before was taken: commit it (functions provisioned
 * from the config are not persisted, so theirs completes at once). */
static void op_commit_change(struct op *op)
{
    if (op->lm->store == NULL || op->fn->managed) {
        op_complete(op, ERR_OK, NULL);
        return;
    }
    lambda__persist_fn(op->fn, change_committed, op);
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
    op->before = fn_doc(fn);
    if (op->before == NULL) {
        op_complete(op, ERR_LAMBDA_SERVICE, "out of memory");
        return NULL;
    }
    return op;
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
    codec_sha256(op->zip, op->zip_len, op->sha);
    op->rc =
        lambda__unzip(op->zip, op->zip_len, op->tmp_dir, &op->unzipped, op->msg, sizeof op->msg);
    if (op->rc != 0)
        return;
    /* the package itself, for GetFunction's Code.Location */
    char zpath[PATH_MAX + 8];
    snprintf(zpath, sizeof zpath, "%s.zip", op->tmp_dir);
    if (fs_write_atomic(zpath, op->zip, op->zip_len, 0600) != 0) {
        snprintf(op->msg, sizeof op->msg, "Cannot store the deployment package: %s",
                 strerror(errno));
        op->rc = -1;
    }
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
    for (int i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02x", op->sha[i]);
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
    struct buf b64;
    buf_init(&b64, 64);
    codec_b64_encode(op->sha, 32, &b64);
    snprintf(fn->sha, sizeof fn->sha, "%s", b64.data ? b64.data : "");
    buf_destroy(&b64);
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

static bool over_quota(struct lambda *lm, int64_t more)
{
    return lm->opt.code_storage_max > 0 && lm->code_bytes + more > lm->opt.code_storage_max;
}

static void quota_msg(struct op *op)
{
    snprintf(op->msg, sizeof op->msg,
             "Code storage limit exceeded: the account's function code would take more than "
             "%lld bytes.",
             (long long)op->lm->opt.code_storage_max);
}

/* Starts unpacking op->zip (copied) into a temporary folder of fn. */
static void start_unzip(struct op *op, const char *name, const void *zip, size_t len)
{
    if (over_quota(op->lm, (int64_t)len)) {
        quota_msg(op);
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
        fn->deleted = true;
        set_reserved(fn, -1);
        op->err = ERR_LAMBDA_SERVICE;
        snprintf(op->msg, sizeof op->msg, "The function could not be stored");
    }
    op_finish(op);
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
    if (over_quota(op->lm, op->unzipped + (int64_t)op->zip_len)) {
        discard_tmp(op);
        fn->deleted = true;
        quota_msg(op);
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
    if (op->lm->store == NULL) {
        create_committed(op, 0);
        return;
    }
    lambda__persist_fn(fn, create_committed, op);
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
    struct lambda_fn *fn = fn_alloc(lm, name);
    if (fn == NULL) {
        op_complete(op, ERR_LAMBDA_SERVICE, "out of memory");
        return;
    }
    apply_spec(fn, spec);
    fn->creating = true;
    fn_insert(lm, fn);
    op->fn = fn;
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
    struct buf b64;
    buf_init(&b64, 64);
    codec_b64_encode(h, 32, &b64);
    snprintf(fn->sha, sizeof fn->sha, "%s", b64.data ? b64.data : "");
    fn->code_size = (long long)data.len;
    buf_destroy(&b64);
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
    if (over_quota(op->lm, op->unzipped + (int64_t)op->zip_len)) {
        discard_tmp(op);
        quota_msg(op);
        op->err = ERR_LAMBDA_CODE_STORAGE;
        op_finish(op);
        return;
    }
    if (place_code(op, fn) != 0) {
        discard_tmp(op);
        op->err = ERR_LAMBDA_SERVICE;
        snprintf(op->msg, sizeof op->msg, "Cannot store the function code");
        op_finish(op);
        return;
    }
    fn->last_modified = clock_now_ms();
    if (op->lm->store == NULL || fn->managed) {
        code_committed(op, 0);
        return;
    }
    lambda__persist_fn(fn, code_committed, op);
}

void lambda_fn_update_code(struct lambda *lm, const char *name, const void *zip, size_t len,
                           lambda_op_fn done, void *arg)
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
    op->kind = OP_CODE;
    op->w.done = code_unzipped;
    start_unzip(op, fn->name, zip, len);
}

/* ---- configuration, concurrency, tags, event config ---- */

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
    if (op == NULL)
        return;
    apply_spec(fn, spec);
    fn->last_modified = clock_now_ms();
    lambda__retire_envs(fn);
    op_commit_change(op);
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

static json_t *statement_of(const json_t *policy, const char *sid, size_t *at)
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

static bool stale_revision(struct op *op, struct lambda_fn *fn, const char *rev)
{
    if (rev == NULL || strcmp(rev, fn->policy_rev) == 0)
        return false;
    op_complete(op, ERR_LAMBDA_PRECONDITION, "The Revision Id provided does not match the latest "
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
    if (statement_of(fn->policy, sid, NULL) != NULL) {
        op_complete(op, ERR_LAMBDA_CONFLICT, "The statement id (%s) provided already exists. "
                    "Please specify a new statement id, or remove the existing statement.", sid);
        return;
    }
    if (fn->policy == NULL)
        fn->policy = json_pack("{s:s, s:s, s:[]}", "Version", "2012-10-17", "Id", "default",
                               "Statement");
    if (json_array_append_new(json_object_get(fn->policy, "Statement"),
                              json_deep_copy(statement)) != 0) {
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
    if (statement_of(fn->policy, sid, &at) == NULL) {
        op_complete(op, ERR_LAMBDA_NOT_FOUND, "Statement %s is not found in resource policy.",
                    sid);
        return;
    }
    json_t *list = json_object_get(fn->policy, "Statement");
    json_array_remove(list, at);
    if (json_array_size(list) == 0) {
        json_decref(fn->policy);
        fn->policy = NULL;
    }
    ids_uuid4(fn->policy_rev);
    op_commit_change(op);
}

const json_t *lambda_fn_policy(const struct lambda_fn *fn, const char **revision_id)
{
    if (revision_id != NULL)
        *revision_id = fn->policy_rev;
    return fn->policy;
}

/* IAM's ArnLike: '*' any run, '?' one character. */
static bool arn_like(const char *pat, const char *s)
{
    const char *star = NULL, *mark = NULL;
    while (*s) {
        if (*pat == '?' || *pat == *s) {
            pat++;
            s++;
        } else if (*pat == '*') {
            star = pat++;
            mark = s;
        } else if (star != NULL) {
            pat = star + 1;
            s = ++mark;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* A string or an array of strings holding one that fits s (exactly, or as a pattern). */
static bool any_of(const json_t *v, const char *s, bool pattern)
{
    if (json_is_string(v))
        return pattern ? arn_like(json_string_value(v), s) : strcmp(json_string_value(v), s) == 0;
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

/* ---- DeleteFunction ---- */

static void delete_now(struct lambda_fn *fn)
{
    struct lambda *lm = fn->lm;
    fn->deleting = false;
    fn->deleted = true;
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
        .reserved = fn->reserved,
        .last_modified = fn->last_modified,
        .env_vars = fn->env_vars,
        .tags = fn->tags,
        .managed = fn->managed,
    };
    snprintf(zip, sizeof zip, "%s.zip", fn->code_dir);
    out->code_zip = !fn->managed && access(zip, R_OK) == 0 ? zip : NULL;
}

const char *lambda_secret_for_key(const struct lambda *lm, const char *access_key,
                                  const char *token, const char **fn_name, const char **role)
{
    for (int b = 0; b < LAMBDA_NBUCKETS; b++)
        for (const struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext)
            if (!fn->deleted && strcmp(fn->key_id, access_key) == 0) {
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
            if (!fn->deleted && !fn->deleting && !fn->creating && n < lm->n_fns)
                all[n++] = fn;
    qsort(all, (size_t)n, sizeof *all, cmp_fn);
    for (int i = 0; i < n; i++)
        if (!cb(arg, all[i]))
            break;
    free(all);
}

json_t *lambda_health_json(const struct lambda *lm)
{
    json_t *arr = json_array();
    for (int b = 0; b < LAMBDA_NBUCKETS; b++) {
        for (struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext) {
            if (fn->deleted || fn->creating)
                continue;
            int idle = 0;
            for (struct lambda_env *e = fn->idle; e; e = e->idle_next)
                idle++;
            json_array_append_new(
                arr, json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i}", "name", fn->name,
                               "state", "Active", "environments", fn->n_envs, "idle", idle,
                               "in_flight", fn->inflight, "queued_events", fn->events.n,
                               "memory_mb", fn->memory, "reserved_concurrency", fn->reserved));
        }
    }
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
        fn_apply_doc(fn, j);
        fn_insert(lm, fn);
        lm->code_bytes += lambda__code_size(fn->code_dir);
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
    lm->opt.region = lm->region;
    lm->opt.state_dir = lm->state_dir;
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
    return lm;
}

void lambda_restore(struct lambda *lm)
{
    if (lm->store == NULL)
        return;
    lambda__reap_orphans(lm);
    store_query(lm->store, lm->st_fn_all, NULL, 0, restore_fn, lm);
    lambda__code_gc(lm);
    lambda__restore_events(lm);
}

void lambda_free(struct lambda *lm)
{
    if (lm == NULL)
        return;
    for (int b = 0; b < LAMBDA_NBUCKETS; b++) {
        struct lambda_fn *fn = lm->buckets[b];
        while (fn) {
            struct lambda_fn *n = fn->hnext;
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
            fn_free(fn);
            lm->buckets[b] = fn = n; /* the next teardown walks the buckets: no freed fn there */
        }
    }
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
