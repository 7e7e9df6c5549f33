/*
 * json.h — small helpers over jansson that haar modules share (prefix jsonh_).
 * Stateless and thread-safe.
 */
#ifndef HAAR_CORE_JSON_H
#define HAAR_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"

/* The string at obj[key], or dflt when missing or not a string. Borrowed. */
const char *jsonh_str(const json_t *obj, const char *key, const char *dflt);

/* obj[key] as an integer: 1 and sets *out when it is a JSON integer, 0 when missing,
 * -1 when present with another type. */
int jsonh_int(const json_t *obj, const char *key, long long *out);

/* Appends the compact encoding of j to out. Returns BUF_OK or a buf error. */
int jsonh_dump_buf(const json_t *j, size_t flags, struct buf *out);

/* Parses len bytes (no NUL needed). On failure returns NULL and writes jansson's message
 * with line/column into err. New reference. Accepts any JSON value (not only objects). */
json_t *jsonh_parse(const char *text, size_t len, char *err, size_t errlen);

/* json_loadb, faster: the same value, the same verdict and the same error (err may be
 * NULL). jansson's lexer reads a character at a time through a stream (~120 instructions a
 * byte: most of what an API Gateway event or a DynamoDB request costs to decode); this
 * reads the text directly and builds the same jansson values. What it does not take on —
 * any error, real numbers, integers out of range, "\u0000", nesting past 512, flags other
 * than JSON_REJECT_DUPLICATES, JSON_DECODE_ANY and JSON_ALLOW_NUL — goes to json_loadb,
 * which gives the answer and the message. */
json_t *jsonh_loadb(const char *text, size_t len, size_t flags, json_error_t *err);

/* The fast path alone: the value, or NULL when it declines (the fuzz target checks that
 * whatever it returns equals what json_loadb returns). */
json_t *jsonh_loadb_fast(const char *text, size_t len, size_t flags);

/* jsonh_loadb for a reader that wants a few members of a big object (a function's event):
 * the same verdict and error, but of a top-level object only the members on the paths in
 * `paths` (NULL-terminated; "a.b.c" names c in the object b in the object a) are built; the
 * rest is read and checked, not built. The result may hold more than asked (whatever the
 * text holds: when the fast path declines, the whole document), never less than the text
 * has on those paths. */
json_t *jsonh_loadb_pick(const char *text, size_t len, size_t flags, const char *const *paths,
                         json_error_t *err);

#endif
