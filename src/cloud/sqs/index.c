/* index.c — see index.h. */
#include "cloud/sqs/index.h"

#include <stdlib.h>
#include <string.h>

#include "cloud/sqs/queue_int.h"

/* ---- string map --------------------------------------------------------------------- */

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

void sqs_smap_init(struct sqs_smap *m)
{
    memset(m, 0, sizeof *m);
}

void sqs_smap_destroy(struct sqs_smap *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nb; i++) {
        struct sqs_smap_entry *e = m->b[i];
        while (e) {
            struct sqs_smap_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(m->b);
    memset(m, 0, sizeof *m);
}

static struct sqs_smap_entry **find_slot(const struct sqs_smap *m, const char *key, size_t klen,
                                         uint64_t h)
{
    if (m->nb == 0)
        return NULL;
    struct sqs_smap_entry **pp = &m->b[h & (m->nb - 1)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && (*pp)->klen == klen && memcmp((*pp)->key, key, klen) == 0)
            return pp;
    return NULL;
}

void *sqs_smap_get(const struct sqs_smap *m, const char *key, size_t klen)
{
    struct sqs_smap_entry **pp = find_slot(m, key, klen, hash_bytes(key, klen));
    return pp ? (*pp)->val : NULL;
}

static int grow(struct sqs_smap *m)
{
    size_t nb = m->nb ? m->nb * 2 : 16;
    struct sqs_smap_entry **b = calloc(nb, sizeof *b);
    if (b == NULL)
        return -1;
    for (size_t i = 0; i < m->nb; i++) {
        struct sqs_smap_entry *e = m->b[i];
        while (e) {
            struct sqs_smap_entry *next = e->next;
            size_t j = e->hash & (nb - 1);
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
    return 0;
}

int sqs_smap_put(struct sqs_smap *m, const char *key, size_t klen, void *val)
{
    uint64_t h = hash_bytes(key, klen);
    struct sqs_smap_entry **pp = find_slot(m, key, klen, h);
    if (pp) {
        (*pp)->val = val;
        return 0;
    }
    if (m->n + 1 > m->nb && grow(m) != 0)
        return -1;
    struct sqs_smap_entry *e = malloc(sizeof *e + klen + 1);
    if (e == NULL)
        return -1;
    e->hash = h;
    e->val = val;
    e->klen = klen;
    memcpy(e->key, key, klen);
    e->key[klen] = '\0';
    size_t j = h & (m->nb - 1);
    e->next = m->b[j];
    m->b[j] = e;
    m->n++;
    return 0;
}

void *sqs_smap_del(struct sqs_smap *m, const char *key, size_t klen)
{
    struct sqs_smap_entry **pp = find_slot(m, key, klen, hash_bytes(key, klen));
    if (pp == NULL)
        return NULL;
    struct sqs_smap_entry *e = *pp;
    void *val = e->val;
    *pp = e->next;
    free(e);
    m->n--;
    return val;
}

void sqs_smap_each(const struct sqs_smap *m,
                   void (*fn)(void *arg, const char *key, size_t klen, void *val), void *arg)
{
    for (size_t i = 0; i < m->nb; i++)
        for (struct sqs_smap_entry *e = m->b[i]; e; e = e->next)
            fn(arg, e->key, e->klen, e->val);
}

/* ---- messages by sequence number ---------------------------------------------------- */

static size_t seq_hash(uint64_t seq, size_t cap)
{
    seq *= 0x9e3779b97f4a7c15ull;
    return (size_t)(seq >> 17) & (cap - 1);
}

void sqs_seqmap_init(struct sqs_seqmap *m)
{
    memset(m, 0, sizeof *m);
}

void sqs_seqmap_destroy(struct sqs_seqmap *m)
{
    if (m == NULL)
        return;
    free(m->slot);
    memset(m, 0, sizeof *m);
}

static int rehash(struct sqs_seqmap *map, size_t cap)
{
    struct msg **slot = calloc(cap, sizeof *slot);
    if (slot == NULL)
        return -1;
    for (size_t i = 0; i < map->cap; i++) {
        struct msg *m = map->slot[i];
        if (m == NULL)
            continue;
        size_t j = seq_hash(m->seq, cap);
        while (slot[j])
            j = (j + 1) & (cap - 1);
        slot[j] = m;
    }
    free(map->slot);
    map->slot = slot;
    map->cap = cap;
    return 0;
}

int sqs_seqmap_reserve(struct sqs_seqmap *map, size_t n)
{
    size_t cap = map->cap ? map->cap : 16;
    while (cap < 2 * n)
        cap *= 2;
    return cap == map->cap ? 0 : rehash(map, cap);
}

int sqs_seqmap_put(struct sqs_seqmap *map, struct msg *m)
{
    if (2 * (map->n + 1) > map->cap && sqs_seqmap_reserve(map, map->n + 1) != 0)
        return -1;
    size_t j = seq_hash(m->seq, map->cap);
    while (map->slot[j])
        j = (j + 1) & (map->cap - 1);
    map->slot[j] = m;
    map->n++;
    return 0;
}

struct msg *sqs_seqmap_get(const struct sqs_seqmap *map, uint64_t seq)
{
    if (map->cap == 0)
        return NULL;
    for (size_t j = seq_hash(seq, map->cap); map->slot[j]; j = (j + 1) & (map->cap - 1))
        if (map->slot[j]->seq == seq)
            return map->slot[j];
    return NULL;
}

void sqs_seqmap_del(struct sqs_seqmap *map, uint64_t seq)
{
    if (map->cap == 0)
        return;
    size_t mask = map->cap - 1, j = seq_hash(seq, map->cap);
    while (map->slot[j] && map->slot[j]->seq != seq)
        j = (j + 1) & mask;
    if (map->slot[j] == NULL)
        return;
    /* backward-shift deletion: later entries of the run move into the hole when their home
     * slot does not lie (cyclically) between the hole and them */
    size_t hole = j;
    map->slot[hole] = NULL;
    map->n--;
    for (size_t k = (hole + 1) & mask; map->slot[k]; k = (k + 1) & mask) {
        size_t home = seq_hash(map->slot[k]->seq, map->cap);
        bool between = hole <= k ? (home > hole && home <= k) : (home > hole || home <= k);
        if (!between) {
            map->slot[hole] = map->slot[k];
            map->slot[k] = NULL;
            hole = k;
        }
    }
}

/* ---- heaps -------------------------------------------------------------------------- */

static uint32_t *slot_of(struct msg *m, enum sqs_heap_kind k)
{
    return k == SQS_HEAP_TIMED ? &m->th : &m->rh;
}

static bool less(const struct msg *a, const struct msg *b, enum sqs_heap_kind k)
{
    int64_t ka = k == SQS_HEAP_TIMED ? a->visible_ms : a->enq_ms;
    int64_t kb = k == SQS_HEAP_TIMED ? b->visible_ms : b->enq_ms;
    return ka != kb ? ka < kb : a->seq < b->seq;
}

static void put_at(struct sqs_heap *h, uint32_t i, struct msg *m)
{
    h->a[i] = m;
    *slot_of(m, h->kind) = i + 1;
}

static void sift_up(struct sqs_heap *h, uint32_t i)
{
    struct msg *m = h->a[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!less(m, h->a[p], h->kind))
            break;
        put_at(h, i, h->a[p]);
        i = p;
    }
    put_at(h, i, m);
}

static void sift_down(struct sqs_heap *h, uint32_t i)
{
    struct msg *m = h->a[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && less(h->a[c + 1], h->a[c], h->kind))
            c++;
        if (!less(h->a[c], m, h->kind))
            break;
        put_at(h, i, h->a[c]);
        i = c;
    }
    put_at(h, i, m);
}

void sqs_heap_init(struct sqs_heap *h, enum sqs_heap_kind kind)
{
    memset(h, 0, sizeof *h);
    h->kind = kind;
}

void sqs_heap_destroy(struct sqs_heap *h)
{
    if (h == NULL)
        return;
    free(h->a);
    h->a = NULL;
    h->n = h->cap = 0;
}

int sqs_heap_append(struct sqs_heap *h, struct msg *m)
{
    if (h->n == h->cap) {
        uint32_t cap = h->cap ? h->cap * 2 : 64;
        struct msg **a = realloc(h->a, (size_t)cap * sizeof *a);
        if (a == NULL)
            return -1;
        h->a = a;
        h->cap = cap;
    }
    put_at(h, h->n++, m);
    return 0;
}

void sqs_heap_fix(struct sqs_heap *h)
{
    for (uint32_t i = h->n / 2; i-- > 0;)
        sift_down(h, i);
}

int sqs_heap_push(struct sqs_heap *h, struct msg *m)
{
    if (sqs_heap_append(h, m) != 0)
        return -1;
    sift_up(h, h->n - 1);
    return 0;
}

void sqs_heap_remove(struct sqs_heap *h, struct msg *m)
{
    uint32_t *slot = slot_of(m, h->kind);
    if (*slot == 0)
        return;
    uint32_t i = *slot - 1;
    *slot = 0;
    h->n--;
    if (i == h->n)
        return;
    put_at(h, i, h->a[h->n]);
    sqs_heap_update(h, h->a[i]);
}

void sqs_heap_update(struct sqs_heap *h, struct msg *m)
{
    uint32_t i = *slot_of(m, h->kind) - 1;
    if (i > 0 && less(m, h->a[(i - 1) / 2], h->kind))
        sift_up(h, i);
    else
        sift_down(h, i);
}

struct msg *sqs_heap_top(const struct sqs_heap *h)
{
    return h->n ? h->a[0] : NULL;
}

bool sqs_heap_has(const struct msg *m, enum sqs_heap_kind kind)
{
    return (kind == SQS_HEAP_TIMED ? m->th : m->rh) != 0;
}
