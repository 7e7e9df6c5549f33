/*
 * jsonw.h — a direct JSON writer into a struct buf, for the per-request documents the gateway
 * builds (the Lambda events, authorizer fragments). No tree is built: each call appends text.
 *
 * Every string goes through apigw_jw_str, which escapes '"', '\\' and every control byte
 * (short forms for \b \f \n \r \t, \u00XX for the rest, NUL included) and replaces each byte
 * that is not part of a valid UTF-8 sequence with U+FFFD, so the output is always valid
 * JSON in valid UTF-8 whatever the input bytes. Commas are the caller's business (see
 * apigw_jw_key, which writes one when `first` is false). Functions return APIGW_OK or a buf
 * error; after an error the buffer content is unspecified but bounded. Thread-safe.
 */
#ifndef HAAR_CLOUD_APIGW_JSONW_H
#define HAAR_CLOUD_APIGW_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Appends s (len bytes, any content) as a quoted, escaped JSON string. */
int apigw_jw_str(struct buf *out, const char *s, size_t len);

/* Same for a NUL-terminated string. */
int apigw_jw_cstr(struct buf *out, const char *s);

/* Appends `,"key":` (no comma when *first; clears *first). key is NUL-terminated. */
int apigw_jw_key(struct buf *out, bool *first, const char *key);

/* Same with a key of len bytes (escaped like any string). */
int apigw_jw_keyn(struct buf *out, bool *first, const char *key, size_t len);

/* Appends a signed integer. */
int apigw_jw_int(struct buf *out, int64_t v);

/* Appends raw bytes (already JSON). */
int apigw_jw_raw(struct buf *out, const char *s);

/* True when the len bytes are entirely valid UTF-8 (no overlongs, surrogates or truncation). */
bool apigw_utf8_valid(const char *s, size_t len);

#endif
