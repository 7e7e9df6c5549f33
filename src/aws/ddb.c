/*
 * ddb.c — DynamoDB requests written with the streaming JSON writer, answers read with
 * jansson (see ddb.h).
 */
#include "aws/ddb.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "core/json.h"
#include "core/jsonw.h"

enum { ANSWER_MAX = 4 * 1024 * 1024 };

struct aws_ddb_item {
    json_t *m; /* {"name": {"S": "..."}, ...} */
};

static const char *const RETURN_NAMES[] = {"NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD",
                                           "UPDATED_NEW"};

/* ---- items --------------------------------------------------------------------------- */

static struct aws_ddb_item *item_wrap(json_t *m)
{
    struct aws_ddb_item *it;
    if (!json_is_object(m))
        return NULL;
    it = malloc(sizeof *it);
    if (it == NULL)
        return NULL;
    it->m = json_incref(m);
    return it;
}

const char *aws_ddb_item_s(const struct aws_ddb_item *it, const char *name, size_t *len)
{
    json_t *s = it ? json_object_get(json_object_get(it->m, name), "S") : NULL;
    if (!json_is_string(s))
        return NULL;
    if (len != NULL)
        *len = json_string_length(s);
    return json_string_value(s);
}

int aws_ddb_item_n(const struct aws_ddb_item *it, const char *name, int64_t *out)
{
    const char *v =
        it ? json_string_value(json_object_get(json_object_get(it->m, name), "N")) : NULL;
    char *end;
    if (v == NULL || *v == '\0')
        return -1;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = n;
    return 0;
}

bool aws_ddb_item_has(const struct aws_ddb_item *it, const char *name)
{
    return it != NULL && json_object_get(it->m, name) != NULL;
}

struct aws_ddb_item *aws_ddb_item_parse(const char *json, size_t len)
{
    json_t *m = jsonh_loadb(json, len, 0, NULL);
    struct aws_ddb_item *it = item_wrap(m);
    json_decref(m);
    return it;
}

void aws_ddb_item_free(struct aws_ddb_item *it)
{
    if (it == NULL)
        return;
    json_decref(it->m);
    free(it);
}

void aws_ddb_page_destroy(struct aws_ddb_page *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->count; i++)
        aws_ddb_item_free(p->items[i]);
    free(p->items);
    aws_ddb_item_free(p->last_key);
    memset(p, 0, sizeof *p);
}

/* ---- writing requests ---------------------------------------------------------------- */

static void write_value(struct jsonw *w, const struct aws_ddb_value *v)
{
    char num[24];
    jw_obj(w);
    switch (v->type) {
    case AWS_DDB_S:
        jw_kstrn(w, "S", v->s ? v->s : "", v->s ? v->len : 0);
        break;
    case AWS_DDB_N:
        snprintf(num, sizeof num, "%" PRId64, v->n);
        jw_kstr(w, "N", num);
        break;
    case AWS_DDB_BOOL:
        jw_kbool(w, "BOOL", v->b);
        break;
    case AWS_DDB_NULL:
        jw_kbool(w, "NULL", true);
        break;
    }
    jw_obj_end(w);
}

static void write_map(struct jsonw *w, const char *key, const struct aws_ddb_attr *a, size_t n)
{
    jw_key(w, key);
    jw_obj(w);
    for (size_t i = 0; i < n; i++) {
        jw_key(w, a[i].name);
        write_value(w, &a[i].v);
    }
    jw_obj_end(w);
}

static void write_expr_args(struct jsonw *w, const struct aws_ddb_name *names, size_t nnames,
                            const struct aws_ddb_attr *values, size_t nvalues)
{
    if (nnames > 0) {
        jw_key(w, "ExpressionAttributeNames");
        jw_obj(w);
        for (size_t i = 0; i < nnames; i++)
            jw_kstr(w, names[i].placeholder, names[i].name);
        jw_obj_end(w);
    }
    if (nvalues > 0)
        write_map(w, "ExpressionAttributeValues", values, nvalues);
}

/* ---- calls ----------------------------------------------------------------------------- */

/* Starts a request's body in req (a buffer of AWS_MAX_REQUEST bytes at most; the caller
 * destroys it): an object, through w, that names the table. */
static void begin_request(struct buf *req, struct jsonw *w, const char *table)
{
    buf_init(req, AWS_MAX_REQUEST);
    jw_init(w, req);
    jw_obj(w);
    jw_kstr(w, "TableName", table);
}

static int fail(struct aws_error *err, int rc, const char *msg)
{
    memset(err, 0, sizeof *err);
    err->rc = rc;
    snprintf(err->message, sizeof err->message, "%s", msg);
    return rc;
}

/* Sends the written request; on AWS_OK *answer is the parsed answer (an object). When
 * failed_item is not NULL, a ConditionalCheckFailedException's "Item" (present with
 * ReturnValuesOnConditionCheckFailure=ALL_OLD) goes to *failed_item. */
static int call(struct aws_client *c, const char *op, struct jsonw *w, const struct buf *req,
                int64_t deadline_ms, json_t **answer, struct aws_ddb_item **failed_item,
                struct aws_error *err)
{
    struct buf ans;
    int rc;
    *answer = NULL;
    if (!jw_ok(w))
        return fail(err, AWS_EINVAL, "the request is too large");
    buf_init(&ans, ANSWER_MAX);
    rc = aws_client_call(c, AWS_DYNAMODB, op, req->data, req->len, deadline_ms, &ans, err);
    if (rc == AWS_OK ||
        (failed_item != NULL && aws_error_is(err, "ConditionalCheckFailedException")))
        *answer = jsonh_loadb(ans.data ? ans.data : "", ans.len, 0, NULL);
    if (rc == AWS_OK && !json_is_object(*answer)) {
        json_decref(*answer);
        *answer = NULL;
        rc = fail(err, AWS_EINVAL, "the answer is not a JSON object");
    } else if (rc != AWS_OK && *answer != NULL) {
        *failed_item = item_wrap(json_object_get(*answer, "Item"));
        json_decref(*answer);
        *answer = NULL;
    }
    buf_destroy(&ans);
    return rc;
}

int aws_ddb_put_item(struct aws_client *c, const struct aws_ddb_put *p, int64_t deadline_ms,
                     struct aws_ddb_item **old, struct aws_error *err)
{
    struct buf req;
    struct jsonw w;
    json_t *ans = NULL;
    if (old != NULL)
        *old = NULL;
    begin_request(&req, &w, p->table);
    write_map(&w, "Item", p->item, p->nitem);
    if (p->condition != NULL)
        jw_kstr(&w, "ConditionExpression", p->condition);
    write_expr_args(&w, p->names, p->nnames, p->values, p->nvalues);
    if (p->old_on_condition_failure)
        jw_kstr(&w, "ReturnValuesOnConditionCheckFailure", "ALL_OLD");
    jw_obj_end(&w);
    int rc = call(c, "PutItem", &w, &req, deadline_ms, &ans,
                  p->old_on_condition_failure ? old : NULL, err);
    json_decref(ans);
    buf_destroy(&req);
    return rc;
}

int aws_ddb_get_item(struct aws_client *c, const struct aws_ddb_get *g, int64_t deadline_ms,
                     struct aws_ddb_item **item, struct aws_error *err)
{
    struct buf req;
    struct jsonw w;
    json_t *ans = NULL;
    *item = NULL;
    begin_request(&req, &w, g->table);
    write_map(&w, "Key", g->key, g->nkey);
    if (g->consistent)
        jw_kbool(&w, "ConsistentRead", true);
    jw_obj_end(&w);
    int rc = call(c, "GetItem", &w, &req, deadline_ms, &ans, NULL, err);
    if (rc == AWS_OK && json_object_get(ans, "Item") != NULL) {
        *item = item_wrap(json_object_get(ans, "Item"));
        if (*item == NULL)
            rc = fail(err, AWS_EINVAL, "GetItem: Item is not an object");
    }
    json_decref(ans);
    buf_destroy(&req);
    return rc;
}

int aws_ddb_update_item(struct aws_client *c, const struct aws_ddb_update *u, int64_t deadline_ms,
                        struct aws_ddb_item **attrs, struct aws_error *err)
{
    struct buf req;
    struct jsonw w;
    json_t *ans = NULL;
    struct aws_ddb_item *failed = NULL;
    if (attrs != NULL)
        *attrs = NULL;
    begin_request(&req, &w, u->table);
    write_map(&w, "Key", u->key, u->nkey);
    jw_kstr(&w, "UpdateExpression", u->update);
    if (u->condition != NULL)
        jw_kstr(&w, "ConditionExpression", u->condition);
    write_expr_args(&w, u->names, u->nnames, u->values, u->nvalues);
    if (u->ret != AWS_DDB_RETURN_NONE)
        jw_kstr(&w, "ReturnValues", RETURN_NAMES[u->ret]);
    if (u->old_on_condition_failure)
        jw_kstr(&w, "ReturnValuesOnConditionCheckFailure", "ALL_OLD");
    jw_obj_end(&w);
    int rc = call(c, "UpdateItem", &w, &req, deadline_ms, &ans,
                  u->old_on_condition_failure ? &failed : NULL, err);
    if (rc == AWS_OK && attrs != NULL && json_object_get(ans, "Attributes") != NULL)
        *attrs = item_wrap(json_object_get(ans, "Attributes"));
    if (attrs != NULL && failed != NULL)
        *attrs = failed;
    else
        aws_ddb_item_free(failed);
    json_decref(ans);
    buf_destroy(&req);
    return rc;
}

int aws_ddb_query(struct aws_client *c, const struct aws_ddb_query *q, int64_t deadline_ms,
                  struct aws_ddb_page *page, struct aws_error *err)
{
    struct buf req;
    struct jsonw w;
    json_t *ans = NULL;
    memset(page, 0, sizeof *page);
    begin_request(&req, &w, q->table);
    if (q->index != NULL)
        jw_kstr(&w, "IndexName", q->index);
    jw_kstr(&w, "KeyConditionExpression", q->key_condition);
    if (q->filter != NULL)
        jw_kstr(&w, "FilterExpression", q->filter);
    write_expr_args(&w, q->names, q->nnames, q->values, q->nvalues);
    if (q->limit > 0)
        jw_kint(&w, "Limit", q->limit);
    if (q->descending)
        jw_kbool(&w, "ScanIndexForward", false);
    if (q->count_only)
        jw_kstr(&w, "Select", "COUNT");
    if (q->start_key != NULL && q->nstart > 0)
        write_map(&w, "ExclusiveStartKey", q->start_key, q->nstart);
    jw_obj_end(&w);
    int rc = call(c, "Query", &w, &req, deadline_ms, &ans, NULL, err);
    if (rc != AWS_OK)
        goto done;
    json_t *items = json_object_get(ans, "Items");
    json_int_t count = json_integer_value(json_object_get(ans, "Count"));
    page->matched = count;
    if (json_array_size(items) > 0) {
        page->items = calloc(json_array_size(items), sizeof *page->items);
        if (page->items == NULL) {
            rc = fail(err, AWS_ENOMEM, "Query: out of memory");
            goto done;
        }
        for (size_t i = 0; i < json_array_size(items); i++) {
            page->items[i] = item_wrap(json_array_get(items, i));
            if (page->items[i] == NULL) {
                rc = fail(err, AWS_EINVAL, "Query: an item is not an object");
                goto done;
            }
            page->count++;
        }
    }
    if (json_object_get(ans, "LastEvaluatedKey") != NULL) {
        page->last_key = item_wrap(json_object_get(ans, "LastEvaluatedKey"));
        if (page->last_key == NULL)
            rc = fail(err, AWS_EINVAL, "Query: LastEvaluatedKey is not an object");
    }
done:
    json_decref(ans);
    buf_destroy(&req);
    return rc;
}
