/*
 * attrs.h — SQS message attributes and message system attributes (pure: no queue, no I/O).
 *
 * A message carries up to 10 message attributes, each a name, a DataType (`String`,
 * `Number` or `Binary`, optionally followed by `.label`) and a value (a string for String
 * and Number, bytes for Binary), and optionally one message system attribute,
 * `AWSTraceHeader` (DataType String). Both are parsed here from what the protocol adapters
 * extracted off the wire (query: `MessageAttribute.N.Name/.Value.DataType/...`; JSON: a map),
 * validated as AWS validates them, and kept sorted by name in byte order, the order the
 * MD5 digest (md5.h) walks.
 *
 * ReceiveMessage selects attributes: `sqs_attrs_select` applies `MessageAttributeNames`,
 * `sqs_sysattr_select` applies `MessageSystemAttributeNames` / the legacy `AttributeNames`.
 *
 * Every function works on caller-owned data; nothing here is shared, so a set may be used
 * from any one thread at a time. The tables are constant.
 */
#ifndef HAAR_CLOUD_SQS_ATTRS_H
#define HAAR_CLOUD_SQS_ATTRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

enum {
    SQS_MAX_MSG_ATTRS = 10,  /* attributes per message */
    SQS_ATTR_NAME_MAX = 256, /* characters in a name */
    SQS_ATTR_TYPE_MAX = 256, /* characters in a DataType, label included */
};

/* Borrowed bytes off the wire: p NULL means absent, len 0 with p set means empty. The
 * bytes need not be NUL-terminated. */
struct sqs_str {
    const char *p;
    size_t len;
};

/* Makes a sqs_str of a C string (NULL stays absent). */
struct sqs_str sqs_str_c(const char *s);

/* One attribute as the request carried it; every field borrowed, any may be absent. */
struct sqs_attr_in {
    struct sqs_str name;
    struct sqs_str type;         /* DataType */
    struct sqs_str string_value; /* StringValue */
    struct sqs_str binary_b64;   /* BinaryValue, base64 as both protocols carry it */
};

enum sqs_attr_kind { SQS_ATTR_STRING = 1, SQS_ATTR_NUMBER = 2, SQS_ATTR_BINARY = 3 };

/* One validated attribute. Every pointer is owned by the set and NUL-terminated (value too,
 * for convenience; a Binary value may itself contain NULs: use value_len). */
struct sqs_attr {
    char *name;
    size_t name_len;
    char *type; /* the DataType as sent, custom label included ("Number.int") */
    size_t type_len;
    enum sqs_attr_kind kind; /* the logical type the DataType starts with */
    unsigned char *value;    /* the StringValue's UTF-8 bytes, or the decoded BinaryValue */
    size_t value_len;
};

/* A validated set, sorted by name in byte order, names distinct. Caller-allocated. */
struct sqs_attrs {
    size_t n;
    struct sqs_attr a[SQS_MAX_MSG_ATTRS];
};

/* Makes an empty set. Cannot fail. */
void sqs_attrs_init(struct sqs_attrs *set);

/* Frees what the set owns and leaves it empty; accepts NULL. */
void sqs_attrs_destroy(struct sqs_attrs *set);

/*
 * Parses and validates n message attributes (in the order the request listed them; that
 * order decides which fault is reported first) into set, which must be empty. On success
 * returns ERR_OK and set holds them sorted. On failure returns the AWS error
 * (ERR_SQS_INVALID_PARAMETER_VALUE for every attribute fault), writes AWS's message into msg
 * and leaves set empty. n may exceed SQS_MAX_MSG_ATTRS (that is one of the faults).
 */
enum err sqs_attrs_parse(struct sqs_attrs *set, const struct sqs_attr_in *in, size_t n, char *msg,
                         size_t msglen);

/*
 * The JSON protocol's form: map is `{"<name>": {"DataType": s, "StringValue": s,
 * "BinaryValue": base64 s, ...}, ...}` (NULL or JSON null = no attributes). A member of the
 * wrong JSON type gives ERR_SERIALIZATION. Otherwise as sqs_attrs_parse. map is borrowed.
 */
enum err sqs_attrs_parse_json(struct sqs_attrs *set, const json_t *map, char *msg, size_t msglen);

/* Bytes the set counts toward MaximumMessageSize: for each attribute its name, its DataType
 * and its value (decoded bytes for Binary). */
size_t sqs_attrs_size(const struct sqs_attrs *set);

/* Deep copy of src into dst (which must be empty). Returns ERR_OK or ERR_INTERNAL (out of
 * memory, dst left empty). */
enum err sqs_attrs_copy(struct sqs_attrs *dst, const struct sqs_attrs *src);

/*
 * ReceiveMessage's MessageAttributeNames: returns the mask (bit i = set->a[i]) of the
 * attributes selected by the n names. `All`, `*` and `.*` select every attribute;
 * `<prefix>.*` selects the names starting with <prefix> (`Hel.*` selects `Hello` and
 * `Help.Me`); any other entry selects the attribute of exactly that name. Entries that match
 * nothing (`AWS.`, `..foo`) are ignored, as AWS ignores them. n == 0 selects nothing.
 */
uint32_t sqs_attrs_select(const struct sqs_attrs *set, const struct sqs_str *names, size_t n);

/*
 * A compact binary form for the store: appends the set to out. Returns BUF_OK or a buf
 * error. sqs_attrs_decode reads it back into an empty set; returns ERR_OK, or ERR_INTERNAL
 * when the bytes are not such a form (set left empty). The form is checked, never trusted.
 */
int sqs_attrs_encode(const struct sqs_attrs *set, struct buf *out);
enum err sqs_attrs_decode(struct sqs_attrs *set, const void *data, size_t len);

/* ---- message system attributes --------------------------------------------------------- */

/*
 * SendMessage's MessageSystemAttributes: the only one AWS accepts is `AWSTraceHeader`, of
 * DataType `String`, with a non-empty value of message-body characters. Parsed into set
 * (empty on entry) like sqs_attrs_parse; a set of one at most. Its size does not count
 * toward MaximumMessageSize.
 */
enum err sqs_sysattrs_parse(struct sqs_attrs *set, const struct sqs_attr_in *in, size_t n,
                            char *msg, size_t msglen);
enum err sqs_sysattrs_parse_json(struct sqs_attrs *set, const json_t *map, char *msg,
                                 size_t msglen);

/* The system attributes a receive may ask for, in the service model's order. */
enum sqs_sysattr {
    SQS_SYS_SENDER_ID,
    SQS_SYS_SENT_TIMESTAMP,
    SQS_SYS_APPROX_RECEIVE_COUNT,
    SQS_SYS_APPROX_FIRST_RECEIVE_TIMESTAMP,
    SQS_SYS_SEQUENCE_NUMBER,
    SQS_SYS_MESSAGE_DEDUPLICATION_ID,
    SQS_SYS_MESSAGE_GROUP_ID,
    SQS_SYS_AWS_TRACE_HEADER,
    SQS_SYS_DEAD_LETTER_QUEUE_SOURCE_ARN,
    SQS_SYS__COUNT
};

/* The wire name ("SenderId", ...); "" for an out-of-range value. */
const char *sqs_sysattr_name(enum sqs_sysattr a);

/*
 * MessageSystemAttributeNames or AttributeNames: the mask (bit = 1u << sqs_sysattr) of the
 * names listed; `All` selects every one. Unknown names select nothing (AWS's answer to them
 * is not recorded; see the report). A receive that sends both lists uses the union of the
 * two masks. Whether an attribute then appears depends on the message (a standard queue's
 * message has no SequenceNumber, for instance): that is the engine's call.
 */
uint32_t sqs_sysattr_select(const struct sqs_str *names, size_t n);

/* ---- shared character rules ------------------------------------------------------------ */

/* True when the len bytes are valid UTF-8 made only of the characters a message body may
 * hold: #x9 #xA #xD #x20–#xD7FF #xE000–#xFFFD #x10000–#x10FFFF. Empty is valid. */
bool sqs_valid_message_chars(const char *s, size_t len);

/* True when s is a Number attribute value AWS accepts: a decimal with optional sign,
 * fraction and exponent, at most 38 significant digits, zero or of magnitude between
 * 10^-128 and 10^126. */
bool sqs_valid_number(const char *s, size_t len);

#endif
