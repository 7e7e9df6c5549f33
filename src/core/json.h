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

#endif
