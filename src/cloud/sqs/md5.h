/*
 * md5.h — the MD5 digests SQS answers with, computed exactly as AWS computes them (the
 * SDKs recompute and compare them; AWS-CONTRACTS.md §3):
 *   - MD5OfMessageBody / MD5OfBody: hex MD5 of the body's UTF-8 bytes;
 *   - MD5OfMessageAttributes: hex MD5 over the attributes sorted by name in byte order, each
 *     encoded as len32(name) name, len32(DataType) DataType, one transport byte (1 for String
 *     and Number, 2 for Binary), len32(value) value — lengths 4-byte big-endian, DataType with
 *     its custom label, Binary values as decoded bytes;
 *   - MD5OfMessageSystemAttributes: the same encoding over the message system attributes
 *     (AWSTraceHeader, the only one there is).
 * Uses libcrypto (EVP). Stateless and thread-safe.
 */
#ifndef HAAR_CLOUD_SQS_MD5_H
#define HAAR_CLOUD_SQS_MD5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloud/sqs/attrs.h"

enum { SQS_MD5_LEN = 16, SQS_MD5_HEX_LEN = 32 };

/* Writes the MD5 of len bytes into d and returns true; false (d unset) when libcrypto has
 * no MD5. */
bool sqs_md5(const void *data, size_t len, unsigned char d[SQS_MD5_LEN]);

/* Writes d as lowercase hex and a NUL into out; d NULL (a digest that could not be made)
 * writes "". */
void sqs_md5_fmt(const unsigned char *d, char out[SQS_MD5_HEX_LEN + 1]);

/* Writes the lowercase hex MD5 of len bytes and a NUL into out ("" when libcrypto has no
 * MD5). */
void sqs_md5_hex(const void *data, size_t len, char out[SQS_MD5_HEX_LEN + 1]);

/*
 * MD5OfMessageAttributes over the attributes of set that mask selects (bit i = set->a[i];
 * UINT32_MAX = all): ReceiveMessage hashes only what it returns. Writes the hex digest into
 * out and returns true; returns false, writing "", when nothing is selected (AWS then omits
 * the field). Also serves MD5OfMessageSystemAttributes, given the system attribute set.
 */
bool sqs_md5_attrs(const struct sqs_attrs *set, uint32_t mask, char out[SQS_MD5_HEX_LEN + 1]);
/* The same digest as bytes into d; false (d unset) when nothing is selected or libcrypto
 * has no MD5. */
bool sqs_md5_attrs_bin(const struct sqs_attrs *set, uint32_t mask, unsigned char d[SQS_MD5_LEN]);

#endif
