/*
 * ddb.h — the DynamoDB calls the functions make (PutItem, GetItem, UpdateItem, Query) over
 * DynamoDB's JSON protocol (AWS-CONTRACTS.md §6), typed: items, keys and expression values
 * are arrays of struct aws_ddb_attr, so call sites never write JSON. Answers come back as
 * struct aws_ddb_item, read with typed accessors.
 *
 *   struct aws_ddb_attr key[] = {{"id", aws_ddb_s(id)}};
 *   struct aws_ddb_name names[] = {{"#s", "status"}};
 *   struct aws_ddb_attr values[] = {{":q", aws_ddb_s("QUEUED")}, {":r", aws_ddb_s("RUNNING")}};
 *   struct aws_ddb_update u = {.table = t, .key = key, .nkey = 1,
 *       .update = "SET #s = :r", .condition = "#s = :q",
 *       .names = names, .nnames = 1, .values = values, .nvalues = 2,
 *       .ret = AWS_DDB_RETURN_ALL_NEW};
 *   rc = aws_ddb_update_item(client, &u, deadline, &item, &err);
 *
 * Expressions are DynamoDB's own text, with #name and :value placeholders. Strings are
 * borrowed for the duration of a call. Same threading as the client (aws.h).
 */
#ifndef HAAR_AWS_DDB_H
#define HAAR_AWS_DDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aws/aws.h"

enum aws_ddb_type { AWS_DDB_S, AWS_DDB_N, AWS_DDB_BOOL, AWS_DDB_NULL };

/* One attribute value: S (len bytes at s), N (an integer), BOOL or NULL. */
struct aws_ddb_value {
    enum aws_ddb_type type;
    const char *s;
    size_t len;
    int64_t n;
    bool b;
};

static inline struct aws_ddb_value aws_ddb_s(const char *s)
{
    return (struct aws_ddb_value){.type = AWS_DDB_S, .s = s, .len = strlen(s)};
}
static inline struct aws_ddb_value aws_ddb_sn(const char *s, size_t len)
{
    return (struct aws_ddb_value){.type = AWS_DDB_S, .s = s, .len = len};
}
static inline struct aws_ddb_value aws_ddb_n(int64_t n)
{
    return (struct aws_ddb_value){.type = AWS_DDB_N, .n = n};
}
static inline struct aws_ddb_value aws_ddb_bool(bool b)
{
    return (struct aws_ddb_value){.type = AWS_DDB_BOOL, .b = b};
}

/* A named value: an item's attribute, a key part, or an expression value (":v"). */
struct aws_ddb_attr {
    const char *name;
    struct aws_ddb_value v;
};

/* An expression attribute name: placeholder ("#s") for name ("status"). */
struct aws_ddb_name {
    const char *placeholder;
    const char *name;
};

enum aws_ddb_return {
    AWS_DDB_RETURN_NONE,
    AWS_DDB_RETURN_ALL_OLD,
    AWS_DDB_RETURN_ALL_NEW,
    AWS_DDB_RETURN_UPDATED_OLD,
    AWS_DDB_RETURN_UPDATED_NEW,
};

struct aws_ddb_put {
    const char *table;
    const struct aws_ddb_attr *item;
    size_t nitem;
    const char *condition; /* NULL: none */
    const struct aws_ddb_name *names;
    size_t nnames;
    const struct aws_ddb_attr *values;
    size_t nvalues;
    bool old_on_condition_failure; /* ReturnValuesOnConditionCheckFailure=ALL_OLD */
};

struct aws_ddb_get {
    const char *table;
    const struct aws_ddb_attr *key;
    size_t nkey;
    bool consistent;
};

struct aws_ddb_update {
    const char *table;
    const struct aws_ddb_attr *key;
    size_t nkey;
    const char *update;
    const char *condition; /* NULL: none */
    const struct aws_ddb_name *names;
    size_t nnames;
    const struct aws_ddb_attr *values;
    size_t nvalues;
    enum aws_ddb_return ret;
    bool old_on_condition_failure;
};

struct aws_ddb_query {
    const char *table;
    const char *index; /* NULL: the table */
    const char *key_condition;
    const char *filter; /* NULL: none */
    const struct aws_ddb_name *names;
    size_t nnames;
    const struct aws_ddb_attr *values;
    size_t nvalues;
    int limit;                            /* 0: none */
    bool descending;                      /* ScanIndexForward=false */
    bool count_only;                      /* Select=COUNT */
    const struct aws_ddb_attr *start_key; /* ExclusiveStartKey, NULL: from the start */
    size_t nstart;
};

/* An item (or key) as DynamoDB returned it. Opaque; read with the accessors. */
struct aws_ddb_item;

/* A page of a Query. */
struct aws_ddb_page {
    struct aws_ddb_item **items; /* count of them (none with count_only) */
    size_t count;
    int64_t matched;               /* Count */
    struct aws_ddb_item *last_key; /* LastEvaluatedKey, NULL on the last page */
};

/* The S attribute `name` (len set when not NULL), or NULL when absent or not an S.
 * Borrowed from the item. */
const char *aws_ddb_item_s(const struct aws_ddb_item *it, const char *name, size_t *len);

/* The N attribute `name` as an integer into *out: 0, or -1 when absent, not an N, or not
 * an integer that fits. */
int aws_ddb_item_n(const struct aws_ddb_item *it, const char *name, int64_t *out);

/* True when the item has the attribute (any type). */
bool aws_ddb_item_has(const struct aws_ddb_item *it, const char *name);

/* An item from DynamoDB's JSON form of an attribute map ({"id":{"S":"..."},...}, what
 * GetItem's "Item" holds), for items kept as text and for tests. NULL when the text is not
 * a JSON object. */
struct aws_ddb_item *aws_ddb_item_parse(const char *json, size_t len);

/* Frees an item; accepts NULL. */
void aws_ddb_item_free(struct aws_ddb_item *it);

/* Frees a page's items and key and zeroes it; accepts NULL. */
void aws_ddb_page_destroy(struct aws_ddb_page *p);

/*
 * PutItem. With old_on_condition_failure, a ConditionalCheckFailedException hands the
 * item that failed the condition to *old (else *old is NULL). old may be NULL.
 */
int aws_ddb_put_item(struct aws_client *c, const struct aws_ddb_put *p, int64_t deadline_ms,
                     struct aws_ddb_item **old, struct aws_error *err);

/* GetItem: *item is the item, or NULL when there is none (still AWS_OK). */
int aws_ddb_get_item(struct aws_client *c, const struct aws_ddb_get *g, int64_t deadline_ms,
                     struct aws_ddb_item **item, struct aws_error *err);

/*
 * UpdateItem: *attrs receives the attributes ret asked for (NULL for NONE); with
 * old_on_condition_failure, a failed condition hands the item as it was to *attrs. attrs
 * may be NULL.
 */
int aws_ddb_update_item(struct aws_client *c, const struct aws_ddb_update *u, int64_t deadline_ms,
                        struct aws_ddb_item **attrs, struct aws_error *err);

/* Query: one page into *page (zeroed first; destroy it after, also on failure). */
int aws_ddb_query(struct aws_client *c, const struct aws_ddb_query *q, int64_t deadline_ms,
                  struct aws_ddb_page *page, struct aws_error *err);

#endif
