/*
 * codec.h — base64 (standard alphabet, padded; or base64url), hex and SHA-256. Stateless,
 * thread-safe.
 */
#ifndef HAAR_CORE_CODEC_H
#define HAAR_CORE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Appends the base64 of len bytes to out. Returns BUF_OK or a buf error. */
int codec_b64_encode(const void *data, size_t len, struct buf *out);

/* Appends the base64url of len bytes to out: RFC 4648 §5's alphabet ('-' and '_'), without
 * padding. Returns BUF_OK or a buf error. */
int codec_b64url_encode(const void *data, size_t len, struct buf *out);

/* Writes the lowercase hex of len bytes and a NUL into out (2 * len + 1 bytes). Cannot fail. */
void codec_hex(const void *data, size_t len, char *out);

/* Appends the decoded bytes of base64 text (padding optional, no whitespace allowed except
 * trailing newlines) to out. Returns BUF_OK, a buf error, or -10 if the text is not base64. */
int codec_b64_decode(const char *text, size_t len, struct buf *out);
enum { CODEC_EBADB64 = -10 };

/* The value of a base64 digit (standard alphabet), or -1 (padding '=' included). */
static inline int codec_b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* The value of a hex digit (either case), or -1. */
static inline int codec_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* SHA-256 of len bytes into out[32]. Thread-safe; the digest is fetched from OpenSSL once
 * (its one-shot SHA256() looks it up, under a lock, on every call). */
void codec_sha256(const void *data, size_t len, unsigned char out[32]);

/* SHA-256 of a (an bytes) followed by b (bn bytes, may be 0) into out[32]. */
void codec_sha256_2(const void *a, size_t an, const void *b, size_t bn, unsigned char out[32]);

#endif
