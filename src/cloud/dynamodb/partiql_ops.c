/*
 * partiql_ops.c — ExecuteStatement and BatchExecuteStatement: a statement (partiql.h) is
 * translated into the operation it stands for and run through the engine's own path, so
 * its validation, conditions and durability are the same:
 *   SELECT  → Query when the WHERE clause fixes the (index's) partition key with '=' (and
 *             the sort key condition goes with it), else Scan; NextToken carries the
 *             LastEvaluatedKey (base64 of its JSON);
 *   INSERT  → PutItem with attribute_not_exists on the key (DuplicateItemException);
 *   UPDATE  → UpdateItem on the key the WHERE clause gives by equality, the rest of the
 *             clause and attribute_exists being its condition (ConditionalCheckFailed);
 *   DELETE  → DeleteItem likewise.
 * Writes answer {"Items":[]} (with the RETURNING values when asked).
 */
#include "cloud/dynamodb/ddb_int.h"
#include "cloud/dynamodb/partiql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/json.h"
#include "core/jsonw.h"

struct stmt_run;
typedef void (*stmt_done_fn)(struct stmt_run *s, const struct ddb_reply *rep);

/* One statement being run. */
struct stmt_run {
    struct ddb_call *c; /* the outer call */
    enum ddb_pq_verb verb;
    char *table;
    bool batch;
    stmt_done_fn done;
    size_t index; /* in a batch */
};

static void set_expr_maps(json_t *req, struct ddb_pq_render *rc)
{
    if (rc->names && json_object_size(rc->names))
        json_object_set(req, "ExpressionAttributeNames", rc->names);
    if (rc->values && json_object_size(rc->values))
        json_object_set(req, "ExpressionAttributeValues", rc->values);
}

static void copy_member(json_t *to, const json_t *from, const char *k)
{
    const json_t *v = ddb_member(from, k);
    if (v)
        json_object_set(to, k, (json_t *)v);
}

/*
 * Translates statement text (with params) into an operation and its request. Returns the
 * operation, or DDB_OP_UNKNOWN with err set. *table gets the table name (owned).
 */
static enum ddb_op translate(struct ddb *db, const json_t *outer, const char *text,
                             const json_t *params, bool batch, json_t **out, char **table,
                             enum ddb_pq_verb *verb, struct ddb_err *err)
{
    enum ddb_op op = DDB_OP_UNKNOWN;
    struct ddb_pq_render rc;
    ddb_pq_render_init(&rc, params);
    struct buf key_expr, rest, proj;
    buf_init(&key_expr, 64 * 1024);
    buf_init(&rest, 64 * 1024);
    buf_init(&proj, 64 * 1024);
    json_t *req = NULL, *kv[2] = {NULL, NULL};
    struct ddb_pq *q = ddb_pq_parse(text, strlen(text), err);
    if (q == NULL)
        goto out;
    *verb = ddb_pq_verb(q);
    *table = strdup(ddb_pq_table(q));
    if (ddb_pq_params(q) != json_array_size(params)) {
        ddb_err_set(err, ERR_DDB_VALIDATION,
                    "Number of parameters in request and statement don't match.");
        goto out;
    }
    struct ddb_table *t = ddb__table(db, ddb_pq_table(q));
    if (t == NULL) {
        ddb_err_set(err, ERR_DDB_RESOURCE_NOT_FOUND, "Requested resource not found");
        goto out;
    }
    const char *iname = ddb_pq_index(q);
    struct ddb_index *x = iname ? ddb__index(t, iname) : NULL;
    if (iname && x == NULL) {
        ddb_err_set(err, ERR_DDB_VALIDATION, "The table does not have the specified index: %s",
                    iname);
        goto out;
    }
    if (iname && ddb_pq_verb(q) != DDB_PQ_SELECT) {
        ddb_err_set(err, ERR_DDB_VALIDATION,
                    "Statement wasn't well formed, can't be processed: an index can only be read");
        goto out;
    }
    req = json_pack("{s:s}", "TableName", t->name);
    copy_member(req, outer, "ReturnConsumedCapacity");
    bool found[2];
    const char *tkeys[2] = {t->hash_name, t->range_name};
    switch (ddb_pq_verb(q)) {
    case DDB_PQ_SELECT: {
        const char *keys[2] = {x ? x->hash_name : t->hash_name, x ? x->range_name : t->range_name};
        rc.watch[0] = keys[0];
        rc.watch[1] = keys[1];
        if (ddb_pq_split_where(q, keys, true, &rc, &key_expr, &rest, found, NULL, err) != 0)
            goto out;
        bool query = found[0] && !rc.watched;
        if (!query) {
            /* a Scan filtered by the whole clause */
            ddb_pq_render_destroy(&rc);
            ddb_pq_render_init(&rc, params);
            buf_reset(&key_expr);
            buf_reset(&rest);
            const char *none[2] = {NULL, NULL};
            if (ddb_pq_split_where(q, none, false, &rc, NULL, &rest, found, NULL, err) != 0)
                goto out;
        }
        if (!ddb_pq_select_all(q) && ddb_pq_render_projection(q, &rc, &proj, err) != 0)
            goto out;
        op = query ? DDB_OP_QUERY : DDB_OP_SCAN;
        if (x)
            json_object_set_new(req, "IndexName", json_string(x->name));
        if (query)
            json_object_set_new(req, "KeyConditionExpression", json_string(key_expr.data));
        if (rest.len)
            json_object_set_new(req, "FilterExpression", json_string(rest.data));
        if (proj.len)
            json_object_set_new(req, "ProjectionExpression", json_string(proj.data));
        set_expr_maps(req, &rc);
        if (!batch) {
            copy_member(req, outer, "ConsistentRead");
            copy_member(req, outer, "Limit");
            const char *tok = ddb__str(outer, "NextToken");
            if (tok) {
                struct buf dec;
                buf_init(&dec, 1 << 20);
                json_t *esk = NULL;
                if (codec_b64_decode(tok, strlen(tok), &dec) == BUF_OK && dec.data)
                    esk = json_loadb(dec.data, dec.len, JSON_ALLOW_NUL, NULL);
                buf_destroy(&dec);
                if (!json_is_object(esk)) {
                    json_decref(esk);
                    ddb_err_set(err, ERR_DDB_VALIDATION, "Invalid NextToken");
                    op = DDB_OP_UNKNOWN;
                    goto out;
                }
                json_object_set_new(req, "ExclusiveStartKey", esk);
            }
        }
        break;
    }
    case DDB_PQ_INSERT: {
        json_t *item = ddb_pq_insert_item(q, &rc, err);
        if (item == NULL)
            goto out;
        json_object_set_new(req, "Item", item);
        json_object_set_new(req, "ConditionExpression",
                            json_string("attribute_not_exists(#haar_pk)"));
        json_object_set_new(req, "ExpressionAttributeNames",
                            json_pack("{s:s}", "#haar_pk", t->hash_name));
        op = DDB_OP_PUT_ITEM;
        break;
    }
    case DDB_PQ_UPDATE:
    case DDB_PQ_DELETE: {
        if (ddb_pq_split_where(q, tkeys, false, &rc, NULL, &rest, found, kv, err) != 0)
            goto out;
        if (!found[0] || (t->range_name && !found[1])) {
            ddb_err_set(err, ERR_DDB_VALIDATION,
                        "Where clause does not contain a mandatory equality on all key "
                        "attributes");
            goto out;
        }
        json_t *key = json_object();
        json_object_set_new(key, t->hash_name, kv[0]);
        kv[0] = NULL;
        if (t->range_name) {
            json_object_set_new(key, t->range_name, kv[1]);
            kv[1] = NULL;
        }
        json_object_set_new(req, "Key", key);
        struct buf cond;
        buf_init(&cond, 128 * 1024);
        struct buf nm;
        buf_init(&nm, 256);
        buf_puts(&cond, "attribute_exists(#haar_pk)");
        if (rest.len) {
            buf_puts(&cond, " AND ");
            buf_append(&cond, rest.data, rest.len);
        }
        json_object_set_new(req, "ConditionExpression", json_string(cond.data));
        buf_destroy(&cond);
        buf_destroy(&nm);
        if (ddb_pq_verb(q) == DDB_PQ_UPDATE) {
            struct buf upd;
            buf_init(&upd, 128 * 1024);
            if (ddb_pq_render_update(q, &rc, &upd, err) != 0) {
                buf_destroy(&upd);
                goto out;
            }
            json_object_set_new(req, "UpdateExpression", json_string(upd.data));
            buf_destroy(&upd);
        }
        set_expr_maps(req, &rc);
        json_t *names = json_object_get(req, "ExpressionAttributeNames");
        if (names == NULL) {
            names = json_object();
            json_object_set_new(req, "ExpressionAttributeNames", names);
        }
        json_object_set_new(names, "#haar_pk", json_string(t->hash_name));
        static const char *const rv[] = {NULL, "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"};
        if (rv[ddb_pq_returning(q)])
            json_object_set_new(req, "ReturnValues", json_string(rv[ddb_pq_returning(q)]));
        op = ddb_pq_verb(q) == DDB_PQ_UPDATE ? DDB_OP_UPDATE_ITEM : DDB_OP_DELETE_ITEM;
        break;
    }
    }
    if (op != DDB_OP_QUERY && op != DDB_OP_SCAN)
        copy_member(req, outer, "ReturnValuesOnConditionCheckFailure");
out:
    json_decref(kv[0]);
    json_decref(kv[1]);
    buf_destroy(&key_expr);
    buf_destroy(&rest);
    buf_destroy(&proj);
    ddb_pq_render_destroy(&rc);
    ddb_pq_free(q);
    if (op == DDB_OP_UNKNOWN) {
        json_decref(req);
        req = NULL;
    }
    *out = req;
    return op;
}

/* ---- ExecuteStatement ---- */

static void exec_done(void *arg, const struct ddb_reply *rep)
{
    struct stmt_run *s = arg;
    s->done(s, rep);
}

static void answer_one(struct stmt_run *s, const struct ddb_reply *rep)
{
    struct ddb_call *c = s->c;
    if (rep->err != ERR_OK) {
        if (s->verb == DDB_PQ_INSERT && rep->err == ERR_DDB_CONDITIONAL_CHECK_FAILED)
            ddb__fail(c, ERR_DDB_DUPLICATE_ITEM, "Duplicate primary key exists in table");
        else {
            ddb__fail(c, rep->err, "%s", rep->message ? rep->message : "");
            if (rep->body && rep->len)
                buf_append(&c->out, rep->body, rep->len);
        }
        goto done;
    }
    json_t *a = json_loadb(rep->body, rep->len, JSON_ALLOW_NUL, NULL);
    struct jsonw w;
    jw_init(&w, &c->out);
    jw_obj(&w);
    jw_key(&w, "Items");
    if (s->verb == DDB_PQ_SELECT) {
        json_t *items = json_object_get(a, "Items");
        jw_json(&w, items ? items : json_array());
        const json_t *lek = json_object_get(a, "LastEvaluatedKey");
        if (lek) {
            char *j = json_dumps(lek, JSON_COMPACT);
            struct buf b;
            buf_init(&b, 1 << 20);
            codec_b64_encode(j ? j : "", j ? strlen(j) : 0, &b);
            jw_kstrn(&w, "NextToken", b.data ? b.data : "", b.len);
            buf_destroy(&b);
            free(j);
        }
    } else {
        jw_arr(&w);
        const json_t *attrs = json_object_get(a, "Attributes");
        if (attrs)
            jw_json(&w, attrs);
        jw_arr_end(&w);
    }
    const json_t *cap = json_object_get(a, "ConsumedCapacity");
    if (cap) {
        jw_key(&w, "ConsumedCapacity");
        jw_json(&w, cap);
    }
    jw_obj_end(&w);
    json_decref(a);
done:
    free(s->table);
    free(s);
    ddb__reply(c);
}

static void op_execute(struct ddb_call *c)
{
    struct ddb_err err;
    ddb_err_init(&err);
    json_t *req = NULL;
    char *table = NULL;
    enum ddb_pq_verb verb = DDB_PQ_SELECT;
    const json_t *params = ddb_member(c->req, "Parameters");
    enum ddb_op op = translate(c->db, c->req, ddb__str(c->req, "Statement"), params, false, &req,
                               &table, &verb, &err);
    if (op == DDB_OP_UNKNOWN) {
        free(table);
        ddb__fail_err(c, &err, false);
        ddb__finish(c);
        return;
    }
    struct stmt_run *s = calloc(1, sizeof *s);
    if (s == NULL) {
        free(table);
        json_decref(req);
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        ddb__finish(c);
        return;
    }
    *s = (struct stmt_run){c, verb, table, false, answer_one, 0};
    ddb_call(c->db, op, req, exec_done, s);
}

/* ---- BatchExecuteStatement ---- */

struct batch_state {
    json_t *responses;
    size_t next;
};

static void batch_state_free(void *p)
{
    struct batch_state *b = p;
    if (b)
        json_decref(b->responses);
    free(b);
}

static void batch_next(struct ddb_call *c);

static const char *batch_code(enum err e)
{
    switch (e) {
    case ERR_DDB_CONDITIONAL_CHECK_FAILED:
        return "ConditionalCheckFailed";
    case ERR_DDB_DUPLICATE_ITEM:
        return "DuplicateItem";
    case ERR_DDB_RESOURCE_NOT_FOUND:
        return "ResourceNotFound";
    case ERR_DDB_INTERNAL:
    case ERR_INTERNAL:
        return "InternalServerError";
    default:
        return "ValidationError";
    }
}

static void batch_one_done(struct stmt_run *s, const struct ddb_reply *rep)
{
    struct ddb_call *c = s->c;
    struct batch_state *b = c->state;
    json_t *r = json_object();
    if (s->table)
        json_object_set_new(r, "TableName", json_string(s->table));
    if (rep->err != ERR_OK) {
        enum err e = rep->err;
        const char *msg = rep->message ? rep->message : "";
        if (s->verb == DDB_PQ_INSERT && e == ERR_DDB_CONDITIONAL_CHECK_FAILED) {
            e = ERR_DDB_DUPLICATE_ITEM;
            msg = "Duplicate primary key exists in table";
        }
        json_t *er = json_pack("{s:s, s:s}", "Code", batch_code(e), "Message", msg);
        if (rep->body && rep->len && e == ERR_DDB_CONDITIONAL_CHECK_FAILED) {
            /* ,"Item":{…} from ReturnValuesOnConditionCheckFailure */
            struct buf t;
            buf_init(&t, rep->len + 8);
            buf_puts(&t, "{");
            buf_append(&t, rep->body + 1, rep->len - 1);
            buf_puts(&t, "}");
            json_t *extra = json_loadb(t.data, t.len, JSON_ALLOW_NUL, NULL);
            buf_destroy(&t);
            if (json_object_get(extra, "Item"))
                json_object_set(er, "Item", json_object_get(extra, "Item"));
            json_decref(extra);
        }
        json_object_set_new(r, "Error", er);
    } else if (s->verb == DDB_PQ_SELECT) {
        json_t *a = json_loadb(rep->body, rep->len, JSON_ALLOW_NUL, NULL);
        json_t *items = json_object_get(a, "Items");
        if (json_array_size(items) > 0)
            json_object_set(r, "Item", json_array_get(items, 0));
        json_decref(a);
    }
    json_array_append_new(b->responses, r);
    free(s->table);
    free(s);
    batch_next(c);
}

static void batch_next(struct ddb_call *c)
{
    struct batch_state *b = c->state;
    const json_t *stmts = json_object_get(c->req, "Statements");
    if (b->next >= json_array_size(stmts)) {
        struct jsonw w;
        jw_init(&w, &c->out);
        jw_obj(&w);
        jw_key(&w, "Responses");
        jw_json(&w, b->responses);
        jw_obj_end(&w);
        ddb__finish(c);
        return;
    }
    const json_t *st = json_array_get(stmts, b->next++);
    struct ddb_err err;
    ddb_err_init(&err);
    json_t *req = NULL;
    char *table = NULL;
    enum ddb_pq_verb verb = DDB_PQ_SELECT;
    json_t *outer = json_deep_copy(st);
    copy_member(outer, c->req, "ReturnConsumedCapacity");
    enum ddb_op op = translate(c->db, outer, ddb__str(st, "Statement"),
                               ddb_member(st, "Parameters"), true, &req, &table, &verb, &err);
    json_decref(outer);
    struct stmt_run *s = calloc(1, sizeof *s);
    if (s == NULL) {
        free(table);
        json_decref(req);
        ddb_err_clear(&err);
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        ddb__reply(c);
        return;
    }
    *s = (struct stmt_run){c, verb, table, true, batch_one_done, b->next - 1};
    if (op == DDB_OP_UNKNOWN) {
        struct ddb_reply rep = {.err = err.code, .message = ddb_err_msg(&err)};
        batch_one_done(s, &rep);
        ddb_err_clear(&err);
        return;
    }
    ddb_call(c->db, op, req, exec_done, s);
}

static void op_batch_execute(struct ddb_call *c)
{
    struct batch_state *b = calloc(1, sizeof *b);
    if (b == NULL || (b->responses = json_array()) == NULL) {
        free(b);
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        ddb__finish(c);
        return;
    }
    c->state = b;
    c->state_free = batch_state_free;
    batch_next(c);
}

void ddb__op_partiql(struct ddb_call *c)
{
    if (c->op == DDB_OP_EXECUTE_STATEMENT)
        op_execute(c);
    else
        op_batch_execute(c);
}
