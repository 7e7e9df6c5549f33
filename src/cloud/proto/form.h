/*
 * form.h — the query protocol's request members: an application/x-www-form-urlencoded body
 * and/or a URL query string, decoded once into a sorted table for lookups by name
 * ("QueueUrl", "MessageAttribute.2.Value.StringValue"). Loop thread; a form belongs to one
 * request.
 */
#ifndef HAAR_CLOUD_PROTO_FORM_H
#define HAAR_CLOUD_PROTO_FORM_H

#include <stdbool.h>
#include <stddef.h>

struct proto_form_pair {
    const char *key; /* decoded, NUL-terminated */
    const char *value;
    size_t key_len, value_len;
};

struct proto_form {
    struct proto_form_pair *pairs; /* sorted by key, then by position */
    size_t n;
    char *bytes; /* the decoded keys and values */
};

enum { PROTO_FORM_MAX_PAIRS = 4096 };

/*
 * Decodes the members of a (len bytes; '+' is a space) and then of b (may be NULL) into f.
 * Values keep NUL bytes ("%00"; value_len counts them); a key with one is malformed.
 * Returns 0, or -1 for a malformed escape or more than PROTO_FORM_MAX_PAIRS members, with f
 * left empty. Free with proto_form_destroy.
 */
int proto_form_parse(struct proto_form *f, const char *a, size_t alen, const char *b, size_t blen);

/* The first value of key (in the order given), with its length in *len (may be NULL); NULL
 * when absent. */
const char *proto_form_get(const struct proto_form *f, const char *key, size_t *len);

/* True when key is present. */
bool proto_form_has(const struct proto_form *f, const char *key);

/* Frees what proto_form_parse allocated; accepts a zeroed form. */
void proto_form_destroy(struct proto_form *f);

#endif
