/*
 * partiql.h — the subset of PartiQL DynamoDB's ExecuteStatement accepts, on one table:
 *
 *   statement := SELECT projection FROM target [WHERE condition]
 *              | INSERT INTO target VALUE tuple
 *              | UPDATE target set-or-remove+ [WHERE condition] [RETURNING returning]
 *              | DELETE FROM target [WHERE condition] [RETURNING ALL OLD *]
 *   projection := '*' | path (',' path)*
 *   target     := name ['.' name]              -- "table" or "table"."index"
 *   name       := identifier | '"' chars '"'   -- "" inside quotes is one "
 *   set-or-remove := SET path '=' operand (',' path '=' operand)* | REMOVE path (',' path)*
 *   returning  := (ALL | MODIFIED) (OLD | NEW) '*'
 *   condition  := or; or := and (OR and)*; and := not (AND not)*; not := NOT not | predicate
 *   predicate  := operand (= | <> | != | < | <= | > | >=) operand
 *               | operand [NOT] BETWEEN operand AND operand
 *               | operand [NOT] IN ( '[' | '(' ) operand (',' operand)* ( ']' | ')' )
 *               | path IS [NOT] (MISSING | NULL)
 *               | function | '(' condition ')'
 *   operand    := path | value | function | operand ('+' | '-') operand | '(' operand ')'
 *   function   := begins_with | contains | attribute_type | size | list_append
 *                 '(' operand (',' operand)* ')'
 *   path       := name ('.' name | '[' digits ']')*
 *   value      := '?' | 'string' | number | TRUE | FALSE | NULL
 *               | '{' 'key' ':' value (',' …)* '}' | '[' value (',' …)* ']'
 *               | '<<' value (',' …)* '>>'
 *
 * Keywords in any case. A parsed statement is rendered as DynamoDB expression text with
 * #n name and :v value placeholders (ddb_pq_render), which the engine then runs as a Query,
 * Scan, GetItem, PutItem, UpdateItem or DeleteItem. Parse errors are DynamoDB's
 * ValidationException "Statement wasn't well formed, can't be processed: <reason>".
 * Pure functions; a parsed statement belongs to one caller.
 */
#ifndef HAAR_CLOUD_DYNAMODB_PARTIQL_H
#define HAAR_CLOUD_DYNAMODB_PARTIQL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cloud/dynamodb/error.h"
#include "core/buf.h"

#define DDB_PQ_MAX_TEXT  8192
#define DDB_PQ_MAX_DEPTH 64

enum ddb_pq_verb { DDB_PQ_SELECT, DDB_PQ_INSERT, DDB_PQ_UPDATE, DDB_PQ_DELETE };

enum ddb_pq_returning {
    DDB_PQ_RET_NONE,
    DDB_PQ_RET_ALL_OLD,
    DDB_PQ_RET_ALL_NEW,
    DDB_PQ_RET_MODIFIED_OLD,
    DDB_PQ_RET_MODIFIED_NEW,
};

struct ddb_pq;      /* a parsed statement */
struct ddb_pq_node; /* a node of its WHERE condition */

/*
 * Parses len bytes of text. Returns a new statement (free with ddb_pq_free) or NULL with a
 * DDB_VALIDATION error in err. Parameters ('?') are numbered from 0 in text order.
 */
struct ddb_pq *ddb_pq_parse(const char *text, size_t len, struct ddb_err *err);

void ddb_pq_free(struct ddb_pq *q);

enum ddb_pq_verb ddb_pq_verb(const struct ddb_pq *q);
const char *ddb_pq_table(const struct ddb_pq *q);
const char *ddb_pq_index(const struct ddb_pq *q); /* NULL when none */
size_t ddb_pq_params(const struct ddb_pq *q);     /* how many '?' */
enum ddb_pq_returning ddb_pq_returning(const struct ddb_pq *q);
bool ddb_pq_select_all(const struct ddb_pq *q); /* SELECT * */

/* The rendering context: placeholders collected while rendering. */
struct ddb_pq_render {
    const json_t *params; /* the request's Parameters (AttributeValues), or NULL */
    json_t *names;        /* "#n0" -> "attr" (created on use) */
    json_t *values;       /* ":v0" -> AttributeValue (created on use) */
    int nnames, nvalues;
    const char *watch[2]; /* attribute names to notice (NULL: none) */
    bool watched;         /* a rendered path started at a watched name */
};

/*
 * The WHERE condition split for a key lookup: the top-level AND terms of the form
 * `key = value` for the attributes named in keys (up to 2, range key second), and for the
 * range key also <, <=, >, >=, BETWEEN and begins_with. found[i] tells which were found;
 * key_expr receives the key condition text, rest the remaining condition text ("" when
 * none), and key_values the equality values (AttributeValues, owned by the caller; may be
 * NULL when only an equality on keys[i] counts). Returns 0 or -1 with err set (a value that
 * cannot be rendered, e.g. a missing parameter).
 */
int ddb_pq_split_where(const struct ddb_pq *q, const char *const keys[2], bool range_ops,
                       struct ddb_pq_render *rc, struct buf *key_expr, struct buf *rest,
                       bool found[2], json_t *key_values[2], struct ddb_err *err);

/* The projection as ProjectionExpression text (empty for '*'). */
int ddb_pq_render_projection(const struct ddb_pq *q, struct ddb_pq_render *rc, struct buf *out,
                             struct ddb_err *err);

/* INSERT's tuple as an Item (a JSON object of AttributeValues; new reference). */
json_t *ddb_pq_insert_item(const struct ddb_pq *q, struct ddb_pq_render *rc, struct ddb_err *err);

/* UPDATE's SET / REMOVE clauses as UpdateExpression text. */
int ddb_pq_render_update(const struct ddb_pq *q, struct ddb_pq_render *rc, struct buf *out,
                         struct ddb_err *err);

void ddb_pq_render_init(struct ddb_pq_render *rc, const json_t *params);
void ddb_pq_render_destroy(struct ddb_pq_render *rc);

#endif
