/*
 * jsonw.h — a streaming JSON writer into a bounded buffer: answers and events are written
 * directly, without building a jansson tree (the hot paths: gateway events, SQS and DynamoDB
 * answers). Strings are escaped as JSON requires; bytes that are not valid UTF-8 become
 * U+FFFD. Commas and colons are placed by the writer.
 *
 * Errors (buffer full, out of memory, nesting deeper than JSONW_MAX_DEPTH) are sticky: the
 * writer stops writing and jw_ok() turns false, so callers check once at the end.
 * Not thread-safe; a writer belongs to one owner.
 */
#ifndef HAAR_CORE_JSONW_H
#define HAAR_CORE_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"

#define JSONW_MAX_DEPTH 64

struct jsonw {
    struct buf *b;
    uint64_t need_comma; /* bit d: the container at depth d has a member already */
    int depth;
    bool after_key; /* a key was written: the next value follows it */
    /* BUF_OK until the first failure, then why: BUF_ENOMEM or BUF_ETOOBIG (nesting too deep
     * or a close without an open counts as too big). */
    int err;
};

/* Starts writing into b (appending to what it holds). */
void jw_init(struct jsonw *w, struct buf *b);

/* True while nothing failed. */
bool jw_ok(const struct jsonw *w);

/* BUF_OK while nothing failed, else the first failure's buf error. */
int jw_error(const struct jsonw *w);

void jw_obj(struct jsonw *w);     /* { */
void jw_obj_end(struct jsonw *w); /* } */
void jw_arr(struct jsonw *w);     /* [ */
void jw_arr_end(struct jsonw *w); /* ] */

/* A member name inside an object; the value written next is its value. */
void jw_key(struct jsonw *w, const char *key);
void jw_keyn(struct jsonw *w, const char *key, size_t len);

void jw_str(struct jsonw *w, const char *s);              /* NULL writes null */
void jw_strn(struct jsonw *w, const char *s, size_t len); /* bytes, any content */
void jw_int(struct jsonw *w, int64_t v);
void jw_bool(struct jsonw *w, bool v);
void jw_null(struct jsonw *w);
/* Already-encoded JSON text, inserted as one value. */
void jw_raw(struct jsonw *w, const char *json, size_t len);
/* A jansson value, compactly encoded. */
void jw_json(struct jsonw *w, const json_t *v);

/* Shorthands for a member: key then value. */
void jw_kstr(struct jsonw *w, const char *key, const char *s);
void jw_kstrn(struct jsonw *w, const char *key, const char *s, size_t len);
void jw_kint(struct jsonw *w, const char *key, int64_t v);
void jw_kbool(struct jsonw *w, const char *key, bool v);

/* Appends s (len bytes) as a quoted, escaped JSON string to b, without a writer. Returns
 * BUF_OK or a buf error. */
int jw_escape(struct buf *b, const char *s, size_t len);

#endif
