#include "cloud/proto/form.h"

#include <stdlib.h>
#include <string.h>

#include "core/url.h"

static int cmp_pair(const void *a, const void *b)
{
    const struct proto_form_pair *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c != 0)
        return c;
    if (x->key_len != y->key_len)
        return x->key_len < y->key_len ? -1 : 1;
    /* the same key: first given first (keys point into one buffer, in order) */
    return x->key < y->key ? -1 : (x->key > y->key);
}

/* Decodes one part into f, appending at bytes + *off. */
static int add_part(struct proto_form *f, const char *s, size_t len, size_t cap, size_t *off)
{
    size_t pos = 0;
    struct url_member m;
    while (url_query_next(s, len, &pos, &m)) {
        if (f->n == PROTO_FORM_MAX_PAIRS)
            return -1;
        long kl = url_decode(m.key, m.key_len, URL_PLUS_SPACE, f->bytes + *off, cap - *off);
        if (kl < 0)
            return -1;
        struct proto_form_pair *p = &f->pairs[f->n];
        p->key = f->bytes + *off;
        p->key_len = (size_t)kl;
        *off += (size_t)kl + 1;
        long vl = url_decode(m.value, m.value_len, URL_PLUS_SPACE | URL_ALLOW_NUL, f->bytes + *off,
                             cap - *off);
        if (vl < 0)
            return -1;
        p->value = f->bytes + *off;
        p->value_len = (size_t)vl;
        *off += (size_t)vl + 1;
        f->n++;
    }
    return 0;
}

int proto_form_parse(struct proto_form *f, const char *a, size_t alen, const char *b, size_t blen)
{
    memset(f, 0, sizeof *f);
    if (b == NULL)
        blen = 0;
    size_t members = 1, cap = alen + blen + 2;
    for (size_t i = 0; i < alen; i++)
        members += a[i] == '&';
    for (size_t i = 0; i < blen; i++)
        members += b[i] == '&';
    members += 1;
    if (members > PROTO_FORM_MAX_PAIRS + 2)
        return -1;
    /* every member decodes to at most its own length, plus two NULs */
    cap += 2 * members;
    f->pairs = calloc(members, sizeof *f->pairs);
    f->bytes = malloc(cap);
    size_t off = 0;
    if (f->pairs == NULL || f->bytes == NULL || add_part(f, a, alen, cap, &off) != 0 ||
        (blen && add_part(f, b, blen, cap, &off) != 0)) {
        proto_form_destroy(f);
        return -1;
    }
    qsort(f->pairs, f->n, sizeof *f->pairs, cmp_pair);
    return 0;
}

const char *proto_form_get(const struct proto_form *f, const char *key, size_t *len)
{
    struct proto_form_pair k = {.key = key, .key_len = strlen(key)};
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        struct proto_form_pair probe = f->pairs[mid];
        size_t n = probe.key_len < k.key_len ? probe.key_len : k.key_len;
        int c = memcmp(probe.key, k.key, n);
        if (c == 0 && probe.key_len != k.key_len)
            c = probe.key_len < k.key_len ? -1 : 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < f->n && f->pairs[lo].key_len == k.key_len &&
        memcmp(f->pairs[lo].key, key, k.key_len) == 0) {
        if (len)
            *len = f->pairs[lo].value_len;
        return f->pairs[lo].value;
    }
    return NULL;
}

bool proto_form_has(const struct proto_form *f, const char *key)
{
    return proto_form_get(f, key, NULL) != NULL;
}

void proto_form_destroy(struct proto_form *f)
{
    free(f->pairs);
    free(f->bytes);
    memset(f, 0, sizeof *f);
}
