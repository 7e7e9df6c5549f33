/*
 * value.h — DynamoDB's AttributeValue as a C tree: S, N, B, SS, NS, BS, M, L, NULL, BOOL.
 *
 * A struct ddb_value owns everything below it. An item is a value of type DDB_M (its
 * attributes are the item's attributes). Maps keep their attributes sorted by name
 * (bytewise) and sets keep their elements sorted in key order without duplicates, so
 * equality, lookups and set operations are cheap and two equal values have equal trees.
 * DynamoDB returns map attributes and set elements in no promised order; haar returns them
 * sorted.
 *
 * JSON in (jansson) follows DynamoDB's two passes: ddb_value_check_json finds what Coral's
 * deserializer refuses (SerializationException, with its wording), ddb_value_from_json
 * then applies DynamoDB's validation (ValidationException) and builds the tree. An adapter
 * runs the check over the whole request before decoding any of it, so that serialization
 * errors win over validation errors as they do on AWS.
 *
 * Also here: the item size as AWS counts it, order-preserving key bytes, key validation
 * against a key schema, and a compact binary form for storage.
 * Functions are reentrant; a value is not safe to share between threads while modified.
 */
#ifndef HAAR_CLOUD_DYNAMODB_VALUE_H
#define HAAR_CLOUD_DYNAMODB_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "cloud/dynamodb/error.h"
#include "cloud/dynamodb/num.h"
#include "core/buf.h"

enum ddb_type {
    DDB_NONE = 0, /* an empty slot (a destroyed value) */
    DDB_S,
    DDB_N,
    DDB_B,
    DDB_SS,
    DDB_NS,
    DDB_BS,
    DDB_M,
    DDB_L,
    DDB_NULL,
    DDB_BOOL,
};

#define DDB_ITEM_MAX     409600 /* 400 KB: an item of exactly this size is accepted */
#define DDB_DEPTH_MAX    32     /* document levels, the attribute itself being level 1 */
#define DDB_HASH_KEY_MAX 2048
#define DDB_RANGE_KEY_MAX 1024
#define DDB_NAME_MAX     65535  /* bytes in an attribute name */

struct ddb_attr;

struct ddb_value {
    uint8_t type;    /* enum ddb_type */
    uint8_t boolean; /* DDB_BOOL: 0 or 1 */
    uint32_t n;      /* S, B: bytes; SS, NS, BS, L: elements; M: attributes */
    union {
        char *bytes;             /* S, B: n bytes followed by a NUL (not counted) */
        struct ddb_num num;      /* N */
        struct ddb_value *elems; /* SS, NS, BS (sorted, unique), L (in order) */
        struct ddb_attr *attrs;  /* M: sorted by name */
    } u;
};

struct ddb_attr {
    char *name;        /* name_len bytes followed by a NUL (names may hold NULs: use the length) */
    uint32_t name_len;
    struct ddb_value value;
};

/* ---- types ---- */

/* "S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL" ("" for DDB_NONE). */
const char *ddb_type_name(enum ddb_type t);

/* The type named by len bytes (exact, upper case), or DDB_NONE. */
enum ddb_type ddb_type_from_name(const char *s, size_t len);

/* True for S, N, B (the types a key, a set element or an ordering can have). */
bool ddb_type_is_scalar(enum ddb_type t);

/* True for SS, NS, BS. */
bool ddb_type_is_set(enum ddb_type t);

/* The element type of a set type (SS -> S ...), or DDB_NONE. */
enum ddb_type ddb_set_elem_type(enum ddb_type set);

/* ---- building and freeing ---- */

/* Frees what v owns and leaves it DDB_NONE; accepts NULL. */
void ddb_value_destroy(struct ddb_value *v);

/* Deep copy into *dst (which is overwritten, not freed). Returns 0 or -1 (out of memory;
 * *dst is then DDB_NONE). */
int ddb_value_copy(struct ddb_value *dst, const struct ddb_value *src);

/* Moves *src into *dst (dst overwritten, not freed); src becomes DDB_NONE. */
void ddb_value_move(struct ddb_value *dst, struct ddb_value *src);

/* Scalars. S and B copy len bytes; return 0 or -1 (out of memory, v left DDB_NONE). */
int ddb_value_set_s(struct ddb_value *v, const char *s, size_t len);
int ddb_value_set_b(struct ddb_value *v, const void *p, size_t len);
void ddb_value_set_n(struct ddb_value *v, const struct ddb_num *n);
void ddb_value_set_bool(struct ddb_value *v, bool b);
void ddb_value_set_null(struct ddb_value *v);

/* An empty M or L (no allocation). */
void ddb_value_set_map(struct ddb_value *v);
void ddb_value_set_list(struct ddb_value *v);

/* An empty set of the given set type; ddb_set_add must make it non-empty before use. */
void ddb_value_set_set(struct ddb_value *v, enum ddb_type set_type);

/* The attribute of map m named name/len, or NULL. O(log n). */
struct ddb_value *ddb_map_get(const struct ddb_value *m, const char *name, size_t len);

/* Puts *val (consumed: left DDB_NONE) under name in map m, replacing and freeing an
 * earlier value. Returns 0 or -1 (out of memory; val then still owned by the caller). */
int ddb_map_put(struct ddb_value *m, const char *name, size_t len, struct ddb_value *val);

/* Removes name from m. Returns true when it was there. */
bool ddb_map_remove(struct ddb_value *m, const char *name, size_t len);

/* Appends *val (consumed) to list l. Returns 0 or -1 (out of memory, val still owned). */
int ddb_list_append(struct ddb_value *l, struct ddb_value *val);

/* Removes element i of list l (later elements move down). */
void ddb_list_remove(struct ddb_value *l, uint32_t i);

/* True when set s holds an element equal to scalar e (same type as its elements). */
bool ddb_set_contains(const struct ddb_value *s, const struct ddb_value *e);

/* Adds a copy of scalar e to set s unless present. Returns 0 or -1 (out of memory). */
int ddb_set_add(struct ddb_value *s, const struct ddb_value *e);

/* Removes e from set s when present. */
void ddb_set_remove(struct ddb_value *s, const struct ddb_value *e);

/* ---- comparing ---- */

/* Deep equality as DynamoDB's "=" sees it: same type and value; sets regardless of order. */
bool ddb_value_equal(const struct ddb_value *a, const struct ddb_value *b);

/* Order of two scalars of the same type (S, B bytewise unsigned; N numeric): <0, 0, >0.
 * Values of other or different types compare by type only (never equal). */
int ddb_scalar_cmp(const struct ddb_value *a, const struct ddb_value *b);

/* ---- JSON ---- */

/*
 * Serialization pass over one AttributeValue (j is the {"S": ...} object; NULL or a JSON
 * null is accepted here). Returns 0, or -1 with a DDB_SERIALIZATION error in err using
 * Coral's wording, e.g. "Start of structure or map found where not expected.",
 * "class java.lang.Boolean can not be converted to an String", "Expected list or null",
 * "'xyz=' can not be converted to a Blob: Invalid Base64 character: '…'".
 */
int ddb_value_check_json(const json_t *j, struct ddb_err *err);

/* The serialization pass for a JSON value that must be a string (or null), as Coral words
 * it ("class java.lang.Boolean can not be converted to an String", …). Returns 0 or -1. */
int ddb_json_check_string(const json_t *j, struct ddb_err *err);

/* The JSON containers Coral's serialization pass tells apart. */
enum ddb_json_container {
    DDB_JSON_LIST,   /* a list (an array) */
    DDB_JSON_MAP,    /* a map (an object) */
    DDB_JSON_STRUCT, /* a structure (an object) */
};

/* Coral's error for JSON value j (not NULL, not null) where a container of kind want was
 * expected and j is not one: "Start of list found where not expected", "Start of structure
 * or map found where not expected.", "Expected list or null", "Expected map or null",
 * "Expected null". Returns -1 with err set. */
int ddb_json_container_error(const json_t *j, enum ddb_json_container want, struct ddb_err *err);

/* The serialization pass for a JSON value j (not NULL, not null) that must be a container
 * of kind want: 0 when it is one, else ddb_json_container_error. */
static inline int ddb_json_check_container(const json_t *j, enum ddb_json_container want,
                                           struct ddb_err *err)
{
    if (want == DDB_JSON_LIST ? json_is_array(j) : json_is_object(j))
        return 0;
    return ddb_json_container_error(j, want, err);
}

/* The same over a map of AttributeValues (an Item, a Key, ExpressionAttributeValues…):
 * a scalar there is "Expected map or null", an array "Start of list found where not
 * expected". NULL/null is accepted. */
int ddb_item_check_json(const json_t *j, struct ddb_err *err);

/*
 * Validates and decodes one AttributeValue into *out (overwritten). Runs the serialization
 * pass first. Validation messages are DynamoDB's, in its order, e.g. "Supplied
 * AttributeValue is empty, must contain exactly one of the supported datatypes", "One or
 * more parameter values were invalid: An string set  may not be empty", number errors from
 * num.h, duplicates in sets, "Nesting Levels have exceeded supported limits: …".
 * Returns 0, or -1 with err set (out is then DDB_NONE).
 */
int ddb_value_from_json(const json_t *j, struct ddb_value *out, struct ddb_err *err);

/* Decodes a JSON object of name -> AttributeValue into an M value (*out overwritten).
 * Attribute names must be 1..65535 bytes. Returns 0 or -1 with err set. */
int ddb_item_from_json(const json_t *j, struct ddb_value *out, struct ddb_err *err);

/* The AttributeValue as a new JSON object ({"N":"12"}, {"B":"<base64>"}…), or NULL if out
 * of memory. ddb_item_to_json does the same for an M value without the {"M": } wrapper. */
json_t *ddb_value_to_json(const struct ddb_value *v);
json_t *ddb_item_to_json(const struct ddb_value *item);

/* Appends the compact JSON of the AttributeValue (or of the item, unwrapped) to out.
 * Returns BUF_OK or a buf error. */
int ddb_value_write_json(const struct ddb_value *v, struct buf *out);
int ddb_item_write_json(const struct ddb_value *item, struct buf *out);

/* ---- sizes ---- */

/* Bytes DynamoDB counts for a value (without an attribute name): S UTF-8 bytes, B raw
 * bytes, N per num.h, BOOL/NULL 1, sets the sum of their elements, L and M 3 plus 1 per
 * element plus the elements (a map element also counts its name). */
size_t ddb_value_size(const struct ddb_value *v);

/* An item's size: for every attribute, its name's bytes plus its value's size. */
size_t ddb_item_size(const struct ddb_value *item);

/* The deepest level in item (an attribute's value is level 1, a value inside it level 2…);
 * DynamoDB refuses an item deeper than DDB_DEPTH_MAX with "Nesting Levels have exceeded
 * supported limits: Attributes in the item have nested levels beyond supported limit". */
int ddb_item_depth(const struct ddb_value *item);

/* ---- keys ---- */

/*
 * Appends an order-preserving encoding of scalar v (S, N or B) to out: memcmp order of
 * two encodings of the same type equals DynamoDB's key order (S by UTF-8 bytes, B by
 * unsigned bytes, N numerically). With prefix_free false, S and B are their raw bytes
 * (one key per column); with prefix_free true every encoding is self-delimiting (0x00 is
 * written 0x00 0xFF, the end is 0x00 0x00), so several can be concatenated into one key
 * that still sorts field by field. N is always self-delimiting.
 * Returns BUF_OK, a buf error, or -1 when v is not S, N or B.
 */
int ddb_key_encode(const struct ddb_value *v, bool prefix_free, struct buf *out);

/* Decodes an encoding of a value of the given type from p/len (prefix_free as encoded).
 * Sets *used (bytes consumed). Returns 0, or -1 when the bytes are not such an encoding. */
int ddb_key_decode(enum ddb_type type, const uint8_t *p, size_t len, bool prefix_free,
                   struct ddb_value *out, size_t *used);

/* A table's (or an index's) key: a hash attribute and an optional range attribute. */
struct ddb_key_schema {
    const char *hash_name;  /* NUL-terminated */
    enum ddb_type hash_type; /* S, N or B */
    const char *range_name; /* NULL for a hash-only key */
    enum ddb_type range_type;
};

enum ddb_key_mode {
    DDB_KEY_ITEM, /* a whole item (PutItem): the key attributes must be present */
    DDB_KEY_ONLY, /* a Key parameter (GetItem…): exactly the key attributes */
};

/* Orders byte strings as DynamoDB orders S and B values and key bytes: bytewise, a prefix
 * before what it prefixes. Returns <0, 0 or >0. */
static inline int ddb_bytes_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c;
    return (alen > blen) - (alen < blen);
}

/* True when map m holds the schema's key attributes with the schema's types (other
 * attributes are not looked at). */
bool ddb_key_match(const struct ddb_key_schema *schema, const struct ddb_value *m);

/*
 * Checks the key attributes of map m against schema, with DynamoDB's messages:
 *   item: "One or more parameter values were invalid: Missing the key <a> in the item",
 *         "One or more parameter values were invalid: Type mismatch for key <a> expected:
 *          S actual: N";
 *   key:  "The provided key element does not match the schema";
 *   both: "One or more parameter values are not valid. The AttributeValue for a key
 *          attribute cannot contain an empty string value. Key: <a>" (and "binary"),
 *         "One or more parameter values were invalid: Size of hashkey has exceeded the
 *          maximum size limit of2048 bytes", "… Aggregated size of all range keys has
 *          exceeded the size limit of 1024 bytes".
 * Returns 0 or -1 with err set (DDB_VALIDATION).
 */
int ddb_key_check(const struct ddb_key_schema *schema, const struct ddb_value *m,
                  enum ddb_key_mode mode, struct ddb_err *err);

/* ---- storage form ---- */

/* Appends a compact binary form of v to out (self-delimiting). Returns BUF_OK or a buf
 * error. */
int ddb_value_pack(const struct ddb_value *v, struct buf *out);

/* Decodes one packed value from p/len into *out, checking everything (the bytes may be
 * corrupt). Sets *used. Returns 0 or -1 (out then DDB_NONE). */
int ddb_value_unpack(const uint8_t *p, size_t len, struct ddb_value *out, size_t *used);

#endif
