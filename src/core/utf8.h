/*
 * utf8.h — UTF-8 checks shared by the JSON writers and the validators. No dependencies
 * (the runtime client links it without libcrypto). Stateless, thread-safe.
 */
#ifndef HAAR_CORE_UTF8_H
#define HAAR_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1..4) of the valid UTF-8 sequence at s, which has n > 0 bytes; 0 when the bytes
 * are not one (overlong, out of range, a surrogate, truncated). */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/* Characters (code points) in the NUL-terminated UTF-8 string s: the unit AWS length
 * limits count. Continuation bytes are not counted; validity is not checked. */
size_t utf8_chars(const char *s);

/* True when the len bytes of s are entirely valid UTF-8 (no overlong forms, surrogates or
 * truncated sequences); NUL bytes count as valid. */
bool utf8_valid(const char *s, size_t len);

#endif
