/*
 * num.h — DynamoDB numbers: decimals of at most 38 significant digits whose magnitude lies
 * in 1E-130 .. 9.9999999999999999999999999999999999999E+125 (or zero). Never doubles.
 *
 * A number is kept normalised: sign, the significant digits without leading or trailing
 * zeros, and the exponent of the first digit ("adjusted" exponent: 12.5 is 1.25E+1, so
 * exp = 1). Zero has no digits and is never negative. Two equal numbers have identical
 * structs, whatever text they were parsed from ("1000", "1E3", "+1000.0").
 *
 * What this module reproduces (recorded against DynamoDB; sources in the report):
 *   - the accepted text: [+-] digits [. digits] | [+-] . digits, then [eE][+-]digits;
 *     no spaces, no NaN/Infinity, no hex;
 *   - the checks, in DynamoDB's order: overflow (exponent > 125), underflow (< -130),
 *     then more than 38 significant digits. A zero is checked on its written magnitude
 *     (as Java's BigDecimal sees it: "0e126" overflows, "0.0e126" does not);
 *   - the rendering: always plain decimal, never an exponent ("1E+2" -> "100",
 *     "0.10" -> "0.1", "-0" -> "0", "1E-130" -> "0.000…0001");
 *   - the stored size: 1 byte, plus 1 per base-100 digit pair aligned on the decimal
 *     point, plus 1 when negative (fits all 23 literals measured against DynamoDB);
 *   - addition and subtraction exactly; a result that needs more than 38 digits or leaves
 *     the range fails as DynamoDB fails it (overflow/underflow messages).
 *
 * All functions are pure and thread-safe.
 */
#ifndef HAAR_CLOUD_DYNAMODB_NUM_H
#define HAAR_CLOUD_DYNAMODB_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloud/dynamodb/error.h"

#define DDB_NUM_DIGITS  38
#define DDB_NUM_EXP_MAX 125
#define DDB_NUM_EXP_MIN (-130)
/* Longest rendering plus its NUL: "-0." + 129 zeros + 38 digits. */
#define DDB_NUM_STR_MAX 172
/* Longest key encoding (ddb_num_key_encode): class, exponent, 19 digit pairs, end mark. */
#define DDB_NUM_KEY_MAX 22

struct ddb_num {
    int16_t exp;                  /* adjusted exponent of dig[0]; 0 for zero */
    uint8_t ndig;                 /* significant digits: 0 for zero, else 1..38 */
    uint8_t neg;                  /* 1 when negative (never for zero) */
    uint8_t dig[DDB_NUM_DIGITS];  /* 0..9; dig[0] and dig[ndig-1] are not 0 */
};

enum ddb_num_status {
    DDB_NUM_OK = 0,
    DDB_NUM_EINVALID,   /* not a number */
    DDB_NUM_EOVERFLOW,  /* magnitude above 9.99…E+125 (also: a sum needing > 38 digits) */
    DDB_NUM_EUNDERFLOW, /* magnitude below 1E-130 */
    DDB_NUM_EPRECISION, /* more than 38 significant digits */
};

/* Sets *n to zero. */
void ddb_num_zero(struct ddb_num *n);

/* True for zero. */
bool ddb_num_is_zero(const struct ddb_num *n);

/*
 * Parses len bytes (no NUL needed) of a DynamoDB number as sent on the wire. On success
 * fills *out and returns DDB_NUM_OK; otherwise returns the status (out is then zero).
 */
enum ddb_num_status ddb_num_parse(const char *s, size_t len, struct ddb_num *out);

/*
 * Records DynamoDB's message for a failed parse of text s/len in err (ValidationException):
 *   EINVALID, empty text: "The parameter cannot be converted to a numeric value"
 *   EINVALID:             "The parameter cannot be converted to a numeric value: <text>"
 *   EOVERFLOW:  "Number overflow. Attempting to store a number with magnitude larger than
 *                supported range"
 *   EUNDERFLOW: "Number underflow. Attempting to store a number with magnitude smaller than
 *                supported range"
 *   EPRECISION: "Attempting to store more than 38 significant digits in a Number"
 * Returns -1.
 */
int ddb_num_error(enum ddb_num_status st, const char *s, size_t len, struct ddb_err *err);

/* Parses a C long long (exact; used for counts and sizes). */
void ddb_num_from_ll(struct ddb_num *out, long long v);

/*
 * Writes n as DynamoDB prints it (plain decimal) into out, which has room for
 * DDB_NUM_STR_MAX bytes. Returns the length (without the NUL).
 */
size_t ddb_num_format(const struct ddb_num *n, char out[DDB_NUM_STR_MAX]);

/* Numeric order: <0, 0, >0. */
int ddb_num_cmp(const struct ddb_num *a, const struct ddb_num *b);

/*
 * out = a + b (or a - b with ddb_num_sub), exactly. out may alias a or b. Returns
 * DDB_NUM_OK, DDB_NUM_EOVERFLOW (out of range, or the exact result needs more than 38
 * digits — DynamoDB reports both as overflow) or DDB_NUM_EUNDERFLOW.
 */
enum ddb_num_status ddb_num_add(const struct ddb_num *a, const struct ddb_num *b,
                                 struct ddb_num *out);
enum ddb_num_status ddb_num_sub(const struct ddb_num *a, const struct ddb_num *b,
                                struct ddb_num *out);

/* The bytes DynamoDB counts for this number in an item's size (1..22). */
size_t ddb_num_size(const struct ddb_num *n);

/*
 * Order-preserving key encoding: memcmp order of two encodings equals numeric order, and
 * no encoding is a proper prefix of another (so it can be followed by more key bytes).
 * Writes at most DDB_NUM_KEY_MAX bytes to out; returns the length.
 */
size_t ddb_num_key_encode(const struct ddb_num *n, uint8_t out[DDB_NUM_KEY_MAX]);

/*
 * Decodes one key encoding at the start of p (len bytes). Sets *used to the bytes it
 * took. Returns 0, or -1 when the bytes are not an encoding this module wrote.
 */
int ddb_num_key_decode(const uint8_t *p, size_t len, struct ddb_num *out, size_t *used);

#endif
