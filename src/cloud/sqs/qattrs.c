/*
 * qattrs.c — see qattrs.h.
 *
 * Messages: "Unknown Attribute X.", "You can specify the X only when FifoQueue is set to
 * true.", "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not
 * supported.", the SSE conflict, and "A queue already exists with the same name and a
 * different value for attribute X" are recorded from AWS (AWS-RECORDED.md §1.1);
 * "Invalid value for the parameter Policy." is an AWS answer quoted in public code. The
 * range refusal "Invalid value for the parameter X." is an emulator's text and every
 * RedrivePolicy / RedriveAllowPolicy reason is unconfirmed (AWS-RECORDED.md §6) except
 * "Redrive policy does not contain mandatory attribute: maxReceiveCount.", an AWS answer
 * quoted in a public bug report (with the policy echoed as "Value <policy> for parameter
 * RedrivePolicy is invalid. Reason: ...").
 */
#include "cloud/sqs/qattrs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cloud/sqs/validate.h"
#include "core/json.h"

enum kind {
    K_READONLY, /* the engine's: never set */
    K_INT,
    K_BOOL,
    K_ENUM,
    K_FIFO, /* FifoQueue */
    K_KMS,  /* KmsMasterKeyId */
    K_POLICY,
    K_REDRIVE,
    K_REDRIVE_ALLOW,
};

struct row {
    const char *name;
    enum kind kind;
    bool fifo_only;
    long min, max;         /* K_INT */
    const char *values[2]; /* K_ENUM, index = enum value */
};

static const struct row rows[SQS_QA__COUNT] = {
    [SQS_QA_APPROX_MESSAGES] = {"ApproximateNumberOfMessages", K_READONLY, false, 0, 0, {0}},
    [SQS_QA_APPROX_DELAYED] = {"ApproximateNumberOfMessagesDelayed", K_READONLY, false, 0, 0, {0}},
    [SQS_QA_APPROX_NOT_VISIBLE] =
        {"ApproximateNumberOfMessagesNotVisible", K_READONLY, false, 0, 0, {0}},
    [SQS_QA_CONTENT_BASED_DEDUPLICATION] = {"ContentBasedDeduplication", K_BOOL, true, 0, 0, {0}},
    [SQS_QA_CREATED_TIMESTAMP] = {"CreatedTimestamp", K_READONLY, false, 0, 0, {0}},
    [SQS_QA_DEDUPLICATION_SCOPE] =
        {"DeduplicationScope", K_ENUM, true, 0, 0, {"queue", "messageGroup"}},
    [SQS_QA_DELAY_SECONDS] = {"DelaySeconds", K_INT, false, 0, 900, {0}},
    [SQS_QA_FIFO_QUEUE] = {"FifoQueue", K_FIFO, false, 0, 0, {0}},
    [SQS_QA_FIFO_THROUGHPUT_LIMIT] =
        {"FifoThroughputLimit", K_ENUM, true, 0, 0, {"perQueue", "perMessageGroupId"}},
    [SQS_QA_KMS_DATA_KEY_REUSE_PERIOD] =
        {"KmsDataKeyReusePeriodSeconds", K_INT, false, 60, 86400, {0}},
    [SQS_QA_KMS_MASTER_KEY_ID] = {"KmsMasterKeyId", K_KMS, false, 0, 0, {0}},
    [SQS_QA_LAST_MODIFIED_TIMESTAMP] = {"LastModifiedTimestamp", K_READONLY, false, 0, 0, {0}},
    [SQS_QA_MAXIMUM_MESSAGE_SIZE] = {"MaximumMessageSize", K_INT, false, 1024, 1048576, {0}},
    [SQS_QA_MESSAGE_RETENTION_PERIOD] = {"MessageRetentionPeriod", K_INT, false, 60, 1209600, {0}},
    [SQS_QA_POLICY] = {"Policy", K_POLICY, false, 0, 0, {0}},
    [SQS_QA_QUEUE_ARN] = {"QueueArn", K_READONLY, false, 0, 0, {0}},
    [SQS_QA_RECEIVE_WAIT_TIME] = {"ReceiveMessageWaitTimeSeconds", K_INT, false, 0, 20, {0}},
    [SQS_QA_REDRIVE_ALLOW_POLICY] = {"RedriveAllowPolicy", K_REDRIVE_ALLOW, false, 0, 0, {0}},
    [SQS_QA_REDRIVE_POLICY] = {"RedrivePolicy", K_REDRIVE, false, 0, 0, {0}},
    [SQS_QA_SQS_MANAGED_SSE] = {"SqsManagedSseEnabled", K_BOOL, false, 0, 0, {0}},
    [SQS_QA_VISIBILITY_TIMEOUT] = {"VisibilityTimeout", K_INT, false, 0, 43200, {0}},
};

const char *sqs_qattr_name(enum sqs_qattr a)
{
    return (unsigned)a < SQS_QA__COUNT ? rows[a].name : "";
}

int sqs_qattr_find(struct sqs_str name)
{
    if (name.p == NULL)
        return -1;
    for (int i = 0; i < SQS_QA__COUNT; i++)
        if (strlen(rows[i].name) == name.len && memcmp(rows[i].name, name.p, name.len) == 0)
            return i;
    return -1;
}

/* A name or value echoed in a message, bounded (a byQueue policy of ten ARNs fits; callers
 * pass msg buffers of 2048 bytes). */
#define S_FMT    "%.*s"
#define S_ARG(s) (int)((s).len > 1536 ? 1536 : (s).len), ((s).p ? (s).p : "")

static char *dup_str(struct sqs_str s)
{
    char *d = malloc(s.len + 1);
    if (d == NULL)
        return NULL;
    if (s.len)
        memcpy(d, s.p, s.len);
    d[s.len] = '\0';
    return d;
}

static bool str_eq(struct sqs_str s, const char *c)
{
    return s.p && strlen(c) == s.len && memcmp(s.p, c, s.len) == 0;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

void sqs_qattrs_defaults(struct sqs_qattrs *q, bool fifo)
{
    memset(q, 0, sizeof(*q));
    q->fifo = fifo;
    q->visibility_timeout = 30;
    q->delay_seconds = 0;
    q->message_retention_period = 345600;
    q->receive_wait_time = 0;
    q->maximum_message_size = 1048576;
    q->kms_data_key_reuse_period = 300;
    q->content_based_dedup = false;
    q->sqs_managed_sse = true;
    q->dedup_scope = SQS_DEDUP_QUEUE;
    q->throughput_limit = SQS_THROUGHPUT_PER_QUEUE;
}

void sqs_redrive_allow_destroy(struct sqs_redrive_allow *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n_sources; i++)
        free(a->sources[i]);
    memset(a, 0, sizeof(*a));
}

void sqs_qattrs_destroy(struct sqs_qattrs *q)
{
    if (q == NULL)
        return;
    free(q->kms_master_key_id);
    free(q->policy);
    free(q->redrive.dlq_arn);
    sqs_redrive_allow_destroy(&q->redrive_allow);
    q->kms_master_key_id = q->policy = q->redrive.dlq_arn = NULL;
}

static char *dup_c(const char *s, bool *ok)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        *ok = false;
    return d;
}

enum err sqs_qattrs_copy(struct sqs_qattrs *dst, const struct sqs_qattrs *src)
{
    bool ok = true;
    *dst = *src;
    dst->kms_master_key_id = dup_c(src->kms_master_key_id, &ok);
    dst->policy = dup_c(src->policy, &ok);
    dst->redrive.dlq_arn = dup_c(src->redrive.dlq_arn, &ok);
    for (size_t i = 0; i < src->redrive_allow.n_sources; i++)
        dst->redrive_allow.sources[i] = dup_c(src->redrive_allow.sources[i], &ok);
    if (!ok) {
        sqs_qattrs_destroy(dst);
        return ERR_INTERNAL;
    }
    return ERR_OK;
}

/* ---- redrive policies ----------------------------------------------------------------- */

static enum err redrive_refusal(const char *param, struct sqs_str text, const char *reason,
                                char *msg, size_t msglen)
{
    snprintf(msg, msglen, "Value " S_FMT " for parameter %s is invalid. Reason: %s", S_ARG(text),
             param, reason);
    return ERR_SQS_INVALID_PARAMETER_VALUE;
}

/* Parses the text of a policy document (param, "what") that must be a JSON map into *out. */
static enum err policy_map(const char *param, struct sqs_str text, const char *what, json_t **out,
                           char *msg, size_t msglen)
{
    char reason[64];
    *out = text.p ? jsonh_parse(text.p, text.len, NULL, 0) : NULL;
    if (json_is_object(*out))
        return ERR_OK;
    snprintf(reason, sizeof reason, "%s is not a valid JSON map.", what);
    return redrive_refusal(param, text, reason, msg, msglen);
}

/* Refuses a policy document with a key other than a and b. */
static enum err other_keys(const char *param, struct sqs_str text, json_t *j, const char *a,
                           const char *b, char *msg, size_t msglen)
{
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        if (strcmp(key, a) != 0 && strcmp(key, b) != 0) {
            char reason[128];
            snprintf(reason, sizeof reason, "Only following attributes are supported: [%s, %s].", a,
                     b);
            return redrive_refusal(param, text, reason, msg, msglen);
        }
    }
    return ERR_OK;
}

static bool arn_ok(const json_t *v)
{
    if (!json_is_string(v))
        return false;
    struct sqs_queue_ref ref;
    struct sqs_str s = {json_string_value(v), json_string_length(v)};
    return sqs_parse_queue_arn(s, &ref);
}

enum err sqs_redrive_parse(struct sqs_str text, struct sqs_redrive *out, char *msg, size_t msglen)
{
    static const char P[] = "RedrivePolicy";
    json_t *j;
    memset(out, 0, sizeof(*out));
    enum err rc = policy_map(P, text, "Redrive policy", &j, msg, msglen);
    if (rc != ERR_OK)
        goto out;
    /* AWS reports a missing maxReceiveCount first, even when deadLetterTargetArn is missing
     * too (an AWS answer quoted in a public bug report) */
    static const char *const mandatory[] = {"maxReceiveCount", "deadLetterTargetArn"};
    for (size_t k = 0; k < 2; k++) {
        if (json_object_get(j, mandatory[k]) == NULL) {
            char reason[96];
            snprintf(reason, sizeof reason,
                     "Redrive policy does not contain mandatory attribute: %s.", mandatory[k]);
            rc = redrive_refusal(P, text, reason, msg, msglen);
            goto out;
        }
    }
    json_t *arn = json_object_get(j, "deadLetterTargetArn");
    json_t *count = json_object_get(j, "maxReceiveCount");
    if ((rc = other_keys(P, text, j, "deadLetterTargetArn", "maxReceiveCount", msg, msglen)) !=
        ERR_OK)
        goto out;
    if (!arn_ok(arn)) {
        rc = redrive_refusal(P, text, "Invalid value for deadLetterTargetArn.", msg, msglen);
        goto out;
    }
    long long n = 0;
    bool ok = false;
    char shown[64] = "";
    if (json_is_integer(count)) {
        n = json_integer_value(count);
        ok = true;
        snprintf(shown, sizeof(shown), "%lld", n);
    } else if (json_is_string(count)) {
        struct sqs_str s = {json_string_value(count), json_string_length(count)};
        ok = sqs_parse_int(s, &n);
        snprintf(shown, sizeof(shown), S_FMT, (int)(s.len > 40 ? 40 : s.len), s.p);
    } else {
        snprintf(shown, sizeof(shown), "%s",
                 json_is_real(count) ? "(a fraction)" : "(not a number)");
    }
    if (!ok || n < 1 || n > SQS_MAX_RECEIVE_COUNT_MAX) {
        char reason[160];
        snprintf(reason, sizeof(reason),
                 "Invalid value for maxReceiveCount: %s, valid values are from 1 to 1000 both "
                 "inclusive.",
                 shown);
        rc = redrive_refusal(P, text, reason, msg, msglen);
        goto out;
    }
    out->dlq_arn = strdup(json_string_value(arn));
    if (out->dlq_arn == NULL) {
        rc = ERR_INTERNAL;
        goto out;
    }
    out->max_receive_count = (int)n;
    rc = ERR_OK;
out:
    json_decref(j);
    return rc;
}

static const char *const permission_names[] = {"allowAll", "denyAll", "byQueue"};

enum err sqs_redrive_allow_parse(struct sqs_str text, struct sqs_redrive_allow *out, char *msg,
                                 size_t msglen)
{
    static const char P[] = "RedriveAllowPolicy";
    json_t *j;
    memset(out, 0, sizeof(*out));
    enum err rc = policy_map(P, text, "Redrive allow policy", &j, msg, msglen);
    if (rc != ERR_OK || (rc = other_keys(P, text, j, "redrivePermission", "sourceQueueArns", msg,
                                         msglen)) != ERR_OK)
        goto out;
    json_t *perm = json_object_get(j, "redrivePermission");
    json_t *arns = json_object_get(j, "sourceQueueArns");
    int p = -1;
    for (int i = 0; i < 3 && json_is_string(perm); i++)
        if (strcmp(json_string_value(perm), permission_names[i]) == 0)
            p = i;
    if (p < 0) {
        rc = redrive_refusal(P, text,
                             "Invalid value for redrivePermission, valid values are allowAll, "
                             "denyAll and byQueue.",
                             msg, msglen);
        goto out;
    }
    out->set = true;
    out->permission = (enum sqs_redrive_permission)p;
    if (p != SQS_REDRIVE_BY_QUEUE) {
        if (arns != NULL) {
            rc = redrive_refusal(P, text,
                                 "You can specify sourceQueueArns only when redrivePermission "
                                 "is set to byQueue.",
                                 msg, msglen);
            goto fail;
        }
        rc = ERR_OK;
        goto out;
    }
    if (!json_is_array(arns) || json_array_size(arns) == 0 ||
        json_array_size(arns) > SQS_REDRIVE_SOURCES_MAX) {
        rc = redrive_refusal(P, text,
                             "sourceQueueArns must list between 1 and 10 source queue ARNs when "
                             "redrivePermission is byQueue.",
                             msg, msglen);
        goto fail;
    }
    size_t i;
    json_t *v;
    json_array_foreach(arns, i, v)
    {
        if (!arn_ok(v)) {
            rc = redrive_refusal(P, text, "Invalid value for sourceQueueArns.", msg, msglen);
            goto fail;
        }
        out->sources[out->n_sources] = strdup(json_string_value(v));
        if (out->sources[out->n_sources] == NULL) {
            rc = ERR_INTERNAL;
            goto fail;
        }
        out->n_sources++;
    }
    rc = ERR_OK;
    goto out;
fail:
    sqs_redrive_allow_destroy(out);
out:
    json_decref(j);
    return rc;
}

bool sqs_redrive_allows(const struct sqs_redrive_allow *a, const char *source_arn)
{
    if (!a->set || a->permission == SQS_REDRIVE_ALLOW_ALL)
        return true;
    if (a->permission == SQS_REDRIVE_DENY_ALL)
        return false;
    for (size_t i = 0; i < a->n_sources; i++)
        if (strcmp(a->sources[i], source_arn) == 0)
            return true;
    return false;
}

/* ---- applying a request ------------------------------------------------------------------ */

enum op { OP_CREATE, OP_SET };

static enum err unknown_attribute(struct sqs_str name, char *msg, size_t msglen)
{
    snprintf(msg, msglen, "Unknown Attribute " S_FMT ".", S_ARG(name)); /* [R] */
    return ERR_SQS_INVALID_ATTRIBUTE_NAME;
}

static enum err invalid_value(const char *name, char *msg, size_t msglen)
{
    snprintf(msg, msglen, "Invalid value for the parameter %s.", name); /* [E] */
    return ERR_SQS_INVALID_ATTRIBUTE_VALUE;
}

/* "true"/"false" in any case; -1 for anything else. */
static int parse_bool(struct sqs_str v)
{
    if (v.p && v.len == 4 && strncasecmp(v.p, "true", 4) == 0)
        return 1;
    if (v.p && v.len == 5 && strncasecmp(v.p, "false", 5) == 0)
        return 0;
    return -1;
}

static int *int_field(struct sqs_qattrs *q, int a)
{
    switch (a) {
    case SQS_QA_DELAY_SECONDS:
        return &q->delay_seconds;
    case SQS_QA_KMS_DATA_KEY_REUSE_PERIOD:
        return &q->kms_data_key_reuse_period;
    case SQS_QA_MAXIMUM_MESSAGE_SIZE:
        return &q->maximum_message_size;
    case SQS_QA_MESSAGE_RETENTION_PERIOD:
        return &q->message_retention_period;
    case SQS_QA_RECEIVE_WAIT_TIME:
        return &q->receive_wait_time;
    default:
        return &q->visibility_timeout;
    }
}

/* Replaces *slot with a copy of v, or NULL when v is empty. */
static enum err set_optional(char **slot, struct sqs_str v)
{
    char *d = NULL;
    if (v.len > 0 && (d = dup_str(v)) == NULL)
        return ERR_INTERNAL;
    free(*slot);
    *slot = d;
    return ERR_OK;
}

/* Applies one attribute to q. sse_true is set when the request turns SqsManagedSseEnabled
 * on explicitly. */
static enum err apply_one(struct sqs_qattrs *q, enum op op, const struct sqs_kv *kv, bool *sse_true,
                          char *msg, size_t msglen)
{
    int a = sqs_qattr_find(kv->name);
    if (a < 0 || rows[a].kind == K_READONLY)
        return unknown_attribute(kv->name, msg, msglen);
    const struct row *r = &rows[a];
    struct sqs_str v = kv->value;
    if (v.p == NULL)
        v.p = "";
    if (memchr(v.p, '\0', v.len) != NULL)
        return invalid_value(r->name, msg, msglen);
    if (r->fifo_only && !q->fifo) {
        if (r->kind == K_ENUM) { /* [R] */
            snprintf(msg, msglen, "You can specify the %s only when FifoQueue is set to true.",
                     r->name);
            return ERR_SQS_INVALID_ATTRIBUTE_NAME;
        }
        return unknown_attribute(kv->name, msg, msglen); /* [R] ContentBasedDeduplication */
    }
    switch (r->kind) {
    case K_INT: {
        long long n;
        if (!sqs_parse_int(v, &n) || n < r->min || n > r->max)
            return invalid_value(r->name, msg, msglen);
        *int_field(q, a) = (int)n;
        return ERR_OK;
    }
    case K_BOOL: {
        int b = parse_bool(v);
        if (b < 0)
            return invalid_value(r->name, msg, msglen);
        if (a == SQS_QA_CONTENT_BASED_DEDUPLICATION) {
            q->content_based_dedup = b;
        } else {
            q->sqs_managed_sse = b;
            if (b)
                *sse_true = true;
        }
        return ERR_OK;
    }
    case K_ENUM: {
        int e = str_eq(v, r->values[0]) ? 0 : str_eq(v, r->values[1]) ? 1 : -1;
        if (e < 0)
            return invalid_value(r->name, msg, msglen);
        if (a == SQS_QA_DEDUPLICATION_SCOPE)
            q->dedup_scope = (enum sqs_dedup_scope)e;
        else
            q->throughput_limit = (enum sqs_throughput)e;
        return ERR_OK;
    }
    case K_FIFO: {
        int b = parse_bool(v);
        if (op == OP_CREATE) {
            if (b < 0)
                return invalid_value(r->name, msg, msglen);
            /* the type was chosen from this attribute; "false" names a standard queue, for
             * which AWS does not know the attribute at all [R] */
            return b ? ERR_OK : unknown_attribute(kv->name, msg, msglen);
        }
        if (!q->fifo)
            return unknown_attribute(kv->name, msg, msglen); /* [R] */
        if (b == 1)
            return ERR_OK; /* [R] true on a FIFO queue succeeds */
        snprintf(msg, msglen,
                 "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not "
                 "supported."); /* [R] */
        return ERR_SQS_INVALID_ATTRIBUTE_VALUE;
    }
    case K_KMS:
        if (v.len > 2048)
            return invalid_value(r->name, msg, msglen);
        return set_optional(&q->kms_master_key_id, v);
    case K_POLICY:
        if (v.len > 0) {
            json_t *j = jsonh_parse(v.p, v.len, NULL, 0);
            bool ok = json_is_object(j);
            json_decref(j);
            if (!ok) {
                snprintf(msg, msglen, "Invalid value for the parameter Policy."); /* [Q] */
                return ERR_SQS_INVALID_ATTRIBUTE_VALUE;
            }
        }
        return set_optional(&q->policy, v);
    case K_REDRIVE: {
        struct sqs_redrive rd = {0};
        if (v.len > 0) { /* "" removes the policy [V] */
            enum err rc = sqs_redrive_parse(v, &rd, msg, msglen);
            if (rc != ERR_OK)
                return rc;
        }
        free(q->redrive.dlq_arn);
        q->redrive = rd;
        return ERR_OK;
    }
    case K_REDRIVE_ALLOW: {
        struct sqs_redrive_allow ra = {0};
        if (v.len > 0) {
            enum err rc = sqs_redrive_allow_parse(v, &ra, msg, msglen);
            if (rc != ERR_OK)
                return rc;
        }
        sqs_redrive_allow_destroy(&q->redrive_allow);
        q->redrive_allow = ra;
        return ERR_OK;
    }
    case K_READONLY:
        break;
    }
    return unknown_attribute(kv->name, msg, msglen);
}

/* Applies every pair to q (in request order), then the rules across attributes. */
static enum err apply_all(struct sqs_qattrs *q, enum op op, const struct sqs_kv *kv, size_t n,
                          uint32_t *mask, char *msg, size_t msglen)
{
    bool sse_true = false, kms_given = false;
    *mask = 0;
    for (size_t i = 0; i < n; i++) {
        enum err rc = apply_one(q, op, &kv[i], &sse_true, msg, msglen);
        if (rc != ERR_OK)
            return rc;
        int a = sqs_qattr_find(kv[i].name);
        *mask |= 1u << a;
        if (a == SQS_QA_KMS_MASTER_KEY_ID && kv[i].value.len > 0)
            kms_given = true;
    }
    if (q->kms_master_key_id != NULL) {
        if (sse_true) { /* [R] */
            snprintf(msg, msglen,
                     "You can use one type of server-side encryption (SSE) at one time. You can "
                     "either enable KMS SSE or SQS SSE.");
            return ERR_SQS_INVALID_ATTRIBUTE_NAME;
        }
        if (kms_given)
            q->sqs_managed_sse = false; /* [R] a KMS key turns SQS-managed SSE off */
    }
    return ERR_OK;
}

enum err sqs_qattrs_create(struct sqs_qattrs *q, struct sqs_str queue_name, const struct sqs_kv *kv,
                           size_t n, uint32_t *given, char *msg, size_t msglen)
{
    bool fifo = false;
    for (size_t i = 0; i < n; i++)
        if (str_eq(kv[i].name, "FifoQueue") && parse_bool(kv[i].value) == 1)
            fifo = true;
    sqs_qattrs_defaults(q, fifo);
    *given = 0;
    enum err rc = sqs_check_queue_name(queue_name, fifo, msg, msglen);
    if (rc == ERR_OK)
        rc = apply_all(q, OP_CREATE, kv, n, given, msg, msglen);
    if (rc != ERR_OK) {
        sqs_qattrs_destroy(q);
        *given = 0;
    }
    return rc;
}

enum err sqs_qattrs_set(struct sqs_qattrs *q, const struct sqs_kv *kv, size_t n, uint32_t *changed,
                        char *msg, size_t msglen)
{
    struct sqs_qattrs work;
    *changed = 0;
    if (sqs_qattrs_copy(&work, q) != ERR_OK)
        return ERR_INTERNAL;
    uint32_t mask;
    enum err rc = apply_all(&work, OP_SET, kv, n, &mask, msg, msglen);
    if (rc != ERR_OK) {
        sqs_qattrs_destroy(&work);
        return rc;
    }
    sqs_qattrs_destroy(q);
    *q = work;
    *changed = mask;
    return ERR_OK;
}

enum err sqs_qattrs_kv_from_json(const json_t *map, struct sqs_kv *kv, size_t cap, size_t *n,
                                 char *msg, size_t msglen)
{
    *n = 0;
    if (map == NULL || json_is_null(map))
        return ERR_OK;
    if (!json_is_object(map)) {
        snprintf(msg, msglen, "Start of structure or map found where not expected.");
        return ERR_SERIALIZATION;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)map, key, v)
    {
        struct sqs_str name = {key, strlen(key)};
        if (!json_is_string(v)) {
            snprintf(msg, msglen, "Unexpected value for the attribute %.200s.", key);
            return ERR_SERIALIZATION;
        }
        if (*n == cap) { /* more names than there are attributes: find an unknown one */
            json_object_foreach((json_t *)map, key, v)
            {
                struct sqs_str k = {key, strlen(key)};
                if (sqs_qattr_find(k) < 0)
                    return unknown_attribute(k, msg, msglen);
            }
            return unknown_attribute(name, msg, msglen);
        }
        kv[*n].name = name;
        kv[*n].value.p = json_string_value(v);
        kv[*n].value.len = json_string_length(v);
        (*n)++;
    }
    return ERR_OK;
}

/* ---- comparing (CreateQueue on an existing name) ------------------------------------------ */

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool same_policy(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    json_t *ja = json_loads(a, 0, NULL), *jb = json_loads(b, 0, NULL);
    bool eq = ja && jb ? json_equal(ja, jb) : strcmp(a, b) == 0;
    json_decref(ja);
    json_decref(jb);
    return eq;
}

static bool same_allow(const struct sqs_redrive_allow *a, const struct sqs_redrive_allow *b)
{
    if (a->set != b->set)
        return false;
    if (!a->set)
        return true;
    if (a->permission != b->permission || a->n_sources != b->n_sources)
        return false;
    for (size_t i = 0; i < a->n_sources; i++)
        if (strcmp(a->sources[i], b->sources[i]) != 0)
            return false;
    return true;
}

static bool same_attr(const struct sqs_qattrs *x, const struct sqs_qattrs *y, int a)
{
    switch (a) {
    case SQS_QA_CONTENT_BASED_DEDUPLICATION:
        return x->content_based_dedup == y->content_based_dedup;
    case SQS_QA_DEDUPLICATION_SCOPE:
        return x->dedup_scope == y->dedup_scope;
    case SQS_QA_FIFO_QUEUE:
        return x->fifo == y->fifo;
    case SQS_QA_FIFO_THROUGHPUT_LIMIT:
        return x->throughput_limit == y->throughput_limit;
    case SQS_QA_KMS_MASTER_KEY_ID:
        return same_str(x->kms_master_key_id, y->kms_master_key_id);
    case SQS_QA_POLICY:
        return same_policy(x->policy, y->policy);
    case SQS_QA_REDRIVE_ALLOW_POLICY:
        return same_allow(&x->redrive_allow, &y->redrive_allow);
    case SQS_QA_REDRIVE_POLICY:
        return same_str(x->redrive.dlq_arn, y->redrive.dlq_arn) &&
               (x->redrive.dlq_arn == NULL ||
                x->redrive.max_receive_count == y->redrive.max_receive_count);
    case SQS_QA_SQS_MANAGED_SSE:
        return x->sqs_managed_sse == y->sqs_managed_sse;
    default:
        if (rows[a].kind == K_INT)
            return *int_field((struct sqs_qattrs *)x, a) == *int_field((struct sqs_qattrs *)y, a);
        return true;
    }
}

enum err sqs_qattrs_same(const struct sqs_qattrs *existing, const struct sqs_qattrs *requested,
                         uint32_t given, char *msg, size_t msglen)
{
    for (int a = 0; a < SQS_QA__COUNT; a++) {
        if (!(given & (1u << a)) || same_attr(existing, requested, a))
            continue;
        snprintf(msg, msglen,
                 "A queue already exists with the same name and a different value for attribute "
                 "%s",
                 rows[a].name); /* [R] */
        return ERR_SQS_QUEUE_NAME_EXISTS;
    }
    return ERR_OK;
}

/* ---- GetQueueAttributes ------------------------------------------------------------------ */

enum err sqs_qattrs_select(const struct sqs_str *names, size_t n, uint32_t *mask, char *msg,
                           size_t msglen)
{
    *mask = 0;
    for (size_t i = 0; i < n; i++) {
        if (str_eq(names[i], "All")) {
            *mask = (1u << SQS_QA__COUNT) - 1;
            continue;
        }
        int a = sqs_qattr_find(names[i]);
        if (a < 0) {
            *mask = 0;
            return unknown_attribute(names[i], msg, msglen); /* [V] */
        }
        *mask |= 1u << a;
    }
    return ERR_OK;
}

/* Whether the queue shows attribute a at all. */
static bool shown(const struct sqs_qattrs *q, int a)
{
    if (rows[a].fifo_only || a == SQS_QA_FIFO_QUEUE)
        return q->fifo;
    switch (a) {
    case SQS_QA_KMS_MASTER_KEY_ID:
    case SQS_QA_KMS_DATA_KEY_REUSE_PERIOD:
        return q->kms_master_key_id != NULL;
    case SQS_QA_POLICY:
        return q->policy != NULL;
    case SQS_QA_REDRIVE_POLICY:
        return q->redrive.dlq_arn != NULL;
    case SQS_QA_REDRIVE_ALLOW_POLICY:
        return q->redrive_allow.set;
    default:
        return true;
    }
}

static char *redrive_text(const struct sqs_redrive *r)
{
    json_t *j = json_pack("{s:s, s:i}", "deadLetterTargetArn", r->dlq_arn, "maxReceiveCount",
                          r->max_receive_count);
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    return s;
}

static char *allow_text(const struct sqs_redrive_allow *r)
{
    json_t *j = json_pack("{s:s}", "redrivePermission", permission_names[r->permission]);
    if (j && r->permission == SQS_REDRIVE_BY_QUEUE) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < r->n_sources; i++)
            json_array_append_new(arr, json_string(r->sources[i]));
        json_object_set_new(j, "sourceQueueArns", arr);
    }
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    return s;
}

enum err sqs_qattrs_render(const struct sqs_qattrs *q, const struct sqs_qattrs_live *live,
                           uint32_t mask,
                           void (*emit)(void *arg, const char *name, const char *value), void *arg)
{
    for (int a = 0; a < SQS_QA__COUNT; a++) {
        if (!(mask & (1u << a)) || !shown(q, a))
            continue;
        char num[32];
        const char *value = num;
        char *owned = NULL;
        switch (a) {
        case SQS_QA_APPROX_MESSAGES:
            snprintf(num, sizeof(num), "%lld", live->approx_messages);
            break;
        case SQS_QA_APPROX_DELAYED:
            snprintf(num, sizeof(num), "%lld", live->approx_delayed);
            break;
        case SQS_QA_APPROX_NOT_VISIBLE:
            snprintf(num, sizeof(num), "%lld", live->approx_not_visible);
            break;
        case SQS_QA_CREATED_TIMESTAMP:
            snprintf(num, sizeof(num), "%lld", (long long)live->created_s);
            break;
        case SQS_QA_LAST_MODIFIED_TIMESTAMP:
            snprintf(num, sizeof(num), "%lld", (long long)live->last_modified_s);
            break;
        case SQS_QA_QUEUE_ARN:
            value = live->queue_arn ? live->queue_arn : "";
            break;
        case SQS_QA_CONTENT_BASED_DEDUPLICATION:
            value = q->content_based_dedup ? "true" : "false";
            break;
        case SQS_QA_SQS_MANAGED_SSE:
            value = q->sqs_managed_sse ? "true" : "false";
            break;
        case SQS_QA_FIFO_QUEUE:
            value = "true";
            break;
        case SQS_QA_DEDUPLICATION_SCOPE:
            value = rows[a].values[q->dedup_scope];
            break;
        case SQS_QA_FIFO_THROUGHPUT_LIMIT:
            value = rows[a].values[q->throughput_limit];
            break;
        case SQS_QA_KMS_MASTER_KEY_ID:
            value = q->kms_master_key_id;
            break;
        case SQS_QA_POLICY:
            value = q->policy;
            break;
        case SQS_QA_REDRIVE_POLICY:
            value = owned = redrive_text(&q->redrive);
            break;
        case SQS_QA_REDRIVE_ALLOW_POLICY:
            value = owned = allow_text(&q->redrive_allow);
            break;
        default:
            snprintf(num, sizeof(num), "%d", *int_field((struct sqs_qattrs *)q, a));
        }
        if (value == NULL)
            return ERR_INTERNAL;
        emit(arg, rows[a].name, value);
        free(owned);
    }
    return ERR_OK;
}

static void emit_json(void *arg, const char *name, const char *value)
{
    json_t *obj = arg;
    json_t *s = json_string(value);
    if (s == NULL) /* not UTF-8: a policy given as such could not be; keep the key visible */
        s = json_string("");
    json_object_set_new(obj, name, s);
}

json_t *sqs_qattrs_json(const struct sqs_qattrs *q, const struct sqs_qattrs_live *live,
                        uint32_t mask)
{
    json_t *obj = json_object();
    if (obj && sqs_qattrs_render(q, live, mask, emit_json, obj) != ERR_OK) {
        json_decref(obj);
        obj = NULL;
    }
    return obj;
}
