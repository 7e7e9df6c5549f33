/*
 * transact.c — TransactWriteItems and TransactGetItems.
 *
 * A write transaction is validated whole, then every condition is evaluated against the
 * current items (the overlay first: writes still committing count), then — when every
 * condition held and every update applied — all its writes go into one store batch,
 * committed all or nothing, and the answer goes out once it is durable. A refused
 * transaction is TransactionCanceledException with one CancellationReasons entry per
 * item, in order ({"Code":"None"}, {"Code":"ConditionalCheckFailed","Message":…,"Item"…},
 * {"Code":"ValidationError","Message":…}) and the codes bracketed in its Message.
 *
 * ClientRequestToken: a token seen in the last 10 minutes (on the CLOCK) with the same
 * request answers as the first call did without writing again; with another request it is
 * IdempotentParameterMismatchException. Tokens are kept in memory (a restart forgets them).
 */
#include "cloud/dynamodb/ddb_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/codec.h"
#include "core/jsonw.h"

#define TOKEN_MS (10 * 60 * 1000)

struct ddb_token {
    struct ddb_token *next;
    char token[40];
    unsigned char digest[32];
    int64_t expires_ms;
    char *answer; /* the first call's answer */
    size_t len;
    bool done; /* the first call completed (answer valid) */
};

void ddb__tokens_free(struct ddb *db)
{
    struct ddb_token *t = db->tokens;
    while (t) {
        struct ddb_token *n = t->next;
        free(t->answer);
        free(t);
        t = n;
    }
    db->tokens = NULL;
}

void ddb__token_expire(struct timer *tm);
void ddb__token_expire(struct timer *tm)
{
    struct ddb *db = tm->data;
    int64_t now = clock_now_ms(), next = -1;
    struct ddb_token **pp = &db->tokens;
    while (*pp) {
        struct ddb_token *t = *pp;
        if (t->expires_ms <= now && t->done) {
            *pp = t->next;
            free(t->answer);
            free(t);
            continue;
        }
        if (next < 0 || t->expires_ms < next)
            next = t->expires_ms;
        pp = &t->next;
    }
    if (next >= 0)
        timer_start_epoch(&db->token_timer, next);
}

static struct ddb_token *token_find(struct ddb *db, const char *tok)
{
    int64_t now = clock_now_ms();
    for (struct ddb_token *t = db->tokens; t; t = t->next)
        if (strcmp(t->token, tok) == 0 && t->expires_ms > now)
            return t;
    return NULL;
}

/* The digest of the request's parameters (token aside), canonical JSON. */
static void request_digest(const json_t *req, unsigned char out[32])
{
    json_t *cp = json_deep_copy(req);
    json_object_del(cp, "ClientRequestToken");
    char *s = json_dumps(cp, JSON_COMPACT | JSON_SORT_KEYS);
    codec_sha256(s ? s : "", s ? strlen(s) : 0, out);
    free(s);
    json_decref(cp);
}

/* ---- one element of TransactItems ---- */

enum tx_kind { TX_CHECK, TX_PUT, TX_DELETE, TX_UPDATE };

struct tx_item {
    enum tx_kind kind;
    const json_t *spec;
    struct ddb_table *t;
    struct ddb_value v; /* the item (Put) or the key */
    struct ddb_skey k;
    struct ddb_legacy legacy;
    struct ddb_expr_set ex;
    struct ddb_value old, newv;
    bool found;
};

static void tx_items_free(struct tx_item *it, size_t n)
{
    for (size_t i = 0; it && i < n; i++) {
        ddb_value_destroy(&it[i].v);
        ddb_legacy_destroy(&it[i].legacy);
        ddb_expr_set_free(&it[i].ex);
        ddb_value_destroy(&it[i].old);
        ddb_value_destroy(&it[i].newv);
    }
    free(it);
}

/* The capacity account of table t in caps[0..*n), added (split) when new. */
static struct ddb_capacity *capacity_of(struct ddb_capacity *caps, size_t *n,
                                        const struct ddb_table *t)
{
    size_t i = 0;
    while (i < *n && strcmp(caps[i].table, t->name) != 0)
        i++;
    if (i == *n) {
        ddb_capacity_init(&caps[(*n)++], t->name);
        caps[i].split = true;
    }
    return &caps[i];
}

/* The table of every item (ResourceNotFoundException at the first one missing). */
static int find_tables(struct ddb_call *c, struct tx_item *it, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        it[i].t = ddb__table_of(c, ddb__str(it[i].spec, "TableName"));
        if (it[i].t == NULL)
            return -1;
    }
    return 0;
}

/* "Transaction request cannot include multiple operations on one item" when it[i] has the key
 * of an earlier item. */
static int check_distinct(struct ddb_call *c, const struct tx_item *it, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (it[j].t == it[i].t && ddb__skey_equal(&it[j].k, &it[i].k))
            return ddb__fail(c, ERR_DDB_VALIDATION,
                             "Transaction request cannot include multiple operations on one item");
    return 0;
}

static int compile_item(struct ddb_call *c, struct tx_item *it)
{
    struct ddb_err err;
    ddb_err_init(&err);
    const json_t *s = it->spec;
    const char *member = it->kind == TX_PUT ? "Item" : "Key";
    if (ddb_item_from_json(json_object_get(s, member), &it->v, &err) != 0)
        return ddb__fail_err(c, &err, false);
    if (it->kind == TX_PUT && ddb_item_size(&it->v) > DDB_ITEM_MAX)
        return ddb__fail(c, ERR_DDB_VALIDATION, "Item size has exceeded the maximum allowed size");
    enum ddb_legacy_op lop = it->kind == TX_UPDATE ? DDB_LOP_UPDATE_ITEM : DDB_LOP_DELETE_ITEM;
    if (ddb_legacy_check_mixing(lop, s, &err) != 0)
        return ddb__fail_err(c, &err, false);
    unsigned members = (it->kind == TX_UPDATE ? DDB_X_UPDATE : 0) | DDB_X_CONDITION | DDB_X_VALUES;
    return ddb__compile_exprs(c, s, members, &it->ex, false);
}

/* ---- TransactWriteItems ---- */

struct tx_state {
    struct ddb_call *c;
    struct ddb_token *token; /* the token this call registered, or NULL */
};

static void tx_state_free(void *p)
{
    free(p);
}

static void tx_write_done(void *arg, int rc)
{
    struct ddb_call *c = arg;
    struct tx_state *st = c->state;
    if (rc != 0) {
        buf_reset(&c->out);
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
    }
    if (st && st->token) {
        struct ddb_token *t = st->token;
        if (rc == 0) {
            t->answer = malloc(c->out.len + 1);
            if (t->answer) {
                memcpy(t->answer, c->out.data ? c->out.data : "", c->out.len);
                t->len = c->out.len;
            }
            t->done = true;
        } else {
            t->expires_ms = 0; /* a failed first call does not hold its token */
            t->done = true;
        }
    }
    ddb__reply(c);
}

static void write_reasons(struct buf *out, struct tx_item *it, size_t n, const char *const *codes,
                          char *const *msgs, const bool *with_item)
{
    buf_puts(out, ",\"CancellationReasons\":[");
    for (size_t i = 0; i < n; i++) {
        buf_puts(out, i ? ",{" : "{");
        buf_printf(out, "\"Code\":\"%s\"", codes[i]);
        if (with_item[i] && it[i].found) {
            buf_puts(out, ",\"Item\":");
            ddb__write_item(out, &it[i].old);
        }
        if (msgs[i]) {
            buf_puts(out, ",\"Message\":");
            jw_escape(out, msgs[i], strlen(msgs[i]));
        }
        buf_puts(out, "}");
    }
    buf_puts(out, "]");
}

static void op_transact_write(struct ddb_call *c)
{
    struct ddb *db = c->db;
    const json_t *req = c->req;
    const json_t *items = json_object_get(req, "TransactItems");
    size_t n = json_array_size(items);
    struct tx_item *it = calloc(n ? n : 1, sizeof *it);
    const char **codes = calloc(n ? n : 1, sizeof *codes);
    char **msgs = calloc(n ? n : 1, sizeof *msgs);
    bool *with_item = calloc(n ? n : 1, sizeof *with_item);
    struct ddb_capacity *caps = NULL;
    size_t ncaps = 0;
    struct ddb_wb *wb = NULL;
    bool submit = false; /* every check passed: wb goes to the store */
    if (it == NULL || codes == NULL || msgs == NULL || with_item == NULL) {
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        goto out;
    }
    static const char *const kinds[] = {"ConditionCheck", "Put", "Delete", "Update"};
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(items, i);
        int found = 0;
        for (int k = 0; k < 4; k++)
            if (ddb_member(e, kinds[k])) {
                found++;
                it[i].kind = (enum tx_kind)k;
                it[i].spec = ddb_member(e, kinds[k]);
            }
        if (found == 0) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "The action or operation requested is invalid. Verify that the action is "
                      "typed correctly.");
            goto out;
        }
        if (found > 1) {
            ddb__fail(c, ERR_DDB_VALIDATION,
                      "TransactItems can only contain one of Check, Put, Update or Delete");
            goto out;
        }
        if (compile_item(c, &it[i]) != 0)
            goto out;
    }
    /* idempotency */
    const char *tok = ddb__str(req, "ClientRequestToken");
    unsigned char digest[32];
    if (tok) {
        request_digest(req, digest);
        struct ddb_token *t = token_find(db, tok);
        if (t) {
            if (memcmp(t->digest, digest, 32) != 0) {
                ddb__fail(c, ERR_DDB_IDEMPOTENT_MISMATCH,
                          "The request uses the same client token as a previous, but "
                          "non-identical request. Do not reuse a client token with different "
                          "requests, unless the requests are identical.");
                goto out;
            }
            if (!t->done) {
                ddb__fail(c, ERR_DDB_TRANSACTION_IN_PROGRESS,
                          "The transaction with the given request token is already in progress.");
                goto out;
            }
            buf_append(&c->out, t->answer ? t->answer : "{}", t->answer ? t->len : 2);
            goto out;
        }
    }
    if (find_tables(c, it, n) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct tx_item *x = &it[i];
        if (x->kind == TX_PUT) {
            if (ddb__check_item(c, x->t, &x->v, false) != 0)
                goto out;
            ddb__skey(&x->t->ks, &x->v, &x->k);
        } else if (ddb__decode_key(c, x->t, &x->v, &x->k) != 0) {
            goto out;
        }
        if (x->kind == TX_UPDATE) {
            const char *keys[2] = {x->t->hash_name, x->t->range_name};
            for (int k = 0; k < 2; k++)
                if (keys[k] && x->ex.update &&
                    ddb_expr_uses(x->ex.update, keys[k], strlen(keys[k]))) {
                    ddb__fail(c, ERR_DDB_VALIDATION,
                              "One or more parameter values were invalid: Cannot update attribute "
                              "%s. This attribute is part of the key",
                              keys[k]);
                    goto out;
                }
        }
        if (check_distinct(c, it, i) != 0)
            goto out;
    }
    /* evaluate every item against the current state */
    bool cancelled = false;
    for (size_t i = 0; i < n; i++) {
        struct tx_item *x = &it[i];
        codes[i] = "None";
        if (ddb__get(db, x->t, &x->k, &x->old, &x->found) != 0) {
            ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
            goto out;
        }
        const char *rv = ddb__str(x->spec, "ReturnValuesOnConditionCheckFailure");
        if (x->ex.condition && !ddb_cond_eval(x->ex.condition, x->found ? &x->old : NULL)) {
            codes[i] = "ConditionalCheckFailed";
            msgs[i] = strdup("The conditional request failed");
            with_item[i] = rv && strcmp(rv, "ALL_OLD") == 0;
            cancelled = true;
            continue;
        }
        if (x->kind == TX_UPDATE) {
            struct ddb_err err;
            ddb_err_init(&err);
            const struct ddb_value *base = x->found ? &x->old : &x->v;
            int rc = x->ex.update ? ddb_update_apply(x->ex.update, base, &x->newv, &err)
                                  : ddb_value_copy(&x->newv, base);
            if (rc == 0 && ddb_item_size(&x->newv) > DDB_ITEM_MAX)
                rc = ddb_err_set(&err, ERR_DDB_VALIDATION,
                                 "Item size to update has exceeded the maximum allowed size");
            if (rc != 0) {
                codes[i] = "ValidationError";
                msgs[i] = strdup(ddb_err_msg(&err));
                ddb_err_clear(&err);
                cancelled = true;
            } else if (ddb__check_item(c, x->t, &x->newv, true) != 0) {
                codes[i] = "ValidationError";
                msgs[i] = strdup(ddb_err_msg(&c->err));
                ddb_err_clear(&c->err);
                cancelled = true;
            }
        }
    }
    if (cancelled) {
        struct buf m;
        buf_init(&m, 64 * 1024);
        buf_puts(&m, "Transaction cancelled, please refer cancellation reasons for specific "
                     "reasons [");
        for (size_t i = 0; i < n; i++)
            buf_printf(&m, "%s%s", i ? ", " : "", codes[i]);
        buf_puts(&m, "]");
        ddb__fail(c, ERR_DDB_TRANSACTION_CANCELED, "%s", m.data);
        buf_destroy(&m);
        write_reasons(&c->out, it, n, codes, msgs, with_item);
        goto out;
    }
    /* one capacity account per table, in first-seen order */
    caps = calloc(n ? n : 1, sizeof *caps);
    wb = ddb__wb_new(db);
    if (caps == NULL || wb == NULL) {
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct tx_item *x = &it[i];
        struct ddb_capacity *cap = capacity_of(caps, &ncaps, x->t);
        int rc = 0;
        switch (x->kind) {
        case TX_CHECK:
            ddb_capacity_add_table(
                cap, DDB_CAP_READ,
                ddb_read_units(x->found ? ddb_item_size(&x->old) : 0, DDB_READ_TRANSACTIONAL));
            break;
        case TX_PUT:
            rc = ddb__wb_write(wb, x->t, &x->k, x->found ? &x->old : NULL, &x->v, cap, true);
            break;
        case TX_DELETE:
            if (x->found)
                rc = ddb__wb_write(wb, x->t, &x->k, &x->old, NULL, cap, true);
            else
                ddb_capacity_add_table(cap, DDB_CAP_WRITE, ddb_write_units(0, true));
            break;
        case TX_UPDATE:
            rc = ddb__wb_write(wb, x->t, &x->k, x->found ? &x->old : NULL, &x->newv, cap, true);
            break;
        }
        if (rc != 0) {
            ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
            goto out;
        }
    }
    buf_puts(&c->out, "{");
    bool comma = ddb__write_capacity_list(&c->out, req, caps, ncaps, false);
    ddb__write_no_metrics(&c->out, req, comma);
    buf_puts(&c->out, "}");
    struct tx_state *st = calloc(1, sizeof *st);
    if (st == NULL) {
        buf_reset(&c->out);
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        goto out;
    }
    c->state = st;
    c->state_free = tx_state_free;
    if (tok) {
        struct ddb_token *t = calloc(1, sizeof *t);
        if (t) {
            snprintf(t->token, sizeof t->token, "%s", tok);
            memcpy(t->digest, digest, 32);
            t->expires_ms = clock_now_ms() + TOKEN_MS;
            t->next = db->tokens;
            db->tokens = t;
            st->token = t;
            if (!timer_pending(&db->token_timer))
                timer_start_epoch(&db->token_timer, t->expires_ms);
        }
    }
    submit = true;
out:
    if (!submit)
        ddb__wb_free(wb);
    tx_items_free(it, n);
    for (size_t i = 0; msgs && i < n; i++)
        free(msgs[i]);
    free(msgs);
    free(codes);
    free(with_item);
    for (size_t i = 0; i < ncaps; i++)
        ddb_capacity_destroy(&caps[i]);
    free(caps);
    if (submit)
        ddb__wb_submit(wb, tx_write_done, c);
    else
        ddb__finish(c);
}

/* ---- TransactGetItems ---- */

static void op_transact_get(struct ddb_call *c)
{
    struct ddb *db = c->db;
    const json_t *items = json_object_get(c->req, "TransactItems");
    size_t n = json_array_size(items);
    struct tx_item *it = calloc(n ? n : 1, sizeof *it);
    struct ddb_capacity *caps = calloc(n ? n : 1, sizeof *caps);
    size_t ncaps = 0;
    if (it == NULL || caps == NULL) {
        ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct ddb_err err;
        ddb_err_init(&err);
        it[i].spec = json_object_get(json_array_get(items, i), "Get");
        if (ddb_item_from_json(json_object_get(it[i].spec, "Key"), &it[i].v, &err) != 0) {
            ddb__fail_err(c, &err, false);
            goto out;
        }
        if (ddb__compile_exprs(c, it[i].spec, DDB_X_PROJECTION, &it[i].ex, false) != 0)
            goto out;
    }
    if (find_tables(c, it, n) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (ddb__decode_key(c, it[i].t, &it[i].v, &it[i].k) != 0 || check_distinct(c, it, i) != 0)
            goto out;
    }
    buf_puts(&c->out, "{\"Responses\":[");
    for (size_t i = 0; i < n; i++) {
        struct tx_item *x = &it[i];
        if (ddb__get(db, x->t, &x->k, &x->old, &x->found) != 0) {
            buf_reset(&c->out);
            ddb__fail(c, ERR_DDB_INTERNAL, "Internal server error");
            goto out;
        }
        struct ddb_capacity *cap = capacity_of(caps, &ncaps, x->t);
        ddb_capacity_add_table(
            cap, DDB_CAP_READ,
            ddb_read_units(x->found ? ddb_item_size(&x->old) : 0, DDB_READ_TRANSACTIONAL));
        buf_puts(&c->out, i ? ",{" : "{");
        if (x->found) {
            struct ddb_value p;
            int rc = x->ex.projection ? ddb_project(x->ex.projection, &x->old, &p)
                                      : ddb_value_copy(&p, &x->old);
            if (rc == 0) {
                buf_puts(&c->out, "\"Item\":");
                ddb__write_item(&c->out, &p);
                ddb_value_destroy(&p);
            }
        }
        buf_puts(&c->out, "}");
    }
    buf_puts(&c->out, "]");
    ddb__write_capacity_list(&c->out, c->req, caps, ncaps, true);
    buf_puts(&c->out, "}");
out:
    tx_items_free(it, n);
    for (size_t i = 0; i < ncaps; i++)
        ddb_capacity_destroy(&caps[i]);
    free(caps);
    ddb__finish(c);
}

void ddb__op_transact(struct ddb_call *c)
{
    if (c->op == DDB_OP_TRANSACT_WRITE_ITEMS)
        op_transact_write(c);
    else
        op_transact_get(c);
}
