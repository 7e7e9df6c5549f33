/*
 * ddb.c — the engine's lifecycle, the call path every operation takes (the generic
 * validation passes, then the operation), deferred answers, provisioning from config, and
 * the helpers the operations share.
 */
#include "cloud/dynamodb/ddb_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cloud/store/store.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/log.h"

void ddb__bg_run(struct ddb *db);

/* ---- answers ---- */

static void call_free(struct ddb_call *c)
{
    if (c->state_free)
        c->state_free(c->state);
    json_decref(c->req);
    ddb_err_clear(&c->err);
    buf_destroy(&c->out);
    free(c);
}

void ddb__reply(struct ddb_call *c)
{
    struct ddb_reply rep = {.err = ERR_OK};
    if (ddb_err_isset(&c->err)) {
        rep.err = c->err.code;
        rep.message = c->err.msg;
        rep.body = c->out.len ? c->out.data : NULL;
        rep.len = c->out.len;
    } else if (c->out.len == 0 || c->out.data == NULL) {
        rep.body = "{}";
        rep.len = 2;
    } else {
        rep.body = c->out.data;
        rep.len = c->out.len;
    }
    c->done(c->arg, &rep);
    call_free(c);
}

static void on_ready(struct timer_defer *d)
{
    ddb__reply(d->data);
}

void ddb__finish(struct ddb_call *c)
{
    timer_defer(&c->ready, on_ready, c, c->db);
}

/* Answers now every call still waiting for its turn (start-up and shutdown: no loop). */
static void answer_waiting(struct ddb *db)
{
    timer_defer_take(db, on_ready);
}

int ddb__fail(struct ddb_call *c, enum err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ddb_err_vset(&c->err, code, 4096, fmt, ap);
    va_end(ap);
    return -1;
}

#define VALIDATION_PREFIX "1 validation error detected: "

int ddb__fail_err(struct ddb_call *c, struct ddb_err *err, bool prefix)
{
    const char *m = ddb_err_msg(err);
    bool has = strncmp(m, VALIDATION_PREFIX, strlen(VALIDATION_PREFIX)) == 0 ||
               strstr(m, " validation errors detected: ") != NULL;
    if (prefix && !has && err->code == ERR_DDB_VALIDATION)
        ddb_err_set(&c->err, err->code, VALIDATION_PREFIX "%s", m);
    else
        ddb_err_set(&c->err, err->code, "%s", m);
    ddb_err_clear(err);
    return -1;
}

void ddb__write_done(void *arg, int rc)
{
    struct ddb_call *c = arg;
    if (rc != 0) {
        buf_reset(&c->out);
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
    }
    ddb__reply(c);
}

int ddb__not_found(struct ddb_call *c, const char *name, bool table_msg)
{
    if (table_msg)
        return ddb__fail(c, ERR_DDB_RESOURCE_NOT_FOUND,
                         "Requested resource not found: Table: %s not found", name ? name : "");
    return ddb__fail(c, ERR_DDB_RESOURCE_NOT_FOUND, "Requested resource not found");
}

/* ---- shared helpers ---- */

struct ddb_table *ddb__table_of(struct ddb_call *c, const char *name)
{
    struct ddb_table *t = ddb__table(c->db, name);
    if (t == NULL)
        ddb__not_found(c, NULL, false);
    return t;
}

const char *ddb__rcc(const json_t *req)
{
    const char *s = ddb__str(req, "ReturnConsumedCapacity");
    if (s == NULL || strcmp(s, "NONE") == 0)
        return NULL;
    return s;
}

bool ddb__bool(const json_t *req, const char *name, bool dflt)
{
    const json_t *v = ddb_member(req, name);
    if (v == NULL)
        return dflt;
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        return strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0 || strcasecmp(s, "yes") == 0;
    }
    return dflt;
}

long long ddb__int(const json_t *req, const char *name, long long dflt)
{
    return ddb_json_int(ddb_member(req, name), dflt);
}

int ddb__compile_exprs(struct ddb_call *c, const json_t *req, unsigned members,
                       struct ddb_expr_set *out, bool prefix)
{
    struct ddb_expr_request er = {
        .update = members & DDB_X_UPDATE ? ddb__str(req, "UpdateExpression") : NULL,
        .condition = members & DDB_X_CONDITION ? ddb__str(req, "ConditionExpression") : NULL,
        .key_condition = members & DDB_X_KEY ? ddb__str(req, "KeyConditionExpression") : NULL,
        .filter = members & DDB_X_FILTER ? ddb__str(req, "FilterExpression") : NULL,
        .projection = members & DDB_X_PROJECTION ? ddb__str(req, "ProjectionExpression") : NULL,
        .names = ddb_member(req, "ExpressionAttributeNames"),
        .values = members & DDB_X_VALUES ? ddb_member(req, "ExpressionAttributeValues") : NULL,
    };
    struct ddb_err err;
    ddb_err_init(&err);
    if (ddb_expr_compile_request(&er, out, &err) != 0)
        return ddb__fail_err(c, &err, prefix);
    return 0;
}

bool ddb__cond_holds(const struct ddb_expr *e, const struct ddb_legacy *legacy,
                     const struct ddb_value *item)
{
    if (legacy->cond)
        return ddb_legacy_cond_eval(legacy, item);
    return e == NULL || ddb_cond_eval(e, item);
}

int ddb__project(const struct ddb_expr *projection, const struct ddb_legacy *legacy,
                 const struct ddb_value *item, struct ddb_value *out)
{
    if (projection)
        return ddb_project(projection, item, out);
    return ddb_legacy_project(legacy, item, out); /* a copy without AttributesToGet */
}

int ddb__write_item(struct buf *out, const struct ddb_value *item)
{
    return ddb_item_write_json(item, out);
}

void ddb__write_capacity(struct buf *out, const struct ddb_capacity *cap, const char *rcc,
                         bool bare)
{
    if (rcc == NULL)
        return;
    json_t *j = ddb_capacity_to_json(cap, strcmp(rcc, "INDEXES") == 0);
    if (j == NULL)
        return;
    if (!bare)
        buf_puts(out, ",\"ConsumedCapacity\":");
    jsonh_dump_buf(j, JSON_COMPACT, out);
    json_decref(j);
}

bool ddb__write_capacity_list(struct buf *out, const json_t *req, const struct ddb_capacity *caps,
                              size_t n, bool comma)
{
    const char *rcc = ddb__rcc(req);
    if (rcc == NULL)
        return false;
    buf_puts(out, comma ? ",\"ConsumedCapacity\":[" : "\"ConsumedCapacity\":[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_puts(out, ",");
        ddb__write_capacity(out, &caps[i], rcc, true);
    }
    buf_puts(out, "]");
    return true;
}

void ddb__write_no_metrics(struct buf *out, const json_t *req, bool comma)
{
    const char *ricm = ddb__str(req, "ReturnItemCollectionMetrics");
    if (ricm && strcmp(ricm, "SIZE") == 0)
        buf_puts(out, comma ? ",\"ItemCollectionMetrics\":{}" : "\"ItemCollectionMetrics\":{}");
}

/* ---- the call path ---- */

typedef void (*op_fn)(struct ddb_call *c);

static op_fn op_handler(enum ddb_op op)
{
    switch (op) {
    case DDB_OP_CREATE_TABLE:
    case DDB_OP_DESCRIBE_TABLE:
    case DDB_OP_LIST_TABLES:
    case DDB_OP_DELETE_TABLE:
    case DDB_OP_UPDATE_TABLE:
    case DDB_OP_DESCRIBE_TIME_TO_LIVE:
    case DDB_OP_UPDATE_TIME_TO_LIVE:
    case DDB_OP_DESCRIBE_CONTINUOUS_BACKUPS:
    case DDB_OP_UPDATE_CONTINUOUS_BACKUPS:
    case DDB_OP_TAG_RESOURCE:
    case DDB_OP_UNTAG_RESOURCE:
    case DDB_OP_LIST_TAGS_OF_RESOURCE:
    case DDB_OP_DESCRIBE_LIMITS:
    case DDB_OP_DESCRIBE_ENDPOINTS:
        return ddb__op_table;
    case DDB_OP_PUT_ITEM:
    case DDB_OP_GET_ITEM:
    case DDB_OP_UPDATE_ITEM:
    case DDB_OP_DELETE_ITEM:
        return ddb__op_item;
    case DDB_OP_BATCH_GET_ITEM:
    case DDB_OP_BATCH_WRITE_ITEM:
        return ddb__op_batch;
    case DDB_OP_QUERY:
    case DDB_OP_SCAN:
        return ddb__op_query;
    case DDB_OP_TRANSACT_GET_ITEMS:
    case DDB_OP_TRANSACT_WRITE_ITEMS:
        return ddb__op_transact;
    case DDB_OP_EXECUTE_STATEMENT:
    case DDB_OP_BATCH_EXECUTE_STATEMENT:
        return ddb__op_partiql;
    default:
        return NULL;
    }
}

void ddb_call(struct ddb *db, enum ddb_op op, json_t *req, ddb_reply_fn done, void *arg)
{
    struct ddb_call *c = calloc(1, sizeof *c);
    if (c == NULL) {
        json_decref(req);
        struct ddb_reply rep = {.err = ERR_DDB_INTERNAL, .message = "Internal server error"};
        done(arg, &rep); /* out of memory: the one synchronous answer */
        return;
    }
    c->db = db;
    c->op = op;
    c->req = req ? req : json_object();
    c->done = done;
    c->arg = arg;
    ddb_err_init(&c->err);
    buf_init(&c->out, DDB_OUT_MAX);
    op_fn fn = op_handler(op);
    if (fn == NULL) {
        ddb__fail(c, ERR_DDB_UNKNOWN_OPERATION, "%s", "");
        ddb__finish(c);
        return;
    }
    if (ddb_shape_check(op, c->req, &c->err) != 0) {
        ddb__finish(c);
        return;
    }
    fn(c);
}

/* ---- lifecycle ---- */

static void on_bg(struct timer *t)
{
    ddb__bg_run(t->data);
}

void ddb__ttl_fire(struct timer *t);
void ddb__token_expire(struct timer *t);

struct ddb *ddb_new(struct store *st, const struct ddb_options *o, char *err, size_t errlen)
{
    struct ddb *db = calloc(1, sizeof *db);
    if (db == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    db->store = st;
    db->ttl_due_ms = -1;
    snprintf(db->region, sizeof db->region, "%s", o && o->region ? o->region : "us-east-1");
    snprintf(db->account, sizeof db->account, "%s", o && o->account ? o->account : "000000000000");
    buf_init(&db->scratch, DDB_ITEM_MAX * 4);
    if (timer_init(&db->ttl_timer, TIMER_CLOCK, ddb__ttl_fire, db) != 0 ||
        timer_init(&db->bg_timer, TIMER_REAL, on_bg, db) != 0 ||
        timer_init(&db->token_timer, TIMER_CLOCK, ddb__token_expire, db) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (ddb__storage_open(db, err, errlen) != 0 || ddb__tables_load(db, err, errlen) != 0)
        goto fail;
    return db;
fail:
    ddb_free(db);
    return NULL;
}

void ddb_restore(struct ddb *db)
{
    db->restored = true;
    ddb__ttl_start(db);
    ddb__bg_kick(db);
}

void ddb_free(struct ddb *db)
{
    if (db == NULL)
        return;
    /* answers still queued go out now (shutdown) */
    answer_waiting(db);
    for (size_t i = 0; i < db->ntables; i++) {
        struct ddb_table *t = db->tables[i];
        while (t->pend) {
            struct ddb_pend *p = t->pend;
            t->pend = p->tnext;
            ddb_value_destroy(&p->item);
            free(p->key);
            free(p);
        }
        ddb__table_free(t);
    }
    free(db->tables);
    free(db->overlay);
    ddb__tokens_free(db);
    timer_destroy(&db->ttl_timer);
    timer_destroy(&db->bg_timer);
    timer_destroy(&db->token_timer);
    ddb__storage_close(db);
    buf_destroy(&db->scratch);
    free(db);
}

json_t *ddb_health_json(const struct ddb *db)
{
    return json_pack("{s:I, s:I}", "tables", (json_int_t)db->ntables, "pending_writes",
                     (json_int_t)db->npend);
}

/* ---- provisioning ---- */

struct sync_ctx {
    bool done;
    enum err err;
    char msg[512];
};

static void sync_done(void *arg, const struct ddb_reply *rep)
{
    struct sync_ctx *s = arg;
    s->done = true;
    s->err = rep->err;
    snprintf(s->msg, sizeof s->msg, "%s", rep->message ? rep->message : "");
}

/* Runs one call to completion at start-up (no loop yet): store commits and deferred
 * answers are driven here. */
static enum err run_sync(struct ddb *db, enum ddb_op op, json_t *req, char *msg, size_t msglen)
{
    struct sync_ctx s = {false, ERR_OK, ""};
    ddb_call(db, op, req, sync_done, &s);
    for (int i = 0; i < 1000 && !s.done; i++) {
        store_flush(db->store);
        timer_run_due();
        answer_waiting(db);
    }
    snprintf(msg, msglen, "%s", s.done ? s.msg : "did not complete");
    return s.done ? s.err : ERR_DDB_INTERNAL;
}

int ddb_provision(struct ddb *db, const struct ddb_table_spec *spec, char *err, size_t errlen)
{
    char msg[512];
    struct ddb_table *t = ddb__table(db, spec->name);
    if (t == NULL) {
        json_t *req = json_pack(
            "{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}], s:[{s:s, s:s}], s:[{s:s, "
            "s:[{s:s, s:s}, {s:s, s:s}], s:{s:s}}]}",
            "TableName", spec->name, "BillingMode", "PAY_PER_REQUEST", "AttributeDefinitions",
            "AttributeName", spec->hash_key, "AttributeType", "S", "AttributeName",
            spec->index_hash, "AttributeType", "S", "AttributeName", spec->index_range,
            "AttributeType", "S", "KeySchema", "AttributeName", spec->hash_key, "KeyType", "HASH",
            "GlobalSecondaryIndexes", "IndexName", spec->index_name, "KeySchema", "AttributeName",
            spec->index_hash, "KeyType", "HASH", "AttributeName", spec->index_range, "KeyType",
            "RANGE", "Projection", "ProjectionType", "ALL");
        if (spec->tags && json_object_size(spec->tags) > 0) {
            json_t *tags = json_array();
            const char *k;
            json_t *v;
            json_object_foreach((json_t *)spec->tags, k, v)
            {
                json_array_append_new(tags,
                                      json_pack("{s:s, s:s}", "Key", k, "Value",
                                                json_string_value(v) ? json_string_value(v) : ""));
            }
            json_object_set_new(req, "Tags", tags);
        }
        if (run_sync(db, DDB_OP_CREATE_TABLE, req, msg, sizeof msg) != ERR_OK) {
            snprintf(err, errlen, "table %s: %s", spec->name, msg);
            return -1;
        }
        t = ddb__table(db, spec->name);
        if (t == NULL) {
            snprintf(err, errlen, "table %s: not created", spec->name);
            return -1;
        }
    } else if (ddb__index(t, spec->index_name) == NULL) {
        LOG_WARN("dynamodb", NULL, "table %s exists without the index %s (kept as it is)",
                 spec->name, spec->index_name);
    }
    bool want_ttl = spec->ttl_attribute && spec->ttl_attribute[0];
    if (want_ttl && !(t->ttl_enabled && strcmp(t->ttl_attr, spec->ttl_attribute) == 0)) {
        if (t->ttl_enabled) {
            json_t *off =
                json_pack("{s:s, s:{s:s, s:b}}", "TableName", spec->name, "TimeToLiveSpecification",
                          "AttributeName", t->ttl_attr, "Enabled", 0);
            run_sync(db, DDB_OP_UPDATE_TIME_TO_LIVE, off, msg, sizeof msg);
        }
        json_t *on =
            json_pack("{s:s, s:{s:s, s:b}}", "TableName", spec->name, "TimeToLiveSpecification",
                      "AttributeName", spec->ttl_attribute, "Enabled", 1);
        if (run_sync(db, DDB_OP_UPDATE_TIME_TO_LIVE, on, msg, sizeof msg) != ERR_OK) {
            snprintf(err, errlen, "table %s: TTL: %s", spec->name, msg);
            return -1;
        }
    }
    if (t->pitr != spec->pitr) {
        json_t *req =
            json_pack("{s:s, s:{s:b}}", "TableName", spec->name, "PointInTimeRecoverySpecification",
                      "PointInTimeRecoveryEnabled", spec->pitr);
        if (run_sync(db, DDB_OP_UPDATE_CONTINUOUS_BACKUPS, req, msg, sizeof msg) != ERR_OK) {
            snprintf(err, errlen, "table %s: point-in-time recovery: %s", spec->name, msg);
            return -1;
        }
    }
    if (t->deletion_protection != spec->deletion_protection) {
        json_t *req = json_pack("{s:s, s:b}", "TableName", spec->name, "DeletionProtectionEnabled",
                                spec->deletion_protection);
        if (run_sync(db, DDB_OP_UPDATE_TABLE, req, msg, sizeof msg) != ERR_OK) {
            snprintf(err, errlen, "table %s: deletion protection: %s", spec->name, msg);
            return -1;
        }
    }
    return 0;
}
