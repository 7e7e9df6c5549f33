/*
 * pattern.c — event patterns (see pattern.h).
 *
 * Three parts:
 *   1. A pull reader for the pattern's JSON that keeps the same input position as the
 *      Jackson parser AWS uses (strings are read lazily; a field name reads ahead to the
 *      first token of its value), so that error locations come out as AWS's do.
 *   2. The compiler: walks the tokens in the order AWS's compiler does (the first problem
 *      found is the one reported) and builds a tree: a node is an AND of fields and of
 *      $or groups, a group an OR of nodes; a field is a dotted path with its matchers.
 *   3. The matcher: collects the event's leaves on the pattern's paths, each with the array
 *      elements it sits in, then searches for one leaf per field such that all chosen leaves
 *      agree on the element of every array they share (bounded backtracking).
 */
#include "cloud/events/pattern.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

#define MAX_DEPTH        64      /* nesting of pattern JSON */
#define SOURCE_QUOTE_MAX 500     /* Jackson quotes this much of the source in locations */
#define FIVE_BILLION     5e9     /* numeric matching range (event-ruler ComparableNumber) */
#define WILDCARD_LIMIT   10      /* most simultaneously active wildcard states per field */
#define WILDCARD_SUBSETS 2000    /* states explored before a wildcard set counts as too complex */
#define SEEN_SLOTS       4099    /* hash slots for them: > 2 × WILDCARD_SUBSETS, prime */
#define SEARCH_BUDGET    1000000 /* match steps before giving up on array consistency */

/* ------------------------------------------------------------------------------------ */
/* 1. The JSON reader                                                                    */

enum tok {
    T_NONE,
    T_OBJ_START,
    T_OBJ_END,
    T_ARR_START,
    T_ARR_END,
    T_NAME,
    T_STRING,
    T_INT,
    T_FLOAT,
    T_TRUE,
    T_FALSE,
    T_NULL,
    T_EOF,
};

struct lex {
    const char *s;
    size_t n, pos;     /* pos: next unread byte (Jackson's input pointer) */
    size_t line_start; /* offset of the current line's first byte */
    int line;
    char ctx[MAX_DEPTH + 1]; /* 'r' root, 'o' object, 'a' array */
    size_t ctx_start[MAX_DEPTH + 1];
    bool ctx_has[MAX_DEPTH + 1]; /* an entry was read: the next needs a comma */
    int depth;
    enum tok cur, pending;
    bool str_open; /* current string token not read to its end yet */
    char *text;    /* name / string value (decoded), number or literal text */
    size_t textlen, textcap;
    char *pend; /* text of a read-ahead number or literal */
    size_t pendlen;
    bool failed;
    char *err;
    size_t errlen;
};

static void buf_reset(struct lex *L)
{
    L->textlen = 0;
}

static bool buf_put(struct lex *L, const char *p, size_t n)
{
    if (L->textlen + n + 1 > L->textcap) {
        size_t cap = L->textcap ? L->textcap * 2 : 64;
        while (cap < L->textlen + n + 1)
            cap *= 2;
        char *t = realloc(L->text, cap);
        if (t == NULL)
            return false;
        L->text = t;
        L->textcap = cap;
    }
    memcpy(L->text + L->textlen, p, n);
    L->textlen += n;
    L->text[L->textlen] = '\0';
    return true;
}

/* Appends " at [Source: (String)"..."; line: L, column: C]" for position pos. */
static size_t put_location(const struct lex *L, size_t pos, char *out, size_t outlen)
{
    size_t shown = L->n > SOURCE_QUOTE_MAX ? SOURCE_QUOTE_MAX : L->n;
    int col = (int)(pos - L->line_start) + 1;
    int w;
    if (L->n > SOURCE_QUOTE_MAX)
        w = snprintf(out, outlen,
                     "\n at [Source: (String)\"%.*s\"[truncated %zu chars]; line: %d, column: %d]",
                     (int)shown, L->s, L->n - shown, L->line, col);
    else
        w = snprintf(out, outlen, "\n at [Source: (String)\"%.*s\"; line: %d, column: %d]",
                     (int)shown, L->s, L->line, col);
    return w < 0 ? 0 : (size_t)w >= outlen ? outlen - 1 : (size_t)w;
}

/* Records the first error: EVENTS_PATTERN_INVALID + reason, then `located` copies of the
 * location at pos (AWS's compiler wraps some errors twice, and so shows it twice). */
static void lex_fail_at(struct lex *L, size_t pos, int located, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void lex_fail_at(struct lex *L, size_t pos, int located, const char *fmt, ...)
{
    if (L->failed)
        return;
    L->failed = true;
    if (L->err == NULL || L->errlen == 0)
        return;
    size_t used = (size_t)snprintf(L->err, L->errlen, "%s", EVENTS_PATTERN_INVALID);
    if (used >= L->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(L->err + used, L->errlen - used, fmt, ap);
    va_end(ap);
    if (w < 0)
        return;
    used += (size_t)w;
    for (int i = 0; i < located && used < L->errlen; i++)
        used += put_location(L, pos, L->err + used, L->errlen - used);
}

#define barf(L, ...)  lex_fail_at((L), (L)->pos, 1, __VA_ARGS__)
#define barf2(L, ...) lex_fail_at((L), (L)->pos, 2, __VA_ARGS__)
#define barf0(L, ...) lex_fail_at((L), (L)->pos, 0, __VA_ARGS__)

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Skips whitespace, counting lines. Returns the next byte or -1 at the end. */
static int skip_ws(struct lex *L)
{
    while (L->pos < L->n) {
        char c = L->s[L->pos];
        if (!is_ws(c))
            return (unsigned char)c;
        L->pos++;
        if (c == '\n') {
            L->line++;
            L->line_start = L->pos;
        }
    }
    return -1;
}

/* Jackson names a character as ('x' (code 120)). */
static void unexpected_char(struct lex *L, int c, const char *what)
{
    if (c < 0)
        barf(L, "Unexpected end-of-input: %s", what);
    else if (c < 0x20)
        lex_fail_at(L, L->pos, 1, "Unexpected character ((CTRL-CHAR, code %d)): %s", c, what);
    else
        lex_fail_at(L, L->pos, 1, "Unexpected character ('%c' (code %d)): %s", c, c, what);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static void put_utf8(struct lex *L, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    if (!buf_put(L, b, n))
        barf0(L, "out of memory");
}

static bool read_hex4(struct lex *L, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        if (L->pos >= L->n) {
            barf(L, "Unexpected end-of-input in character escape sequence");
            return false;
        }
        int h = hexval(L->s[L->pos]);
        if (h < 0) {
            char c = L->s[L->pos++];
            barf(L,
                 "Unexpected character ('%c' (code %d)): expected a hex-digit for character escape "
                 "sequence",
                 c, (unsigned char)c);
            return false;
        }
        v = v * 16 + (uint32_t)h;
        L->pos++;
    }
    *out = v;
    return true;
}

/* Reads string content after the opening quote up to and past the closing one; decodes
 * into L->text when `keep`. */
static bool read_string_body(struct lex *L, bool keep)
{
    buf_reset(L);
    if (keep && !buf_put(L, "", 0))
        return false;
    while (L->pos < L->n) {
        size_t start = L->pos;
        while (L->pos < L->n && L->s[L->pos] != '"' && L->s[L->pos] != '\\' &&
               (unsigned char)L->s[L->pos] >= 0x20)
            L->pos++;
        if (keep && L->pos > start && !buf_put(L, L->s + start, L->pos - start))
            return false;
        if (L->pos >= L->n)
            break;
        unsigned char c = (unsigned char)L->s[L->pos++];
        if (c == '"')
            return true;
        if (c < 0x20) {
            barf(L,
                 "Illegal unquoted character ((CTRL-CHAR, code %d)): has to be escaped using "
                 "backslash to be included in string value",
                 c);
            return false;
        }
        /* backslash */
        if (L->pos >= L->n)
            break;
        char e = L->s[L->pos++];
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k = e != '\0' ? strchr(from, e) : NULL;
        if (k != NULL) {
            if (keep && !buf_put(L, &to[k - from], 1))
                return false;
        } else if (e == 'u') {
            uint32_t cp;
            if (!read_hex4(L, &cp))
                return false;
            if (cp >= 0xd800 && cp < 0xdc00 && L->pos + 6 <= L->n && L->s[L->pos] == '\\' &&
                L->s[L->pos + 1] == 'u') {
                size_t save = L->pos;
                L->pos += 2;
                uint32_t lo;
                if (!read_hex4(L, &lo))
                    return false;
                if (lo >= 0xdc00 && lo < 0xe000)
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                else
                    L->pos = save;
            }
            if (keep)
                put_utf8(L, cp);
        } else {
            barf(L, "Unrecognized character escape '%c' (code %d)", e, (unsigned char)e);
            return false;
        }
    }
    barf(L, "Unexpected end-of-input: was expecting closing quote for a string value");
    return false;
}

static bool is_ident(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '+' || (unsigned char)c >= 0x80;
}

static void unrecognized_token(struct lex *L, size_t start)
{
    while (L->pos < L->n && is_ident(L->s[L->pos]) && L->pos - start < 256)
        L->pos++;
    barf(L,
         "Unrecognized token '%.*s': was expecting (JSON String, Number, Array, Object or token "
         "'null', 'true' or 'false')",
         (int)(L->pos - start), L->s + start);
}

/* Reads a number starting at L->pos (JSON grammar); leaves pos at the byte after it. */
static enum tok read_number(struct lex *L)
{
    size_t start = L->pos;
    bool is_float = false;
    if (L->s[L->pos] == '-')
        L->pos++;
    if (L->pos >= L->n || L->s[L->pos] < '0' || L->s[L->pos] > '9') {
        if (L->pos < L->n && L->s[L->pos] != '\0')
            lex_fail_at(L, L->pos + 1, 1,
                        "Unexpected character ('%c' (code %d)) in numeric value: expected digit "
                        "(0-9) to follow minus sign, for valid numeric value",
                        L->s[L->pos], (unsigned char)L->s[L->pos]);
        else
            barf(L, "Unexpected end-of-input in numeric value");
        return T_NONE;
    }
    if (L->s[L->pos] == '0' && L->pos + 1 < L->n && L->s[L->pos + 1] >= '0' &&
        L->s[L->pos + 1] <= '9') {
        L->pos++;
        barf(L, "Invalid numeric value: Leading zeroes not allowed");
        return T_NONE;
    }
    while (L->pos < L->n && L->s[L->pos] >= '0' && L->s[L->pos] <= '9')
        L->pos++;
    if (L->pos < L->n && L->s[L->pos] == '.') {
        is_float = true;
        L->pos++;
        size_t d = L->pos;
        while (L->pos < L->n && L->s[L->pos] >= '0' && L->s[L->pos] <= '9')
            L->pos++;
        if (L->pos == d) {
            barf(L, "Unexpected character in numeric value: Decimal point not followed by a digit");
            return T_NONE;
        }
    }
    if (L->pos < L->n && (L->s[L->pos] == 'e' || L->s[L->pos] == 'E')) {
        is_float = true;
        L->pos++;
        if (L->pos < L->n && (L->s[L->pos] == '+' || L->s[L->pos] == '-'))
            L->pos++;
        size_t d = L->pos;
        while (L->pos < L->n && L->s[L->pos] >= '0' && L->s[L->pos] <= '9')
            L->pos++;
        if (L->pos == d) {
            barf(L, "Unexpected character in numeric value: Exponent indicator not followed by a "
                    "digit");
            return T_NONE;
        }
    }
    buf_reset(L);
    if (!buf_put(L, L->s + start, L->pos - start))
        return T_NONE;
    return is_float ? T_FLOAT : T_INT;
}

/* Reads the first token of a value whose first byte is c (already known, not consumed). */
static enum tok read_value_start(struct lex *L, int c)
{
    if (c == '"') {
        L->pos++;
        L->str_open = true;
        return T_STRING;
    }
    if (c == '{' || c == '[') {
        if (L->depth >= MAX_DEPTH) {
            barf(L, "Document nesting depth exceeds the maximum allowed");
            return T_NONE;
        }
        L->pos++;
        L->depth++;
        L->ctx[L->depth] = c == '{' ? 'o' : 'a';
        L->ctx_start[L->depth] = L->pos - 1;
        L->ctx_has[L->depth] = false;
        return c == '{' ? T_OBJ_START : T_ARR_START;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return read_number(L);
    static const struct {
        const char *lit;
        enum tok t;
    } lits[] = {{"true", T_TRUE}, {"false", T_FALSE}, {"null", T_NULL}};
    for (size_t i = 0; i < 3; i++) {
        size_t ln = strlen(lits[i].lit);
        if (c == lits[i].lit[0]) {
            size_t start = L->pos;
            if (L->n - L->pos >= ln && memcmp(L->s + L->pos, lits[i].lit, ln) == 0 &&
                (L->pos + ln >= L->n || !is_ident(L->s[L->pos + ln]))) {
                L->pos += ln;
                buf_reset(L);
                buf_put(L, lits[i].lit, ln);
                return lits[i].t;
            }
            unrecognized_token(L, start);
            return T_NONE;
        }
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80) {
        unrecognized_token(L, L->pos);
        return T_NONE;
    }
    unexpected_char(L, c,
                    "expected a valid value (JSON String, Number, Array, Object or token 'null', "
                    "'true' or 'false')");
    return T_NONE;
}

/* The next token, as Jackson's nextToken(): T_NONE on error. */
static enum tok lex_next(struct lex *L)
{
    if (L->failed)
        return T_NONE;
    if (L->pending == T_NONE && L->str_open) {
        L->str_open = false;
        if (!read_string_body(L, false))
            return L->cur = T_NONE;
    }
    if (L->pending != T_NONE) {
        L->cur = L->pending;
        L->pending = T_NONE;
        if (L->cur != T_STRING && L->cur != T_OBJ_START && L->cur != T_ARR_START) {
            buf_reset(L);
            buf_put(L, L->pend, L->pendlen);
        }
        return L->cur;
    }
    int c = skip_ws(L);
    char ctx = L->ctx[L->depth];
    if (c < 0) {
        if (L->depth > 0) {
            char where[SOURCE_QUOTE_MAX + 128];
            struct lex tmp = *L;
            tmp.line = 1;
            tmp.line_start = 0;
            put_location(&tmp, L->ctx_start[L->depth], where, sizeof where);
            barf(L, "Unexpected end-of-input: expected close marker for %s (start marker at%s)",
                 ctx == 'o' ? "Object" : "Array", where + 4);
        }
        return L->cur = T_EOF;
    }
    if (c == '}' || c == ']') {
        if ((c == '}' && ctx != 'o') || (c == ']' && ctx != 'a')) {
            L->pos++;
            barf(L, "Unexpected close marker '%c': expected '%c'", c,
                 ctx == 'o'   ? '}'
                 : ctx == 'a' ? ']'
                              : ' ');
            return L->cur = T_NONE;
        }
        L->pos++;
        L->depth--;
        if (L->depth > 0)
            L->ctx_has[L->depth] = true;
        return L->cur = c == '}' ? T_OBJ_END : T_ARR_END;
    }
    if (L->ctx_has[L->depth] && ctx != 'r') {
        if (c != ',') {
            unexpected_char(L, c,
                            ctx == 'o' ? "was expecting comma to separate Object entries"
                                       : "was expecting comma to separate Array entries");
            return L->cur = T_NONE;
        }
        L->pos++;
        c = skip_ws(L);
    }
    if (ctx == 'o') {
        if (c != '"') {
            unexpected_char(L, c, "was expecting double-quote to start field name");
            return L->cur = T_NONE;
        }
        L->pos++;
        if (!read_string_body(L, true))
            return L->cur = T_NONE;
        c = skip_ws(L);
        if (c != ':') {
            unexpected_char(L, c, "was expecting a colon to separate field name and value");
            return L->cur = T_NONE;
        }
        L->pos++;
        c = skip_ws(L);
        L->ctx_has[L->depth] = true;
        /* Jackson reads ahead to the value's first token; the name stays in L->text unless
         * the value is a number or literal, whose text we then keep separately. */
        char *name = malloc(L->textlen + 1);
        if (name == NULL) {
            barf0(L, "out of memory");
            return L->cur = T_NONE;
        }
        size_t nlen = L->textlen;
        memcpy(name, L->text, nlen + 1);
        if (c < 0) {
            free(name);
            barf(L, "Unexpected end-of-input: expected a value");
            return L->cur = T_NONE;
        }
        enum tok v = read_value_start(L, c);
        if (v == T_NONE) {
            free(name);
            return L->cur = T_NONE;
        }
        L->pending = v;
        if (v != T_STRING && v != T_OBJ_START && v != T_ARR_START) {
            char *t = realloc(L->pend, L->textlen + 1);
            if (t == NULL) {
                free(name);
                barf0(L, "out of memory");
                return L->cur = T_NONE;
            }
            memcpy(t, L->text, L->textlen + 1);
            L->pend = t;
            L->pendlen = L->textlen;
        }
        buf_reset(L);
        buf_put(L, name, nlen);
        free(name);
        return L->cur = T_NAME;
    }
    if (ctx == 'a' || ctx == 'r')
        L->ctx_has[L->depth] = true;
    return L->cur = read_value_start(L, c);
}

/* The text of the current token (Jackson's getText()): finishes a lazily read string. */
static const char *lex_text(struct lex *L, size_t *len)
{
    if (L->cur == T_STRING && L->str_open) {
        L->str_open = false;
        if (!read_string_body(L, true)) {
            *len = 0;
            return "";
        }
    }
    *len = L->textlen;
    return L->text ? L->text : "";
}

static bool tok_is_number(enum tok t)
{
    return t == T_INT || t == T_FLOAT;
}

/* ------------------------------------------------------------------------------------ */
/* 2. The compiled form                                                                  */

enum mtype {
    M_EXACT, /* string, number, true/false/null (by kind) */
    M_PREFIX,
    M_SUFFIX,
    M_PREFIX_IC, /* prefix / suffix equals-ignore-case: str is folded */
    M_SUFFIX_IC,
    M_EQ_IC,
    M_WILDCARD,
    M_NUMERIC,
    M_CIDR,
    M_EXISTS,
    M_ABSENT,
    M_AB_VALUES, /* anything-but values: strings and/or number keys */
    M_AB_PREFIX, /* anything-but {prefix|suffix|equals-ignore-case|wildcard}: a list */
    M_AB_SUFFIX,
    M_AB_IC,
    M_AB_WILDCARD,
};

enum vkind { V_STRING, V_NUMBER, V_TRUE, V_FALSE, V_NULL };

struct str {
    char *s;
    size_t n;
};

struct matcher {
    enum mtype t;
    enum vkind kind; /* M_EXACT */
    struct str str;  /* M_EXACT string, prefix, suffix, folded ic, wildcard text */
    bool num_ok;     /* number within ±5e9: `key` is meaningful */
    int64_t key;     /* ComparableNumber of a number */
    double num;      /* its value */
    bool ip;         /* M_EXACT string that is an IP address literal */
    int ip_len;
    unsigned char ip_bytes[16];
    /* M_NUMERIC */
    bool has_lo, has_hi, lo_open, hi_open;
    int64_t lo, hi;
    /* M_CIDR */
    int cidr_len;
    unsigned char cidr_lo[16], cidr_hi[16];
    /* M_AB_*: the list */
    struct str *strs;
    size_t nstrs;
    int64_t *keys;
    size_t nkeys;
};

struct field {
    char *path;
    size_t pathlen;
    int path_id;
    struct matcher *m;
    size_t nm;
    bool absent_ok; /* one of the matchers is exists:false */
    bool positive;  /* one of the matchers needs a value */
};

struct node;
struct group {
    struct node *alts;
    size_t nalts;
};

struct node {
    struct field *fields;
    size_t nfields;
    struct group *groups;
    size_t ngroups;
};

struct events_pattern {
    struct node root;
    char **paths; /* every field path, once (ids index this) */
    size_t npaths;
    char **prefixes; /* every proper prefix of a path, sorted, for pruning the event walk */
    size_t nprefixes;
};

static void free_matcher(struct matcher *m)
{
    free(m->str.s);
    for (size_t i = 0; i < m->nstrs; i++)
        free(m->strs[i].s);
    free(m->strs);
    free(m->keys);
}

static void free_field(struct field *f)
{
    free(f->path);
    for (size_t i = 0; i < f->nm; i++)
        free_matcher(&f->m[i]);
    free(f->m);
}

static void free_node(struct node *n)
{
    for (size_t i = 0; i < n->nfields; i++)
        free_field(&n->fields[i]);
    free(n->fields);
    for (size_t g = 0; g < n->ngroups; g++) {
        for (size_t a = 0; a < n->groups[g].nalts; a++)
            free_node(&n->groups[g].alts[a]);
        free(n->groups[g].alts);
    }
    free(n->groups);
}

void events_pattern_free(struct events_pattern *p)
{
    if (p == NULL)
        return;
    free_node(&p->root);
    for (size_t i = 0; i < p->npaths; i++)
        free(p->paths[i]);
    free(p->paths);
    for (size_t i = 0; i < p->nprefixes; i++)
        free(p->prefixes[i]);
    free(p->prefixes);
    free(p);
}

static bool grow(void **arr, size_t *n, size_t size)
{
    void *a = realloc(*arr, (*n + 1) * size);
    if (a == NULL)
        return false;
    *arr = a;
    memset((char *)a + *n * size, 0, size);
    (*n)++;
    return true;
}

/* ComparableNumber: the value shifted and scaled to 6 decimals (event-ruler's encoding, so
 * two numbers are equal or ordered exactly when AWS finds them so). */
static int64_t num_key(double v)
{
    return (int64_t)(1e6 * (FIVE_BILLION + v));
}

static bool num_in_range(double v)
{
    return v >= -FIVE_BILLION && v <= FIVE_BILLION;
}

/* ---- case folding (equals-ignore-case) ---- */

static uint32_t fold_cp(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if ((c >= 0xc0 && c <= 0xde && c != 0xd7) || (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) ||
        (c >= 0x410 && c <= 0x42f))
        return c + 32;
    if (c >= 0x400 && c <= 0x40f)
        return c + 80;
    return c;
}

/* Decodes one UTF-8 sequence (invalid bytes pass through as themselves). */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    unsigned char c = s[*i];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (len == 1 || *i + (size_t)len > n) {
        (*i)++;
        return c;
    }
    uint32_t cp = c & (0x7f >> len);
    for (int k = 1; k < len; k++) {
        if ((s[*i + k] & 0xc0) != 0x80) {
            (*i)++;
            return c;
        }
        cp = (cp << 6) | (s[*i + k] & 0x3f);
    }
    *i += (size_t)len;
    return cp;
}

/* Folded copy of s (malloc'd). */
static char *fold(const char *s, size_t n, size_t *outn)
{
    char *o = malloc(n * 2 + 4);
    if (o == NULL)
        return NULL;
    size_t j = 0, i = 0;
    while (i < n) {
        size_t start = i;
        uint32_t cp = utf8_next((const unsigned char *)s, n, &i);
        uint32_t f = fold_cp(cp);
        if (f == cp) {
            memcpy(o + j, s + start, i - start);
            j += i - start;
        } else if (f < 0x80) {
            o[j++] = (char)f;
        } else if (f < 0x800) {
            o[j++] = (char)(0xc0 | (f >> 6));
            o[j++] = (char)(0x80 | (f & 0x3f));
        } else {
            o[j++] = (char)(0xe0 | (f >> 12));
            o[j++] = (char)(0x80 | ((f >> 6) & 0x3f));
            o[j++] = (char)(0x80 | (f & 0x3f));
        }
    }
    o[j] = '\0';
    *outn = j;
    return o;
}

/* ---- IP addresses (event-ruler CIDR rules) ---- */

static bool ipv4_shape(const char *s, size_t n)
{
    /* [0-9]+\.[0-9]+\.[0-9]+\.[0-9]+ */
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
        parts++;
        if (parts < 4) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
    }
    return i == n;
}

static bool ipv6_shape(const char *s, size_t n)
{
    /* [0-9a-fA-F:]*:[0-9a-fA-F:]* */
    bool colon = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ':')
            colon = true;
        else if (hexval(s[i]) < 0)
            return false;
    }
    return colon;
}

/* 4 or 16 bytes of an IP literal; 0 when it is not one; -1 when it has an IP's shape but
 * is not a valid address. */
static int parse_ip(const char *s, size_t n, unsigned char out[16])
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return 0;
    if (ipv4_shape(s, n)) {
        size_t i = 0;
        for (int p = 0; p < 4; p++) {
            unsigned v = 0;
            while (i < n && s[i] != '.') {
                v = v * 10 + (unsigned)(s[i] - '0');
                if (v > 255)
                    return -1;
                i++;
            }
            out[p] = (unsigned char)v;
            i++;
        }
        return 4;
    }
    if (ipv6_shape(s, n)) {
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        return inet_pton(AF_INET6, tmp, out) == 1 ? 16 : -1;
    }
    return 0;
}

/* ---- wildcard ---- */

/* Checks a wildcard pattern as event-ruler does; positions count the opening quote. */
static bool wildcard_check(struct lex *L, const char *w, size_t n, int located)
{
    for (size_t i = 0; i < n; i++) {
        if (w[i] == '*' && i + 1 < n && w[i + 1] == '*') {
            lex_fail_at(L, L->pos, located, "Consecutive wildcard characters at pos %zu", i + 1);
            return false;
        }
        if (w[i] == '\\') {
            if (i + 1 < n && (w[i + 1] == '*' || w[i + 1] == '\\')) {
                i++;
                continue;
            }
            lex_fail_at(L, L->pos, located, "Invalid escape character at pos %zu", i + 1);
            return false;
        }
    }
    return true;
}

/* Glob match: '*' any run, "\*" and "\\" literal. Linear-time with one backtrack point. */
static bool wildcard_match(const char *w, size_t wn, const char *s, size_t sn)
{
    size_t i = 0, j = 0, star = (size_t)-1, mark = 0;
    while (j < sn) {
        if (i < wn && w[i] == '*') {
            star = ++i;
            mark = j;
            continue;
        }
        if (i < wn) {
            char c = w[i];
            size_t adv = 1;
            if (c == '\\' && i + 1 < wn) {
                c = w[i + 1];
                adv = 2;
            }
            if (c == s[j]) {
                i += adv;
                j++;
                continue;
            }
        }
        if (star == (size_t)-1)
            return false;
        i = star;
        j = ++mark;
    }
    while (i < wn && w[i] == '*')
        i++;
    return i == wn;
}

/* ------------------------------------------------------------------------------------ */
/* 2b. The compiler                                                                      */

struct comp {
    struct lex *L;
    struct events_pattern *p;
    char path[EVENTS_PATTERN_MAX_LEN * 2 + 64];
    size_t pathlen;
};

static void oom(struct comp *c)
{
    lex_fail_at(c->L, c->L->pos, 0, "out of memory");
}

/* An exact value in a field's array. */
static bool add_exact(struct comp *c, struct field *f, enum tok t)
{
    struct lex *L = c->L;
    if (!grow((void **)&f->m, &f->nm, sizeof *f->m))
        return oom(c), false;
    struct matcher *m = &f->m[f->nm - 1];
    m->t = M_EXACT;
    size_t n;
    const char *txt = lex_text(L, &n);
    if (L->failed)
        return false;
    m->str.s = str_dupn(txt, n);
    m->str.n = n;
    if (m->str.s == NULL)
        return oom(c), false;
    switch (t) {
    case T_STRING:
        m->kind = V_STRING;
        m->ip_len = parse_ip(txt, n, m->ip_bytes);
        m->ip = m->ip_len > 0;
        break;
    case T_INT:
    case T_FLOAT:
        m->kind = V_NUMBER;
        m->num = strtod(txt, NULL);
        m->num_ok = num_in_range(m->num);
        if (m->num_ok)
            m->key = num_key(m->num);
        break;
    case T_TRUE:
        m->kind = V_TRUE;
        break;
    case T_FALSE:
        m->kind = V_FALSE;
        break;
    default:
        m->kind = V_NULL;
        break;
    }
    f->positive = true;
    return true;
}

static struct matcher *new_matcher(struct comp *c, struct field *f, enum mtype t)
{
    if (!grow((void **)&f->m, &f->nm, sizeof *f->m)) {
        oom(c);
        return NULL;
    }
    f->m[f->nm - 1].t = t;
    if (t == M_ABSENT)
        f->absent_ok = true;
    else
        f->positive = true;
    return &f->m[f->nm - 1];
}

/* The current token must be a string; takes its text. */
static bool take_string(struct comp *c, struct str *out)
{
    size_t n;
    const char *t = lex_text(c->L, &n);
    if (c->L->failed)
        return false;
    out->s = str_dupn(t, n);
    out->n = n;
    if (out->s == NULL)
        return oom(c), false;
    return true;
}

static bool expect_obj_end(struct comp *c, const char *msg)
{
    if (lex_next(c->L) != T_OBJ_END) {
        if (!c->L->failed)
            barf(c->L, "%s", msg);
        return false;
    }
    return true;
}

#define ONE_KEY  "Only one key allowed in match expression"
#define TOO_MANY "Too many elements in numeric expression"

/* {"prefix"|"suffix": {"equals-ignore-case": "..."}}: the inner object is open. */
static bool compile_affix_ic(struct comp *c, struct field *f, bool prefix)
{
    struct lex *L = c->L;
    if (lex_next(L) != T_NAME) {
        if (!L->failed)
            barf(L,
                 prefix ? "Prefix expression name not found" : "Suffix expression name not found");
        return false;
    }
    size_t n;
    const char *op = lex_text(L, &n);
    if (strcmp(op, "equals-ignore-case") != 0) {
        barf(L, "Unsupported %s pattern: %s", prefix ? "prefix" : "suffix", op);
        return false;
    }
    if (lex_next(L) != T_STRING) {
        if (!L->failed)
            barf(L, "equals-ignore-case match pattern must be a string");
        return false;
    }
    struct matcher *m = new_matcher(c, f, prefix ? M_PREFIX_IC : M_SUFFIX_IC);
    struct str s;
    if (m == NULL || !take_string(c, &s))
        return false;
    m->str.s = fold(s.s, s.n, &m->str.n);
    free(s.s);
    if (m->str.s == NULL)
        return oom(c), false;
    return expect_obj_end(c, ONE_KEY) && expect_obj_end(c, ONE_KEY);
}

/* A numeric value token's number (its text, as AWS's compiler reads it). */
static bool take_number(struct comp *c, double *v, int located_on_range_error)
{
    size_t n;
    const char *t = lex_text(c->L, &n);
    *v = strtod(t, NULL);
    if (!num_in_range(*v)) {
        lex_fail_at(c->L, c->L->pos, located_on_range_error,
                    "Value must be between -5.0E9 and 5.0E9, inclusive");
        return false;
    }
    return true;
}

/* {"numeric": [...]}: the array is open. */
static bool compile_numeric(struct comp *c, struct field *f)
{
    struct lex *L = c->L;
    struct matcher *m = new_matcher(c, f, M_NUMERIC);
    if (m == NULL)
        return false;
    enum tok t = lex_next(L);
    size_t n;
    if (t != T_STRING) {
        if (!L->failed) {
            const char *txt = t == T_ARR_END     ? "]"
                              : t == T_ARR_START ? "["
                              : t == T_OBJ_START ? "{"
                                                 : lex_text(L, &n);
            barf(L, "Invalid member in numeric match: %s", txt);
        }
        return false;
    }
    char op[8] = "";
    const char *o = lex_text(L, &n);
    snprintf(op, sizeof op, "%s", n < sizeof op ? o : "?");
    if (n >= sizeof op || (strcmp(op, "=") != 0 && strcmp(op, ">=") != 0 && strcmp(op, ">") != 0 &&
                           strcmp(op, "<=") != 0 && strcmp(op, "<") != 0)) {
        char *saved = str_dupn(o, n > 200 ? 200 : n);
        lex_next(L); /* AWS reads the value before looking at the operator */
        if (!L->failed)
            barf(L, "Unrecognized numeric range operator: %s", saved ? saved : "");
        free(saved);
        return false;
    }
    t = lex_next(L);
    if (L->failed)
        return false;
    if (!tok_is_number(t)) {
        barf(L, "Value of %s must be numeric", strcmp(op, "=") == 0 ? "equals" : op);
        return false;
    }
    double v;
    if (!take_number(c, &v, 1))
        return false;
    if (strcmp(op, "=") == 0 || op[0] == '<') {
        if (op[0] == '=') {
            m->has_lo = m->has_hi = true;
            m->lo = m->hi = num_key(v);
        } else {
            m->has_hi = true;
            m->hi = num_key(v);
            m->hi_open = strcmp(op, "<") == 0;
        }
        if (lex_next(L) != T_ARR_END) {
            if (!L->failed)
                barf(L, TOO_MANY);
            return false;
        }
        return true;
    }
    m->has_lo = true;
    m->lo = num_key(v);
    m->lo_open = strcmp(op, ">") == 0;
    t = lex_next(L);
    if (t == T_ARR_END)
        return true;
    if (L->failed)
        return false;
    if (t != T_STRING) {
        const char *txt = t == T_ARR_START ? "[" : t == T_OBJ_START ? "{" : lex_text(L, &n);
        barf(L, "Bad value in numeric range: %s", txt);
        return false;
    }
    o = lex_text(L, &n);
    if (!(n == 1 && o[0] == '<') && !(n == 2 && o[0] == '<' && o[1] == '=')) {
        barf(L, "Bad numeric range operator: %.*s", (int)(n > 200 ? 200 : n), o);
        return false;
    }
    bool open_top = n == 1;
    t = lex_next(L);
    if (L->failed)
        return false;
    if (!tok_is_number(t)) {
        barf(L, "Value of %s must be numeric", open_top ? "<" : "<=");
        return false;
    }
    if (!take_number(c, &v, 1))
        return false;
    m->has_hi = true;
    m->hi = num_key(v);
    m->hi_open = open_top;
    if (lex_next(L) != T_ARR_END) {
        if (!L->failed)
            barf(L, "Too many terms in numeric range expression");
        return false;
    }
    if (m->lo >= m->hi) {
        barf(L, "Bottom must be less than top");
        return false;
    }
    return true;
}

static bool add_str(struct comp *c, struct matcher *m, struct str s)
{
    if (!grow((void **)&m->strs, &m->nstrs, sizeof *m->strs)) {
        free(s.s);
        return oom(c), false;
    }
    m->strs[m->nstrs - 1] = s;
    return true;
}

static bool add_key(struct comp *c, struct matcher *m, int64_t k)
{
    if (!grow((void **)&m->keys, &m->nkeys, sizeof *m->keys))
        return oom(c), false;
    m->keys[m->nkeys - 1] = k;
    return true;
}

/* One value of anything-but {prefix|suffix|equals-ignore-case|wildcard}. `list` tells
 * whether it sits in a list (AWS reports those errors with the location twice). */
static bool ab_set_value(struct comp *c, struct matcher *m, enum tok t, bool list)
{
    struct lex *L = c->L;
    int loc = list ? 2 : 1;
    if (t != T_STRING) {
        if (m->t == M_AB_IC)
            lex_fail_at(L, L->pos, loc,
                        "Inside anything-but/equals-ignore-case list, number|start|null|boolean is "
                        "not supported.");
        else if (m->t == M_AB_WILDCARD)
            lex_fail_at(L, L->pos, loc, "wildcard match pattern must be a string");
        else
            lex_fail_at(L, L->pos, loc, "prefix/suffix match pattern must be a string");
        return false;
    }
    struct str s;
    if (!take_string(c, &s))
        return false;
    if ((m->t == M_AB_PREFIX || m->t == M_AB_SUFFIX) && s.n == 0) {
        free(s.s);
        lex_fail_at(L, L->pos, loc, "Null prefix/suffix not allowed");
        return false;
    }
    if (m->t == M_AB_IC) {
        struct str f;
        f.s = fold(s.s, s.n, &f.n);
        free(s.s);
        if (f.s == NULL)
            return oom(c), false;
        s = f;
    }
    if (m->t == M_AB_WILDCARD && !list && !wildcard_check(L, s.s, s.n, 1)) {
        free(s.s);
        return false;
    }
    return add_str(c, m, s);
}

/* {"anything-but": ...}: the value's first token is next. */
static bool compile_anything_but(struct comp *c, struct field *f)
{
    struct lex *L = c->L;
    enum mtype kind = M_AB_VALUES;
    enum tok t = lex_next(L);
    if (t == T_OBJ_START) {
        if (lex_next(L) != T_NAME) {
            if (!L->failed)
                barf(L, "Anything-But expression name not found");
            return false;
        }
        size_t n;
        const char *op = lex_text(L, &n);
        if (strcmp(op, "equals-ignore-case") == 0)
            kind = M_AB_IC;
        else if (strcmp(op, "prefix") == 0)
            kind = M_AB_PREFIX;
        else if (strcmp(op, "suffix") == 0)
            kind = M_AB_SUFFIX;
        else if (strcmp(op, "wildcard") == 0)
            kind = M_AB_WILDCARD;
        else {
            barf(L, "Unsupported anything-but pattern: %s", op);
            return false;
        }
        t = lex_next(L);
    }
    if (L->failed)
        return false;
    if (t != T_ARR_START && t != T_STRING && !tok_is_number(t)) {
        barf(L, "Value of anything-but must be an array or single string/number value.");
        return false;
    }
    struct matcher *m = new_matcher(c, f, kind);
    if (m == NULL)
        return false;
    if (t == T_ARR_START) {
        bool has_num = false, has_str = false;
        while ((t = lex_next(L)) != T_ARR_END) {
            if (L->failed)
                return false;
            if (kind != M_AB_VALUES) {
                if (!ab_set_value(c, m, t, true))
                    return false;
                continue;
            }
            if (t == T_STRING) {
                struct str s;
                if (!take_string(c, &s) || !add_str(c, m, s))
                    return false;
                has_str = true;
            } else if (tok_is_number(t)) {
                double v;
                if (!take_number(c, &v, 1) || !add_key(c, m, num_key(v)))
                    return false;
                has_num = true;
            } else {
                barf2(L, "Inside anything but list, start|null|boolean is not supported.");
                return false;
            }
        }
        if (kind == M_AB_VALUES && has_num == has_str) {
            barf(L, "Inside anything but list, either all values are number or string, mixed type "
                    "is not supported");
            return false;
        }
        if (kind == M_AB_WILDCARD)
            for (size_t i = 0; i < m->nstrs; i++)
                if (!wildcard_check(L, m->strs[i].s, m->strs[i].n, 1))
                    return false;
    } else if (kind != M_AB_VALUES) {
        if (!ab_set_value(c, m, t, false))
            return false;
    } else if (t == T_STRING) {
        struct str s;
        if (!take_string(c, &s) || !add_str(c, m, s))
            return false;
    } else {
        double v;
        if (!take_number(c, &v, 0) || !add_key(c, m, num_key(v)))
            return false;
    }
    if (!expect_obj_end(c, TOO_MANY))
        return false;
    if (kind != M_AB_VALUES && !expect_obj_end(c, TOO_MANY))
        return false;
    return true;
}

/* {"cidr": "a.b.c.d/n"}: the value token is current. Errors carry no location (AWS's come
 * from outside the JSON reader). */
static bool compile_cidr(struct comp *c, struct field *f, enum tok t)
{
    struct lex *L = c->L;
    if (t != T_STRING) {
        barf(L, "prefix match pattern must be a string");
        return false;
    }
    size_t n;
    const char *s = lex_text(L, &n);
    if (L->failed)
        return false;
    /* Java's split("/"): trailing empty parts dropped */
    size_t parts = 1, slash = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '/') {
            if (parts == 1)
                slash = i;
            parts++;
        }
    while (parts > 1 && n > 0 && s[n - 1] == '/') {
        n--;
        parts--;
    }
    if (parts != 2) {
        barf0(L, "Malformed CIDR, one '/' required");
        return false;
    }
    const char *bits = s + slash + 1;
    size_t bn = n - slash - 1;
    long mask = 0;
    size_t i = 0;
    bool neg = false;
    if (i < bn && (bits[i] == '-' || bits[i] == '+'))
        neg = bits[i++] == '-';
    if (i == bn || bn - i > 9) {
        barf0(L, "Malformed CIDR, mask bits must be an integer");
        return false;
    }
    for (; i < bn; i++) {
        if (bits[i] < '0' || bits[i] > '9') {
            barf0(L, "Malformed CIDR, mask bits must be an integer");
            return false;
        }
        mask = mask * 10 + (bits[i] - '0');
    }
    if (neg && mask > 0) {
        barf0(L, "Malformed CIDR, mask bits must not be negative");
        return false;
    }
    unsigned char ip[16];
    int len = parse_ip(s, slash, ip);
    if (len < 0) {
        barf0(L, "Invalid IP address: %.*s", (int)slash, s);
        return false;
    }
    if (len == 0) {
        barf0(L, "Nonstandard IP address: %.*s", (int)slash, s);
        return false;
    }
    if (len == 4 && mask > 31) {
        barf0(L, "IPv4 mask bits must be < 32");
        return false;
    }
    if (len == 16 && mask > 127) {
        barf0(L, "IPv6 mask bits must be < 128");
        return false;
    }
    struct matcher *m = new_matcher(c, f, M_CIDR);
    if (m == NULL)
        return false;
    /* AWS's range runs from the address as written (host bits kept) to it with all host
     * bits set. */
    m->cidr_len = len;
    memcpy(m->cidr_lo, ip, (size_t)len);
    memcpy(m->cidr_hi, ip, (size_t)len);
    long host = len * 8 - mask;
    for (int b = len - 1; b >= 0 && host > 0; b--, host -= 8)
        m->cidr_hi[b] |= host >= 8 ? 0xff : (unsigned char)((1u << host) - 1);
    return expect_obj_end(c, ONE_KEY);
}

/* A match expression object (its '{' read): one operator key. */
static bool compile_match_expr(struct comp *c, struct field *f)
{
    struct lex *L = c->L;
    if (lex_next(L) != T_NAME) {
        if (!L->failed)
            barf(L, "Match expression name not found");
        return false;
    }
    size_t n;
    char op[32];
    const char *o = lex_text(L, &n);
    snprintf(op, sizeof op, "%s", n < sizeof op ? o : "");
    if (strcmp(op, "exactly") == 0 || strcmp(op, "prefix") == 0 || strcmp(op, "suffix") == 0 ||
        strcmp(op, "equals-ignore-case") == 0 || strcmp(op, "wildcard") == 0) {
        enum tok t = lex_next(L);
        if (L->failed)
            return false;
        bool ic = strcmp(op, "equals-ignore-case") == 0;
        if (t == T_OBJ_START && (strcmp(op, "prefix") == 0 || strcmp(op, "suffix") == 0))
            return compile_affix_ic(c, f, op[0] == 'p');
        if (t != T_STRING) {
            barf(L, "%s match pattern must be a string", strcmp(op, "exactly") == 0 ? "exact" : op);
            return false;
        }
        enum mtype mt = op[0] == 'p'   ? M_PREFIX
                        : op[0] == 's' ? M_SUFFIX
                        : ic           ? M_EQ_IC
                        : op[0] == 'w' ? M_WILDCARD
                                       : M_EXACT;
        struct matcher *m = new_matcher(c, f, mt);
        if (m == NULL || !take_string(c, &m->str))
            return false;
        if (mt == M_EXACT) {
            m->kind = V_STRING;
        } else if (ic) {
            size_t fn;
            char *folded = fold(m->str.s, m->str.n, &fn);
            if (folded == NULL)
                return oom(c), false;
            free(m->str.s);
            m->str.s = folded;
            m->str.n = fn;
        } else if (mt == M_WILDCARD && !wildcard_check(L, m->str.s, m->str.n, 1)) {
            return false;
        }
        return expect_obj_end(c, ONE_KEY);
    }
    if (strcmp(op, "numeric") == 0) {
        if (lex_next(L) != T_ARR_START) {
            if (!L->failed)
                barf(L, "Value of numeric must be an array.");
            return false;
        }
        return compile_numeric(c, f) && expect_obj_end(c, TOO_MANY);
    }
    if (strcmp(op, "anything-but") == 0)
        return compile_anything_but(c, f);
    if (strcmp(op, "exists") == 0) {
        enum tok t = lex_next(L);
        if (t != T_TRUE && t != T_FALSE) {
            if (!L->failed)
                barf(L, "exists match pattern must be either true or false.");
            return false;
        }
        return new_matcher(c, f, t == T_TRUE ? M_EXISTS : M_ABSENT) != NULL &&
               expect_obj_end(c, ONE_KEY);
    }
    if (strcmp(op, "cidr") == 0) {
        enum tok t = lex_next(L);
        return !L->failed && compile_cidr(c, f, t);
    }
    barf(L, "Unrecognized match type %.*s", (int)(n > 200 ? 200 : n), o);
    return false;
}

static int path_id(struct comp *c, const char *path, size_t n)
{
    struct events_pattern *p = c->p;
    for (size_t i = 0; i < p->npaths; i++)
        if (strlen(p->paths[i]) == n && memcmp(p->paths[i], path, n) == 0)
            return (int)i;
    char *d = str_dupn(path, n);
    if (d == NULL || !grow((void **)&p->paths, &p->npaths, sizeof *p->paths)) {
        free(d);
        oom(c);
        return -1;
    }
    p->paths[p->npaths - 1] = d;
    return (int)p->npaths - 1;
}

/* A field's array of values (its '[' read). A path given again replaces the earlier one. */
static bool compile_field(struct comp *c, struct node *node, const char *name, size_t nlen)
{
    struct lex *L = c->L;
    char full[sizeof c->path];
    size_t fl = c->pathlen;
    if (fl + 1 + nlen >= sizeof full) {
        barf0(L, "Field path is too long");
        return false;
    }
    memcpy(full, c->path, fl);
    if (fl > 0)
        full[fl++] = '.';
    memcpy(full + fl, name, nlen);
    fl += nlen;
    struct field f;
    memset(&f, 0, sizeof f);
    enum tok t;
    bool ok = true;
    while (ok && (t = lex_next(L)) != T_ARR_END) {
        if (L->failed) {
            ok = false;
            break;
        }
        if (t == T_OBJ_START)
            ok = compile_match_expr(c, &f);
        else if (t == T_STRING || tok_is_number(t) || t == T_TRUE || t == T_FALSE || t == T_NULL)
            ok = add_exact(c, &f, t);
        else {
            barf(L, "Match value must be String, number, true, false, or null");
            ok = false;
        }
    }
    if (ok && f.nm == 0) {
        barf(L, "Empty arrays are not allowed");
        ok = false;
    }
    if (ok) {
        f.path = str_dupn(full, fl);
        f.pathlen = fl;
        f.path_id = f.path ? path_id(c, full, fl) : -1;
        ok = f.path != NULL && f.path_id >= 0;
        if (!ok)
            oom(c);
    }
    if (!ok) {
        free_field(&f);
        return false;
    }
    for (size_t i = 0; i < node->nfields; i++) {
        if (node->fields[i].path_id == f.path_id) {
            free_field(&node->fields[i]);
            node->fields[i] = f;
            return true;
        }
    }
    if (!grow((void **)&node->fields, &node->nfields, sizeof *node->fields)) {
        free_field(&f);
        return oom(c), false;
    }
    node->fields[node->nfields - 1] = f;
    return true;
}

static bool reserved_in_or(const char *name)
{
    static const char *const reserved[] = {
        "exactly",
        "equals-ignore-case",
        "prefix",
        "suffix",
        "anything-but",
        "exists",
        "wildcard",
        "numeric",
        "cidr",
        "=",
        "<",
        "<=",
        ">",
        ">=",
        "regex",
        "not-wildcard",
        "not-equals-ignore-case",
        "date-after",
        "date-on-or-after",
        "date-before",
        "date-on-or-before",
        "in-cidr",
    };
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcmp(name, reserved[i]) == 0)
            return true;
    return false;
}

static bool compile_object(struct comp *c, struct node *node, bool in_or, int depth);

/* "$or": [ {...}, {...}, ... ] (the name read). */
static bool compile_or(struct comp *c, struct node *node, int depth)
{
    struct lex *L = c->L;
    if (lex_next(L) != T_ARR_START) {
        if (!L->failed)
            barf(L, "It must be an Array followed with $or.");
        return false;
    }
    if (!grow((void **)&node->groups, &node->ngroups, sizeof *node->groups))
        return oom(c), false;
    size_t gi = node->ngroups - 1;
    enum tok t;
    while ((t = lex_next(L)) != T_ARR_END) {
        if (L->failed)
            return false;
        if (t != T_OBJ_START) {
            barf(L, "Only JSON object is allowed in array of $or relationship.");
            return false;
        }
        struct group *g = &node->groups[gi];
        if (!grow((void **)&g->alts, &g->nalts, sizeof *g->alts))
            return oom(c), false;
        if (!compile_object(c, &node->groups[gi].alts[node->groups[gi].nalts - 1], true, depth + 1))
            return false;
    }
    if (node->groups[gi].nalts < 2) {
        barf(L, "There must have at least 2 Objects in $or relationship.");
        return false;
    }
    return true;
}

/* The members of an object (its '{' read) into node; nested objects extend the path. */
static bool compile_object(struct comp *c, struct node *node, bool in_or, int depth)
{
    struct lex *L = c->L;
    bool any = false;
    enum tok t;
    while ((t = lex_next(L)) != T_OBJ_END) {
        if (L->failed || t != T_NAME)
            return false;
        any = true;
        size_t nlen;
        const char *nm = lex_text(L, &nlen);
        char *name = str_dupn(nm, nlen);
        if (name == NULL)
            return oom(c), false;
        bool ok;
        if (strcmp(name, "$or") == 0) {
            ok = compile_or(c, node, depth);
        } else if (in_or && reserved_in_or(name)) {
            barf(L, "%s is Ruler reserved fieldName which cannot be used inside $or.", name);
            ok = false;
        } else {
            t = lex_next(L);
            if (t == T_OBJ_START) {
                size_t save = c->pathlen;
                if (save + 1 + nlen >= sizeof c->path) {
                    barf0(L, "Field path is too long");
                    free(name);
                    return false;
                }
                if (save > 0)
                    c->path[c->pathlen++] = '.';
                memcpy(c->path + c->pathlen, name, nlen);
                c->pathlen += nlen;
                ok = compile_object(c, node, in_or, depth + 1);
                c->pathlen = save;
            } else if (t == T_ARR_START) {
                ok = compile_field(c, node, name, nlen);
            } else {
                if (!L->failed)
                    barf(L, "\"%s\" must be an object or an array", name);
                ok = false;
            }
        }
        free(name);
        if (!ok)
            return false;
    }
    if (!any) {
        barf(L, "Empty objects are not allowed");
        return false;
    }
    return true;
}

/* ---- wildcard complexity (AWS refuses patterns its byte machine would find too costly) ---- */

/* Tokens of one wildcard pattern, quotes included as AWS's machine has them: 256 = '*'. */
static size_t wc_tokens(const struct str *w, int *out, size_t cap)
{
    size_t k = 0;
    if (k < cap)
        out[k++] = '"';
    for (size_t i = 0; i < w->n && k + 1 < cap; i++) {
        if (w->s[i] == '*')
            out[k++] = 256;
        else if (w->s[i] == '\\' && i + 1 < w->n)
            out[k++] = (unsigned char)w->s[++i];
        else
            out[k++] = (unsigned char)w->s[i];
    }
    if (k < cap)
        out[k++] = '"';
    return k;
}

/*
 * The most NFA positions, past a pattern's first wildcard, that one input can keep active
 * at once, summed over the field's wildcard patterns (positions inside the fixed prefix do
 * not count: they are one state). An approximation of event-ruler's complexity measure.
 */
static bool wildcard_too_complex(const struct str *ws, size_t nws)
{
    enum { MAXT = 512 };
    int *tok = calloc(nws * MAXT, sizeof *tok);
    size_t *len = calloc(nws, sizeof *len), *first = calloc(nws, sizeof *first),
           *base = calloc(nws + 1, sizeof *base);
    bool too = false;
    if (tok == NULL || len == NULL || first == NULL || base == NULL) {
        too = true;
        goto out;
    }
    bool alphabet[257] = {false};
    for (size_t p = 0; p < nws; p++) {
        len[p] = wc_tokens(&ws[p], tok + p * MAXT, MAXT);
        first[p] = len[p];
        for (size_t i = 0; i < len[p]; i++) {
            if (tok[p * MAXT + i] == 256 && first[p] == len[p])
                first[p] = i;
            if (tok[p * MAXT + i] < 256)
                alphabet[tok[p * MAXT + i]] = true;
        }
        base[p + 1] = base[p] + len[p] + 1;
    }
    size_t total = base[nws], words = (total + 63) / 64;
    /* subsets explored depth-first; each is a bit set of positions */
    size_t cap = 256, nstack = 0, nseen = 0;
    uint64_t *stack = malloc(cap * words * sizeof *stack), *seen = NULL;
    uint64_t *cur = calloc(words, sizeof *cur), *next = calloc(words, sizeof *next);
    uint32_t *index = calloc(SEEN_SLOTS, sizeof *index); /* 1 + position in seen, 0 = empty */
    if (stack == NULL || cur == NULL || next == NULL || index == NULL) {
        too = true;
        goto out2;
    }
    /* start: position 0 of every pattern, closed over '*' (a star may match nothing) */
#define CLOSE(set)                                                                                 \
    for (size_t p_ = 0; p_ < nws; p_++)                                                            \
        for (size_t i_ = 0; i_ < len[p_]; i_++)                                                    \
            if (((set)[(base[p_] + i_) / 64] >> ((base[p_] + i_) % 64) & 1) &&                     \
                tok[p_ * MAXT + i_] == 256)                                                        \
                (set)[(base[p_] + i_ + 1) / 64] |= 1ULL << ((base[p_] + i_ + 1) % 64);
    for (size_t p = 0; p < nws; p++)
        cur[base[p] / 64] |= 1ULL << (base[p] % 64);
    CLOSE(cur);
    memcpy(stack, cur, words * sizeof *stack);
    nstack = 1;
    while (nstack > 0 && !too) {
        nstack--;
        memcpy(cur, stack + nstack * words, words * sizeof *cur);
        for (int b = 0; b <= 256 && !too; b++) {
            if (b < 256 && !alphabet[b])
                continue; /* 256 stands for every byte no pattern names */
            memset(next, 0, words * sizeof *next);
            int count = 0;
            for (size_t p = 0; p < nws; p++)
                for (size_t i = 0; i < len[p]; i++) {
                    size_t bit = base[p] + i;
                    if (!((cur[bit / 64] >> (bit % 64)) & 1))
                        continue;
                    int tk = tok[p * MAXT + i];
                    if (tk == 256)
                        next[bit / 64] |= 1ULL << (bit % 64);
                    else if (tk == b)
                        next[(bit + 1) / 64] |= 1ULL << ((bit + 1) % 64);
                }
            CLOSE(next);
            bool empty = true;
            for (size_t p = 0; p < nws; p++)
                for (size_t i = first[p]; i <= len[p]; i++) {
                    size_t bit = base[p] + i;
                    if ((next[bit / 64] >> (bit % 64)) & 1) {
                        count++;
                        empty = false;
                    }
                }
            for (size_t w = 0; w < words && empty; w++)
                empty = next[w] == 0;
            if (empty)
                continue;
            if (count > WILDCARD_LIMIT) {
                too = true;
                break;
            }
            /* seen subsets: open addressing on a hash of the bit set */
            uint64_t h = 1469598103934665603ULL;
            for (size_t w = 0; w < words; w++)
                h = (h ^ next[w]) * 1099511628211ULL;
            size_t slot = (size_t)(h % SEEN_SLOTS);
            bool known = false;
            while (index[slot] != 0 && !known) {
                known = memcmp(seen + (index[slot] - 1) * words, next, words * sizeof *next) == 0;
                if (!known)
                    slot = (slot + 1) % SEEN_SLOTS;
            }
            if (known)
                continue;
            if (nseen >= WILDCARD_SUBSETS) {
                too = true;
                break;
            }
            uint64_t *ns = realloc(seen, (nseen + 1) * words * sizeof *ns);
            if (ns == NULL) {
                too = true;
                break;
            }
            seen = ns;
            memcpy(seen + nseen * words, next, words * sizeof *next);
            nseen++;
            index[slot] = (uint32_t)nseen;
            if (nstack == cap) {
                uint64_t *st = realloc(stack, cap * 2 * words * sizeof *st);
                if (st == NULL) {
                    too = true;
                    break;
                }
                stack = st;
                cap *= 2;
            }
            memcpy(stack + nstack * words, next, words * sizeof *next);
            nstack++;
        }
    }
#undef CLOSE
out2:
    free(index);
    free(stack);
    free(seen);
    free(cur);
    free(next);
out:
    free(tok);
    free(len);
    free(first);
    free(base);
    return too;
}

/* Collects the wildcard patterns of every field on a path, over the whole tree. */
static bool collect_wildcards(const struct node *n, int pid, struct str **out, size_t *nout)
{
    for (size_t i = 0; i < n->nfields; i++) {
        const struct field *f = &n->fields[i];
        if (f->path_id != pid)
            continue;
        for (size_t k = 0; k < f->nm; k++) {
            const struct matcher *m = &f->m[k];
            const struct str *src = m->t == M_WILDCARD ? &m->str : NULL;
            size_t cnt = src ? 1 : 0;
            if (m->t == M_AB_WILDCARD) {
                src = m->strs;
                cnt = m->nstrs;
            }
            for (size_t j = 0; j < cnt; j++) {
                struct str *o = realloc(*out, (*nout + 1) * sizeof **out);
                if (o == NULL)
                    return false;
                *out = o;
                (*out)[(*nout)++] = src[j];
            }
        }
    }
    for (size_t g = 0; g < n->ngroups; g++)
        for (size_t a = 0; a < n->groups[g].nalts; a++)
            if (!collect_wildcards(&n->groups[g].alts[a], pid, out, nout))
                return false;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every proper prefix of every path ("a", "a.b" for "a.b.c"), sorted, unique. */
static bool build_prefixes(struct events_pattern *p)
{
    for (size_t i = 0; i < p->npaths; i++) {
        const char *s = p->paths[i];
        for (size_t k = 0; s[k] != '\0'; k++) {
            if (s[k] != '.')
                continue;
            char *d = str_dupn(s, k);
            if (d == NULL || !grow((void **)&p->prefixes, &p->nprefixes, sizeof *p->prefixes)) {
                free(d);
                return false;
            }
            p->prefixes[p->nprefixes - 1] = d;
        }
    }
    if (p->nprefixes > 0)
        qsort(p->prefixes, p->nprefixes, sizeof *p->prefixes, cmp_str);
    size_t w = 0;
    for (size_t i = 0; i < p->nprefixes; i++) {
        if (w > 0 && strcmp(p->prefixes[w - 1], p->prefixes[i]) == 0)
            free(p->prefixes[i]);
        else
            p->prefixes[w++] = p->prefixes[i];
    }
    p->nprefixes = w;
    return true;
}

struct events_pattern *events_pattern_compile(const char *text, size_t len, char *err,
                                              size_t errlen)
{
    struct lex L;
    memset(&L, 0, sizeof L);
    L.s = text;
    L.n = len;
    L.line = 1;
    L.ctx[0] = 'r';
    L.err = err;
    L.errlen = errlen;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    struct comp c;
    memset(&c, 0, sizeof c);
    c.L = &L;
    c.p = calloc(1, sizeof *c.p);
    if (c.p == NULL) {
        lex_fail_at(&L, 0, 0, "out of memory");
        goto fail;
    }
    if (lex_next(&L) != T_OBJ_START) {
        if (!L.failed)
            barf(&L, "Filter is not an object");
        goto fail;
    }
    if (!compile_object(&c, &c.p->root, false, 1))
        goto fail;
    for (size_t i = 0; i < c.p->npaths; i++) {
        struct str *ws = NULL;
        size_t nws = 0;
        bool ok = collect_wildcards(&c.p->root, (int)i, &ws, &nws);
        bool too = ok && nws > 0 && wildcard_too_complex(ws, nws);
        free(ws);
        if (!ok || too) {
            lex_fail_at(&L, 0, 0, "%s",
                        ok ? "Rule is too complex - try using fewer wildcard characters or fewer "
                             "repeating character sequences after a wildcard character"
                           : "out of memory");
            goto fail;
        }
    }
    if (!build_prefixes(c.p)) {
        lex_fail_at(&L, 0, 0, "out of memory");
        goto fail;
    }
    free(L.text);
    free(L.pend);
    return c.p;
fail:
    free(L.text);
    free(L.pend);
    events_pattern_free(c.p);
    return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* 3. Matching                                                                           */

struct leaf {
    const json_t *v;
    int path_id;
    uint32_t mem_off, mem_n; /* its array memberships in the pool */
};

struct memb {
    uint32_t array, index;
};

struct walk {
    const struct events_pattern *p;
    struct leaf *leaves;
    size_t nleaves, capleaves;
    struct memb *pool;
    size_t npool, cappool;
    struct memb stack[MAX_DEPTH * 4];
    size_t nstack;
    uint32_t next_array;
    char path[EVENTS_PATTERN_MAX_LEN * 2 + 64];
    size_t pathlen;
    bool oom;
    long budget;
};

static const char *prefix_at(const void *prefixes, size_t i)
{
    return ((char *const *)prefixes)[i];
}

static bool is_prefix(const struct events_pattern *p, const char *s)
{
    size_t i = str_lower_bound(p->prefixes, p->nprefixes, prefix_at, s);
    return i < p->nprefixes && strcmp(p->prefixes[i], s) == 0;
}

static int find_path(const struct events_pattern *p, const char *s)
{
    for (size_t i = 0; i < p->npaths; i++)
        if (strcmp(p->paths[i], s) == 0)
            return (int)i;
    return -1;
}

static void add_leaf(struct walk *w, const json_t *v, int pid)
{
    if (w->nleaves == w->capleaves) {
        size_t cap = w->capleaves ? w->capleaves * 2 : 32;
        struct leaf *l = realloc(w->leaves, cap * sizeof *l);
        if (l == NULL) {
            w->oom = true;
            return;
        }
        w->leaves = l;
        w->capleaves = cap;
    }
    if (w->npool + w->nstack > w->cappool) {
        size_t cap = w->cappool ? w->cappool * 2 : 64;
        while (cap < w->npool + w->nstack)
            cap *= 2;
        struct memb *m = realloc(w->pool, cap * sizeof *m);
        if (m == NULL) {
            w->oom = true;
            return;
        }
        w->pool = m;
        w->cappool = cap;
    }
    if (w->nstack > 0)
        memcpy(w->pool + w->npool, w->stack, w->nstack * sizeof *w->stack);
    w->leaves[w->nleaves++] = (struct leaf){v, pid, (uint32_t)w->npool, (uint32_t)w->nstack};
    w->npool += w->nstack;
}

/* Visits a value at the current path: objects extend the path, arrays record membership,
 * anything else is a leaf when the path is one of the pattern's. */
static void walk_value(struct walk *w, const json_t *v, int depth)
{
    if (w->oom || depth > MAX_DEPTH * 4)
        return;
    if (json_is_object(v)) {
        const char *key;
        const json_t *child;
        size_t save = w->pathlen;
        json_object_foreach((json_t *)v, key, child)
        {
            size_t kl = strlen(key);
            if (save + 1 + kl >= sizeof w->path)
                continue;
            w->pathlen = save;
            if (save > 0)
                w->path[w->pathlen++] = '.';
            memcpy(w->path + w->pathlen, key, kl);
            w->pathlen += kl;
            w->path[w->pathlen] = '\0';
            int pid = find_path(w->p, w->path);
            if (pid >= 0 || is_prefix(w->p, w->path)) {
                if (pid >= 0 && !json_is_object(child) && !json_is_array(child))
                    add_leaf(w, child, pid);
                else
                    walk_value(w, child, depth + 1);
            }
        }
        w->pathlen = save;
        w->path[save] = '\0';
        return;
    }
    if (json_is_array(v)) {
        if (w->nstack >= sizeof w->stack / sizeof w->stack[0])
            return;
        uint32_t id = w->next_array++;
        size_t i;
        const json_t *el;
        int pid = w->pathlen > 0 ? find_path(w->p, w->path) : -1;
        json_array_foreach((json_t *)v, i, el)
        {
            w->stack[w->nstack++] = (struct memb){id, (uint32_t)i};
            if (pid >= 0 && !json_is_object(el) && !json_is_array(el))
                add_leaf(w, el, pid);
            else
                walk_value(w, el, depth + 1);
            w->nstack--;
        }
    }
}

/* ---- value tests ---- */

static bool ev_number(const json_t *v, double *d)
{
    if (json_is_integer(v)) {
        *d = (double)json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        *d = json_real_value(v);
        return true;
    }
    return false;
}

static bool ev_string(const json_t *v, const char **s, size_t *n)
{
    if (!json_is_string(v))
        return false;
    *s = json_string_value(v);
    *n = json_string_length(v);
    return true;
}

static bool has_prefix(const char *s, size_t n, const struct str *p)
{
    return n >= p->n && memcmp(s, p->s, p->n) == 0;
}

static bool has_suffix(const char *s, size_t n, const struct str *p)
{
    return n >= p->n && memcmp(s + n - p->n, p->s, p->n) == 0;
}

static bool str_eq(const char *s, size_t n, const struct str *p)
{
    return n == p->n && memcmp(s, p->s, n) == 0;
}

/* Tests on a folded copy of an event string. */
static bool folded_test(const char *s, size_t n,
                        bool (*test)(const char *, size_t, const struct str *), const struct str *p)
{
    size_t fn;
    char *f = fold(s, n, &fn);
    if (f == NULL)
        return false;
    bool r = test(f, fn, p);
    free(f);
    return r;
}

static bool exact_match(const struct matcher *m, const json_t *v)
{
    switch (m->kind) {
    case V_STRING: {
        const char *s;
        size_t n;
        if (!ev_string(v, &s, &n))
            return false;
        if (str_eq(s, n, &m->str))
            return true;
        unsigned char ip[16];
        return m->ip && parse_ip(s, n, ip) == m->ip_len &&
               memcmp(ip, m->ip_bytes, (size_t)m->ip_len) == 0;
    }
    case V_NUMBER: {
        double d;
        if (!ev_number(v, &d))
            return false;
        if (m->num_ok && num_in_range(d))
            return num_key(d) == m->key;
        if (json_is_integer(v)) {
            char t[32];
            int k = snprintf(t, sizeof t, "%lld", (long long)json_integer_value(v));
            return k > 0 && str_eq(t, (size_t)k, &m->str);
        }
        return d == m->num;
    }
    case V_TRUE:
        return json_is_true(v);
    case V_FALSE:
        return json_is_false(v);
    default:
        return json_is_null(v);
    }
}

static bool anything_but_values(const struct matcher *m, const json_t *v)
{
    const char *s;
    size_t n;
    double d;
    if (ev_string(v, &s, &n)) {
        for (size_t i = 0; i < m->nstrs; i++)
            if (str_eq(s, n, &m->strs[i]))
                return false;
    } else if (ev_number(v, &d) && num_in_range(d)) {
        int64_t k = num_key(d);
        for (size_t i = 0; i < m->nkeys; i++)
            if (m->keys[i] == k)
                return false;
    }
    return true;
}

static bool matcher_match(const struct matcher *m, const json_t *v)
{
    const char *s;
    size_t n;
    double d;
    switch (m->t) {
    case M_EXACT:
        return exact_match(m, v);
    case M_PREFIX:
        return ev_string(v, &s, &n) && has_prefix(s, n, &m->str);
    case M_SUFFIX:
        return ev_string(v, &s, &n) && has_suffix(s, n, &m->str);
    case M_PREFIX_IC:
        return ev_string(v, &s, &n) && folded_test(s, n, has_prefix, &m->str);
    case M_SUFFIX_IC:
        return ev_string(v, &s, &n) && folded_test(s, n, has_suffix, &m->str);
    case M_EQ_IC:
        return ev_string(v, &s, &n) && folded_test(s, n, str_eq, &m->str);
    case M_WILDCARD:
        return ev_string(v, &s, &n) && wildcard_match(m->str.s, m->str.n, s, n);
    case M_NUMERIC: {
        if (!ev_number(v, &d) || !num_in_range(d))
            return false;
        int64_t k = num_key(d);
        if (m->has_lo && (m->lo_open ? k <= m->lo : k < m->lo))
            return false;
        if (m->has_hi && (m->hi_open ? k >= m->hi : k > m->hi))
            return false;
        return true;
    }
    case M_CIDR: {
        unsigned char ip[16];
        if (!ev_string(v, &s, &n) || parse_ip(s, n, ip) != m->cidr_len)
            return false;
        size_t l = (size_t)m->cidr_len;
        return memcmp(ip, m->cidr_lo, l) >= 0 && memcmp(ip, m->cidr_hi, l) <= 0;
    }
    case M_EXISTS:
        return true;
    case M_ABSENT:
        return false;
    case M_AB_VALUES:
        return anything_but_values(m, v);
    case M_AB_PREFIX:
    case M_AB_SUFFIX:
    case M_AB_IC:
    case M_AB_WILDCARD:
        if (!ev_string(v, &s, &n))
            return true;
        for (size_t i = 0; i < m->nstrs; i++) {
            bool hit = m->t == M_AB_PREFIX   ? has_prefix(s, n, &m->strs[i])
                       : m->t == M_AB_SUFFIX ? has_suffix(s, n, &m->strs[i])
                       : m->t == M_AB_IC     ? folded_test(s, n, str_eq, &m->strs[i])
                                             : wildcard_match(m->strs[i].s, m->strs[i].n, s, n);
            if (hit)
                return false;
        }
        return true;
    }
    return false;
}

static bool field_value_match(const struct field *f, const json_t *v)
{
    for (size_t i = 0; i < f->nm; i++)
        if (matcher_match(&f->m[i], v))
            return true;
    return false;
}

/* ---- the search ---- */

struct binding {
    uint32_t array, index;
};

struct cont {
    const struct node *node;
    size_t fi, gi;
    const struct cont *next;
};

struct search {
    struct walk *w;
    struct binding bind[256];
    size_t nbind;
};

/* Binds the leaf's memberships; false (and nothing bound) if one disagrees. */
static bool bind_leaf(struct search *s, const struct leaf *l, size_t *added)
{
    *added = 0;
    for (uint32_t k = 0; k < l->mem_n; k++) {
        const struct memb *m = &s->w->pool[l->mem_off + k];
        bool found = false;
        for (size_t b = 0; b < s->nbind; b++) {
            if (s->bind[b].array == m->array) {
                found = true;
                if (s->bind[b].index != m->index) {
                    s->nbind -= *added;
                    *added = 0;
                    return false;
                }
            }
        }
        if (!found) {
            if (s->nbind >= sizeof s->bind / sizeof s->bind[0]) {
                s->nbind -= *added;
                *added = 0;
                return false;
            }
            s->bind[s->nbind++] = (struct binding){m->array, m->index};
            (*added)++;
        }
    }
    return true;
}

static bool solve(struct search *s, const struct node *n, size_t fi, size_t gi,
                  const struct cont *k)
{
    if (--s->w->budget < 0)
        return false;
    if (fi < n->nfields) {
        const struct field *f = &n->fields[fi];
        bool any_leaf = false;
        for (size_t i = 0; i < s->w->nleaves; i++) {
            const struct leaf *l = &s->w->leaves[i];
            if (l->path_id != f->path_id)
                continue;
            any_leaf = true;
            if (!f->positive || !field_value_match(f, l->v))
                continue;
            size_t added;
            if (!bind_leaf(s, l, &added))
                continue;
            bool ok = solve(s, n, fi + 1, gi, k);
            s->nbind -= added;
            if (ok)
                return true;
        }
        if (!any_leaf && f->absent_ok)
            return solve(s, n, fi + 1, gi, k);
        return false;
    }
    if (gi < n->ngroups) {
        const struct group *g = &n->groups[gi];
        struct cont next = {n, fi, gi + 1, k};
        for (size_t a = 0; a < g->nalts; a++)
            if (solve(s, &g->alts[a], 0, 0, &next))
                return true;
        return false;
    }
    if (k != NULL)
        return solve(s, k->node, k->fi, k->gi, k->next);
    return true;
}

bool events_pattern_match(const struct events_pattern *p, const json_t *event)
{
    if (p == NULL || !json_is_object(event))
        return false;
    struct walk wk;
    struct walk *w = &wk;
    memset(w, 0, offsetof(struct walk, path)); /* the path buffer needs no clearing */
    w->path[0] = '\0';
    w->pathlen = 0;
    w->oom = false;
    w->p = p;
    w->budget = SEARCH_BUDGET;
    walk_value(w, event, 0);
    bool r = false;
    if (!w->oom) {
        struct search s = {.w = w};
        r = solve(&s, &p->root, 0, 0, NULL);
    }
    free(w->leaves);
    free(w->pool);
    return r;
}

json_t *events_event_parse(const char *text, size_t len)
{
    json_error_t e;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY, &e);
    if (j == NULL && strstr(e.text, "too big") != NULL)
        j = json_loadb(text, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &e);
    return j;
}

enum events_pattern_result events_pattern_test(const char *pattern, size_t plen, const char *event,
                                               size_t elen, char *err, size_t errlen)
{
    static const char *const required[] = {"id",     "account",   "source",     "time",
                                           "region", "resources", "detail-type"};
    struct events_pattern *p = events_pattern_compile(pattern, plen, err, errlen);
    if (p == NULL)
        return EVENTS_PATTERN_BAD_PATTERN;
    enum events_pattern_result r = EVENTS_PATTERN_BAD_EVENT;
    json_t *ev = events_event_parse(event, elen);
    if (!json_is_object(ev))
        goto out;
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (json_object_get(ev, required[i]) == NULL)
            goto out;
    r = events_pattern_match(p, ev) ? EVENTS_PATTERN_MATCH : EVENTS_PATTERN_NO_MATCH;
out:
    if (r == EVENTS_PATTERN_BAD_EVENT && err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", EVENTS_EVENT_INVALID);
    json_decref(ev);
    events_pattern_free(p);
    return r;
}
