/*
 * index.h — the SQS engine's in-memory indexes (internal to src/cloud/sqs): a string-keyed
 * hash map, a map from a message's sequence number to the message, and binary min-heaps of
 * messages that record each message's slot so it can be removed in O(log n).
 *
 * The structures only hold pointers; what they point to belongs to the engine. Nothing here
 * allocates per lookup; inserts grow tables geometrically (amortised O(1)). Loop thread
 * only, like the engine.
 */
#ifndef HAAR_CLOUD_SQS_INDEX_H
#define HAAR_CLOUD_SQS_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- string map --------------------------------------------------------------------- */

struct sqs_smap_entry {
    struct sqs_smap_entry *next;
    uint64_t hash;
    void *val;
    size_t klen;
    char key[]; /* klen bytes and a NUL */
};

struct sqs_smap {
    struct sqs_smap_entry **b;
    size_t nb, n;
};

/* Empty map (no allocation until the first put). */
void sqs_smap_init(struct sqs_smap *m);
/* Frees the table and its entries (not the values); accepts a zeroed map. */
void sqs_smap_destroy(struct sqs_smap *m);
/* The value of key, or NULL. */
void *sqs_smap_get(const struct sqs_smap *m, const char *key, size_t klen);
/* Sets key to val (replacing). Returns 0, or -1 when out of memory. */
int sqs_smap_put(struct sqs_smap *m, const char *key, size_t klen, void *val);
/* Removes key; returns its value or NULL. */
void *sqs_smap_del(struct sqs_smap *m, const char *key, size_t klen);
/* Calls fn for every entry (any order); fn must not change the map. */
void sqs_smap_each(const struct sqs_smap *m,
                   void (*fn)(void *arg, const char *key, size_t klen, void *val), void *arg);

/* ---- messages by sequence number ---------------------------------------------------- */

struct msg;

/* Open addressing on the message's own seq field (no key copy): 8 bytes a slot, kept at
 * most half full. */
struct sqs_seqmap {
    struct msg **slot;
    size_t cap, n; /* cap: a power of two, or 0 */
};

void sqs_seqmap_init(struct sqs_seqmap *m);
void sqs_seqmap_destroy(struct sqs_seqmap *m);
/* Adds m (its seq must not be present). Returns 0, or -1 when out of memory. */
int sqs_seqmap_put(struct sqs_seqmap *map, struct msg *m);
/* The message of seq, or NULL. */
struct msg *sqs_seqmap_get(const struct sqs_seqmap *map, uint64_t seq);
/* Removes the message of seq (no-op when absent). */
void sqs_seqmap_del(struct sqs_seqmap *map, uint64_t seq);
/* Reserves room for n entries in all (restart: one allocation). -1 when out of memory. */
int sqs_seqmap_reserve(struct sqs_seqmap *map, size_t n);

/* ---- heaps of messages -------------------------------------------------------------- */

/* Which key a heap orders by, and which slot field of the message it keeps. */
enum sqs_heap_kind {
    SQS_HEAP_TIMED,     /* visible_ms: delayed and in-flight messages */
    SQS_HEAP_RETENTION, /* enq_ms: every stored message */
};

struct sqs_heap {
    struct msg **a;
    uint32_t n, cap;
    enum sqs_heap_kind kind;
};

void sqs_heap_init(struct sqs_heap *h, enum sqs_heap_kind kind);
void sqs_heap_destroy(struct sqs_heap *h);
/* Adds m. Returns 0, or -1 when out of memory. */
int sqs_heap_push(struct sqs_heap *h, struct msg *m);
/* Appends m without ordering (restart); sqs_heap_fix orders everything at once, O(n). */
int sqs_heap_append(struct sqs_heap *h, struct msg *m);
void sqs_heap_fix(struct sqs_heap *h);
/* Removes m (which must be in h). */
void sqs_heap_remove(struct sqs_heap *h, struct msg *m);
/* Restores order after m's key changed (m in h). */
void sqs_heap_update(struct sqs_heap *h, struct msg *m);
/* The smallest, or NULL. */
struct msg *sqs_heap_top(const struct sqs_heap *h);
/* True when m is in a heap of that kind. */
bool sqs_heap_has(const struct msg *m, enum sqs_heap_kind kind);

#endif
