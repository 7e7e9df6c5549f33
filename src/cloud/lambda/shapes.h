/*
 * shapes.h — AWS Lambda's request model as data (the constraints of botocore's
 * lambda/2015-03-31/service-2.json, corrected where AWS's own answers differ), the small
 * regular-expression matcher its patterns need, and the checker that turns a request into
 * AWS's ValidationException text. Internal to the Lambda engine (validate.c, its tests and
 * fuzz targets); other modules use lambda_validate_request() in lambda.h.
 *
 * Everything here is pure: no state, no allocation that outlives a call. Thread-safe.
 */
#ifndef HAAR_CLOUD_LAMBDA_SHAPES_H
#define HAAR_CLOUD_LAMBDA_SHAPES_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cloud/lambda/lambda.h"

/* What a model shape is. Blobs arrive base64-encoded in JSON strings. */
enum lambda_kind {
    LK_STRING,
    LK_INT,
    LK_DOUBLE,
    LK_BOOL,
    LK_BLOB,
    LK_TIMESTAMP,
    LK_LIST,
    LK_MAP,
    LK_STRUCT,
};

/* Which bounds a shape has (a bound of 0 is a real bound, so presence is separate). */
enum { LS_HAS_MIN = 1, LS_HAS_MAX = 2 };

/* Where a request member travels. */
enum lambda_loc { LL_BODY, LL_URI, LL_QUERY, LL_HEADER };

struct lambda_member;

/*
 * One model shape. Strings, lists and maps bound their length (strings in code points, as
 * AWS counts), integers their value. pattern is matched against the whole value (AWS's
 * regexes are Java's, applied with matches()) and printed verbatim in messages.
 */
struct lambda_shape {
    const char *name; /* the model's shape name: "Handler" */
    enum lambda_kind kind;
    unsigned has; /* LS_HAS_MIN | LS_HAS_MAX */
    long long min, max;
    const char *pattern;                 /* NULL: none */
    const char *const *enums;            /* NULL-terminated, in the model's order; NULL: none */
    bool sensitive;                      /* messages leave the value out: "Value at '...'" */
    const char *member;                  /* list: the element shape; map: the value shape */
    const char *key;                     /* map: the key shape */
    const struct lambda_member *members; /* struct: its members, in AWS's reporting order */
    size_t nmembers;
};

/* One member of a structure or of an operation's input. */
struct lambda_member {
    const char *name;  /* as the request carries it: JSON key, or the model member name of
                        * a path/query/header parameter ("FunctionName") */
    const char *path;  /* as AWS's messages name it: "functionName", "tracingConfig" */
    const char *shape; /* a lambda_shape name */
    enum lambda_loc loc;
    bool required;
};

/* An operation's input: its members in the order AWS reports their errors. */
struct lambda_op {
    const char *name; /* "CreateFunction" */
    const struct lambda_member *members;
    size_t nmembers;
};

/* The shape called name, or NULL. */
const struct lambda_shape *lambda__shape(const char *name);

/* The operation called name, or NULL. */
const struct lambda_op *lambda__op(const char *name);

/* All shapes / operations, for the tests that check the table itself. */
const struct lambda_shape *lambda__shapes(size_t *n);
const struct lambda_op *lambda__ops(size_t *n);

/*
 * Does s (len bytes of UTF-8; invalid bytes count as U+FFFD) match the whole of pattern?
 * The pattern subset: literals and escapes, ".", classes with ranges, negation and
 * \d \D \s \S \w \W, groups, "|", "?", "*", "+", "{n}", "{n,}", "{n,m}", "^", "$",
 * negative lookahead "(?!...)" and a one-character negative lookbehind "(?<!x)".
 * Linear in len (a Thompson/Pike simulation, no backtracking). Returns 1 (match),
 * 0 (no match) or -1 when the pattern is outside the subset (our bug).
 */
int lambda__pattern_match(const char *pattern, const char *s, size_t len);

/* Code points in s (len bytes), counting each invalid byte as one. */
size_t lambda__codepoints(const char *s, size_t len);

#endif
