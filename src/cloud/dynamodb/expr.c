/*
 * expr.c — expressions, front half: the request's substitution maps, the lexer, the
 * recursive-descent parser of every expression kind, and DynamoDB's checks with its
 * messages and their order (see expr.h). Evaluation lives in expr_eval.c.
 */
#include "cloud/dynamodb/expr_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

static const char *const kind_names[] = {
    [DDB_EXPR_CONDITION] = "ConditionExpression",
    [DDB_EXPR_FILTER] = "FilterExpression",
    [DDB_EXPR_KEY_CONDITION] = "KeyConditionExpression",
    [DDB_EXPR_UPDATE] = "UpdateExpression",
    [DDB_EXPR_PROJECTION] = "ProjectionExpression",
};

const char *ddb_expr_kind_name(enum ddb_expr_kind kind)
{
    return (unsigned)kind <= DDB_EXPR_PROJECTION ? kind_names[kind] : "Expression";
}

/* ---- substitution maps ---- */

struct pname {
    char *key;
    char *val;
    size_t val_len;
    bool used;
};

struct pval {
    char *key;
    struct ddb_value v;
    bool used;
};

struct ddb_expr_params {
    struct pname *names;
    size_t nnames;
    struct pval *vals;
    size_t nvals;
};

void ddb_expr_params_free(struct ddb_expr_params *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nnames; i++) {
        free(p->names[i].key);
        free(p->names[i].val);
    }
    for (size_t i = 0; i < p->nvals; i++) {
        free(p->vals[i].key);
        ddb_value_destroy(&p->vals[i].v);
    }
    free(p->names);
    free(p->vals);
    free(p);
}

static bool is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* "#x" / ":x" keys: the sigil and one or more [A-Za-z0-9_]. */
static bool valid_key(const char *k, char sigil)
{
    if (k[0] != sigil || k[1] == '\0')
        return false;
    for (const char *c = k + 1; *c; c++)
        if (!is_word_char(*c))
            return false;
    return true;
}

/* "<member> contains invalid key: Syntax error; key: "<k>"" unless k is a valid key. */
static bool bad_key(const char *k, char sigil, const char *member, struct ddb_err *err)
{
    if (valid_key(k, sigil))
        return false;
    ddb_err_set(err, ERR_DDB_VALIDATION, "%s contains invalid key: Syntax error; key: \"%s\"",
                member, k);
    return true;
}

static bool empty_set_message(const char *m)
{
    return strstr(m, "set  may not be empty") != NULL ||
           strstr(m, "Binary sets should not be empty") != NULL;
}

struct ddb_expr_params *ddb_expr_params_new(const json_t *names, const json_t *values,
                                            struct ddb_err *err)
{
    struct ddb_expr_params *p = calloc(1, sizeof *p);
    if (p == NULL) {
        ddb_err_set(err, ERR_INTERNAL, "The request processing has failed.");
        return NULL;
    }
    const char *k;
    const json_t *v;
    if (names != NULL && !json_is_null(names)) {
        if (!json_is_object(names)) { /* Coral's "Expected map or null" and the like */
            ddb_item_check_json(names, err);
            goto fail;
        }
        json_object_foreach((json_t *)names, k, v)
        {
            if (ddb_json_check_string(v, err) != 0)
                goto fail;
        }
        if (json_object_size(names) == 0) {
            ddb_err_set(err, ERR_DDB_VALIDATION, "ExpressionAttributeNames must not be empty");
            goto fail;
        }
        p->names = calloc(json_object_size(names), sizeof *p->names);
        if (p->names == NULL)
            goto oom;
        json_object_foreach((json_t *)names, k, v)
        {
            if (bad_key(k, '#', "ExpressionAttributeNames", err))
                goto fail;
            if (json_string_length(v) == 0) {
                ddb_err_set(err, ERR_DDB_VALIDATION,
                            "ExpressionAttributeNames contains invalid value: Empty attribute name "
                            "for key %s",
                            k);
                goto fail;
            }
            struct pname *n = &p->names[p->nnames++];
            n->key = strdup(k);
            n->val_len = json_is_string(v) ? json_string_length(v) : 0;
            n->val = malloc(n->val_len + 1);
            if (n->key == NULL || n->val == NULL)
                goto oom;
            if (n->val_len > 0)
                memcpy(n->val, json_string_value(v), n->val_len);
            n->val[n->val_len] = '\0';
        }
    }
    if (values != NULL && !json_is_null(values)) {
        if (ddb_item_check_json(values, err) != 0)
            goto fail;
        if (json_object_size(values) == 0) {
            ddb_err_set(err, ERR_DDB_VALIDATION, "ExpressionAttributeValues must not be empty");
            goto fail;
        }
        json_object_foreach((json_t *)values, k, v)
        {
            if (bad_key(k, ':', "ExpressionAttributeValues", err))
                goto fail;
        }
        p->vals = calloc(json_object_size(values), sizeof *p->vals);
        if (p->vals == NULL)
            goto oom;
        json_object_foreach((json_t *)values, k, v)
        {
            struct pval *pv = &p->vals[p->nvals++];
            pv->key = strdup(k);
            if (pv->key == NULL)
                goto oom;
            struct ddb_err verr;
            ddb_err_init(&verr);
            if (ddb_value_from_json(v, &pv->v, &verr) != 0) {
                const char *m = ddb_err_msg(&verr);
                if (verr.code != ERR_DDB_VALIDATION)
                    ddb_err_set(err, verr.code, "%s", m);
                else if (empty_set_message(m))
                    ddb_err_set(err, ERR_DDB_VALIDATION,
                                "ExpressionAttributeValues contains invalid value: %s", m);
                else
                    ddb_err_set(err, ERR_DDB_VALIDATION,
                                "ExpressionAttributeValues contains invalid value: %s for key %s",
                                m, k);
                ddb_err_clear(&verr);
                goto fail;
            }
        }
    }
    return p;
oom:
    ddb_err_set(err, ERR_INTERNAL, "The request processing has failed.");
fail:
    ddb_expr_params_free(p);
    return NULL;
}

int ddb_expr_params_check_unused(const struct ddb_expr_params *p, struct ddb_err *err)
{
    if (p == NULL)
        return 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t n = pass == 0 ? p->nnames : p->nvals;
        struct buf b;
        buf_init(&b, (size_t)1 << 20);
        for (size_t i = 0; i < n; i++) {
            bool used = pass == 0 ? p->names[i].used : p->vals[i].used;
            const char *key = pass == 0 ? p->names[i].key : p->vals[i].key;
            if (used)
                continue;
            if (b.len > 0)
                buf_puts(&b, ", ");
            buf_puts(&b, key);
        }
        if (b.len > 0) {
            ddb_err_set(err, ERR_DDB_VALIDATION,
                        "Value provided in %s unused in expressions: keys: {%s}",
                        pass == 0 ? "ExpressionAttributeNames" : "ExpressionAttributeValues",
                        b.data);
            buf_destroy(&b);
            return -1;
        }
        buf_destroy(&b);
    }
    return 0;
}

/* ---- lexer ---- */

enum tok_kind {
    T_EOF,
    T_IDENT,
    T_NAME,  /* #x */
    T_VALUE, /* :x */
    T_NUMBER,
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_COMMA,
    T_DOT,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_PLUS,
    T_MINUS,
    T_BAD,
};

struct tok {
    uint8_t kind;
    uint32_t at, len;
};

/* Error categories found after a successful parse, in the order each kind reports them. */
enum cat {
    CAT_PARENS,
    CAT_UNKNOWN_FUNC,
    CAT_MISUSED_FUNC,
    CAT_RESERVED,
    CAT_SECTION,
    CAT_UNDEF_NAME,
    CAT_UNDEF_VALUE,
    CAT_OVERLAP,
    CAT_CONFLICT,
    CAT_ADD_OPERAND,
    CAT_OPERAND_COUNT,
    CAT_DISTINCT,
    CAT_FUNCTION,
    CAT__COUNT,
};

static const enum cat order_condition[] = {
    CAT_PARENS,      CAT_UNKNOWN_FUNC,  CAT_MISUSED_FUNC, CAT_RESERVED,
    CAT_UNDEF_NAME,  CAT_OPERAND_COUNT, CAT_DISTINCT,     CAT_FUNCTION,
};
static const enum cat order_update[] = {
    CAT_RESERVED, CAT_UNKNOWN_FUNC, CAT_SECTION,     CAT_UNDEF_NAME, CAT_UNDEF_VALUE,
    CAT_OVERLAP,  CAT_CONFLICT,     CAT_ADD_OPERAND, CAT_FUNCTION,
};
static const enum cat order_projection[] = {CAT_RESERVED, CAT_UNDEF_NAME, CAT_OVERLAP,
                                            CAT_CONFLICT};

struct parser {
    const char *src;
    size_t len;
    struct tok *toks;
    uint32_t ntoks;
    uint32_t pos;
    enum ddb_expr_kind kind;
    struct ddb_expr *e;
    struct ddb_expr_params *params;
    int ops;           /* operators so far */
    bool no_limits;    /* compiling a translation of legacy parameters */
    int depth;         /* open parentheses being parsed */
    bool failed;       /* a syntax error at err_tok */
    uint32_t err_tok;
    char *fatal;       /* a limit reached: reported at once */
    bool oom;
    char *sem[CAT__COUNT];
    uint32_t sem_tok[CAT__COUNT];
    bool sections[4];
};

/* The token of each punctuation character ('<' and '>' may take a second one). */
static const uint8_t puncts[128] = {
    ['('] = T_LPAREN, [')'] = T_RPAREN, ['['] = T_LBRACK, [']'] = T_RBRACK,
    [','] = T_COMMA,  ['.'] = T_DOT,    ['='] = T_EQ,     ['+'] = T_PLUS,
    ['-'] = T_MINUS,  ['<'] = T_LT,     ['>'] = T_GT,
};

static bool lex(struct parser *P)
{
    size_t cap = P->len + 1;
    P->toks = calloc(cap, sizeof *P->toks);
    if (P->toks == NULL)
        return false;
    const char *s = P->src;
    size_t i = 0, n = P->len;
    while (i < n) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            i++;
            continue;
        }
        struct tok *t = &P->toks[P->ntoks++];
        t->at = (uint32_t)i;
        size_t j = i + 1;
        if (isalpha((unsigned char)c)) {
            t->kind = T_IDENT;
            while (j < n && is_word_char(s[j]))
                j++;
        } else if (isdigit((unsigned char)c)) {
            t->kind = T_NUMBER;
            while (j < n && isdigit((unsigned char)s[j]))
                j++;
        } else if ((c == '#' || c == ':') && j < n && is_word_char(s[j])) {
            t->kind = c == '#' ? T_NAME : T_VALUE;
            while (j < n && is_word_char(s[j]))
                j++;
        } else if ((unsigned char)c < sizeof puncts && puncts[(unsigned char)c] != T_EOF) {
            t->kind = puncts[(unsigned char)c];
            if (t->kind == T_LT && j < n && (s[j] == '=' || s[j] == '>')) {
                t->kind = s[j] == '=' ? T_LE : T_NE;
                j++;
            } else if (t->kind == T_GT && j < n && s[j] == '=') {
                t->kind = T_GE;
                j++;
            }
        } else {
            t->kind = T_BAD;
            size_t k =
                (unsigned char)c >= 0x80 ? utf8_seq_len((const unsigned char *)s + i, n - i) : 1;
            j = i + (k ? k : 1);
        }
        t->len = (uint32_t)(j - i);
        i = j;
    }
    struct tok *eof = &P->toks[P->ntoks];
    eof->kind = T_EOF;
    eof->at = (uint32_t)n;
    eof->len = 0;
    return true;
}

/* ---- parser helpers ---- */

static const struct tok *peek(const struct parser *P)
{
    return &P->toks[P->pos];
}

static bool tok_is(const struct parser *P, const struct tok *t, const char *word)
{
    size_t wl = strlen(word);
    return t->kind == T_IDENT && t->len == wl && strncasecmp(P->src + t->at, word, wl) == 0;
}

static bool at_word(const struct parser *P, const char *word)
{
    return tok_is(P, peek(P), word);
}

/* The grammar's keywords for this kind (not usable as bare attribute names). */
static bool is_keyword(const struct parser *P, const struct tok *t)
{
    static const char *const cond[] = {"AND", "OR", "NOT", "BETWEEN", "IN"};
    static const char *const upd[] = {"SET", "REMOVE", "ADD", "DELETE"};
    if (P->kind == DDB_EXPR_PROJECTION)
        return false;
    const char *const *w = P->kind == DDB_EXPR_UPDATE ? upd : cond;
    size_t n = P->kind == DDB_EXPR_UPDATE ? 4 : 5;
    for (size_t i = 0; i < n; i++)
        if (tok_is(P, t, w[i]))
            return true;
    return false;
}

static int syntax(struct parser *P)
{
    if (!P->failed) {
        P->failed = true;
        P->err_tok = P->pos;
    }
    return -1;
}

/* Records the error that ends the compile (cut to 511 bytes), replacing an earlier one when
 * replace. */
static void vfatal(struct parser *P, bool replace, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void vfatal(struct parser *P, bool replace, const char *fmt, va_list ap)
{
    if (P->fatal != NULL && !replace)
        return;
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    free(P->fatal);
    P->fatal = strdup(buf);
    if (P->fatal == NULL)
        P->oom = true;
}

/* A limit reached: the first one is reported. */
static void set_fatal(struct parser *P, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_fatal(struct parser *P, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfatal(P, false, fmt, ap);
    va_end(ap);
}

/* Records an error of category c at token t, keeping the earliest one of each category. */
static void sem(struct parser *P, enum cat c, uint32_t t, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void sem(struct parser *P, enum cat c, uint32_t t, const char *fmt, ...)
{
    if (P->sem[c] != NULL && P->sem_tok[c] <= t)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *m = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (m == NULL) {
        P->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(m, (size_t)n + 1, fmt, ap);
    va_end(ap);
    free(P->sem[c]);
    P->sem[c] = m;
    P->sem_tok[c] = t;
}

static bool count_op(struct parser *P)
{
    if (++P->ops > DDB_EXPR_OPERATORS && !P->no_limits) {
        set_fatal(P, "The expression contains too many operators; operator count: %d", P->ops);
        return false;
    }
    return true;
}

/* More than this many open parentheses cannot all be needed (a meaningful group holds an
 * operator, and there are at most 300), so DynamoDB would refuse the text as redundant;
 * refusing early also bounds the parser's recursion. */
#define PAREN_DEPTH_MAX 400

static bool enter_paren(struct parser *P)
{
    if (++P->depth <= PAREN_DEPTH_MAX)
        return true;
    set_fatal(P, "The expression has redundant parentheses;");
    return false;
}

#define GROW(arr, n, cap)                                                                          \
    ((n) < (cap) ? true : grow_array((void **)&(arr), &(cap), sizeof *(arr)))

static bool grow_array(void **arr, uint32_t *cap, size_t elem)
{
    uint32_t ncap = *cap ? *cap * 2 : 8;
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (p == NULL)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

static int32_t new_node(struct parser *P, uint8_t kind, uint8_t op, int32_t tok)
{
    struct ddb_expr *e = P->e;
    if (!GROW(e->nodes, e->nnodes, e->cnodes)) {
        P->oom = true;
        return -1;
    }
    struct ddb_node *n = &e->nodes[e->nnodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->op = op;
    n->tok = tok;
    n->ref = -1;
    return (int32_t)e->nnodes++;
}

/* Attaches argument nodes (node indexes) to node. */
static bool set_args(struct parser *P, int32_t node, const int32_t *argv, uint16_t argc)
{
    struct ddb_expr *e = P->e;
    e->nodes[node].args = e->nargs;
    e->nodes[node].nargs = argc;
    for (uint16_t i = 0; i < argc; i++) {
        if (!GROW(e->args, e->nargs, e->cargs)) {
            P->oom = true;
            return false;
        }
        e->args[e->nargs++] = (uint32_t)argv[i];
    }
    return true;
}

static const struct ddb_node *node_at(const struct parser *P, int32_t i)
{
    return &P->e->nodes[i];
}

static int32_t arg_of(const struct parser *P, int32_t node, uint16_t i)
{
    return (int32_t)P->e->args[P->e->nodes[node].args + i];
}

/* A snapshot for backtracking. */
struct snap {
    uint32_t pos, nnodes, nargs, npaths, nelems, nvalues;
    int ops;
    bool failed;
};

static struct snap save(const struct parser *P)
{
    struct snap s = {P->pos,      P->e->nnodes,  P->e->nargs, P->e->npaths,
                     P->e->nelems, P->e->nvalues, P->ops,      P->failed};
    return s;
}

static void restore(struct parser *P, const struct snap *s)
{
    struct ddb_expr *e = P->e;
    for (uint32_t i = s->nelems; i < e->nelems; i++)
        free(e->elems[i].name);
    for (uint32_t i = s->nvalues; i < e->nvalues; i++)
        ddb_value_destroy(&e->values[i]);
    P->pos = s->pos;
    e->nnodes = s->nnodes;
    e->nargs = s->nargs;
    e->npaths = s->npaths;
    e->nelems = s->nelems;
    e->nvalues = s->nvalues;
    P->ops = s->ops;
    P->failed = s->failed;
}

/* ---- paths and values ---- */

static const char *name_lookup(struct parser *P, const char *key, size_t len, size_t *vlen)
{
    if (P->params == NULL)
        return NULL;
    for (size_t i = 0; i < P->params->nnames; i++) {
        struct pname *n = &P->params->names[i];
        if (strlen(n->key) == len && memcmp(n->key, key, len) == 0) {
            n->used = true;
            *vlen = n->val_len;
            return n->val;
        }
    }
    return NULL;
}

static const struct ddb_value *value_lookup(struct parser *P, const char *key, size_t len)
{
    if (P->params == NULL)
        return NULL;
    for (size_t i = 0; i < P->params->nvals; i++) {
        struct pval *v = &P->params->vals[i];
        if (strlen(v->key) == len && memcmp(v->key, key, len) == 0) {
            v->used = true;
            return &v->v;
        }
    }
    return NULL;
}

static bool add_elem(struct parser *P, const char *name, size_t len, uint32_t index)
{
    struct ddb_expr *e = P->e;
    if (!GROW(e->elems, e->nelems, e->celems)) {
        P->oom = true;
        return false;
    }
    struct ddb_path_elem *el = &e->elems[e->nelems];
    el->name = NULL;
    el->len = (uint32_t)len;
    el->index = index;
    if (name != NULL) {
        el->name = malloc(len + 1);
        if (el->name == NULL) {
            P->oom = true;
            return false;
        }
        memcpy(el->name, name, len);
        el->name[len] = '\0';
    }
    e->nelems++;
    return true;
}

/* One name element (an identifier or #name) at the current token. */
static bool path_name(struct parser *P, struct ddb_path *path)
{
    const struct tok *t = peek(P);
    uint32_t ti = P->pos;
    const char *s = P->src + t->at;
    if (t->kind == T_IDENT && !is_keyword(P, t)) {
        if (ddb_reserved_word(s, t->len))
            sem(P, CAT_RESERVED, ti, "Attribute name is a reserved keyword; reserved keyword: %.*s",
                (int)t->len, s);
        P->pos++;
        return add_elem(P, s, t->len, 0);
    }
    if (t->kind == T_NAME) {
        size_t vlen = 0;
        const char *v = name_lookup(P, s, t->len, &vlen);
        P->pos++;
        if (v == NULL) {
            sem(P, CAT_UNDEF_NAME, ti,
                "An expression attribute name used in the document path is not defined; "
                "attribute name: %.*s",
                (int)t->len, s);
            path->resolved = false;
            return add_elem(P, "", 0, 0);
        }
        return add_elem(P, v, vlen, 0);
    }
    syntax(P);
    return false;
}

/* path := element ( '.' element | '[' digits ']' )*. Returns a DDB_N_PATH node. */
static int32_t parse_path(struct parser *P)
{
    struct ddb_expr *e = P->e;
    int32_t tok = (int32_t)P->pos;
    struct ddb_path path = {.first = e->nelems, .n = 0, .target = false, .resolved = true};
    if (!path_name(P, &path))
        return -1;
    path.n = 1;
    for (;;) {
        const struct tok *t = peek(P);
        if (t->kind == T_DOT) {
            P->pos++;
            if (!path_name(P, &path))
                return -1;
        } else if (t->kind == T_LBRACK) {
            P->pos++;
            const struct tok *num = peek(P);
            if (num->kind != T_NUMBER)
                return syntax(P);
            unsigned long long idx = 0;
            for (uint32_t i = 0; i < num->len; i++) {
                idx = idx * 10 + (unsigned)(P->src[num->at + i] - '0');
                if (idx > UINT32_MAX)
                    return syntax(P);
            }
            P->pos++;
            if (peek(P)->kind != T_RBRACK)
                return syntax(P);
            P->pos++;
            if (!add_elem(P, NULL, 0, (uint32_t)idx))
                return -1;
        } else {
            break;
        }
        path.n++;
    }
    if (path.n > DDB_EXPR_PATH_DEPTH) {
        set_fatal(P, "The document path has too many nesting levels; nesting levels: %u", path.n);
        return -1;
    }
    if (!GROW(e->paths, e->npaths, e->cpaths)) {
        P->oom = true;
        return -1;
    }
    e->paths[e->npaths] = path;
    int32_t n = new_node(P, DDB_N_PATH, 0, tok);
    if (n < 0)
        return -1;
    e->nodes[n].ref = (int32_t)e->npaths++;
    return n;
}

static int32_t parse_value(struct parser *P)
{
    const struct tok *t = peek(P);
    uint32_t ti = P->pos;
    if (t->kind != T_VALUE)
        return syntax(P);
    P->pos++;
    struct ddb_expr *e = P->e;
    const struct ddb_value *v = value_lookup(P, P->src + t->at, t->len);
    int32_t n = new_node(P, DDB_N_VALUE, 0, (int32_t)ti);
    if (n < 0)
        return -1;
    if (v == NULL) {
        sem(P, P->kind == DDB_EXPR_UPDATE ? CAT_UNDEF_VALUE : CAT_UNDEF_NAME, ti,
            "An expression attribute value used in expression is not defined; attribute value: "
            "%.*s",
            (int)t->len, P->src + t->at);
        return n; /* ref stays -1: never evaluated, the compile fails */
    }
    if (!GROW(e->values, e->nvalues, e->cvalues) || ddb_value_copy(&e->values[e->nvalues], v)) {
        P->oom = true;
        return -1;
    }
    e->nodes[n].ref = (int32_t)e->nvalues++;
    return n;
}

/* ---- types of operands known at compile time ---- */

/* The type a node is known to have before evaluation (a constant, a function's result),
 * or DDB_NONE when it depends on the item. immediate: constants only. */
static enum ddb_type known_type(const struct parser *P, int32_t node, bool immediate)
{
    const struct ddb_node *n = node_at(P, node);
    if (n->kind == DDB_N_VALUE)
        return n->ref >= 0 ? (enum ddb_type)P->e->values[n->ref].type : DDB_NONE;
    if (immediate)
        return DDB_NONE;
    if (n->kind == DDB_N_PLUS || n->kind == DDB_N_MINUS)
        return DDB_N;
    if (n->kind != DDB_N_FUNC)
        return DDB_NONE;
    switch (n->op) {
    case DDB_F_SIZE:
        return DDB_N;
    case DDB_F_LIST_APPEND:
        return DDB_L;
    case DDB_F_IF_NOT_EXISTS:
        return n->nargs == 2 ? known_type(P, arg_of(P, node, 1), false) : DDB_NONE;
    case DDB_F_ATTRIBUTE_EXISTS:
    case DDB_F_ATTRIBUTE_NOT_EXISTS:
    case DDB_F_ATTRIBUTE_TYPE:
    case DDB_F_BEGINS_WITH:
    case DDB_F_CONTAINS:
        return DDB_BOOL;
    default:
        return DDB_NONE;
    }
}

static const char *func_name(const struct parser *P, const struct ddb_node *n, int *len)
{
    const struct tok *t = &P->toks[n->tok];
    *len = (int)t->len;
    return P->src + t->at;
}

static const struct ddb_path *path_of(const struct parser *P, int32_t node)
{
    const struct ddb_node *n = node_at(P, node);
    return n->kind == DDB_N_PATH ? &P->e->paths[n->ref] : NULL;
}

/* "The first operand must be distinct…" when both operands are the same path. */
static void check_distinct(struct parser *P, int32_t a, int32_t b, const char *op, int oplen,
                           uint32_t tok)
{
    const struct ddb_path *x = path_of(P, a), *y = path_of(P, b);
    if (x == NULL || y == NULL || !x->resolved || !y->resolved || x->n != y->n ||
        ddb__path_cmp(P->e, x, y) != 0)
        return;
    struct buf b2;
    buf_init(&b2, 1 << 20);
    ddb__path_render(P->e, x, &b2);
    sem(P, CAT_DISTINCT, tok,
        "The first operand must be distinct from the remaining operands for this operator or "
        "function; operator: %.*s, first operand: %s",
        oplen, op, b2.data ? b2.data : "[]");
    buf_destroy(&b2);
}

/* "The function is not allowed to be used this way" for function node n. */
static void misused(struct parser *P, const struct ddb_node *n)
{
    int len;
    const char *name = func_name(P, n, &len);
    sem(P, CAT_MISUSED_FUNC, (uint32_t)n->tok,
        "The function is not allowed to be used this way in an expression; function: %.*s", len,
        name);
}

/* A function other than size() used where an operand is expected. */
static void check_misused(struct parser *P, int32_t node)
{
    const struct ddb_node *n = node_at(P, node);
    if (n->kind == DDB_N_FUNC && n->op != DDB_F_SIZE && n->op != DDB_F_UNKNOWN)
        misused(P, n);
}

/* size() (or any non-boolean) used where a condition is expected. */
static void check_condition_use(struct parser *P, int32_t node)
{
    const struct ddb_node *n = node_at(P, node);
    if (n->kind == DDB_N_FUNC && n->op == DDB_F_SIZE)
        misused(P, n);
}

static void operand_type_error(struct parser *P, enum cat c, uint32_t tok, const char *op,
                               int oplen, const char *type)
{
    sem(P, c, tok,
        "Incorrect operand type for operator or function; operator or function: %.*s, operand "
        "type: %s",
        oplen, op, type);
}

struct func_info {
    const char *name;
    enum ddb_func id;
    int nargs;
    bool update; /* an update function (else a condition function) */
};

static const struct func_info funcs[] = {
    {"attribute_exists", DDB_F_ATTRIBUTE_EXISTS, 1, false},
    {"attribute_not_exists", DDB_F_ATTRIBUTE_NOT_EXISTS, 1, false},
    {"attribute_type", DDB_F_ATTRIBUTE_TYPE, 2, false},
    {"begins_with", DDB_F_BEGINS_WITH, 2, false},
    {"contains", DDB_F_CONTAINS, 2, false},
    {"size", DDB_F_SIZE, 1, false},
    {"if_not_exists", DDB_F_IF_NOT_EXISTS, 2, true},
    {"list_append", DDB_F_LIST_APPEND, 2, true},
};

static const struct func_info *func_lookup(const char *s, size_t len, bool update)
{
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
        if (funcs[i].update == update && strlen(funcs[i].name) == len &&
            memcmp(funcs[i].name, s, len) == 0)
            return &funcs[i];
    return NULL;
}

/* The checks DynamoDB makes on a function call once its arguments are known. */
static void check_function(struct parser *P, int32_t node)
{
    const struct ddb_node *n = node_at(P, node);
    int len;
    const char *name = func_name(P, n, &len);
    uint32_t tok = (uint32_t)n->tok;
    const struct func_info *f = func_lookup(name, (size_t)len, P->kind == DDB_EXPR_UPDATE);
    if (f == NULL) {
        sem(P, CAT_UNKNOWN_FUNC, tok, "Invalid function name; function: %.*s", len, name);
        return;
    }
    P->e->nodes[node].op = (uint8_t)f->id;
    enum cat count_cat = P->kind == DDB_EXPR_UPDATE ? CAT_FUNCTION : CAT_OPERAND_COUNT;
    if (n->nargs != f->nargs) {
        sem(P, count_cat, tok,
            "Incorrect number of operands for operator or function; operator or function: %.*s, "
            "number of operands: %u",
            len, name, (unsigned)n->nargs);
        return;
    }
    if (!f->update) {
        for (uint16_t i = 0; i < n->nargs; i++)
            check_misused(P, arg_of(P, node, i));
        if (n->nargs == 2)
            check_distinct(P, arg_of(P, node, 0), arg_of(P, node, 1), name, len, tok);
    }
    enum ddb_type t;
    switch (f->id) {
    case DDB_F_ATTRIBUTE_EXISTS:
    case DDB_F_ATTRIBUTE_NOT_EXISTS:
    case DDB_F_IF_NOT_EXISTS:
        if (path_of(P, arg_of(P, node, 0)) == NULL)
            sem(P, CAT_FUNCTION, tok,
                "Operator or function requires a document path; operator or function: %.*s", len,
                name);
        break;
    case DDB_F_BEGINS_WITH:
        for (uint16_t i = 0; i < 2; i++) {
            t = known_type(P, arg_of(P, node, i), false);
            if (t != DDB_NONE && t != DDB_S && t != DDB_B) {
                operand_type_error(P, CAT_FUNCTION, tok, name, len, ddb_type_name(t));
                break;
            }
        }
        break;
    case DDB_F_ATTRIBUTE_TYPE: {
        int32_t a = arg_of(P, node, 1);
        t = known_type(P, a, false);
        if (t != DDB_S) {
            operand_type_error(P, CAT_FUNCTION, tok, name, len,
                               t == DDB_NONE ? "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"
                                             : ddb_type_name(t));
            break;
        }
        if (node_at(P, a)->kind == DDB_N_VALUE) {
            const struct ddb_value *v = &P->e->values[node_at(P, a)->ref];
            if (ddb_type_from_name(v->u.bytes, v->n) == DDB_NONE)
                sem(P, CAT_FUNCTION, tok,
                    "Invalid attribute type name found; type: %.*s, valid types: "
                    "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
                    (int)v->n, v->u.bytes);
        }
        break;
    }
    case DDB_F_SIZE:
        t = known_type(P, arg_of(P, node, 0), false);
        if (t == DDB_N || t == DDB_BOOL || t == DDB_NULL)
            operand_type_error(P, CAT_FUNCTION, tok, name, len, ddb_type_name(t));
        break;
    case DDB_F_LIST_APPEND:
        for (uint16_t i = 0; i < 2; i++) {
            t = known_type(P, arg_of(P, node, i), true);
            if (t != DDB_NONE && t != DDB_L) {
                operand_type_error(P, CAT_FUNCTION, tok, name, len, ddb_type_name(t));
                break;
            }
        }
        break;
    default:
        break;
    }
}

/* ---- operands ---- */

static int32_t parse_operand(struct parser *P);

/* name '(' operand (',' operand)* ')' */
static int32_t parse_call(struct parser *P, int32_t (*arg)(struct parser *))
{
    int32_t tok = (int32_t)P->pos;
    P->pos += 2; /* the name and '(' */
    if (!count_op(P))
        return -1;
    int32_t *argv = NULL;
    uint32_t argc = 0, cap = 0;
    int32_t n = -1;
    for (;;) {
        int32_t a = arg(P);
        if (a < 0)
            goto out;
        if (!GROW(argv, argc, cap)) {
            P->oom = true;
            goto out;
        }
        argv[argc++] = a;
        if (peek(P)->kind != T_COMMA)
            break;
        P->pos++;
    }
    if (peek(P)->kind != T_RPAREN) {
        syntax(P);
        goto out;
    }
    P->pos++;
    n = new_node(P, DDB_N_FUNC, DDB_F_UNKNOWN, tok);
    if (n < 0 || !set_args(P, n, argv, (uint16_t)argc)) {
        n = -1;
        goto out;
    }
    check_function(P, n);
out:
    free(argv);
    return n;
}

/* function | path | value */
static int32_t parse_atom(struct parser *P)
{
    const struct tok *t = peek(P);
    if (t->kind == T_IDENT && !is_keyword(P, t) && P->toks[P->pos + 1].kind == T_LPAREN)
        return parse_call(P, parse_operand);
    if (t->kind == T_VALUE)
        return parse_value(P);
    return parse_path(P);
}

static void mark_parens(struct parser *P, int32_t node, uint32_t tok)
{
    if (P->e->nodes[node].parens > 0)
        sem(P, CAT_PARENS, tok, "The expression has redundant parentheses;");
    if (P->e->nodes[node].parens < 255)
        P->e->nodes[node].parens++;
}

/* '(' inner ')' at the current token: inner's node, marked as parenthesised when mark. */
static int32_t parse_group(struct parser *P, int32_t (*inner)(struct parser *), bool mark)
{
    uint32_t open = P->pos++;
    if (!enter_paren(P))
        return -1;
    int32_t x = inner(P);
    P->depth--;
    if (x < 0)
        return -1;
    if (peek(P)->kind != T_RPAREN)
        return syntax(P);
    P->pos++;
    if (mark)
        mark_parens(P, x, open);
    return x;
}

/* operand := '(' operand ')' | atom */
static int32_t parse_operand(struct parser *P)
{
    if (peek(P)->kind != T_LPAREN)
        return parse_atom(P);
    return parse_group(P, parse_operand, true);
}

/* ---- conditions ---- */

static int32_t parse_or(struct parser *P);

static bool is_operand_node(const struct parser *P, int32_t node)
{
    uint8_t k = node_at(P, node)->kind;
    return k == DDB_N_PATH || k == DDB_N_VALUE || k == DDB_N_FUNC;
}

/* '(' operand ')' when that is what follows, else '(' condition ')', else an atom. */
static int32_t parse_primary(struct parser *P)
{
    if (peek(P)->kind != T_LPAREN)
        return parse_atom(P);
    struct snap s = save(P);
    int32_t x = parse_operand(P);
    if (x >= 0 && !P->failed && P->fatal == NULL)
        return x;
    if (P->fatal != NULL || P->oom)
        return -1;
    restore(P, &s);
    return parse_group(P, parse_or, true);
}

static int cmp_of(enum tok_kind k)
{
    switch (k) {
    case T_EQ:
        return DDB_EQ;
    case T_NE:
        return DDB_NE;
    case T_LT:
        return DDB_LT;
    case T_LE:
        return DDB_LE;
    case T_GT:
        return DDB_GT;
    case T_GE:
        return DDB_GE;
    default:
        return -1;
    }
}

/* Ordering comparisons and BETWEEN only take S, N and B constants. */
static void check_ordered(struct parser *P, int32_t node, uint32_t tok, const char *op, int oplen)
{
    enum ddb_type t = known_type(P, node, false);
    if (t != DDB_NONE && !ddb_type_is_scalar(t))
        operand_type_error(P, CAT_FUNCTION, tok, op, oplen, ddb_type_name(t));
}

static void render_av(struct buf *b, const struct ddb_value *v)
{
    char num[DDB_NUM_STR_MAX];
    buf_printf(b, "AttributeValue: {%s:", ddb_type_name(v->type));
    if (v->type == DDB_N) {
        ddb_num_format(&v->u.num, num);
        buf_puts(b, num);
    } else if (v->type == DDB_S) {
        buf_append(b, v->u.bytes, v->n);
    } else if (v->type == DDB_B) {
        buf_puts(b, "<binary>");
    }
    buf_puts(b, "}");
}

static void check_between(struct parser *P, int32_t lo, int32_t hi, uint32_t tok)
{
    const struct ddb_node *a = node_at(P, lo), *b = node_at(P, hi);
    check_ordered(P, lo, tok, "BETWEEN", 7);
    check_ordered(P, hi, tok, "BETWEEN", 7);
    if (a->kind != DDB_N_VALUE || b->kind != DDB_N_VALUE || a->ref < 0 || b->ref < 0)
        return;
    const struct ddb_value *x = &P->e->values[a->ref], *y = &P->e->values[b->ref];
    if (!ddb_type_is_scalar(x->type) || !ddb_type_is_scalar(y->type))
        return;
    const char *what = NULL;
    if (x->type != y->type)
        what = "The BETWEEN operator requires same data type for lower and upper bounds";
    else if (ddb_scalar_cmp(x, y) > 0)
        what = "The BETWEEN operator requires upper bound to be greater than or equal to lower "
               "bound";
    if (what == NULL)
        return;
    struct buf m;
    buf_init(&m, 1 << 20);
    buf_puts(&m, "; lower bound operand: ");
    render_av(&m, x);
    buf_puts(&m, ", upper bound operand: ");
    render_av(&m, y);
    sem(P, CAT_FUNCTION, tok, "%s%s", what, m.data ? m.data : "");
    buf_destroy(&m);
}

/* Takes the operator after x (which must be an operand), counting it. */
static bool take_operator(struct parser *P, int32_t x)
{
    if (!is_operand_node(P, x)) {
        syntax(P);
        return false;
    }
    if (!count_op(P))
        return false;
    P->pos++;
    return true;
}

static int32_t parse_compare(struct parser *P)
{
    int32_t x = parse_primary(P);
    if (x < 0)
        return -1;
    const struct tok *t = peek(P);
    uint32_t ti = P->pos;
    int c = cmp_of((enum tok_kind)t->kind);
    if (c >= 0) {
        if (!take_operator(P, x))
            return -1;
        int32_t y = parse_operand(P);
        if (y < 0)
            return -1;
        int32_t n = new_node(P, DDB_N_CMP, (uint8_t)c, (int32_t)ti);
        int32_t argv[2] = {x, y};
        if (n < 0 || !set_args(P, n, argv, 2))
            return -1;
        check_misused(P, x);
        check_misused(P, y);
        const char *op = P->src + t->at;
        check_distinct(P, x, y, op, (int)t->len, ti);
        if (c != DDB_EQ && c != DDB_NE) {
            check_ordered(P, x, ti, op, (int)t->len);
            check_ordered(P, y, ti, op, (int)t->len);
        }
        return n;
    }
    if (tok_is(P, t, "BETWEEN")) {
        if (!take_operator(P, x))
            return -1;
        int32_t lo = parse_operand(P);
        if (lo < 0)
            return -1;
        if (!at_word(P, "AND"))
            return syntax(P);
        P->pos++;
        int32_t hi = parse_operand(P);
        if (hi < 0)
            return -1;
        int32_t n = new_node(P, DDB_N_BETWEEN, 0, (int32_t)ti);
        int32_t argv[3] = {x, lo, hi};
        if (n < 0 || !set_args(P, n, argv, 3))
            return -1;
        for (int i = 0; i < 3; i++)
            check_misused(P, argv[i]);
        check_ordered(P, x, ti, "BETWEEN", 7);
        check_between(P, lo, hi, ti);
        return n;
    }
    if (tok_is(P, t, "IN")) {
        if (!take_operator(P, x))
            return -1;
        if (peek(P)->kind != T_LPAREN)
            return syntax(P);
        P->pos++;
        uint32_t cap = 0, argc = 0;
        int32_t *argv = NULL;
        if (!GROW(argv, argc, cap)) {
            P->oom = true;
            return -1;
        }
        argv[argc++] = x;
        unsigned total = 0;
        for (;;) {
            int32_t a = parse_operand(P);
            if (a < 0) {
                free(argv);
                return -1;
            }
            total++;
            if (!GROW(argv, argc, cap)) {
                P->oom = true;
                free(argv);
                return -1;
            }
            argv[argc++] = a;
            if (peek(P)->kind != T_COMMA)
                break;
            P->pos++;
        }
        int32_t n = -1;
        if (peek(P)->kind != T_RPAREN) {
            syntax(P);
        } else if (P->pos++, total > DDB_EXPR_IN_MAX && !P->no_limits) {
            set_fatal(P,
                      "The IN operator is provided with too many operands; number of operands: %u",
                      total);
        } else if (argc > UINT16_MAX) {
            set_fatal(P, "The IN operator is provided with too many operands");
        } else {
            n = new_node(P, DDB_N_IN, 0, (int32_t)ti);
            if (n >= 0 && !set_args(P, n, argv, (uint16_t)argc))
                n = -1;
            for (uint32_t i = 0; n >= 0 && i < argc; i++)
                check_misused(P, argv[i]);
        }
        free(argv);
        return n;
    }
    uint8_t k = node_at(P, x)->kind;
    if (k == DDB_N_PATH || k == DDB_N_VALUE) /* an operand where a condition must be */
        return syntax(P);
    return x;
}

static int32_t parse_not(struct parser *P)
{
    if (!at_word(P, "NOT"))
        return parse_compare(P);
    int32_t tok = (int32_t)P->pos++;
    if (!count_op(P))
        return -1;
    int32_t x = parse_not(P);
    if (x < 0)
        return -1;
    check_condition_use(P, x);
    int32_t n = new_node(P, DDB_N_NOT, 0, tok);
    if (n < 0 || !set_args(P, n, &x, 1))
        return -1;
    return n;
}

static int32_t parse_binary(struct parser *P, const char *word, uint8_t kind,
                            int32_t (*next)(struct parser *))
{
    int32_t l = next(P);
    if (l < 0)
        return -1;
    while (at_word(P, word)) {
        int32_t tok = (int32_t)P->pos++;
        if (!count_op(P))
            return -1;
        int32_t r = next(P);
        if (r < 0)
            return -1;
        check_condition_use(P, l);
        check_condition_use(P, r);
        int32_t n = new_node(P, kind, 0, tok);
        int32_t argv[2] = {l, r};
        if (n < 0 || !set_args(P, n, argv, 2))
            return -1;
        l = n;
    }
    return l;
}

static int32_t parse_and(struct parser *P)
{
    return parse_binary(P, "AND", DDB_N_AND, parse_not);
}

static int32_t parse_or(struct parser *P)
{
    return parse_binary(P, "OR", DDB_N_OR, parse_and);
}

/* ---- key conditions ---- */

static int key_error(struct parser *P, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int key_error(struct parser *P, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfatal(P, true, fmt, ap);
    va_end(ap);
    return -1;
}

/* The shape rules of a KeyConditionExpression, DynamoDB's messages (not prefixed). */
static int key_walk(struct parser *P, int32_t node)
{
    struct ddb_expr *e = P->e;
    const struct ddb_node *n = node_at(P, node);
    switch (n->kind) {
    case DDB_N_OR:
        return key_error(P, "Invalid operator used in KeyConditionExpression: OR");
    case DDB_N_NOT:
        return key_error(P, "Invalid operator used in KeyConditionExpression: NOT");
    case DDB_N_IN:
        return key_error(P, "Invalid operator used in KeyConditionExpression: IN");
    case DDB_N_AND:
        if (key_walk(P, arg_of(P, node, 0)) != 0)
            return -1;
        return key_walk(P, arg_of(P, node, 1));
    case DDB_N_CMP:
        if (n->op == DDB_NE)
            return key_error(P, "Invalid operator used in KeyConditionExpression: <>");
        break;
    case DDB_N_FUNC: {
        int len;
        const char *name = func_name(P, n, &len);
        if (n->op == DDB_F_SIZE)
            return key_error(P, "KeyConditionExpressions cannot contain nested operations");
        if (n->op != DDB_F_BEGINS_WITH)
            return key_error(P, "Invalid operator used in KeyConditionExpression: %.*s", len,
                             name);
        if (path_of(P, arg_of(P, node, 0)) == NULL)
            return key_error(P,
                             "Invalid condition in KeyConditionExpression: %.*s operator must "
                             "have the key attribute as its first operand",
                             len, name);
        break;
    }
    case DDB_N_BETWEEN:
        if (path_of(P, arg_of(P, node, 0)) == NULL)
            return key_error(P, "Invalid condition in KeyConditionExpression: BETWEEN operator "
                                "must have the key attribute as its first operand");
        break;
    default:
        return key_error(P, "Invalid condition in KeyConditionExpression: No key attribute "
                            "specified");
    }
    /* one attribute, not nested, compared with values */
    int32_t attr = -1, attr_ix = 0;
    for (uint16_t i = 0; i < n->nargs; i++) {
        int32_t a = arg_of(P, node, i);
        const struct ddb_node *an = node_at(P, a);
        if (an->kind == DDB_N_PATH) {
            if (attr >= 0)
                return key_error(P, "Invalid condition in KeyConditionExpression: Multiple "
                                    "attribute names used in one condition");
            if (e->paths[an->ref].n > 1)
                return key_error(P,
                                 "KeyConditionExpressions cannot have conditions on nested "
                                 "attributes");
            attr = an->ref;
            attr_ix = i;
        } else if (an->kind == DDB_N_FUNC) {
            return key_error(P, "KeyConditionExpressions cannot contain nested operations");
        }
    }
    if (attr < 0)
        return key_error(P,
                         "Invalid condition in KeyConditionExpression: No key attribute specified");
    const struct ddb_path_elem *name = ddb__elem(e, &e->paths[attr], 0);
    for (uint32_t k = 0; k < e->nkey; k++) {
        const struct ddb_path_elem *other = ddb__elem(e, &e->paths[e->key[k].path], 0);
        if (other->len == name->len && memcmp(other->name, name->name, name->len) == 0)
            return key_error(P, "KeyConditionExpressions must only contain one condition per key");
    }
    if (e->nkey == 2)
        return key_error(P, "Query key condition not supported");
    struct ddb_key_part *kp = &e->key[e->nkey++];
    kp->path = (uint32_t)attr;
    kp->v2 = -1;
    if (n->kind == DDB_N_FUNC) {
        kp->op = DDB_KEY_BEGINS_WITH;
        kp->v1 = node_at(P, arg_of(P, node, 1))->ref;
    } else if (n->kind == DDB_N_BETWEEN) {
        kp->op = DDB_KEY_BETWEEN;
        kp->v1 = node_at(P, arg_of(P, node, 1))->ref;
        kp->v2 = node_at(P, arg_of(P, node, 2))->ref;
    } else {
        static const uint8_t ops[] = {[DDB_EQ] = DDB_KEY_EQ, [DDB_LT] = DDB_KEY_LT,
                                      [DDB_LE] = DDB_KEY_LE, [DDB_GT] = DDB_KEY_GT,
                                      [DDB_GE] = DDB_KEY_GE};
        /* ":v < key" is "key > :v" */
        static const uint8_t flipped[] = {[DDB_EQ] = DDB_KEY_EQ, [DDB_LT] = DDB_KEY_GT,
                                          [DDB_LE] = DDB_KEY_GE, [DDB_GT] = DDB_KEY_LT,
                                          [DDB_GE] = DDB_KEY_LE};
        kp->op = attr_ix == 0 ? ops[n->op] : flipped[n->op];
        kp->v1 = node_at(P, arg_of(P, node, attr_ix == 0 ? 1 : 0))->ref;
    }
    return 0;
}

/* ---- updates ---- */

static int32_t parse_set_operand(struct parser *P);

/* set-operand := '(' set-operand ')' | function | path | value */
static int32_t parse_set_operand(struct parser *P)
{
    const struct tok *t = peek(P);
    if (t->kind == T_LPAREN)
        return parse_group(P, parse_set_operand, false);
    if (t->kind == T_IDENT && !is_keyword(P, t) && P->toks[P->pos + 1].kind == T_LPAREN)
        return parse_call(P, parse_set_operand);
    if (t->kind == T_VALUE)
        return parse_value(P);
    return parse_path(P);
}

static int32_t parse_set_value(struct parser *P)
{
    if (peek(P)->kind == T_LPAREN) {
        struct snap s = save(P);
        P->pos++;
        if (!enter_paren(P))
            return -1;
        int32_t x = parse_set_value(P);
        P->depth--;
        if (x >= 0 && peek(P)->kind == T_RPAREN) {
            P->pos++;
            enum tok_kind k = (enum tok_kind)peek(P)->kind;
            if (k != T_PLUS && k != T_MINUS)
                return x;
        }
        if (P->fatal != NULL || P->oom)
            return -1;
        restore(P, &s);
    }
    int32_t a = parse_set_operand(P);
    if (a < 0)
        return -1;
    const struct tok *t = peek(P);
    if (t->kind != T_PLUS && t->kind != T_MINUS)
        return a;
    int32_t tok = (int32_t)P->pos++;
    if (!count_op(P))
        return -1;
    int32_t b = parse_set_operand(P);
    if (b < 0)
        return -1;
    int32_t n = new_node(P, t->kind == T_PLUS ? DDB_N_PLUS : DDB_N_MINUS, 0, tok);
    int32_t argv[2] = {a, b};
    if (n < 0 || !set_args(P, n, argv, 2))
        return -1;
    const char *op = t->kind == T_PLUS ? "+" : "-";
    for (int i = 0; i < 2; i++) {
        enum ddb_type ty = known_type(P, argv[i], true);
        if (ty != DDB_NONE && ty != DDB_N) {
            operand_type_error(P, CAT_FUNCTION, (uint32_t)tok, op, 1, ddb_type_name(ty));
            break;
        }
    }
    return n;
}

static bool add_action(struct parser *P, enum ddb_action_kind kind, int32_t path_node,
                       int32_t operand)
{
    struct ddb_expr *e = P->e;
    if (!GROW(e->actions, e->nactions, e->cactions)) {
        P->oom = true;
        return false;
    }
    struct ddb_action *a = &e->actions[e->nactions++];
    a->kind = (uint8_t)kind;
    a->path = (uint32_t)node_at(P, path_node)->ref;
    a->operand = operand;
    e->paths[a->path].target = true;
    return true;
}

/* ADD and DELETE take sets (ADD also a number); DynamoDB names the type in full. */
static void check_add_delete(struct parser *P, int32_t value_node, bool add, uint32_t tok)
{
    static const char *const long_names[] = {
        [DDB_S] = "STRING", [DDB_N] = "NUMBER", [DDB_B] = "BINARY", [DDB_NULL] = "NULL",
        [DDB_BOOL] = "BOOLEAN", [DDB_L] = "LIST", [DDB_M] = "MAP",
    };
    enum ddb_type t = known_type(P, value_node, true);
    if (t == DDB_NONE || ddb_type_is_set(t) || (add && t == DDB_N))
        return;
    sem(P, CAT_ADD_OPERAND, tok,
        "Incorrect operand type for operator or function; operator: %s, operand type: %s",
        add ? "ADD" : "DELETE", long_names[t]);
}

static int parse_update(struct parser *P)
{
    static const char *const clause[] = {"SET", "REMOVE", "ADD", "DELETE"};
    do {
        int c = -1;
        for (int i = 0; i < 4; i++)
            if (at_word(P, clause[i]))
                c = i;
        if (c < 0)
            return syntax(P);
        uint32_t ctok = P->pos++;
        if (P->sections[c])
            sem(P, CAT_SECTION, ctok,
                "The \"%s\" section can only be used once in an update expression;", clause[c]);
        P->sections[c] = true;
        for (;;) {
            int32_t path = parse_path(P);
            if (path < 0)
                return -1;
            int32_t operand = -1;
            if (c == DDB_A_SET) {
                if (peek(P)->kind != T_EQ)
                    return syntax(P);
                P->pos++;
                operand = parse_set_value(P);
                if (operand < 0)
                    return -1;
            } else if (c == DDB_A_ADD || c == DDB_A_DELETE) {
                uint32_t vt = P->pos;
                int32_t v = parse_value(P);
                if (v < 0)
                    return -1;
                check_add_delete(P, v, c == DDB_A_ADD, vt);
                operand = node_at(P, v)->ref;
            }
            if (!add_action(P, (enum ddb_action_kind)c, path, operand))
                return -1;
            if (peek(P)->kind != T_COMMA)
                break;
            P->pos++;
        }
    } while (peek(P)->kind != T_EOF);
    return 0;
}

/* ---- overlapping paths ---- */

static void check_overlaps(struct parser *P, bool targets_only)
{
    struct ddb_expr *e = P->e;
    for (uint32_t i = 0; i < e->npaths; i++) {
        const struct ddb_path *b = &e->paths[i];
        if ((targets_only && !b->target) || !b->resolved)
            continue;
        for (uint32_t j = 0; j < i; j++) {
            const struct ddb_path *a = &e->paths[j];
            if ((targets_only && !a->target) || !a->resolved)
                continue;
            uint32_t n = a->n < b->n ? a->n : b->n, k = 0;
            bool differ = false, conflict = false;
            for (; k < n; k++) {
                const struct ddb_path_elem *x = ddb__elem(e, a, k), *y = ddb__elem(e, b, k);
                if ((x->name == NULL) != (y->name == NULL)) {
                    conflict = true;
                    break;
                }
                bool same = x->name ? (x->len == y->len && memcmp(x->name, y->name, x->len) == 0)
                                    : x->index == y->index;
                if (!same) {
                    differ = true;
                    break;
                }
            }
            if (differ)
                continue;
            struct buf one, two;
            buf_init(&one, 1 << 20);
            buf_init(&two, 1 << 20);
            ddb__path_render(e, a, &one);
            ddb__path_render(e, b, &two);
            sem(P, conflict ? CAT_CONFLICT : CAT_OVERLAP, (uint32_t)i,
                "Two document paths %s with each other; must remove or rewrite one of these "
                "paths; path one: %s, path two: %s",
                conflict ? "conflict" : "overlap", one.data ? one.data : "",
                two.data ? two.data : "");
            buf_destroy(&one);
            buf_destroy(&two);
        }
    }
}

/* ---- compiling ---- */

static void expr_reset(struct ddb_expr *e)
{
    for (uint32_t i = 0; i < e->nelems; i++)
        free(e->elems[i].name);
    for (uint32_t i = 0; i < e->nvalues; i++)
        ddb_value_destroy(&e->values[i]);
    free(e->nodes);
    free(e->args);
    free(e->paths);
    free(e->elems);
    free(e->values);
    free(e->actions);
}

void ddb_expr_free(struct ddb_expr *e)
{
    if (e == NULL)
        return;
    expr_reset(e);
    free(e);
}

enum ddb_expr_kind ddb_expr_kind_of(const struct ddb_expr *e)
{
    return e->kind;
}

/* `Syntax error; token: "<tok>", near: "<prev tok next>"` */
static void syntax_message(const struct parser *P, struct buf *out)
{
    const struct tok *t = &P->toks[P->err_tok];
    uint32_t from = P->err_tok > 0 ? P->toks[P->err_tok - 1].at : t->at;
    uint32_t to;
    if (t->kind == T_EOF)
        to = P->err_tok > 0 ? P->toks[P->err_tok - 1].at + P->toks[P->err_tok - 1].len : t->at;
    else if (P->err_tok + 1 < P->ntoks)
        to = P->toks[P->err_tok + 1].at + P->toks[P->err_tok + 1].len;
    else
        to = t->at + t->len;
    if (t->kind == T_EOF)
        buf_puts(out, "Syntax error; token: \"<EOF>\", near: \"");
    else
        buf_printf(out, "Syntax error; token: \"%.*s\", near: \"", (int)t->len, P->src + t->at);
    buf_append(out, P->src + from, to - from);
    buf_puts(out, "\"");
}

static int compile_fail(struct ddb_err *err, enum ddb_expr_kind kind, const char *msg)
{
    return ddb_err_set(err, ERR_DDB_VALIDATION, "Invalid %s: %s", ddb_expr_kind_name(kind), msg);
}

struct ddb_expr *ddb_expr_compile(enum ddb_expr_kind kind, const char *text, size_t len,
                                  struct ddb_expr_params *params, struct ddb_err *err)
{
    return ddb__expr_compile(kind, text, len, params, false, err);
}

struct ddb_expr *ddb__expr_compile(enum ddb_expr_kind kind, const char *text, size_t len,
                                   struct ddb_expr_params *params, bool no_limits,
                                   struct ddb_err *err)
{
    struct parser P;
    memset(&P, 0, sizeof P);
    struct ddb_expr *e = calloc(1, sizeof *e);
    if (e == NULL)
        goto oom;
    e->kind = kind;
    e->root = -1;
    if (len == 0) {
        compile_fail(err, kind, "The expression can not be empty;");
        goto fail;
    }
    if (len > DDB_EXPR_TEXT_MAX && !no_limits) {
        char m[128];
        snprintf(m, sizeof m,
                 "Expression size has exceeded the maximum allowed size; expression size: %zu",
                 len);
        compile_fail(err, kind, m);
        goto fail;
    }
    P.src = text;
    P.len = len;
    P.no_limits = no_limits;
    P.kind = kind;
    P.e = e;
    P.params = params;
    if (!lex(&P))
        goto oom;

    int rc = 0;
    switch (kind) {
    case DDB_EXPR_CONDITION:
    case DDB_EXPR_FILTER:
    case DDB_EXPR_KEY_CONDITION:
        e->root = parse_or(&P);
        rc = e->root < 0 ? -1 : 0;
        if (rc == 0)
            check_condition_use(&P, e->root);
        break;
    case DDB_EXPR_UPDATE:
        rc = parse_update(&P);
        break;
    case DDB_EXPR_PROJECTION:
        for (;;) {
            int32_t p = parse_path(&P);
            if (p < 0) {
                rc = -1;
                break;
            }
            if (peek(&P)->kind != T_COMMA)
                break;
            P.pos++;
        }
        break;
    }
    if (P.oom)
        goto oom;
    if (P.fatal != NULL) {
        compile_fail(err, kind, P.fatal);
        goto fail;
    }
    if (rc == 0 && peek(&P)->kind != T_EOF)
        rc = syntax(&P);
    if (rc != 0 || P.failed) {
        struct buf m;
        buf_init(&m, 1 << 20);
        syntax_message(&P, &m);
        compile_fail(err, kind, m.data ? m.data : "Syntax error");
        buf_destroy(&m);
        goto fail;
    }
    if (kind == DDB_EXPR_UPDATE)
        check_overlaps(&P, true);
    else if (kind == DDB_EXPR_PROJECTION)
        check_overlaps(&P, false);
    if (P.oom)
        goto oom;

    const enum cat *order = order_condition;
    size_t norder = sizeof order_condition / sizeof order_condition[0];
    if (kind == DDB_EXPR_UPDATE) {
        order = order_update;
        norder = sizeof order_update / sizeof order_update[0];
    } else if (kind == DDB_EXPR_PROJECTION) {
        order = order_projection;
        norder = sizeof order_projection / sizeof order_projection[0];
    }
    for (size_t i = 0; i < norder; i++) {
        if (P.sem[order[i]] != NULL) {
            compile_fail(err, kind, P.sem[order[i]]);
            goto fail;
        }
    }
    if (kind == DDB_EXPR_KEY_CONDITION && key_walk(&P, e->root) != 0) {
        if (P.oom)
            goto oom;
        ddb_err_set(err, ERR_DDB_VALIDATION, "%s", P.fatal);
        goto fail;
    }
    goto done;
oom:
    ddb_err_set(err, ERR_INTERNAL, "The request processing has failed.");
fail:
    ddb_expr_free(e);
    e = NULL;
done:
    free(P.toks);
    free(P.fatal);
    for (int i = 0; i < CAT__COUNT; i++)
        free(P.sem[i]);
    return e;
}

void ddb_expr_set_free(struct ddb_expr_set *s)
{
    if (s == NULL)
        return;
    ddb_expr_free(s->update);
    ddb_expr_free(s->condition);
    ddb_expr_free(s->key_condition);
    ddb_expr_free(s->filter);
    ddb_expr_free(s->projection);
    memset(s, 0, sizeof *s);
}

int ddb_expr_compile_request(const struct ddb_expr_request *req, struct ddb_expr_set *out,
                             struct ddb_err *err)
{
    memset(out, 0, sizeof *out);
    struct ddb_expr_params *p = ddb_expr_params_new(req->names, req->values, err);
    if (p == NULL)
        return -1;
    const struct {
        const char *text;
        enum ddb_expr_kind kind;
        struct ddb_expr **slot;
    } steps[] = {
        {req->update, DDB_EXPR_UPDATE, &out->update},
        {req->condition, DDB_EXPR_CONDITION, &out->condition},
        {req->key_condition, DDB_EXPR_KEY_CONDITION, &out->key_condition},
        {req->filter, DDB_EXPR_FILTER, &out->filter},
        {req->projection, DDB_EXPR_PROJECTION, &out->projection},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (steps[i].text == NULL)
            continue;
        *steps[i].slot = ddb_expr_compile(steps[i].kind, steps[i].text, strlen(steps[i].text), p,
                                          err);
        if (*steps[i].slot == NULL)
            goto fail;
    }
    if (ddb_expr_params_check_unused(p, err) != 0)
        goto fail;
    ddb_expr_params_free(p);
    return 0;
fail:
    ddb_expr_params_free(p);
    ddb_expr_set_free(out);
    return -1;
}

int ddb_expr_uses(const struct ddb_expr *e, const char *name, size_t len)
{
    int use = 0;
    for (uint32_t i = 0; i < e->npaths; i++) {
        const struct ddb_path *p = &e->paths[i];
        if (e->kind == DDB_EXPR_UPDATE && !p->target)
            continue;
        const struct ddb_path_elem *h = ddb__elem(e, p, 0);
        if (h->name == NULL || h->len != len || memcmp(h->name, name, len) != 0)
            continue;
        use |= p->n == 1 ? DDB_USE_TOP : DDB_USE_NESTED;
    }
    return use;
}
