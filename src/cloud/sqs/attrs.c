/*
 * attrs.c — see attrs.h.
 *
 * Messages: "must contain a non-empty value of type" is recorded from AWS (AWS-RECORDED.md
 * §1.1); "The request must contain non-empty message attribute name." and "The type of
 * message (user) attribute ... supported type prefixes: Binary, Number, String." are AWS
 * answers quoted in public bug reports. The other texts are not confirmed (see the report).
 */
#include "cloud/sqs/attrs.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/codec.h"
#include "core/utf8.h"

struct sqs_str sqs_str_c(const char *s)
{
    struct sqs_str r = {s, s ? strlen(s) : 0};
    return r;
}

/* ---- characters ------------------------------------------------------------------------ */

/* Decodes the code point of the valid sequence of n bytes at s. */
static uint32_t code_point(const unsigned char *s, size_t n)
{
    if (n == 1)
        return s[0];
    uint32_t cp = s[0] & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (s[i] & 0x3F);
    return cp;
}

static bool message_char(uint32_t c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* The number of characters of the len bytes, or -1 when they are not UTF-8 or one fails ok
 * (NULL: any character). */
static long count_chars(const char *s, size_t len, bool (*ok)(uint32_t c))
{
    const unsigned char *u = (const unsigned char *)s;
    long count = 0;
    for (size_t i = 0; i < len; count++) {
        size_t n = utf8_seq_len(u + i, len - i);
        if (n == 0 || (ok && !ok(code_point(u + i, n))))
            return -1;
        i += n;
    }
    return count;
}

bool sqs_valid_message_chars(const char *s, size_t len)
{
    /* every body goes through here: the check stays inline */
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq_len(u + i, len - i);
        if (n == 0 || !message_char(code_point(u + i, n)))
            return false;
        i += n;
    }
    return true;
}

/* Name characters: A-Z a-z 0-9 _ - . (the documented set) plus the Latin letters
 * U+00C0–U+017F, which AWS accepts too (LocalStack's observation). */
static bool name_char(uint32_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || (c >= 0xC0 && c <= 0x17F);
}

/* The number of characters, or -1 when one is not allowed in a name. */
static long name_chars(const char *s, size_t len)
{
    return count_chars(s, len, name_char);
}

static long utf8_count(const char *s, size_t len)
{
    return count_chars(s, len, NULL);
}

static bool prefix_ci(const char *s, size_t len, const char *prefix)
{
    size_t pl = strlen(prefix);
    return len >= pl && strncasecmp(s, prefix, pl) == 0;
}

bool sqs_valid_number(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    /* mantissa: digits [. digits] or . digits */
    size_t int_start = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    size_t int_len = i - int_start, frac_start = i, frac_len = 0;
    if (i < len && s[i] == '.') {
        i++;
        frac_start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        frac_len = i - frac_start;
    }
    if (int_len + frac_len == 0)
        return false;
    long long exp = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool neg = false;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            neg = s[i++] == '-';
        size_t exp_start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (exp < 100000) /* past any magnitude AWS holds; stop growing */
                exp = exp * 10 + (s[i] - '0');
            i++;
        }
        if (i == exp_start)
            return false;
        if (neg)
            exp = -exp;
    }
    if (i != len)
        return false;
    /* significant digits: from the first non-zero to the last non-zero, across the point */
    long first = -1, last = -1, pos = 0;
    for (size_t k = 0; k < int_len + frac_len; k++, pos++) {
        char c = k < int_len ? s[int_start + k] : s[frac_start + k - int_len];
        if (c != '0') {
            if (first < 0)
                first = pos;
            last = pos;
        }
    }
    if (first < 0)
        return true; /* zero */
    if (last - first + 1 > 38)
        return false;
    /* power of ten of the leading digit */
    long long mag = exp + (long long)int_len - 1 - first;
    if (mag < -128 || mag > 126)
        return false;
    if (mag == 126 && last != first)
        return false; /* above 10^126 */
    if (mag == 126) {
        char lead =
            first < (long)int_len ? s[int_start + first] : s[frac_start + first - (long)int_len];
        if (lead != '1')
            return false;
    }
    return true;
}

/* ---- sets ------------------------------------------------------------------------------ */

void sqs_attrs_init(struct sqs_attrs *set)
{
    memset(set, 0, sizeof(*set));
}

static void attr_free(struct sqs_attr *a)
{
    free(a->name);
    free(a->type);
    free(a->value);
    memset(a, 0, sizeof(*a));
}

void sqs_attrs_destroy(struct sqs_attrs *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n; i++)
        attr_free(&set->a[i]);
    set->n = 0;
}

static char *dup_bytes(const void *p, size_t len)
{
    char *d = malloc(len + 1);
    if (d == NULL)
        return NULL;
    if (len)
        memcpy(d, p, len);
    d[len] = '\0';
    return d;
}

static int name_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c != 0)
        return c;
    return al < bl ? -1 : al > bl;
}

/* Inserts a (moved in) keeping the set sorted; false when the name is already there. */
static bool insert_sorted(struct sqs_attrs *set, struct sqs_attr *a)
{
    size_t i = 0;
    while (i < set->n) {
        int c = name_cmp(set->a[i].name, set->a[i].name_len, a->name, a->name_len);
        if (c == 0)
            return false;
        if (c > 0)
            break;
        i++;
    }
    memmove(&set->a[i + 1], &set->a[i], (set->n - i) * sizeof(set->a[0]));
    set->a[i] = *a;
    set->n++;
    memset(a, 0, sizeof(*a));
    return true;
}

/* Names in messages: at most 256 characters are ever valid, so this bounds what a refusal
 * echoes. */
#define NAME_FMT    "%.*s"
#define NAME_ARG(s) (int)((s).len > 300 ? 300 : (s).len), (s).p

static const char *kind_name(enum sqs_attr_kind k)
{
    return k == SQS_ATTR_BINARY ? "Binary" : k == SQS_ATTR_NUMBER ? "Number" : "String";
}

/* The logical type of a DataType, or 0 when it is not Base or Base.<label>. */
static enum sqs_attr_kind type_kind(struct sqs_str t)
{
    static const struct {
        const char *base;
        enum sqs_attr_kind kind;
    } bases[] = {
        {"String", SQS_ATTR_STRING}, {"Number", SQS_ATTR_NUMBER}, {"Binary", SQS_ATTR_BINARY}};
    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
        size_t bl = strlen(bases[i].base);
        if (t.len < bl || memcmp(t.p, bases[i].base, bl) != 0)
            continue;
        if (t.len == bl)
            return bases[i].kind;
        /* a custom label: '.' then message-body characters, not empty */
        if (t.p[bl] == '.' && t.len > bl + 1 &&
            sqs_valid_message_chars(t.p + bl + 1, t.len - bl - 1))
            return bases[i].kind;
        return 0;
    }
    return 0;
}

/* Validates one message attribute into out. */
static enum err parse_one(const struct sqs_attr_in *in, struct sqs_attr *out, char *msg,
                          size_t msglen)
{
    enum err rc = ERR_SQS_INVALID_PARAMETER_VALUE;
    struct buf bin;
    buf_init(&bin, (size_t)INT_MAX);
    struct sqs_str name = in->name, type = in->type;

    if (name.p == NULL || name.len == 0) {
        snprintf(msg, msglen, "The request must contain non-empty message attribute name.");
        goto out;
    }
    long nchars = name_chars(name.p, name.len);
    if (nchars < 0) {
        snprintf(msg, msglen,
                 "Message (user) attributes name can only contain upper and lower score "
                 "characters, digits, periods, hyphens and underscores. ");
        goto out;
    }
    if (nchars > SQS_ATTR_NAME_MAX) {
        snprintf(msg, msglen, "Message (user) attribute names must be shorter than 256 Bytes");
        goto out;
    }
    if (prefix_ci(name.p, name.len, "aws.") || prefix_ci(name.p, name.len, "amazon.") ||
        name.p[0] == '.' || name.p[name.len - 1] == '.' ||
        memmem(name.p, name.len, "..", 2) != NULL) {
        snprintf(msg, msglen,
                 "You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. "
                 "These strings are reserved for internal use. Additionally, they cannot start "
                 "or end with '.'.");
        goto out;
    }
    if (type.p == NULL || type.len == 0) {
        snprintf(msg, msglen,
                 "The message attribute '" NAME_FMT "' must contain non-empty message attribute "
                 "type.",
                 NAME_ARG(name));
        goto out;
    }
    long tchars = utf8_count(type.p, type.len);
    if (tchars > SQS_ATTR_TYPE_MAX) {
        snprintf(msg, msglen, "Message (user) attribute types must be shorter than 256 Bytes");
        goto out;
    }
    enum sqs_attr_kind kind = tchars < 0 ? 0 : type_kind(type);
    if (kind == 0) {
        snprintf(msg, msglen,
                 "The type of message (user) attribute '" NAME_FMT "' is invalid. You must use "
                 "only the following supported type prefixes: Binary, Number, String.",
                 NAME_ARG(name));
        goto out;
    }
    const void *value;
    size_t value_len;
    if (kind == SQS_ATTR_BINARY) {
        if (in->binary_b64.p == NULL || in->binary_b64.len == 0)
            goto empty;
        int brc = codec_b64_decode(in->binary_b64.p, in->binary_b64.len, &bin);
        if (brc == CODEC_EBADB64) {
            snprintf(msg, msglen,
                     "Message (user) attribute '" NAME_FMT "' must contain a valid base64 value "
                     "of type 'Binary'.",
                     NAME_ARG(name));
            goto out;
        }
        if (brc != BUF_OK) {
            rc = ERR_INTERNAL;
            goto out;
        }
        if (bin.len == 0)
            goto empty;
        value = bin.data;
        value_len = bin.len;
    } else {
        if (in->string_value.p == NULL || in->string_value.len == 0)
            goto empty;
        value = in->string_value.p;
        value_len = in->string_value.len;
        if (!sqs_valid_message_chars(value, value_len)) {
            snprintf(msg, msglen, "%s", err_message(ERR_SQS_INVALID_MESSAGE_CONTENTS));
            goto out;
        }
        if (kind == SQS_ATTR_NUMBER && !sqs_valid_number(value, value_len)) {
            snprintf(msg, msglen,
                     "Message (user) attribute '" NAME_FMT "' must contain a valid value of "
                     "type 'Number'.",
                     NAME_ARG(name));
            goto out;
        }
    }
    out->name = dup_bytes(name.p, name.len);
    out->type = dup_bytes(type.p, type.len);
    out->value = (unsigned char *)dup_bytes(value, value_len);
    if (out->name == NULL || out->type == NULL || out->value == NULL) {
        attr_free(out);
        rc = ERR_INTERNAL;
        goto out;
    }
    out->name_len = name.len;
    out->type_len = type.len;
    out->kind = kind;
    out->value_len = value_len;
    rc = ERR_OK;
    goto out;
empty:
    snprintf(msg, msglen,
             "Message (user) attribute '" NAME_FMT "' must contain a non-empty value of type "
             "'%s'.",
             NAME_ARG(name), kind_name(kind));
out:
    buf_destroy(&bin);
    return rc;
}

enum err sqs_attrs_parse(struct sqs_attrs *set, const struct sqs_attr_in *in, size_t n, char *msg,
                         size_t msglen)
{
    enum err rc = ERR_OK;
    if (n > SQS_MAX_MSG_ATTRS) {
        snprintf(msg, msglen,
                 "Number of message attributes [%zu] exceeds the allowed maximum [%d].", n,
                 SQS_MAX_MSG_ATTRS);
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    for (size_t i = 0; i < n; i++) {
        struct sqs_attr a = {0};
        rc = parse_one(&in[i], &a, msg, msglen);
        if (rc != ERR_OK)
            goto fail;
        if (!insert_sorted(set, &a)) {
            snprintf(msg, msglen, "Message (user) attribute name '%s' is repeated.", a.name);
            attr_free(&a);
            rc = ERR_SQS_INVALID_PARAMETER_VALUE;
            goto fail;
        }
    }
    return ERR_OK;
fail:
    sqs_attrs_destroy(set);
    return rc;
}

/* Reads map into at most cap inputs; returns the count, or -1 (a member of the wrong JSON
 * type) with msg written. The borrowed pointers live as long as map. */
static long json_inputs(const json_t *map, struct sqs_attr_in *in, size_t cap, char *msg,
                        size_t msglen)
{
    if (map == NULL || json_is_null(map))
        return 0;
    if (!json_is_object(map)) {
        snprintf(msg, msglen, "Start of structure or map found where not expected.");
        return -1;
    }
    if (json_object_size(map) > cap)
        return (long)json_object_size(map);
    size_t n = 0;
    const char *key;
    json_t *v;
    void *iter = json_object_iter((json_t *)map);
    for (; iter; iter = json_object_iter_next((json_t *)map, iter)) {
        key = json_object_iter_key(iter);
        v = json_object_iter_value(iter);
        if (!json_is_object(v)) {
            snprintf(msg, msglen, "Unexpected value for the message attribute %s.", key);
            return -1;
        }
        struct sqs_attr_in *a = &in[n++];
        memset(a, 0, sizeof(*a));
        a->name.p = key;
        a->name.len = strlen(key); /* jansson keys cannot hold NUL without JSON_ALLOW_NUL keys */
        static const char *const fields[] = {"DataType", "StringValue", "BinaryValue"};
        struct sqs_str *dst[] = {&a->type, &a->string_value, &a->binary_b64};
        for (size_t f = 0; f < 3; f++) {
            json_t *s = json_object_get(v, fields[f]);
            if (s == NULL || json_is_null(s))
                continue;
            if (!json_is_string(s)) {
                snprintf(msg, msglen, "Unexpected value for %s of the message attribute %s.",
                         fields[f], key);
                return -1;
            }
            dst[f]->p = json_string_value(s);
            dst[f]->len = json_string_length(s);
        }
    }
    return (long)n;
}

enum err sqs_attrs_parse_json(struct sqs_attrs *set, const json_t *map, char *msg, size_t msglen)
{
    struct sqs_attr_in in[SQS_MAX_MSG_ATTRS];
    long n = json_inputs(map, in, SQS_MAX_MSG_ATTRS, msg, msglen);
    if (n < 0)
        return ERR_SERIALIZATION;
    if ((size_t)n > SQS_MAX_MSG_ATTRS)
        return sqs_attrs_parse(set, NULL, (size_t)n, msg, msglen); /* reports the count */
    return sqs_attrs_parse(set, in, (size_t)n, msg, msglen);
}

size_t sqs_attrs_size(const struct sqs_attrs *set)
{
    size_t total = 0;
    for (size_t i = 0; i < set->n; i++)
        total += set->a[i].name_len + set->a[i].type_len + set->a[i].value_len;
    return total;
}

enum err sqs_attrs_copy(struct sqs_attrs *dst, const struct sqs_attrs *src)
{
    for (size_t i = 0; i < src->n; i++) {
        const struct sqs_attr *s = &src->a[i];
        struct sqs_attr *d = &dst->a[i];
        d->name = dup_bytes(s->name, s->name_len);
        d->type = dup_bytes(s->type, s->type_len);
        d->value = (unsigned char *)dup_bytes(s->value, s->value_len);
        dst->n = i + 1;
        if (d->name == NULL || d->type == NULL || d->value == NULL) {
            sqs_attrs_destroy(dst);
            return ERR_INTERNAL;
        }
        d->name_len = s->name_len;
        d->type_len = s->type_len;
        d->kind = s->kind;
        d->value_len = s->value_len;
    }
    return ERR_OK;
}

uint32_t sqs_attrs_select(const struct sqs_attrs *set, const struct sqs_str *names, size_t n)
{
    uint32_t mask = 0, all = set->n ? (uint32_t)((1u << set->n) - 1) : 0;
    for (size_t k = 0; k < n && mask != all; k++) {
        struct sqs_str s = names[k];
        if (s.p == NULL)
            continue;
        if ((s.len == 3 && memcmp(s.p, "All", 3) == 0) || (s.len == 1 && s.p[0] == '*') ||
            (s.len == 2 && memcmp(s.p, ".*", 2) == 0))
            return all;
        bool prefix = s.len >= 2 && memcmp(s.p + s.len - 2, ".*", 2) == 0;
        size_t plen = prefix ? s.len - 2 : s.len;
        for (size_t i = 0; i < set->n; i++) {
            const struct sqs_attr *a = &set->a[i];
            bool hit = prefix ? a->name_len >= plen && memcmp(a->name, s.p, plen) == 0
                              : a->name_len == plen && memcmp(a->name, s.p, plen) == 0;
            if (hit)
                mask |= 1u << i;
        }
    }
    return mask;
}

/* ---- the store form ---------------------------------------------------------------------
 * 'A' 1, count (1 byte), then per attribute: kind (1), name length (2, big-endian), name,
 * type length (2), type, value length (4), value. */

static int put_be(struct buf *out, uint32_t v, int bytes)
{
    unsigned char b[4];
    for (int i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    return buf_append(out, b, (size_t)bytes);
}

int sqs_attrs_encode(const struct sqs_attrs *set, struct buf *out)
{
    unsigned char head[3] = {'A', 1, (unsigned char)set->n};
    int rc = buf_append(out, head, sizeof(head));
    for (size_t i = 0; i < set->n && rc == BUF_OK; i++) {
        const struct sqs_attr *a = &set->a[i];
        unsigned char kind = (unsigned char)a->kind;
        rc = buf_append(out, &kind, 1);
        if (rc == BUF_OK)
            rc = put_be(out, (uint32_t)a->name_len, 2);
        if (rc == BUF_OK)
            rc = buf_append(out, a->name, a->name_len);
        if (rc == BUF_OK)
            rc = put_be(out, (uint32_t)a->type_len, 2);
        if (rc == BUF_OK)
            rc = buf_append(out, a->type, a->type_len);
        if (rc == BUF_OK)
            rc = put_be(out, (uint32_t)a->value_len, 4);
        if (rc == BUF_OK)
            rc = buf_append(out, a->value, a->value_len);
    }
    return rc;
}

struct reader {
    const unsigned char *p;
    size_t left;
};

static bool get_be(struct reader *r, int bytes, uint32_t *v)
{
    if (r->left < (size_t)bytes)
        return false;
    *v = 0;
    for (int i = 0; i < bytes; i++)
        *v = (*v << 8) | r->p[i];
    r->p += bytes;
    r->left -= (size_t)bytes;
    return true;
}

static bool get_bytes(struct reader *r, size_t len, char **out)
{
    if (r->left < len)
        return false;
    *out = dup_bytes(r->p, len);
    r->p += len;
    r->left -= len;
    return *out != NULL;
}

enum err sqs_attrs_decode(struct sqs_attrs *set, const void *data, size_t len)
{
    struct reader r = {data, len};
    uint32_t magic, version, count;
    if (!get_be(&r, 1, &magic) || magic != 'A' || !get_be(&r, 1, &version) || version != 1 ||
        !get_be(&r, 1, &count) || count > SQS_MAX_MSG_ATTRS)
        return ERR_INTERNAL;
    for (uint32_t i = 0; i < count; i++) {
        struct sqs_attr a = {0};
        uint32_t kind = 0, nl = 0, tl = 0, vl = 0;
        bool ok = get_be(&r, 1, &kind) && kind >= SQS_ATTR_STRING && kind <= SQS_ATTR_BINARY &&
                  get_be(&r, 2, &nl) && nl > 0 && get_bytes(&r, nl, &a.name) &&
                  get_be(&r, 2, &tl) && get_bytes(&r, tl, &a.type) && get_be(&r, 4, &vl) &&
                  get_bytes(&r, vl, (char **)&a.value);
        a.kind = (enum sqs_attr_kind)kind;
        a.name_len = nl;
        a.type_len = tl;
        a.value_len = vl;
        if (!ok || !insert_sorted(set, &a)) {
            attr_free(&a);
            sqs_attrs_destroy(set);
            return ERR_INTERNAL;
        }
    }
    if (r.left != 0) {
        sqs_attrs_destroy(set);
        return ERR_INTERNAL;
    }
    return ERR_OK;
}

/* ---- system attributes ----------------------------------------------------------------- */

static const char *const sysattr_names[SQS_SYS__COUNT] = {
    [SQS_SYS_SENDER_ID] = "SenderId",
    [SQS_SYS_SENT_TIMESTAMP] = "SentTimestamp",
    [SQS_SYS_APPROX_RECEIVE_COUNT] = "ApproximateReceiveCount",
    [SQS_SYS_APPROX_FIRST_RECEIVE_TIMESTAMP] = "ApproximateFirstReceiveTimestamp",
    [SQS_SYS_SEQUENCE_NUMBER] = "SequenceNumber",
    [SQS_SYS_MESSAGE_DEDUPLICATION_ID] = "MessageDeduplicationId",
    [SQS_SYS_MESSAGE_GROUP_ID] = "MessageGroupId",
    [SQS_SYS_AWS_TRACE_HEADER] = "AWSTraceHeader",
    [SQS_SYS_DEAD_LETTER_QUEUE_SOURCE_ARN] = "DeadLetterQueueSourceArn",
};

const char *sqs_sysattr_name(enum sqs_sysattr a)
{
    return (unsigned)a < SQS_SYS__COUNT ? sysattr_names[a] : "";
}

uint32_t sqs_sysattr_select(const struct sqs_str *names, size_t n)
{
    uint32_t mask = 0;
    for (size_t k = 0; k < n; k++) {
        struct sqs_str s = names[k];
        if (s.p == NULL)
            continue;
        if (s.len == 3 && memcmp(s.p, "All", 3) == 0)
            return (1u << SQS_SYS__COUNT) - 1;
        for (unsigned i = 0; i < SQS_SYS__COUNT; i++)
            if (strlen(sysattr_names[i]) == s.len && memcmp(sysattr_names[i], s.p, s.len) == 0)
                mask |= 1u << i;
    }
    return mask;
}

enum err sqs_sysattrs_parse(struct sqs_attrs *set, const struct sqs_attr_in *in, size_t n,
                            char *msg, size_t msglen)
{
    static const char trace[] = "AWSTraceHeader";
    for (size_t i = 0; i < n; i++) {
        const struct sqs_attr_in *a = &in[i];
        if (a->name.p == NULL || a->name.len != sizeof(trace) - 1 ||
            memcmp(a->name.p, trace, a->name.len) != 0) {
            snprintf(msg, msglen, "Message system attribute name '" NAME_FMT "' is invalid.",
                     NAME_ARG(a->name));
            goto refuse;
        }
        if (a->type.p == NULL || a->type.len != 6 || memcmp(a->type.p, "String", 6) != 0) {
            snprintf(msg, msglen,
                     "The type of message system attribute 'AWSTraceHeader' is invalid. You "
                     "must use the type String.");
            goto refuse;
        }
    }
    if (n > 1) { /* only the query protocol can say a name twice */
        snprintf(msg, msglen, "Message system attribute name 'AWSTraceHeader' is repeated.");
        goto refuse;
    }
    enum err rc = sqs_attrs_parse(set, in, n, msg, msglen);
    if (rc == ERR_SQS_INVALID_PARAMETER_VALUE && strstr(msg, "non-empty value") != NULL)
        snprintf(msg, msglen,
                 "Message system attribute 'AWSTraceHeader' must contain a non-empty value of "
                 "type 'String'.");
    return rc;
refuse:
    return ERR_SQS_INVALID_PARAMETER_VALUE;
}

enum err sqs_sysattrs_parse_json(struct sqs_attrs *set, const json_t *map, char *msg, size_t msglen)
{
    struct sqs_attr_in in[2];
    long n = json_inputs(map, in, 2, msg, msglen);
    if (n < 0)
        return ERR_SERIALIZATION;
    if (n > 2) {
        /* more names than AWS knows: one of them is unknown */
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)map, key, v)
        {
            if (strcmp(key, "AWSTraceHeader") != 0) {
                snprintf(msg, msglen, "Message system attribute name '%.300s' is invalid.", key);
                break;
            }
        }
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    return sqs_sysattrs_parse(set, in, (size_t)n, msg, msglen);
}
