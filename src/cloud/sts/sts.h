/*
 * sts.h — the STS engine: temporary credentials issued by AssumeRole and GetSessionToken,
 * kept (durably) until they expire on the clock, and looked up when a request is signed
 * with one. haar has no IAM: any well-formed role ARN can be assumed.
 *
 * Loop thread only.
 */
#ifndef HAAR_CLOUD_STS_H
#define HAAR_CLOUD_STS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sts;
struct store;

/* Issued credentials. */
struct sts_creds {
    char access_key[24];
    char secret[48];
    char token[400];
    char arn[320];     /* the identity they act as */
    char user_id[200]; /* AssumedRoleId, or the caller's UserId for GetSessionToken */
    int64_t expires_ms;
};

/* Creates the engine over store (borrowed; NULL: nothing persists). NULL with a message in
 * err on failure. */
struct sts *sts_new(struct store *store, char *err, size_t errlen);

/* Loads unexpired credentials from the store. */
void sts_restore(struct sts *s);

/* Frees; accepts NULL. */
void sts_free(struct sts *s);

typedef void (*sts_done_fn)(void *arg, int rc, const struct sts_creds *c);

/*
 * Issues credentials acting as arn / user_id for duration_s seconds of the clock. done runs
 * later, once they are durable (rc 0), or with rc -1 when they could not be stored (and are
 * not valid).
 */
void sts_issue(struct sts *s, const char *arn, const char *user_id, int duration_s,
               sts_done_fn done, void *arg);

/* The credentials of access_key when token is theirs and they have not expired; NULL
 * otherwise. Borrowed until the next call that changes the engine. */
const struct sts_creds *sts_lookup(struct sts *s, const char *access_key, const char *token);

/* How many unexpired credentials exist (tests, health). */
size_t sts_count(const struct sts *s);

#endif
