/*
 * receipt.h — SQS receipt handles: opaque to clients, cheap for the engine.
 *
 * A handle carries what the engine needs to find the message without a search — the
 * queue's id, the message's sequence number and the receive generation (which receive of
 * the message issued it) — and a MAC: HMAC-SHA256 under a 32-byte key, truncated to 128
 * bits. A handle that was altered, made up, or issued under another key does not decode:
 * ReceiptHandleIsInvalid with AWS's message. A handle of an earlier receive still decodes
 * (its generation is simply older): AWS lets an old handle delete the message, and it is the
 * engine that decides what an old generation may do.
 *
 * The key is the caller's: random at start (sqs_receipt_key_random) makes every handle die
 * with the process; a key kept in the store keeps handles valid across restarts, as AWS's
 * are. Text form: "AQ" followed by URL-safe base64 (no padding), 52 characters, safe in
 * query strings, forms, JSON and XML without escaping.
 *
 * Pure functions over caller data; thread-safe.
 */
#ifndef HAAR_CLOUD_SQS_RECEIPT_H
#define HAAR_CLOUD_SQS_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum {
    SQS_RECEIPT_KEY_LEN = 32,
    SQS_RECEIPT_LEN = 52, /* characters of an encoded handle */
};

/* What a handle names. */
struct sqs_receipt {
    uint64_t queue_id; /* the engine's id of the queue (never reused) */
    uint64_t seq;      /* the message's sequence number in its queue */
    uint32_t gen;      /* receive generation: 1 for the first receive, +1 each receive */
};

struct sqs_receipt_key {
    unsigned char key[SQS_RECEIPT_KEY_LEN];
};

/* Fills k with fresh randomness (getrandom). Returns 0, or -1 if the kernel gave none. */
int sqs_receipt_key_random(struct sqs_receipt_key *k);

/* Writes the handle of r under k, NUL-terminated, into out. Cannot fail. */
void sqs_receipt_encode(const struct sqs_receipt_key *k, const struct sqs_receipt *r,
                        char out[SQS_RECEIPT_LEN + 1]);

/*
 * Decodes len bytes of a handle as the request carried it. ERR_OK and *out on success;
 * otherwise ERR_SQS_RECEIPT_HANDLE_INVALID with AWS's message
 * `The input receipt handle "<handle>" is not a valid receipt handle.` in msg (the handle
 * echoed up to 1024 bytes, cut before any byte that is not a printable UTF-8 character) and
 * *out zeroed. A handle whose queue_id is not the addressed queue's is the caller's to
 * refuse with the same error (sqs_receipt_invalid_msg writes the message).
 */
enum err sqs_receipt_decode(const struct sqs_receipt_key *k, const char *s, size_t len,
                            struct sqs_receipt *out, char *msg, size_t msglen);

/* Writes the ReceiptHandleIsInvalid message for the handle s (len bytes) into msg. */
void sqs_receipt_invalid_msg(const char *s, size_t len, char *msg, size_t msglen);

#endif
