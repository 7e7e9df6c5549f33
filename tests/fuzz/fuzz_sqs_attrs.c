/* libFuzzer target: every SQS parser of attribute-like input — message attributes (the JSON
 * map and the query protocol's field lists), message system attributes, their store form,
 * queue attributes (CreateQueue, SetQueueAttributes, idempotence, rendering), RedrivePolicy
 * and RedriveAllowPolicy documents, queue URLs and ARNs, bodies and Number values. Invariants
 * that must hold whatever the input are checked with __builtin_trap(). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/sqs/attrs.h"
#include "cloud/sqs/md5.h"
#include "cloud/sqs/qattrs.h"
#include "cloud/sqs/validate.h"

static void check_set(const struct sqs_attrs *set)
{
    if (set->n > SQS_MAX_MSG_ATTRS)
        __builtin_trap();
    for (size_t i = 1; i < set->n; i++) {
        const struct sqs_attr *a = &set->a[i - 1], *b = &set->a[i];
        size_t l = a->name_len < b->name_len ? a->name_len : b->name_len;
        int c = memcmp(a->name, b->name, l);
        if (c > 0 || (c == 0 && a->name_len >= b->name_len))
            __builtin_trap(); /* sorted, distinct */
    }
    char hex[SQS_MD5_HEX_LEN + 1];
    if (sqs_md5_attrs(set, UINT32_MAX, hex) != (set->n > 0))
        __builtin_trap();
    /* the store form reads back to the same digest */
    struct buf b;
    buf_init(&b, 1 << 24);
    struct sqs_attrs back;
    sqs_attrs_init(&back);
    if (sqs_attrs_encode(set, &b) == BUF_OK) {
        char hex2[SQS_MD5_HEX_LEN + 1];
        if (sqs_attrs_decode(&back, b.data, b.len) != ERR_OK || back.n != set->n ||
            sqs_md5_attrs(&back, UINT32_MAX, hex2) != (set->n > 0) ||
            (set->n && strcmp(hex, hex2) != 0) || sqs_attrs_size(&back) != sqs_attrs_size(set))
            __builtin_trap();
    }
    sqs_attrs_destroy(&back);
    buf_destroy(&b);
}

/* The query protocol's shape: lines of name \t type \t string \t base64. */
static void query_lists(const char *d, size_t n)
{
    struct sqs_attr_in in[12];
    size_t count = 0;
    const char *p = d, *end = d + n;
    while (p < end && count < 12) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        struct sqs_str f[4] = {{0}};
        const char *s = p;
        for (int k = 0; k < 4 && s <= le; k++) {
            const char *tab = memchr(s, '\t', (size_t)(le - s));
            const char *fe = tab ? tab : le;
            f[k].p = s;
            f[k].len = (size_t)(fe - s);
            s = fe + 1;
            if (!tab)
                break;
        }
        in[count].name = f[0];
        in[count].type = f[1];
        in[count].string_value = f[2];
        in[count].binary_b64 = f[3];
        count++;
        p = le + 1;
    }
    struct sqs_attrs set;
    char msg[2048];
    sqs_attrs_init(&set);
    if (sqs_attrs_parse(&set, in, count, msg, sizeof(msg)) == ERR_OK)
        check_set(&set);
    else if (set.n != 0)
        __builtin_trap();
    sqs_attrs_destroy(&set);
    sqs_attrs_init(&set);
    (void)sqs_sysattrs_parse(&set, in, count, msg, sizeof(msg));
    sqs_attrs_destroy(&set);
    struct sqs_str names[12];
    for (size_t i = 0; i < count; i++)
        names[i] = in[i].name;
    (void)sqs_sysattr_select(names, count);
}

static void emit_none(void *arg, const char *name, const char *value)
{
    (void)arg;
    if (name == NULL || value == NULL)
        __builtin_trap();
}

static void queue_attributes(const json_t *map, struct sqs_str name)
{
    struct sqs_kv kv[SQS_QA__COUNT + 4];
    size_t n;
    char msg[2048];
    if (sqs_qattrs_kv_from_json(map, kv, SQS_QA__COUNT + 4, &n, msg, sizeof(msg)) != ERR_OK)
        return;
    struct sqs_qattrs q, again;
    uint32_t given, given2, changed;
    if (sqs_qattrs_create(&q, name, kv, n, &given, msg, sizeof(msg)) != ERR_OK)
        return;
    struct sqs_qattrs_live live = {"arn:aws:sqs:us-east-1:000000000000:q", 1, 2, 3, 4, 5};
    if (sqs_qattrs_render(&q, &live, UINT32_MAX, emit_none, NULL) != ERR_OK)
        __builtin_trap();
    /* the same request again is the same queue */
    if (sqs_qattrs_create(&again, name, kv, n, &given2, msg, sizeof(msg)) != ERR_OK ||
        given2 != given || sqs_qattrs_same(&q, &again, given, msg, sizeof(msg)) != ERR_OK)
        __builtin_trap();
    sqs_qattrs_destroy(&again);
    (void)sqs_qattrs_set(&q, kv, n, &changed, msg, sizeof(msg));
    json_decref(sqs_qattrs_json(&q, &live, UINT32_MAX));
    sqs_qattrs_destroy(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data;
    struct sqs_str s = {d, size};
    char msg[2048];

    json_t *j = json_loadb(d, size, JSON_DECODE_ANY, NULL);
    if (j) {
        struct sqs_attrs set;
        sqs_attrs_init(&set);
        if (sqs_attrs_parse_json(&set, j, msg, sizeof(msg)) == ERR_OK) {
            check_set(&set);
            struct sqs_str names[4] = {
                sqs_str_c("All"), sqs_str_c("a.*"), sqs_str_c(".*"), {d, size > 8 ? 8 : size}};
            uint32_t m = sqs_attrs_select(&set, names + 3, 1);
            if (m >> set.n)
                __builtin_trap();
            (void)sqs_attrs_select(&set, names, 3);
        }
        sqs_attrs_destroy(&set);
        sqs_attrs_init(&set);
        (void)sqs_sysattrs_parse_json(&set, j, msg, sizeof(msg));
        sqs_attrs_destroy(&set);
        queue_attributes(j, sqs_str_c("q"));
        queue_attributes(j, sqs_str_c("q.fifo"));
        json_decref(j);
    }
    query_lists(d, size);

    struct sqs_redrive rd;
    if (sqs_redrive_parse(s, &rd, msg, sizeof(msg)) == ERR_OK) {
        if (rd.max_receive_count < 1 || rd.max_receive_count > 1000 || rd.dlq_arn == NULL)
            __builtin_trap();
        free(rd.dlq_arn);
    }
    struct sqs_redrive_allow ra;
    if (sqs_redrive_allow_parse(s, &ra, msg, sizeof(msg)) == ERR_OK) {
        if (ra.n_sources > 10 || (ra.permission != SQS_REDRIVE_BY_QUEUE && ra.n_sources))
            __builtin_trap();
        (void)sqs_redrive_allows(&ra, "arn:aws:sqs:us-east-1:000000000000:q");
        sqs_redrive_allow_destroy(&ra);
    }
    struct sqs_attrs stored;
    sqs_attrs_init(&stored);
    if (sqs_attrs_decode(&stored, d, size) == ERR_OK)
        check_set(&stored);
    sqs_attrs_destroy(&stored);

    struct sqs_queue_ref ref;
    if (sqs_parse_queue_url(s, &ref) == ERR_OK &&
        (ref.name[0] == '\0' || strlen(ref.account) != 12))
        __builtin_trap();
    if (sqs_parse_queue_arn(s, &ref) && (ref.name[0] == '\0' || ref.region[0] == '\0'))
        __builtin_trap();
    (void)sqs_check_body(s, msg, sizeof(msg));
    (void)sqs_valid_number(d, size);
    (void)sqs_check_queue_name(s, size & 1, msg, sizeof(msg));
    long long v;
    (void)sqs_parse_int(s, &v);
    return 0;
}
