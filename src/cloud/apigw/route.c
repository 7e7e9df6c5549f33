/* route.c — see route.h. */
#include "cloud/apigw/route.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "core/url.h"

static const char *const methods[] = {"ANY",     "DELETE", "GET",  "HEAD",
                                      "OPTIONS", "PATCH",  "POST", "PUT"};

/* One route ending at a trie node. */
struct route_ent {
    char *method; /* "GET", ..., "ANY" */
    char *key;    /* the route key as added */
    char *resource;
    void *target;
    size_t nparams;
    char *names[APIGW_ROUTE_MAX_PARAMS]; /* in segment order; the greedy one last */
};

struct node {
    char *seg; /* literal children only */
    size_t seg_len;
    struct node **lits; /* sorted by (length, bytes) */
    size_t nlits, caplits;
    struct node *param;
    struct node *greedy; /* routes whose last segment is {name+} */
    struct route_ent *ents;
    size_t nents;
};

struct apigw_routes {
    struct node root;
    struct route_ent *dflt; /* the $default route */
    size_t count;
};

static void set_msg(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_msg(char *msg, size_t msglen, const char *fmt, ...)
{
    if (msg == NULL || msglen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
}

/* ---- route keys ---- */

/* Characters a parameter name may hold (AWS documents none; these are what OpenAPI tools
 * and AWS's own examples use). */
static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* Parsed shape of a route path's segment. */
enum seg_kind { SEG_LITERAL, SEG_PARAM, SEG_GREEDY };

/* Classifies seg; for a parameter, *name and *nlen give its name. Returns -1 when malformed. */
static int classify(const char *seg, size_t len, enum seg_kind *kind, const char **name,
                    size_t *nlen)
{
    if (len >= 2 && seg[0] == '{' && seg[len - 1] == '}') {
        bool greedy = len >= 3 && seg[len - 2] == '+';
        *name = seg + 1;
        *nlen = len - 2 - (greedy ? 1 : 0);
        if (*nlen == 0)
            return -1;
        for (size_t i = 0; i < *nlen; i++)
            if (!name_char((*name)[i]))
                return -1;
        *kind = greedy ? SEG_GREEDY : SEG_PARAM;
        return 0;
    }
    for (size_t i = 0; i < len; i++)
        if (seg[i] == '{' || seg[i] == '}')
            return -1;
    *kind = SEG_LITERAL;
    return 0;
}

int apigw_route_key_validate(const char *key, size_t len, char *msg, size_t msglen)
{
    if (msg != NULL && msglen > 0)
        msg[0] = '\0';
    if (len == 0) {
        set_msg(msg, msglen, "Route key is required");
        return APIGW_ROUTE_EINVALID;
    }
    if (len == 8 && memcmp(key, "$default", 8) == 0)
        return APIGW_OK;
    int kl = len > 256 ? 256 : (int)len;
    const char *sp = memchr(key, ' ', len);
    if (sp == NULL) {
        set_msg(msg, msglen,
                "Unable to parse route key '%.*s': expected '$default' or 'METHOD /path'", kl, key);
        return APIGW_ROUTE_EINVALID;
    }
    size_t ml = (size_t)(sp - key);
    bool known = false;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strlen(methods[i]) == ml && memcmp(methods[i], key, ml) == 0)
            known = true;
    if (!known) {
        set_msg(msg, msglen,
                "Unsupported HTTP method in route key '%.*s': use ANY, DELETE, GET, HEAD, "
                "OPTIONS, PATCH, POST or PUT",
                kl, key);
        return APIGW_ROUTE_EINVALID;
    }
    const char *path = sp + 1;
    size_t pl = len - ml - 1;
    if (pl == 0 || path[0] != '/') {
        set_msg(msg, msglen, "The path of route key '%.*s' must start with '/'", kl, key);
        return APIGW_ROUTE_EINVALID;
    }
    for (size_t i = 0; i < pl; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c <= 0x20 || c == 0x7f || c == '?' || c == '#') {
            set_msg(msg, msglen, "The path of route key '%.*s' has a character a path may not hold",
                    kl, key);
            return APIGW_ROUTE_EINVALID;
        }
    }
    if (pl == 1)
        return APIGW_OK;
    if (path[pl - 1] == '/') {
        set_msg(msg, msglen, "The path of route key '%.*s' may not end with '/'", kl, key);
        return APIGW_ROUTE_EINVALID;
    }
    const char *names[APIGW_ROUTE_MAX_PARAMS];
    size_t nlens[APIGW_ROUTE_MAX_PARAMS], nnames = 0;
    size_t i = 1;
    while (i <= pl) {
        size_t end = i;
        while (end < pl && path[end] != '/')
            end++;
        if (end == i) {
            set_msg(msg, msglen, "The path of route key '%.*s' has an empty segment", kl, key);
            return APIGW_ROUTE_EINVALID;
        }
        enum seg_kind kind;
        const char *name;
        size_t nlen;
        if (classify(path + i, end - i, &kind, &name, &nlen) != 0) {
            set_msg(msg, msglen,
                    "Invalid path parameter in route key '%.*s': a parameter is a whole "
                    "segment {name} or {name+}, with a name of letters, digits, '_', '-' or '.'",
                    kl, key);
            return APIGW_ROUTE_EINVALID;
        }
        if (kind == SEG_GREEDY && end != pl) {
            set_msg(msg, msglen,
                    "Invalid route key '%.*s': a greedy path parameter {name+} must be the last "
                    "segment of the path",
                    kl, key);
            return APIGW_ROUTE_EINVALID;
        }
        if (kind != SEG_LITERAL) {
            for (size_t j = 0; j < nnames; j++)
                if (nlens[j] == nlen && memcmp(names[j], name, nlen) == 0) {
                    set_msg(msg, msglen,
                            "Invalid route key '%.*s': path parameter '%.*s' appears twice", kl,
                            key, (int)nlen, name);
                    return APIGW_ROUTE_EINVALID;
                }
            if (nnames == APIGW_ROUTE_MAX_PARAMS) {
                set_msg(msg, msglen, "Route key '%.*s' has too many path parameters", kl, key);
                return APIGW_ROUTE_EINVALID;
            }
            names[nnames] = name;
            nlens[nnames++] = nlen;
        }
        i = end + 1;
    }
    return APIGW_OK;
}

/* ---- the table ---- */

struct apigw_routes *apigw_routes_new(void)
{
    return calloc(1, sizeof(struct apigw_routes));
}

static void ent_free(struct route_ent *e)
{
    free(e->method);
    free(e->key);
    free(e->resource);
    for (size_t i = 0; i < e->nparams; i++)
        free(e->names[i]);
}

static void node_free(struct node *n, bool self)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->nlits; i++)
        node_free(n->lits[i], true);
    free(n->lits);
    node_free(n->param, true);
    node_free(n->greedy, true);
    for (size_t i = 0; i < n->nents; i++)
        ent_free(&n->ents[i]);
    free(n->ents);
    free(n->seg);
    if (self)
        free(n);
}

void apigw_routes_free(struct apigw_routes *rt)
{
    if (rt == NULL)
        return;
    node_free(&rt->root, false);
    if (rt->dflt != NULL) {
        ent_free(rt->dflt);
        free(rt->dflt);
    }
    free(rt);
}

size_t apigw_routes_count(const struct apigw_routes *rt)
{
    return rt->count;
}

/* Order of literal children: by length, then bytes. */
static int seg_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    if (al != bl)
        return al < bl ? -1 : 1;
    return memcmp(a, b, al);
}

/* Index of the literal child equal to seg, or where it would go (*found says which). */
static size_t lit_find(const struct node *n, const char *seg, size_t len, bool *found)
{
    size_t lo = 0, hi = n->nlits;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = seg_cmp(n->lits[mid]->seg, n->lits[mid]->seg_len, seg, len);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static struct node *lit_child(struct node *n, const char *seg, size_t len)
{
    bool found;
    size_t at = lit_find(n, seg, len, &found);
    if (found)
        return n->lits[at];
    if (n->nlits == n->caplits) {
        size_t cap = n->caplits ? n->caplits * 2 : 4;
        struct node **p = realloc(n->lits, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        n->lits = p;
        n->caplits = cap;
    }
    struct node *c = calloc(1, sizeof *c);
    if (c == NULL || (c->seg = str_dupn(seg, len)) == NULL) {
        free(c);
        return NULL;
    }
    c->seg_len = len;
    memmove(n->lits + at + 1, n->lits + at, (n->nlits - at) * sizeof *n->lits);
    n->lits[at] = c;
    n->nlits++;
    return c;
}

static struct node *sub_child(struct node **slot)
{
    if (*slot == NULL)
        *slot = calloc(1, sizeof **slot);
    return *slot;
}

static int ent_fill(struct route_ent *e, const char *key, size_t len, const char *method, size_t ml,
                    const char *res, size_t rl)
{
    memset(e, 0, sizeof *e);
    e->method = str_dupn(method, ml);
    e->key = str_dupn(key, len);
    e->resource = str_dupn(res, rl);
    return e->method && e->key && e->resource ? APIGW_OK : APIGW_ENOMEM;
}

int apigw_routes_add(struct apigw_routes *rt, const char *key, size_t len, void *target, char *msg,
                     size_t msglen)
{
    int rc = apigw_route_key_validate(key, len, msg, msglen);
    if (rc != APIGW_OK)
        return rc;
    if (len == 8 && memcmp(key, "$default", 8) == 0) {
        if (rt->dflt != NULL) {
            set_msg(msg, msglen, "Route with key $default already exists for this API");
            return APIGW_ROUTE_EEXISTS;
        }
        struct route_ent *e = malloc(sizeof *e);
        if (e == NULL)
            return APIGW_ENOMEM;
        if (ent_fill(e, key, len, "ANY", 3, key, len) != APIGW_OK) {
            ent_free(e);
            free(e);
            return APIGW_ENOMEM;
        }
        e->target = target;
        rt->dflt = e;
        rt->count++;
        return APIGW_OK;
    }
    const char *sp = memchr(key, ' ', len);
    size_t ml = (size_t)(sp - key);
    const char *path = sp + 1;
    size_t pl = len - ml - 1;
    struct node *n = &rt->root;
    const char *names[APIGW_ROUTE_MAX_PARAMS];
    size_t nlens[APIGW_ROUTE_MAX_PARAMS], nnames = 0;
    size_t i = 1;
    while (pl > 1 && i <= pl) {
        size_t end = i;
        while (end < pl && path[end] != '/')
            end++;
        enum seg_kind kind;
        const char *name = NULL;
        size_t nlen = 0;
        (void)classify(path + i, end - i, &kind, &name, &nlen);
        if (kind == SEG_LITERAL)
            n = lit_child(n, path + i, end - i);
        else
            n = sub_child(kind == SEG_PARAM ? &n->param : &n->greedy);
        if (n == NULL)
            return APIGW_ENOMEM;
        if (kind != SEG_LITERAL) {
            names[nnames] = name;
            nlens[nnames++] = nlen;
        }
        i = end + 1;
    }
    for (size_t k = 0; k < n->nents; k++)
        if (strlen(n->ents[k].method) == ml && memcmp(n->ents[k].method, key, ml) == 0) {
            set_msg(msg, msglen, "Route with key %.*s already exists for this API",
                    len > 256 ? 256 : (int)len, key);
            return APIGW_ROUTE_EEXISTS;
        }
    struct route_ent *ents = realloc(n->ents, (n->nents + 1) * sizeof *ents);
    if (ents == NULL)
        return APIGW_ENOMEM;
    n->ents = ents;
    struct route_ent *e = &ents[n->nents];
    rc = ent_fill(e, key, len, key, ml, path, pl);
    for (size_t k = 0; rc == APIGW_OK && k < nnames; k++) {
        if ((e->names[k] = str_dupn(names[k], nlens[k])) == NULL)
            rc = APIGW_ENOMEM;
        e->nparams = k + 1;
    }
    if (rc != APIGW_OK) {
        ent_free(e);
        return rc;
    }
    e->target = target;
    n->nents++;
    rt->count++;
    return APIGW_OK;
}

/* ---- matching ---- */

void apigw_match_init(struct apigw_match *m)
{
    memset(m, 0, sizeof *m);
    buf_init(&m->store, 1u << 20);
}

void apigw_match_destroy(struct apigw_match *m)
{
    if (m == NULL)
        return;
    buf_destroy(&m->store);
    m->target = NULL;
    m->nparams = 0;
}

/* A request path split into segments; offsets into the raw path. */
struct segs {
    const char *path;
    size_t len;
    size_t n;
    size_t *start; /* raw offsets */
    size_t *rlen;  /* raw lengths */
    size_t *doff;  /* offsets of the decoded bytes in dec */
    size_t *dlen;
    struct buf dec;
};

static const struct route_ent *pick(const struct node *n, const char *method, size_t ml)
{
    const struct route_ent *any = NULL;
    for (size_t i = 0; i < n->nents; i++) {
        const struct route_ent *e = &n->ents[i];
        size_t el = strlen(e->method);
        if (el == ml && memcmp(e->method, method, ml) == 0)
            return e;
        if (el == 3 && memcmp(e->method, "ANY", 3) == 0)
            any = e;
    }
    return any;
}

/* Depth-first search: literal, then {param}, then greedy. Records the segment index of each
 * parameter taken in pidx (the greedy one last). */
static const struct route_ent *search(const struct node *n, const struct segs *s, size_t i,
                                      const char *method, size_t ml, size_t *pidx, size_t np,
                                      bool *greedy)
{
    if (i == s->n)
        return pick(n, method, ml);
    const struct route_ent *e;
    bool found;
    if (n->nlits > 0) {
        size_t at = lit_find(n, s->dec.data + s->doff[i], s->dlen[i], &found);
        if (found && (e = search(n->lits[at], s, i + 1, method, ml, pidx, np, greedy)) != NULL)
            return e;
    }
    if (n->param != NULL && s->rlen[i] > 0 && np < APIGW_ROUTE_MAX_PARAMS) {
        pidx[np] = i;
        if ((e = search(n->param, s, i + 1, method, ml, pidx, np + 1, greedy)) != NULL)
            return e;
    }
    if (n->greedy != NULL && np < APIGW_ROUTE_MAX_PARAMS && s->start[i] < s->len &&
        (e = pick(n->greedy, method, ml)) != NULL) {
        pidx[np] = i;
        *greedy = true;
        return e;
    }
    return NULL;
}

static enum apigw_route_status split(struct segs *s, const char *path, size_t len)
{
    s->path = path;
    s->len = len;
    s->n = 0;
    size_t cnt = 0;
    if (len > 1 || (len == 1 && path[0] != '/'))
        for (size_t i = 0; i < len; i++)
            cnt += path[i] == '/';
    if (len > 0 && path[0] != '/')
        cnt++;
    size_t *arr = malloc((cnt ? cnt : 1) * 4 * sizeof(size_t));
    if (arr == NULL)
        return APIGW_ROUTE_NOMEM;
    s->start = arr;
    s->rlen = arr + cnt;
    s->doff = arr + 2 * cnt;
    s->dlen = arr + 3 * cnt;
    buf_init(&s->dec, len + 1);
    if (buf_reserve(&s->dec, len) != BUF_OK)
        return APIGW_ROUTE_NOMEM;
    size_t i = (len > 0 && path[0] == '/') ? 1 : 0;
    while (s->n < cnt) {
        size_t end = i;
        while (end < len && path[end] != '/')
            end++;
        s->start[s->n] = i;
        s->rlen[s->n] = end - i;
        s->doff[s->n] = s->dec.len;
        int rc = url_decode_buf(path + i, end - i, URL_ALLOW_NUL, &s->dec);
        if (rc == URL_EBADESCAPE)
            return APIGW_ROUTE_BAD_PATH;
        if (rc != APIGW_OK)
            return APIGW_ROUTE_NOMEM;
        s->dlen[s->n] = s->dec.len - s->doff[s->n];
        s->n++;
        i = end + 1;
    }
    return APIGW_ROUTE_FOUND;
}

static int add_param(struct apigw_match *m, const char *name, const char *raw, size_t rl,
                     size_t *voff)
{
    m->params[m->nparams].name = name;
    m->params[m->nparams].name_len = strlen(name);
    *voff = m->store.len;
    int rc = url_decode_buf(raw, rl, URL_ALLOW_NUL, &m->store);
    m->params[m->nparams].value_len = m->store.len - *voff;
    m->nparams++;
    return rc;
}

enum apigw_route_status apigw_routes_match(const struct apigw_routes *rt, const char *method,
                                           size_t method_len, const char *path, size_t path_len,
                                           struct apigw_match *m)
{
    m->target = NULL;
    m->route_key = NULL;
    m->resource = NULL;
    m->nparams = 0;
    buf_reset(&m->store);
    struct segs s;
    memset(&s, 0, sizeof s);
    enum apigw_route_status st = split(&s, path, path_len);
    const struct route_ent *e = NULL;
    size_t pidx[APIGW_ROUTE_MAX_PARAMS];
    bool greedy = false;
    if (st == APIGW_ROUTE_FOUND)
        e = search(&rt->root, &s, 0, method, method_len, pidx, 0, &greedy);
    if (st == APIGW_ROUTE_FOUND && e == NULL)
        e = rt->dflt;
    if (st == APIGW_ROUTE_FOUND && e == NULL)
        st = APIGW_ROUTE_NOT_FOUND;
    if (st != APIGW_ROUTE_FOUND)
        goto out;
    size_t voffs[APIGW_ROUTE_MAX_PARAMS];
    for (size_t k = 0; k < e->nparams; k++) {
        bool last = greedy && k + 1 == e->nparams;
        size_t at = pidx[k];
        size_t rl = last ? path_len - s.start[at] : s.rlen[at];
        if (add_param(m, e->names[k], path + s.start[at], rl, &voffs[k]) != APIGW_OK) {
            st = APIGW_ROUTE_NOMEM;
            m->nparams = 0;
            goto out;
        }
    }
    for (size_t k = 0; k < m->nparams; k++)
        m->params[k].value = m->store.data ? m->store.data + voffs[k] : "";
    m->target = e->target;
    m->route_key = e->key;
    m->resource = e->resource;
out:
    free(s.start);
    buf_destroy(&s.dec);
    return st;
}

int apigw_stage_select(const char *const *stages, size_t nstages, bool has_default,
                       const char *path, size_t path_len, const char **rest, size_t *rest_len)
{
    size_t i = path_len > 0 && path[0] == '/' ? 1 : 0;
    size_t end = i;
    while (end < path_len && path[end] != '/')
        end++;
    for (size_t k = 0; k < nstages; k++) {
        size_t sl = strlen(stages[k]);
        if (sl == end - i && sl > 0 && memcmp(stages[k], path + i, sl) == 0) {
            *rest = end < path_len ? path + end : "/";
            *rest_len = end < path_len ? path_len - end : 1;
            return (int)k;
        }
    }
    if (!has_default)
        return -2;
    *rest = path_len > 0 ? path : "/";
    *rest_len = path_len > 0 ? path_len : 1;
    return -1;
}
