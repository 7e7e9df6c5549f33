/*
 * partiql.c — the PartiQL subset of ExecuteStatement (see partiql.h): a lexer, a recursive
 * descent parser with a depth limit, and the rendering of a statement's parts as DynamoDB
 * expressions with placeholders.
 */
#include "cloud/dynamodb/partiql.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cloud/dynamodb/num.h"
#include "core/utf8.h"

/* ---- tokens ---- */

enum tok_kind {
    T_EOF,
    T_IDENT,  /* bare identifier or keyword */
    T_QIDENT, /* "quoted" */
    T_STRING, /* 'string' */
    T_NUMBER,
    T_PUNCT, /* one of the operator strings */
};

struct tok {
    enum tok_kind kind;
    const char *p; /* raw text */
    size_t n;
    char *text; /* decoded (identifiers, strings), owned */
};

struct parser {
    const char *s;
    size_t len, at;
    struct tok cur;
    int depth;
    int nparams;
    struct ddb_err *err;
    bool failed;
};

enum nkind {
    N_PATH,
    N_LIT,   /* lit: an AttributeValue */
    N_PARAM, /* param */
    N_MAP,   /* keys + kids */
    N_LIST,
    N_SET,
    N_CMP, /* op: one of CMP_* */
    N_AND,
    N_OR,
    N_NOT,
    N_BETWEEN,
    N_IN,
    N_FUNC,
    N_IS,    /* op: IS_MISSING / IS_NULL; neg */
    N_ARITH, /* op: '+' or '-' */
};

enum { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };
enum { IS_MISSING, IS_NULL };

struct pelem {
    char *name; /* NULL: an index */
    long index;
};

struct ddb_pq_node {
    enum nkind kind;
    int op;
    bool neg;
    char *name; /* function name */
    struct ddb_pq_node **kids;
    size_t nkids;
    char **keys; /* N_MAP */
    struct pelem *elems;
    size_t nelems;
    json_t *lit;
    int param;
};

struct set_action {
    bool remove;
    struct ddb_pq_node *path;
    struct ddb_pq_node *value; /* NULL for REMOVE */
};

struct ddb_pq {
    enum ddb_pq_verb verb;
    char *table, *index;
    bool star;
    struct ddb_pq_node **proj;
    size_t nproj;
    struct ddb_pq_node *where;
    struct ddb_pq_node *tuple; /* INSERT */
    struct set_action *actions;
    size_t nactions;
    enum ddb_pq_returning ret;
    int nparams;
};

static void node_free(struct ddb_pq_node *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->nkids; i++) {
        node_free(n->kids[i]);
        if (n->keys)
            free(n->keys[i]);
    }
    free(n->kids);
    free(n->keys);
    for (size_t i = 0; i < n->nelems; i++)
        free(n->elems[i].name);
    free(n->elems);
    free(n->name);
    json_decref(n->lit);
    free(n);
}

void ddb_pq_free(struct ddb_pq *q)
{
    if (q == NULL)
        return;
    free(q->table);
    free(q->index);
    for (size_t i = 0; i < q->nproj; i++)
        node_free(q->proj[i]);
    free(q->proj);
    node_free(q->where);
    node_free(q->tuple);
    for (size_t i = 0; i < q->nactions; i++) {
        node_free(q->actions[i].path);
        node_free(q->actions[i].value);
    }
    free(q->actions);
    free(q);
}

/* ---- errors ---- */

static int syntax(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int syntax(struct parser *ps, const char *fmt, ...)
{
    if (ps->failed)
        return -1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ps->failed = true;
    return ddb_err_set(ps->err, ERR_DDB_VALIDATION,
                       "Statement wasn't well formed, can't be processed: %s", msg);
}

/* ---- lexing ---- */

static const char *const puncts[] = {"<<", ">>", "<>", "!=", "<=", ">=", "<", ">", "=", ",", ".",
                                     "[",  "]",  "(",  ")",  "{",  "}",  ":", "*", "?", "+", "-"};

static void next(struct parser *ps)
{
    free(ps->cur.text);
    memset(&ps->cur, 0, sizeof ps->cur);
    if (ps->failed)
        return;
    while (ps->at < ps->len && isspace((unsigned char)ps->s[ps->at]))
        ps->at++;
    /* comments: -- to end of line */
    while (ps->at + 1 < ps->len && ps->s[ps->at] == '-' && ps->s[ps->at + 1] == '-') {
        while (ps->at < ps->len && ps->s[ps->at] != '\n')
            ps->at++;
        while (ps->at < ps->len && isspace((unsigned char)ps->s[ps->at]))
            ps->at++;
    }
    const char *p = ps->s + ps->at;
    size_t left = ps->len - ps->at;
    ps->cur.p = p;
    if (left == 0) {
        ps->cur.kind = T_EOF;
        return;
    }
    unsigned char c = (unsigned char)p[0];
    if (isalpha(c) || c == '_') {
        size_t n = 1;
        while (n < left && (isalnum((unsigned char)p[n]) || p[n] == '_'))
            n++;
        ps->cur.kind = T_IDENT;
        ps->cur.n = n;
        ps->cur.text = strndup(p, n);
        ps->at += n;
        return;
    }
    if (isdigit(c) || (c == '.' && left > 1 && isdigit((unsigned char)p[1]))) {
        size_t n = 0;
        while (n < left && (isdigit((unsigned char)p[n]) || p[n] == '.'))
            n++;
        if (n < left && (p[n] == 'e' || p[n] == 'E')) {
            size_t m = n + 1;
            if (m < left && (p[m] == '+' || p[m] == '-'))
                m++;
            if (m < left && isdigit((unsigned char)p[m])) {
                while (m < left && isdigit((unsigned char)p[m]))
                    m++;
                n = m;
            }
        }
        ps->cur.kind = T_NUMBER;
        ps->cur.n = n;
        ps->cur.text = strndup(p, n);
        ps->at += n;
        return;
    }
    if (c == '\'' || c == '"') {
        struct buf b;
        buf_init(&b, DDB_PQ_MAX_TEXT);
        size_t i = 1;
        bool closed = false;
        while (i < left) {
            if (p[i] == (char)c) {
                if (i + 1 < left && p[i + 1] == (char)c) {
                    buf_append(&b, p + i, 1);
                    i += 2;
                    continue;
                }
                closed = true;
                i++;
                break;
            }
            buf_append(&b, p + i, 1);
            i++;
        }
        if (!closed) {
            buf_destroy(&b);
            syntax(ps, "unterminated %s", c == '\'' ? "string" : "quoted identifier");
            ps->cur.kind = T_EOF;
            return;
        }
        for (size_t k = 0; k < b.len;) {
            size_t step = utf8_seq_len((const unsigned char *)b.data + k, b.len - k);
            if (step == 0) {
                buf_destroy(&b);
                syntax(ps, "invalid UTF-8 in a %s", c == '\'' ? "string" : "quoted identifier");
                ps->cur.kind = T_EOF;
                return;
            }
            k += step;
        }
        ps->cur.kind = c == '\'' ? T_STRING : T_QIDENT;
        ps->cur.n = i;
        ps->cur.text = b.data ? buf_take(&b, NULL) : strdup("");
        buf_destroy(&b);
        ps->at += i;
        return;
    }
    for (size_t i = 0; i < sizeof puncts / sizeof puncts[0]; i++) {
        size_t n = strlen(puncts[i]);
        if (left >= n && memcmp(p, puncts[i], n) == 0) {
            ps->cur.kind = T_PUNCT;
            ps->cur.n = n;
            ps->at += n;
            return;
        }
    }
    syntax(ps, "unexpected character '%c'", isprint(c) ? c : '?');
    ps->cur.kind = T_EOF;
}

static bool is_punct(const struct parser *ps, const char *s)
{
    return ps->cur.kind == T_PUNCT && ps->cur.n == strlen(s) &&
           memcmp(ps->cur.p, s, ps->cur.n) == 0;
}

static bool is_kw(const struct parser *ps, const char *kw)
{
    return ps->cur.kind == T_IDENT && strcasecmp(ps->cur.text, kw) == 0;
}

static bool accept_punct(struct parser *ps, const char *s)
{
    if (!is_punct(ps, s))
        return false;
    next(ps);
    return true;
}

static bool accept_kw(struct parser *ps, const char *kw)
{
    if (!is_kw(ps, kw))
        return false;
    next(ps);
    return true;
}

static const char *tok_desc(const struct parser *ps)
{
    static char d[80];
    if (ps->cur.kind == T_EOF)
        return "end of statement";
    snprintf(d, sizeof d, "'%.*s'", (int)(ps->cur.n > 60 ? 60 : ps->cur.n), ps->cur.p);
    return d;
}

static int expect_punct(struct parser *ps, const char *s)
{
    if (accept_punct(ps, s))
        return 0;
    return syntax(ps, "expected '%s' but found %s", s, tok_desc(ps));
}

static int expect_kw(struct parser *ps, const char *kw)
{
    if (accept_kw(ps, kw))
        return 0;
    return syntax(ps, "expected %s but found %s", kw, tok_desc(ps));
}

/* One level deeper into the statement; false (a syntax error) past DDB_PQ_MAX_DEPTH. */
static bool nest(struct parser *ps)
{
    if (++ps->depth <= DDB_PQ_MAX_DEPTH)
        return true;
    syntax(ps, "the statement nests too deeply");
    return false;
}

/* ---- nodes ---- */

static struct ddb_pq_node *node(enum nkind k)
{
    struct ddb_pq_node *n = calloc(1, sizeof *n);
    if (n)
        n->kind = k;
    return n;
}

static int add_kid(struct ddb_pq_node *n, struct ddb_pq_node *kid)
{
    struct ddb_pq_node **k = realloc(n->kids, (n->nkids + 1) * sizeof *k);
    if (k == NULL) {
        node_free(kid);
        return -1;
    }
    n->kids = k;
    n->kids[n->nkids++] = kid;
    return 0;
}

static const char *const reserved_starts[] = {"SELECT",    "FROM",    "WHERE",  "AND",   "OR",
                                              "NOT",       "SET",     "REMOVE", "VALUE", "INTO",
                                              "RETURNING", "BETWEEN", "IN",     "IS",    NULL};

static bool is_reserved(const char *s)
{
    for (int i = 0; reserved_starts[i]; i++)
        if (strcasecmp(s, reserved_starts[i]) == 0)
            return true;
    return false;
}

/* name := identifier | "quoted" */
static char *take_name(struct parser *ps)
{
    if ((ps->cur.kind == T_IDENT && !is_reserved(ps->cur.text)) || ps->cur.kind == T_QIDENT) {
        char *s = ps->cur.text;
        ps->cur.text = NULL;
        next(ps);
        return s ? s : strdup("");
    }
    syntax(ps, "expected a name but found %s", tok_desc(ps));
    return NULL;
}

static struct ddb_pq_node *parse_path(struct parser *ps)
{
    struct ddb_pq_node *n = node(N_PATH);
    if (n == NULL)
        return NULL;
    char *first = take_name(ps);
    if (first == NULL)
        goto fail;
    n->elems = calloc(1, sizeof *n->elems);
    if (n->elems == NULL) {
        free(first);
        goto fail;
    }
    n->elems[0].name = first;
    n->nelems = 1;
    for (;;) {
        struct pelem e = {NULL, 0};
        if (accept_punct(ps, ".")) {
            e.name = take_name(ps);
            if (e.name == NULL)
                goto fail;
        } else if (accept_punct(ps, "[")) {
            if (ps->cur.kind != T_NUMBER || strchr(ps->cur.text, '.') ||
                strchr(ps->cur.text, 'e') || strchr(ps->cur.text, 'E')) {
                syntax(ps, "expected a list index but found %s", tok_desc(ps));
                goto fail;
            }
            e.index = strtol(ps->cur.text, NULL, 10);
            next(ps);
            if (expect_punct(ps, "]") != 0)
                goto fail;
        } else {
            break;
        }
        struct pelem *ne = realloc(n->elems, (n->nelems + 1) * sizeof *ne);
        if (ne == NULL) {
            free(e.name);
            goto fail;
        }
        n->elems = ne;
        n->elems[n->nelems++] = e;
        if (n->nelems > 32) {
            syntax(ps, "the document path is too deep");
            goto fail;
        }
    }
    return n;
fail:
    node_free(n);
    return NULL;
}

static struct ddb_pq_node *parse_value(struct parser *ps);

static struct ddb_pq_node *parse_container(struct parser *ps, enum nkind kind, const char *close)
{
    struct ddb_pq_node *n = node(kind);
    if (n == NULL)
        return NULL;
    if (!nest(ps))
        goto fail;
    if (!accept_punct(ps, close)) {
        do {
            if (kind == N_MAP) {
                if (ps->cur.kind != T_STRING) {
                    syntax(ps, "expected a string key but found %s", tok_desc(ps));
                    goto fail;
                }
                char *key = ps->cur.text;
                ps->cur.text = NULL;
                next(ps);
                char **keys = realloc(n->keys, (n->nkids + 1) * sizeof *keys);
                if (keys == NULL) {
                    free(key);
                    goto fail;
                }
                n->keys = keys;
                n->keys[n->nkids] = key;
                if (expect_punct(ps, ":") != 0) {
                    n->keys[n->nkids] = NULL;
                    free(key);
                    goto fail;
                }
                struct ddb_pq_node *v = parse_value(ps);
                if (v == NULL) {
                    n->keys[n->nkids] = NULL;
                    free(key);
                    goto fail;
                }
                if (add_kid(n, v) != 0) {
                    free(key);
                    goto fail;
                }
            } else {
                struct ddb_pq_node *v = parse_value(ps);
                if (v == NULL || add_kid(n, v) != 0)
                    goto fail;
            }
        } while (accept_punct(ps, ","));
        if (expect_punct(ps, close) != 0)
            goto fail;
    }
    ps->depth--;
    return n;
fail:
    node_free(n);
    return NULL;
}

/* A literal value (or a parameter). */
static struct ddb_pq_node *parse_value(struct parser *ps)
{
    struct ddb_pq_node *n = NULL;
    if (ps->failed)
        return NULL;
    if (accept_punct(ps, "?")) {
        n = node(N_PARAM);
        if (n)
            n->param = ps->nparams++;
        return n;
    }
    if (ps->cur.kind == T_STRING) {
        n = node(N_LIT);
        if (n)
            n->lit = json_pack("{s:s%}", "S", ps->cur.text, strlen(ps->cur.text));
        next(ps);
        return n;
    }
    bool minus = false;
    if (is_punct(ps, "-")) {
        minus = true;
        next(ps);
    }
    if (ps->cur.kind == T_NUMBER) {
        struct ddb_num num;
        char text[DDB_NUM_STR_MAX + 2];
        snprintf(text, sizeof text, "%s%s", minus ? "-" : "", ps->cur.text);
        if (ddb_num_parse(text, strlen(text), &num) != DDB_NUM_OK) {
            syntax(ps, "invalid number %s", text);
            return NULL;
        }
        n = node(N_LIT);
        if (n)
            n->lit = json_pack("{s:s}", "N", text);
        next(ps);
        return n;
    }
    if (minus) {
        syntax(ps, "expected a number after '-' but found %s", tok_desc(ps));
        return NULL;
    }
    if (is_kw(ps, "TRUE") || is_kw(ps, "FALSE")) {
        n = node(N_LIT);
        if (n)
            n->lit = json_pack("{s:b}", "BOOL", is_kw(ps, "TRUE"));
        next(ps);
        return n;
    }
    if (is_kw(ps, "NULL")) {
        n = node(N_LIT);
        if (n)
            n->lit = json_pack("{s:b}", "NULL", 1);
        next(ps);
        return n;
    }
    if (accept_punct(ps, "{"))
        return parse_container(ps, N_MAP, "}");
    if (accept_punct(ps, "["))
        return parse_container(ps, N_LIST, "]");
    if (accept_punct(ps, "<<"))
        return parse_container(ps, N_SET, ">>");
    syntax(ps, "expected a value but found %s", tok_desc(ps));
    return NULL;
}

static bool starts_value(const struct parser *ps)
{
    return is_punct(ps, "?") || ps->cur.kind == T_STRING || ps->cur.kind == T_NUMBER ||
           is_punct(ps, "-") || is_kw(ps, "TRUE") || is_kw(ps, "FALSE") || is_kw(ps, "NULL") ||
           is_punct(ps, "{") || is_punct(ps, "[") || is_punct(ps, "<<");
}

static const char *const functions[] = {
    "begins_with", "contains",         "attribute_type",       "size",
    "list_append", "attribute_exists", "attribute_not_exists", NULL};

static bool is_function(const struct parser *ps)
{
    if (ps->cur.kind != T_IDENT)
        return false;
    for (int i = 0; functions[i]; i++)
        if (strcasecmp(ps->cur.text, functions[i]) == 0) {
            /* a function only when followed by '(' */
            size_t at = ps->at;
            while (at < ps->len && isspace((unsigned char)ps->s[at]))
                at++;
            return at < ps->len && ps->s[at] == '(';
        }
    return false;
}

static struct ddb_pq_node *parse_operand(struct parser *ps);

static struct ddb_pq_node *parse_function(struct parser *ps)
{
    struct ddb_pq_node *n = node(N_FUNC);
    if (n == NULL)
        return NULL;
    n->name = strdup(ps->cur.text);
    for (char *p = n->name; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    next(ps);
    if (expect_punct(ps, "(") != 0)
        goto fail;
    if (!nest(ps))
        goto fail;
    do {
        struct ddb_pq_node *a = parse_operand(ps);
        if (a == NULL || add_kid(n, a) != 0)
            goto fail;
    } while (accept_punct(ps, ","));
    ps->depth--;
    if (expect_punct(ps, ")") != 0)
        goto fail;
    return n;
fail:
    node_free(n);
    return NULL;
}

/* After '(': inner, then ')'. */
static struct ddb_pq_node *parse_group(struct parser *ps,
                                       struct ddb_pq_node *(*inner)(struct parser *))
{
    if (!nest(ps))
        return NULL;
    struct ddb_pq_node *n = inner(ps);
    ps->depth--;
    if (n && expect_punct(ps, ")") != 0) {
        node_free(n);
        return NULL;
    }
    return n;
}

static struct ddb_pq_node *parse_primary(struct parser *ps)
{
    if (ps->failed)
        return NULL;
    if (is_function(ps))
        return parse_function(ps);
    if (starts_value(ps))
        return parse_value(ps);
    if (accept_punct(ps, "("))
        return parse_group(ps, parse_operand);
    return parse_path(ps);
}

static struct ddb_pq_node *parse_operand(struct parser *ps)
{
    struct ddb_pq_node *left = parse_primary(ps);
    while (left && (is_punct(ps, "+") || is_punct(ps, "-"))) {
        int op = is_punct(ps, "+") ? '+' : '-';
        next(ps);
        struct ddb_pq_node *right = parse_primary(ps);
        struct ddb_pq_node *n = right ? node(N_ARITH) : NULL;
        if (n == NULL || add_kid(n, left) != 0 || add_kid(n, right) != 0) {
            if (n == NULL) {
                node_free(left);
                node_free(right);
            } else {
                node_free(n);
            }
            return NULL;
        }
        n->op = op;
        left = n;
    }
    return left;
}

static struct ddb_pq_node *parse_or(struct parser *ps);

static struct ddb_pq_node *binary(enum nkind k, int op, struct ddb_pq_node *a,
                                  struct ddb_pq_node *b)
{
    struct ddb_pq_node *n = node(k);
    if (n == NULL || add_kid(n, a) != 0) {
        if (n == NULL)
            node_free(a);
        node_free(b);
        node_free(n);
        return NULL;
    }
    if (b && add_kid(n, b) != 0) {
        node_free(n);
        return NULL;
    }
    n->op = op;
    return n;
}

static struct ddb_pq_node *parse_predicate(struct parser *ps)
{
    if (ps->failed)
        return NULL;
    /* '(' opens a condition here; parenthesised operands appear after an operator */
    if (accept_punct(ps, "("))
        return parse_group(ps, parse_or);
    struct ddb_pq_node *a = parse_operand(ps);
    if (a == NULL)
        return NULL;
    static const struct {
        const char *s;
        int op;
    } cmps[] = {{"=", CMP_EQ},  {"<>", CMP_NE}, {"!=", CMP_NE}, {"<=", CMP_LE},
                {">=", CMP_GE}, {"<", CMP_LT},  {">", CMP_GT}};
    for (size_t i = 0; i < sizeof cmps / sizeof cmps[0]; i++)
        if (accept_punct(ps, cmps[i].s)) {
            struct ddb_pq_node *b = parse_operand(ps);
            if (b == NULL) {
                node_free(a);
                return NULL;
            }
            return binary(N_CMP, cmps[i].op, a, b);
        }
    bool neg = false;
    if (is_kw(ps, "NOT")) {
        next(ps);
        neg = true;
        if (!is_kw(ps, "BETWEEN") && !is_kw(ps, "IN")) {
            node_free(a);
            syntax(ps, "expected BETWEEN or IN after NOT but found %s", tok_desc(ps));
            return NULL;
        }
    }
    if (accept_kw(ps, "BETWEEN")) {
        struct ddb_pq_node *lo = parse_operand(ps);
        struct ddb_pq_node *hi = NULL;
        if (lo && expect_kw(ps, "AND") == 0)
            hi = parse_operand(ps);
        struct ddb_pq_node *n = hi ? binary(N_BETWEEN, 0, a, lo) : NULL;
        if (n == NULL || add_kid(n, hi) != 0) {
            if (n == NULL) {
                if (hi == NULL)
                    node_free(lo);
                else
                    node_free(hi);
                if (hi == NULL)
                    node_free(a);
            } else {
                node_free(n);
            }
            return NULL;
        }
        n->neg = neg;
        return n;
    }
    if (accept_kw(ps, "IN")) {
        const char *close = accept_punct(ps, "[") ? "]" : accept_punct(ps, "(") ? ")" : NULL;
        if (close == NULL) {
            node_free(a);
            syntax(ps, "expected '[' or '(' after IN but found %s", tok_desc(ps));
            return NULL;
        }
        struct ddb_pq_node *n = binary(N_IN, 0, a, NULL);
        if (n == NULL)
            return NULL;
        n->neg = neg;
        do {
            struct ddb_pq_node *v = parse_operand(ps);
            if (v == NULL || add_kid(n, v) != 0) {
                node_free(n);
                return NULL;
            }
            if (n->nkids > 101) {
                node_free(n);
                syntax(ps, "IN takes at most 100 values");
                return NULL;
            }
        } while (accept_punct(ps, ","));
        if (expect_punct(ps, close) != 0) {
            node_free(n);
            return NULL;
        }
        return n;
    }
    if (accept_kw(ps, "IS")) {
        struct ddb_pq_node *n = binary(N_IS, 0, a, NULL);
        if (n == NULL)
            return NULL;
        n->neg = accept_kw(ps, "NOT");
        if (accept_kw(ps, "MISSING"))
            n->op = IS_MISSING;
        else if (accept_kw(ps, "NULL"))
            n->op = IS_NULL;
        else {
            node_free(n);
            syntax(ps, "expected MISSING or NULL after IS but found %s", tok_desc(ps));
            return NULL;
        }
        if (a->kind != N_PATH) {
            node_free(n);
            syntax(ps, "IS needs a document path");
            return NULL;
        }
        return n;
    }
    if (a->kind == N_FUNC)
        return a;
    node_free(a);
    syntax(ps, "expected a comparison but found %s", tok_desc(ps));
    return NULL;
}

static struct ddb_pq_node *parse_not(struct parser *ps)
{
    if (accept_kw(ps, "NOT")) {
        if (!nest(ps))
            return NULL;
        struct ddb_pq_node *a = parse_not(ps);
        ps->depth--;
        return a ? binary(N_NOT, 0, a, NULL) : NULL;
    }
    return parse_predicate(ps);
}

/* sub (kw sub)*, left-associative nodes of kind k. */
static struct ddb_pq_node *parse_chain(struct parser *ps, const char *kw, enum nkind k,
                                       struct ddb_pq_node *(*sub)(struct parser *))
{
    struct ddb_pq_node *a = sub(ps);
    while (a && accept_kw(ps, kw)) {
        struct ddb_pq_node *b = sub(ps);
        if (b == NULL) {
            node_free(a);
            return NULL;
        }
        a = binary(k, 0, a, b);
    }
    return a;
}

static struct ddb_pq_node *parse_and(struct parser *ps)
{
    return parse_chain(ps, "AND", N_AND, parse_not);
}

static struct ddb_pq_node *parse_or(struct parser *ps)
{
    return parse_chain(ps, "OR", N_OR, parse_and);
}

static int parse_target(struct parser *ps, struct ddb_pq *q)
{
    q->table = take_name(ps);
    if (q->table == NULL)
        return -1;
    if (accept_punct(ps, ".")) {
        q->index = take_name(ps);
        if (q->index == NULL)
            return -1;
    }
    return 0;
}

static int parse_where(struct parser *ps, struct ddb_pq *q)
{
    if (!accept_kw(ps, "WHERE"))
        return 0;
    q->where = parse_or(ps);
    return q->where ? 0 : -1;
}

static int add_action(struct ddb_pq *q, bool remove, struct ddb_pq_node *path,
                      struct ddb_pq_node *value)
{
    struct set_action *a = realloc(q->actions, (q->nactions + 1) * sizeof *a);
    if (a == NULL) {
        node_free(path);
        node_free(value);
        return -1;
    }
    q->actions = a;
    q->actions[q->nactions++] = (struct set_action){remove, path, value};
    return 0;
}

static int parse_statement(struct parser *ps, struct ddb_pq *q)
{
    if (accept_kw(ps, "SELECT")) {
        q->verb = DDB_PQ_SELECT;
        if (accept_punct(ps, "*")) {
            q->star = true;
        } else {
            do {
                struct ddb_pq_node *p = parse_path(ps);
                struct ddb_pq_node **np = p ? realloc(q->proj, (q->nproj + 1) * sizeof *np) : NULL;
                if (np == NULL) {
                    node_free(p);
                    return -1;
                }
                q->proj = np;
                q->proj[q->nproj++] = p;
            } while (accept_punct(ps, ","));
        }
        if (expect_kw(ps, "FROM") != 0 || parse_target(ps, q) != 0 || parse_where(ps, q) != 0)
            return -1;
    } else if (accept_kw(ps, "INSERT")) {
        q->verb = DDB_PQ_INSERT;
        if (expect_kw(ps, "INTO") != 0 || parse_target(ps, q) != 0 || expect_kw(ps, "VALUE") != 0)
            return -1;
        if (!is_punct(ps, "{") && !is_punct(ps, "?"))
            return syntax(ps, "expected a tuple after VALUE but found %s", tok_desc(ps));
        q->tuple = parse_value(ps);
        if (q->tuple == NULL)
            return -1;
    } else if (accept_kw(ps, "UPDATE")) {
        q->verb = DDB_PQ_UPDATE;
        if (parse_target(ps, q) != 0)
            return -1;
        bool any = false;
        for (;;) {
            if (accept_kw(ps, "SET")) {
                do {
                    struct ddb_pq_node *p = parse_path(ps);
                    if (p == NULL || expect_punct(ps, "=") != 0) {
                        node_free(p);
                        return -1;
                    }
                    struct ddb_pq_node *v = parse_operand(ps);
                    if (v == NULL) {
                        node_free(p);
                        return -1;
                    }
                    if (add_action(q, false, p, v) != 0)
                        return -1;
                } while (accept_punct(ps, ","));
            } else if (accept_kw(ps, "REMOVE")) {
                do {
                    struct ddb_pq_node *p = parse_path(ps);
                    if (p == NULL || add_action(q, true, p, NULL) != 0)
                        return -1;
                } while (accept_punct(ps, ","));
            } else {
                break;
            }
            any = true;
        }
        if (!any)
            return syntax(ps, "expected SET or REMOVE but found %s", tok_desc(ps));
        if (parse_where(ps, q) != 0)
            return -1;
    } else if (accept_kw(ps, "DELETE")) {
        q->verb = DDB_PQ_DELETE;
        if (expect_kw(ps, "FROM") != 0 || parse_target(ps, q) != 0 || parse_where(ps, q) != 0)
            return -1;
    } else {
        return syntax(ps, "expected SELECT, INSERT, UPDATE or DELETE but found %s", tok_desc(ps));
    }
    if ((q->verb == DDB_PQ_UPDATE || q->verb == DDB_PQ_DELETE) && accept_kw(ps, "RETURNING")) {
        bool all = accept_kw(ps, "ALL");
        bool mod = !all && accept_kw(ps, "MODIFIED");
        bool old = (all || mod) && accept_kw(ps, "OLD");
        bool new_ = (all || mod) && !old && accept_kw(ps, "NEW");
        if ((!all && !mod) || (!old && !new_) || expect_punct(ps, "*") != 0)
            return syntax(ps, "invalid RETURNING clause");
        q->ret = all ? (old ? DDB_PQ_RET_ALL_OLD : DDB_PQ_RET_ALL_NEW)
                     : (old ? DDB_PQ_RET_MODIFIED_OLD : DDB_PQ_RET_MODIFIED_NEW);
        if (q->verb == DDB_PQ_DELETE && q->ret != DDB_PQ_RET_ALL_OLD)
            return syntax(ps, "DELETE can only return ALL OLD *");
    }
    accept_punct(ps, ";");
    if (ps->cur.kind != T_EOF)
        return syntax(ps, "unexpected %s at the end of the statement", tok_desc(ps));
    return 0;
}

struct ddb_pq *ddb_pq_parse(const char *text, size_t len, struct ddb_err *err)
{
    struct ddb_pq *q = calloc(1, sizeof *q);
    struct parser ps = {.s = text, .len = len, .err = err};
    if (q == NULL) {
        ddb_err_set(err, ERR_DDB_INTERNAL, "Internal server error");
        return NULL;
    }
    if (len > DDB_PQ_MAX_TEXT || memchr(text, '\0', len) != NULL) {
        syntax(&ps, "the statement is not valid text");
        goto fail;
    }
    next(&ps);
    if (parse_statement(&ps, q) != 0 || ps.failed) {
        if (!ps.failed)
            syntax(&ps, "out of memory");
        goto fail;
    }
    free(ps.cur.text);
    q->nparams = ps.nparams;
    return q;
fail:
    free(ps.cur.text);
    ddb_pq_free(q);
    return NULL;
}

enum ddb_pq_verb ddb_pq_verb(const struct ddb_pq *q)
{
    return q->verb;
}
const char *ddb_pq_table(const struct ddb_pq *q)
{
    return q->table;
}
const char *ddb_pq_index(const struct ddb_pq *q)
{
    return q->index;
}
size_t ddb_pq_params(const struct ddb_pq *q)
{
    return (size_t)q->nparams;
}
enum ddb_pq_returning ddb_pq_returning(const struct ddb_pq *q)
{
    return q->ret;
}
bool ddb_pq_select_all(const struct ddb_pq *q)
{
    return q->star;
}

/* ---- rendering ---- */

void ddb_pq_render_init(struct ddb_pq_render *rc, const json_t *params)
{
    memset(rc, 0, sizeof *rc);
    rc->params = params;
}

void ddb_pq_render_destroy(struct ddb_pq_render *rc)
{
    json_decref(rc->names);
    json_decref(rc->values);
    rc->names = rc->values = NULL;
}

static int render_fail(struct ddb_err *err, const char *msg)
{
    return ddb_err_set(err, ERR_DDB_VALIDATION, "%s", msg);
}

/* The AttributeValue a value node stands for (new reference), or NULL with err set. */
static json_t *value_json(const struct ddb_pq_node *n, struct ddb_pq_render *rc,
                          struct ddb_err *err)
{
    switch (n->kind) {
    case N_LIT:
        if (n->lit == NULL) {
            ddb_err_set(err, ERR_DDB_INTERNAL, "Internal server error");
            return NULL;
        }
        return json_deep_copy(n->lit);
    case N_PARAM: {
        const json_t *v = json_array_get(rc->params, (size_t)n->param);
        if (v == NULL) {
            render_fail(err, "Number of parameters in request and statement don't match.");
            return NULL;
        }
        return json_deep_copy(v);
    }
    case N_MAP:
    case N_LIST: {
        bool map = n->kind == N_MAP;
        json_t *all = map ? json_object() : json_array();
        for (size_t i = 0; i < n->nkids; i++) {
            json_t *v = value_json(n->kids[i], rc, err);
            if (v == NULL) {
                json_decref(all);
                return NULL;
            }
            if (map)
                json_object_set_new(all, n->keys[i], v);
            else
                json_array_append_new(all, v);
        }
        return json_pack("{s:o}", map ? "M" : "L", all);
    }
    case N_SET: {
        json_t *elems = json_array();
        const char *type = NULL;
        for (size_t i = 0; i < n->nkids; i++) {
            json_t *v = value_json(n->kids[i], rc, err);
            if (v == NULL) {
                json_decref(elems);
                return NULL;
            }
            const char *k = json_object_iter_key(json_object_iter(v));
            const char *t = k && strcmp(k, "S") == 0   ? "SS"
                            : k && strcmp(k, "N") == 0 ? "NS"
                            : k && strcmp(k, "B") == 0 ? "BS"
                                                       : NULL;
            if (t == NULL || (type && strcmp(type, t) != 0)) {
                json_decref(v);
                json_decref(elems);
                render_fail(err, "Statement wasn't well formed, can't be processed: a set holds "
                                 "strings, numbers or binaries of one type");
                return NULL;
            }
            type = t;
            json_array_append(elems, json_object_iter_value(json_object_iter(v)));
            json_decref(v);
        }
        if (type == NULL) {
            json_decref(elems);
            render_fail(err, "Statement wasn't well formed, can't be processed: an empty set");
            return NULL;
        }
        return json_pack("{s:o}", type, elems);
    }
    default:
        render_fail(err, "Statement wasn't well formed, can't be processed: expected a value");
        return NULL;
    }
}

static bool is_value(const struct ddb_pq_node *n)
{
    return n->kind == N_LIT || n->kind == N_PARAM || n->kind == N_MAP || n->kind == N_LIST ||
           n->kind == N_SET;
}

static int put_value(struct buf *out, const struct ddb_pq_node *n, struct ddb_pq_render *rc,
                     struct ddb_err *err)
{
    json_t *v = value_json(n, rc, err);
    if (v == NULL)
        return -1;
    if (rc->values == NULL)
        rc->values = json_object();
    char ph[32];
    snprintf(ph, sizeof ph, ":v%d", rc->nvalues++);
    json_object_set_new(rc->values, ph, v);
    buf_puts(out, ph);
    return 0;
}

static void put_name(struct buf *out, const char *name, struct ddb_pq_render *rc)
{
    if (rc->names == NULL)
        rc->names = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(rc->names, k, v)
    {
        if (strcmp(json_string_value(v), name) == 0) {
            buf_puts(out, k);
            return;
        }
    }
    char ph[32];
    snprintf(ph, sizeof ph, "#n%d", rc->nnames++);
    json_object_set_new(rc->names, ph, json_string(name));
    buf_puts(out, ph);
}

static void put_path(struct buf *out, const struct ddb_pq_node *n, struct ddb_pq_render *rc)
{
    for (int w = 0; w < 2; w++)
        if (rc->watch[w] && n->elems[0].name && strcmp(rc->watch[w], n->elems[0].name) == 0)
            rc->watched = true;
    for (size_t i = 0; i < n->nelems; i++) {
        if (n->elems[i].name) {
            if (i)
                buf_puts(out, ".");
            put_name(out, n->elems[i].name, rc);
        } else {
            buf_printf(out, "[%ld]", n->elems[i].index);
        }
    }
}

static int render(struct buf *out, const struct ddb_pq_node *n, struct ddb_pq_render *rc,
                  int parent_prec, struct ddb_err *err);

static int render_operand(struct buf *out, const struct ddb_pq_node *n, struct ddb_pq_render *rc,
                          struct ddb_err *err)
{
    if (n->kind == N_PATH) {
        put_path(out, n, rc);
        return 0;
    }
    if (is_value(n))
        return put_value(out, n, rc, err);
    if (n->kind == N_FUNC) {
        buf_printf(out, "%s(", n->name);
        for (size_t i = 0; i < n->nkids; i++) {
            if (i)
                buf_puts(out, ", ");
            if (render_operand(out, n->kids[i], rc, err) != 0)
                return -1;
        }
        buf_puts(out, ")");
        return 0;
    }
    if (n->kind == N_ARITH) {
        if (render_operand(out, n->kids[0], rc, err) != 0)
            return -1;
        buf_printf(out, " %c ", n->op);
        return render_operand(out, n->kids[1], rc, err);
    }
    return render(out, n, rc, 0, err);
}

/* Precedence: OR 1, AND 2, NOT 3, predicates 4. */
static int prec_of(const struct ddb_pq_node *n)
{
    return n->kind == N_OR ? 1 : n->kind == N_AND ? 2 : n->kind == N_NOT ? 3 : 4;
}

static int render(struct buf *out, const struct ddb_pq_node *n, struct ddb_pq_render *rc,
                  int parent_prec, struct ddb_err *err)
{
    static const char *const cmp_text[] = {" = ", " <> ", " < ", " <= ", " > ", " >= "};
    int prec = prec_of(n);
    bool wrap = prec < parent_prec;
    if (wrap)
        buf_puts(out, "(");
    int rc_ = 0;
    switch (n->kind) {
    case N_OR:
    case N_AND:
        rc_ = render(out, n->kids[0], rc, prec, err);
        buf_puts(out, n->kind == N_OR ? " OR " : " AND ");
        if (rc_ == 0)
            rc_ = render(out, n->kids[1], rc, prec + 1, err);
        break;
    case N_NOT:
        buf_puts(out, "NOT ");
        rc_ = render(out, n->kids[0], rc, prec, err);
        break;
    case N_CMP:
        rc_ = render_operand(out, n->kids[0], rc, err);
        buf_puts(out, cmp_text[n->op]);
        if (rc_ == 0)
            rc_ = render_operand(out, n->kids[1], rc, err);
        break;
    case N_BETWEEN:
        if (n->neg)
            buf_puts(out, "NOT ");
        rc_ = render_operand(out, n->kids[0], rc, err);
        buf_puts(out, " BETWEEN ");
        if (rc_ == 0)
            rc_ = render_operand(out, n->kids[1], rc, err);
        buf_puts(out, " AND ");
        if (rc_ == 0)
            rc_ = render_operand(out, n->kids[2], rc, err);
        break;
    case N_IN:
        if (n->neg)
            buf_puts(out, "NOT ");
        rc_ = render_operand(out, n->kids[0], rc, err);
        buf_puts(out, " IN (");
        for (size_t i = 1; rc_ == 0 && i < n->nkids; i++) {
            if (i > 1)
                buf_puts(out, ", ");
            rc_ = render_operand(out, n->kids[i], rc, err);
        }
        buf_puts(out, ")");
        break;
    case N_IS:
        if (n->op == IS_MISSING) {
            buf_puts(out, n->neg ? "attribute_exists(" : "attribute_not_exists(");
            put_path(out, n->kids[0], rc);
            buf_puts(out, ")");
        } else {
            struct ddb_pq_node lit = {.kind = N_LIT, .lit = json_pack("{s:s}", "S", "NULL")};
            if (n->neg)
                buf_puts(out, "NOT ");
            buf_puts(out, "attribute_type(");
            put_path(out, n->kids[0], rc);
            buf_puts(out, ", ");
            rc_ = put_value(out, &lit, rc, err);
            json_decref(lit.lit);
            buf_puts(out, ")");
        }
        break;
    case N_FUNC:
        rc_ = render_operand(out, n, rc, err);
        break;
    default:
        rc_ = render_fail(err, "Statement wasn't well formed, can't be processed: expected a "
                               "condition");
    }
    if (wrap)
        buf_puts(out, ")");
    return rc_;
}

/* Collects the top-level AND terms of n. */
static void and_terms(const struct ddb_pq_node *n, const struct ddb_pq_node **terms, size_t *count,
                      size_t max)
{
    if (n->kind == N_AND) {
        and_terms(n->kids[0], terms, count, max);
        and_terms(n->kids[1], terms, count, max);
        return;
    }
    if (*count < max)
        terms[(*count)++] = n;
}

static bool single_name(const struct ddb_pq_node *n, const char *name)
{
    return n->kind == N_PATH && n->nelems == 1 && n->elems[0].name &&
           strcmp(n->elems[0].name, name) == 0;
}

int ddb_pq_split_where(const struct ddb_pq *q, const char *const keys[2], bool range_ops,
                       struct ddb_pq_render *rc, struct buf *key_expr, struct buf *rest,
                       bool found[2], json_t *key_values[2], struct ddb_err *err)
{
    found[0] = found[1] = false;
    if (key_values)
        key_values[0] = key_values[1] = NULL;
    if (q->where == NULL)
        return 0;
    enum { MAX_TERMS = 256 };
    const struct ddb_pq_node *terms[MAX_TERMS];
    size_t nterms = 0;
    and_terms(q->where, terms, &nterms, MAX_TERMS);
    bool used[MAX_TERMS] = {false};
    for (int k = 0; k < 2; k++) {
        if (keys[k] == NULL)
            continue;
        for (size_t i = 0; i < nterms && !found[k]; i++) {
            const struct ddb_pq_node *t = terms[i];
            const struct ddb_pq_node *val = NULL;
            bool eq = false;
            if (t->kind == N_CMP && t->op == CMP_EQ) {
                if (single_name(t->kids[0], keys[k]) && is_value(t->kids[1]))
                    val = t->kids[1];
                else if (single_name(t->kids[1], keys[k]) && is_value(t->kids[0]))
                    val = t->kids[0];
                eq = val != NULL;
            }
            bool range = false;
            if (!eq && k == 1 && range_ops) {
                if (t->kind == N_CMP && t->op != CMP_NE && single_name(t->kids[0], keys[k]) &&
                    is_value(t->kids[1]))
                    range = true;
                else if (t->kind == N_BETWEEN && !t->neg && single_name(t->kids[0], keys[k]) &&
                         is_value(t->kids[1]) && is_value(t->kids[2]))
                    range = true;
                else if (t->kind == N_FUNC && strcmp(t->name, "begins_with") == 0 &&
                         t->nkids == 2 && single_name(t->kids[0], keys[k]) && is_value(t->kids[1]))
                    range = true;
            }
            if (!eq && !range)
                continue;
            found[k] = true;
            used[i] = true;
            if (key_expr) {
                if (key_expr->len)
                    buf_puts(key_expr, " AND ");
                if (render(key_expr, t, rc, 2, err) != 0)
                    return -1;
            }
            if (eq && key_values) {
                key_values[k] = value_json(val, rc, err);
                if (key_values[k] == NULL)
                    return -1;
            }
        }
    }
    rc->watched = false; /* only the rest of the clause counts */
    for (size_t i = 0; i < nterms; i++) {
        if (used[i])
            continue;
        if (rest->len)
            buf_puts(rest, " AND ");
        if (render(rest, terms[i], rc, 2, err) != 0)
            return -1;
    }
    if (nterms == MAX_TERMS)
        return render_fail(err, "Statement wasn't well formed, can't be processed: too many "
                                "conditions");
    return 0;
}

int ddb_pq_render_projection(const struct ddb_pq *q, struct ddb_pq_render *rc, struct buf *out,
                             struct ddb_err *err)
{
    (void)err;
    for (size_t i = 0; i < q->nproj; i++) {
        if (i)
            buf_puts(out, ", ");
        put_path(out, q->proj[i], rc);
    }
    return 0;
}

json_t *ddb_pq_insert_item(const struct ddb_pq *q, struct ddb_pq_render *rc, struct ddb_err *err)
{
    json_t *v = value_json(q->tuple, rc, err);
    if (v == NULL)
        return NULL;
    json_t *m = json_object_get(v, "M");
    if (!json_is_object(m)) {
        json_decref(v);
        render_fail(err, "Statement wasn't well formed, can't be processed: VALUE must be a tuple");
        return NULL;
    }
    json_incref(m);
    json_decref(v);
    return m;
}

int ddb_pq_render_update(const struct ddb_pq *q, struct ddb_pq_render *rc, struct buf *out,
                         struct ddb_err *err)
{
    bool any[2] = {false, false}; /* SET, REMOVE */
    for (size_t i = 0; i < q->nactions; i++)
        any[q->actions[i].remove] = true;
    for (int remove = 0; remove < 2; remove++) {
        if (!any[remove])
            continue;
        buf_puts(out, !remove ? "SET " : any[0] ? " REMOVE " : "REMOVE ");
        bool first = true;
        for (size_t i = 0; i < q->nactions; i++) {
            if (q->actions[i].remove != (remove == 1))
                continue;
            if (!first)
                buf_puts(out, ", ");
            first = false;
            put_path(out, q->actions[i].path, rc);
            if (remove)
                continue;
            buf_puts(out, " = ");
            if (render_operand(out, q->actions[i].value, rc, err) != 0)
                return -1;
        }
    }
    return 0;
}
