/*
 * logs_int.h — internals shared by the files of the logs module (store.c, proto_json.c,
 * cli.c, parse.c) and by its unit tests and fuzz targets. Not for other modules.
 *
 * Everything here runs on one thread at a time (the daemon's loop, or the CLI process).
 */
#ifndef HAAR_CLOUD_LOGS_INT_H
#define HAAR_CLOUD_LOGS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloud/logs/logs.h"

#define LOGS_DAY_MS       86400000LL
#define LOGS_NAME_MAX     512
#define LOGS_REGION_MAX   32
#define LOGS_RESPONSE_MAX 1048576 /* GetLogEvents / FilterLogEvents answer at most 1 MB */

/* ---- names and retention (parse.c) ---- */

/* A log group name: 1..512 chars of [.-_/#A-Za-z0-9]. */
bool logs__valid_group_name(const char *s, size_t len);

/* A log stream name: 1..512 bytes, no ':' or '*', no NUL. */
bool logs__valid_stream_name(const char *s, size_t len);

/* One of CloudWatch Logs' allowed retentionInDays values (1, 3, 5, 7, 14, ..., 3653). */
bool logs__valid_retention(long days);

/*
 * Writes a file-system-safe form of name into out (cap outlen, NUL-terminated): bytes of
 * [A-Za-z0-9_-] as they are, every other byte as %XX, so '.', '/' and ".." cannot survive;
 * past 180 bytes the tail is replaced by "~" and a 64-bit hash of the whole name. The
 * result is 1..200 bytes. Returns 0, or -1 if outlen < 201 or name is empty.
 */
int logs__fs_name(const char *name, size_t len, char *out, size_t outlen);

/* FNV-1a 64 of the bytes. */
uint64_t logs__hash(const char *s, size_t len);

/*
 * Parses a --since value as of now_ms: "<n>s|m|h|d|w" (n a decimal integer, the time
 * before now), or an ISO-8601 UTC date/time: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]"
 * optionally followed by "Z" or "+HH:MM"/"-HH:MM" (a space may replace the 'T').
 * Sets *out_ms (epoch ms). Returns 0, or -1 for anything else (out unchanged).
 */
int logs__parse_since(const char *s, int64_t now_ms, int64_t *out_ms);

/* ---- filter patterns (parse.c) ---- */

enum logs_term_kind { LOGS_TERM_ALL, LOGS_TERM_NOT, LOGS_TERM_ANY };

struct logs_term {
    enum logs_term_kind kind;
    char *text; /* owned, NUL-terminated */
    size_t len;
};

struct logs_pattern {
    struct logs_term *terms; /* owned */
    size_t n;
    size_t n_any;
};

/*
 * Compiles a filter pattern: whitespace-separated terms, each plain (must appear),
 * "-term" (must not appear), "?term" (at least one ?-term must appear); a term may be a
 * "double-quoted phrase" (\" and \\ escapes inside). Matching is case-sensitive and
 * literal. The empty pattern matches everything. JSON ({...}) and space-delimited ([...])
 * patterns are not supported. Returns 0, or -1 with a message in err (pattern left empty).
 */
int logs__pattern_compile(struct logs_pattern *p, const char *s, size_t len, char *err,
                          size_t errlen);

/* True when the message matches. */
bool logs__pattern_match(const struct logs_pattern *p, const char *msg, size_t len);

/* Frees the terms; accepts a zeroed or compiled pattern. */
void logs__pattern_destroy(struct logs_pattern *p);

/* ---- the store, as the protocol adapter sees it (store.c) ---- */

struct logs_group;
struct logs_stream;
struct json_t; /* jansson's json_t */

int64_t logs__now(struct logs *lg);
const char *logs__region(struct logs *lg);

struct logs_group *logs__group_find(struct logs *lg, const char *name);
/* Creates a group; returns NULL (and sets *exists when it was there already). */
struct logs_group *logs__group_create(struct logs *lg, const char *name, int retention_days,
                                      bool *exists);
int logs__group_delete(struct logs *lg, struct logs_group *g);
int logs__group_set_retention(struct logs *lg, struct logs_group *g, int days);

/* Sets logGroupClass ("STANDARD", "INFREQUENT_ACCESS" or "DELIVERY", checked by the
 * caller) and kmsKeyId (NULL for none) and rewrites the group's meta file. On failure
 * nothing changes. Returns 0 or -1. */
int logs__group_set_class(struct logs *lg, struct logs_group *g, const char *cls, const char *kms);
const char *logs__group_class(const struct logs_group *g);
const char *logs__group_kms(const struct logs_group *g); /* NULL when none */

/* The group's tags: a JSON object of strings, borrowed (do not modify), or NULL when it
 * has none. */
struct json_t *logs__group_tags(const struct logs_group *g);

/* Replaces the group's tags with a copy of tags (an object of strings, already validated;
 * NULL or empty clears them) and writes <group dir>/.tags (temp + rename) or removes it.
 * On failure nothing changes. Returns 0 or -1. */
int logs__group_set_tags(struct logs *lg, struct logs_group *g, struct json_t *tags);

/* All groups sorted by name; *n set. The array is the caller's to free (entries borrowed). */
struct logs_group **logs__groups_sorted(struct logs *lg, size_t *n);

const char *logs__group_name(const struct logs_group *g);
int64_t logs__group_created(const struct logs_group *g);
int logs__group_retention(const struct logs_group *g);
int64_t logs__group_bytes(const struct logs_group *g);

struct logs_stream *logs__stream_find(struct logs *lg, struct logs_group *g, const char *name);
struct logs_stream *logs__stream_create(struct logs *lg, struct logs_group *g, const char *name,
                                        bool *exists);

/* Deletes a stream and its files. Returns 0 or -1. */
int logs__stream_delete(struct logs *lg, struct logs_stream *s);

/* The group's streams (borrowed array valid until the next change); *n set. */
struct logs_stream **logs__group_streams(struct logs_group *g, size_t *n);

const char *logs__stream_name(const struct logs_stream *s);
int64_t logs__stream_created(const struct logs_stream *s);
int64_t logs__stream_bytes(const struct logs_stream *s);
uint64_t logs__stream_hash(const struct logs_stream *s);

/* First/last event timestamps and last ingestion time (computed on first use from the
 * oldest and newest segments). Returns false when the stream has no events. */
bool logs__stream_stats(struct logs *lg, struct logs_stream *s, int64_t *first, int64_t *last,
                        int64_t *ingest);

/* Index marks held for the stream's segments (for tests); *sorted is false when an
 * indexed segment is out of time order. */
size_t logs__stream_marks(const struct logs_stream *s, bool *sorted);

/* Appends an event with an explicit ingestion time (PutLogEvents). */
int logs__put_at(struct logs *lg, struct logs_stream *s, int64_t ts_ms, int64_t ingest_ms,
                 const char *msg, size_t len);

/* One stored event as read back. msg points into the set's buffers (not NUL-terminated). */
struct logs_event {
    int64_t ts;
    int64_t ingest;
    int64_t off; /* byte offset of the line in its day segment: (ts, off) is unique */
    struct logs_stream *stream;
    const char *msg;
    size_t len;
};

struct logs_evset {
    struct logs_event *v;
    size_t n, cap;
    char **bufs;
    size_t nbufs, bufcap;
};

/* Appends the stream's events with start <= ts < end (after the group's retention) to
 * set, unordered. Flush first to see buffered events. Returns 0 or -1 (I/O, memory). */
int logs__stream_read(struct logs *lg, struct logs_stream *s, int64_t start, int64_t end,
                      struct logs_evset *set);

void logs__evset_destroy(struct logs_evset *set);

/* qsort order of events: by timestamp, then stream (its hash), then place in the stream's
 * file — the order GetLogEvents and FilterLogEvents page through. */
int logs__event_cmp(const void *a, const void *b);

/* What FilterLogEvents searches for. */
struct logs_filter {
    const char *const *names; /* logStreamNames (nnames of them), or NULL */
    size_t nnames;
    const char *prefix; /* logStreamNamePrefix, or NULL */
    const struct logs_pattern *pattern;
    int64_t start, end; /* startTime <= ts < endTime */
    int64_t limit;      /* events the answer may hold */
    bool has_after;     /* a paging token: only events after this position */
    int64_t after_ts;
    uint64_t after_hash;
    int64_t after_off;
};

/* True when f searches the stream named name (its prefix, or its names, or every stream).
 * (filter.c) */
bool logs__filter_selected(const struct logs_filter *f, const char *name);

/* Adds to set the group's matching events in the answer's order (timestamp, stream hash,
 * offset), reading a day at a time and stopping at a day boundary once more than f->limit
 * events matched or about 32 MB were read (*more is then true: events from *read_until on
 * were not read). Returns 0 or -1. (filter.c) */
int logs__filter(struct logs *lg, struct logs_group *g, const struct logs_filter *f,
                 struct logs_evset *set, bool *more, int64_t *read_until);

/* ---- the CLI's HTTP side (cli.c), exposed for tests ---- */

/* Formats epoch ms as "2026-11-25T22:10:01.123Z" into out (>= 25 bytes). */
void logs__fmt_time(int64_t ms, char *out, size_t outlen);

#endif
