/*
 * ids.h — identifiers: UUIDv4 request ids, 32-hex stream ids, random secrets.
 *
 * Randomness comes from getrandom(2) in batches (one syscall per 4 KB of ids).
 * Not thread-safe (a static pool); call from one thread.
 */
#ifndef HAAR_CORE_IDS_H
#define HAAR_CORE_IDS_H

#include <stddef.h>

enum { IDS_UUID_LEN = 36, IDS_HEX32_LEN = 32, IDS_TRACE_ROOT_LEN = 40 };

/* Fills n random bytes. Returns 0, or -1 if the kernel gave none (never in practice). */
int ids_random(void *out, size_t n);

/* Writes a lowercase UUIDv4 ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") and a NUL into out,
 * which must hold IDS_UUID_LEN + 1 bytes. */
void ids_uuid4(char out[IDS_UUID_LEN + 1]);

/* Writes 16 bytes as a lowercase UUID (8-4-4-4-12 hex, as they are: the caller sets the
 * version and variant bits) and a NUL into out. */
void ids_uuid_format(const unsigned char b[16], char out[IDS_UUID_LEN + 1]);

/* Writes `nbytes * 2` lowercase hex digits of randomness and a NUL into out
 * (out holds 2*nbytes+1). */
void ids_hex(char *out, size_t nbytes);

/* Writes a new X-Ray trace root, "Root=1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>"
 * (IDS_TRACE_ROOT_LEN characters), and a NUL into out: the X-Amzn-Trace-Id of a request. */
void ids_trace_root(char out[IDS_TRACE_ROOT_LEN + 1]);

/* Writes `n` characters from [A-Z0-9] (for access key ids) or [A-Za-z0-9+/] (secrets). */
void ids_alnum_upper(char *out, size_t n);
void ids_secret(char *out, size_t n);

/* True when s is a well-formed UUID of any version (8-4-4-4-12 hex, either case). */
int ids_is_uuid(const char *s, size_t len);

#endif
