/*
 * validate.c — see validate.h.
 *
 * Where each message comes from ([R] recorded from AWS, [V] validated against AWS, [Q] an
 * AWS answer quoted in a public bug report, [E] an emulator's text: unconfirmed):
 *   MaxNumberOfMessages, WaitTimeSeconds, body/batch size, batch entry id, too many entries,
 *   FIFO group/dedup/delay, MessageGroupId/MessageDeduplicationId syntax, empty body [R];
 *   empty batch, repeated id [V]; 12-hour total visibility [Q];
 *   VisibilityTimeout range, DelaySeconds range, queue names, invalid body characters,
 *   MessageDeduplicationId on a standard queue [E]; ReceiveRequestAttemptId syntax (by
 *   analogy with MessageGroupId) unconfirmed.
 */
#include "cloud/sqs/validate.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A value echoed in a message is bounded: wire values can be long. */
#define VAL_FMT    "%.*s"
#define VAL_ARG(s) (int)((s).len > 256 ? 256 : (s).len), ((s).p ? (s).p : "")

static bool name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static bool all_name_chars(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!name_char(s[i]))
            return false;
    return true;
}

bool sqs_is_fifo_name(struct sqs_str name)
{
    return name.p && name.len >= 5 && memcmp(name.p + name.len - 5, ".fifo", 5) == 0;
}

/* The name rules without messages. */
static bool valid_name(struct sqs_str name, bool fifo)
{
    if (name.p == NULL || name.len == 0 || name.len > SQS_QUEUE_NAME_MAX)
        return false;
    size_t base = name.len;
    if (fifo) {
        if (!sqs_is_fifo_name(name))
            return false;
        base -= 5;
    }
    return base > 0 && all_name_chars(name.p, base);
}

enum err sqs_check_queue_name(struct sqs_str name, bool fifo, char *msg, size_t msglen)
{
    if (valid_name(name, fifo))
        return ERR_OK;
    if (fifo) /* [E] LocalStack */
        snprintf(msg, msglen,
                 "The name of a FIFO queue can only include alphanumeric characters, hyphens, "
                 "or underscores, must end with .fifo suffix and be 1 to 80 in length");
    else /* [E] moto, LocalStack */
        snprintf(msg, msglen,
                 "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in "
                 "length");
    return ERR_SQS_INVALID_PARAMETER_VALUE;
}

bool sqs_valid_account_id(struct sqs_str s)
{
    if (s.p == NULL || s.len != SQS_ACCOUNT_LEN)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
    return true;
}

/* A queue name as a reference may carry it: either kind. */
static bool valid_any_name(struct sqs_str name)
{
    return valid_name(name, false) || valid_name(name, true);
}

static void copy_str(char *dst, size_t cap, struct sqs_str s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    memcpy(dst, s.p, n);
    dst[n] = '\0';
}

enum err sqs_parse_queue_url(struct sqs_str url, struct sqs_queue_ref *out)
{
    memset(out, 0, sizeof(*out));
    if (url.p == NULL || url.len == 0 || url.len > 2048 || memchr(url.p, '\0', url.len))
        return ERR_SQS_QUEUE_DOES_NOT_EXIST;
    const char *p = url.p, *end = url.p + url.len;
    /* skip scheme://authority when present */
    const char *scheme = memmem(p, url.len, "://", 3);
    if (scheme != NULL) {
        p = memchr(scheme + 3, '/', (size_t)(end - scheme - 3));
        if (p == NULL)
            return ERR_SQS_QUEUE_DOES_NOT_EXIST;
    } else if (*p != '/') {
        return ERR_SQS_QUEUE_DOES_NOT_EXIST;
    }
    /* the path's segments; a trailing '/' is tolerated */
    if (end > p + 1 && end[-1] == '/')
        end--;
    struct sqs_str seg[5];
    size_t n = 0;
    for (const char *s = p + 1; s <= end;) {
        const char *slash = memchr(s, '/', (size_t)(end - s));
        const char *e = slash ? slash : end;
        if (n == 5)
            return ERR_SQS_QUEUE_DOES_NOT_EXIST;
        seg[n].p = s;
        seg[n].len = (size_t)(e - s);
        n++;
        s = e + 1;
        if (slash == NULL)
            break;
    }
    struct sqs_str account, name, region = {NULL, 0};
    if (n == 2) {
        account = seg[0];
        name = seg[1];
    } else if (n == 4 && seg[0].len == 5 && memcmp(seg[0].p, "queue", 5) == 0) {
        region = seg[1];
        account = seg[2];
        name = seg[3];
    } else {
        return ERR_SQS_QUEUE_DOES_NOT_EXIST;
    }
    if (!sqs_valid_account_id(account) || !valid_any_name(name) ||
        region.len >= sizeof(out->region))
        return ERR_SQS_QUEUE_DOES_NOT_EXIST;
    copy_str(out->account, sizeof(out->account), account);
    copy_str(out->name, sizeof(out->name), name);
    if (region.p)
        copy_str(out->region, sizeof(out->region), region);
    return ERR_OK;
}

bool sqs_parse_queue_arn(struct sqs_str s, struct sqs_queue_ref *out)
{
    memset(out, 0, sizeof(*out));
    if (s.p == NULL || s.len > 256 || memchr(s.p, '\0', s.len))
        return false;
    struct sqs_str part[6];
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= s.len; i++) {
        if (i == s.len || s.p[i] == ':') {
            if (n == 6)
                return false;
            part[n].p = s.p + start;
            part[n].len = i - start;
            n++;
            start = i + 1;
        }
    }
    if (n != 6 || part[0].len != 3 || memcmp(part[0].p, "arn", 3) != 0 || part[1].len < 3 ||
        memcmp(part[1].p, "aws", 3) != 0 || part[2].len != 3 || memcmp(part[2].p, "sqs", 3) != 0)
        return false;
    struct sqs_str region = part[3];
    if (region.len == 0 || region.len >= sizeof(out->region))
        return false;
    for (size_t i = 0; i < region.len; i++) {
        char c = region.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    if (!sqs_valid_account_id(part[4]) || !valid_any_name(part[5]))
        return false;
    copy_str(out->region, sizeof(out->region), region);
    copy_str(out->account, sizeof(out->account), part[4]);
    copy_str(out->name, sizeof(out->name), part[5]);
    return true;
}

const char *sqs_msg_queue_does_not_exist(bool query)
{
    return query ? "The specified queue does not exist for this wsdl version." /* [R] */
                 : "The specified queue does not exist.";                      /* [R] */
}

/* ---- messages ---------------------------------------------------------------------------- */

enum err sqs_check_body(struct sqs_str body, char *msg, size_t msglen)
{
    if (body.p == NULL || body.len == 0) {
        snprintf(msg, msglen, "The request must contain the parameter MessageBody."); /* [R] */
        return ERR_SQS_MISSING_PARAMETER;
    }
    if (!sqs_valid_message_chars(body.p, body.len)) {
        snprintf(msg, msglen, "%s", err_message(ERR_SQS_INVALID_MESSAGE_CONTENTS)); /* [E] */
        return ERR_SQS_INVALID_MESSAGE_CONTENTS;
    }
    return ERR_OK;
}

enum err sqs_check_message_size(size_t body_len, size_t attrs_size, size_t max, bool in_batch,
                                char *msg, size_t msglen)
{
    if (body_len + attrs_size <= max)
        return ERR_OK;
    snprintf(msg, msglen,
             "One or more parameters %s. Reason: Message must be shorter than %zu bytes.",
             in_batch ? "cannot be validated" : "are invalid", max); /* [R] both */
    return ERR_SQS_INVALID_PARAMETER_VALUE;
}

/* MessageGroupId, MessageDeduplicationId, ReceiveRequestAttemptId: 1–128 of
 * alphanumeric and punctuation characters (printable ASCII but space). */
static bool valid_fifo_id(struct sqs_str s)
{
    if (s.len == 0 || s.len > SQS_FIFO_ID_MAX)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if ((unsigned char)s.p[i] < 0x21 || (unsigned char)s.p[i] > 0x7E)
            return false;
    return true;
}

static enum err bad_fifo_id(const char *param, struct sqs_str v, char *msg, size_t msglen)
{
    snprintf(msg, msglen,
             "Value " VAL_FMT " for parameter %s is invalid. Reason: %s can only include "
             "alphanumeric and punctuation characters. 1 to 128 in length.",
             VAL_ARG(v), param, param);
    return ERR_SQS_INVALID_PARAMETER_VALUE;
}

enum err sqs_check_send_params(const struct sqs_send_params *p, char *msg, size_t msglen)
{
    if (p->has_delay && (p->delay < 0 || p->delay > SQS_DELAY_MAX)) { /* [E] */
        snprintf(msg, msglen,
                 "Value %lld for parameter DelaySeconds is invalid. Reason: DelaySeconds must be "
                 ">= 0 and <= 900.",
                 p->delay);
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    if (p->group_id.p && !valid_fifo_id(p->group_id))
        return bad_fifo_id("MessageGroupId", p->group_id, msg, msglen);
    if (p->dedup_id.p && !valid_fifo_id(p->dedup_id))
        return bad_fifo_id("MessageDeduplicationId", p->dedup_id, msg, msglen);
    if (!p->fifo) {
        if (p->dedup_id.p) { /* [E] LocalStack */
            snprintf(msg, msglen,
                     "Value " VAL_FMT " for parameter MessageDeduplicationId is invalid. Reason: "
                     "The request includes a parameter that is not valid for this queue type.",
                     VAL_ARG(p->dedup_id));
            return ERR_SQS_INVALID_PARAMETER_VALUE;
        }
        return ERR_OK;
    }
    if (p->has_delay && p->delay != 0) { /* [R], "include" is AWS's grammar */
        snprintf(msg, msglen,
                 "Value %lld for parameter DelaySeconds is invalid. Reason: The request include "
                 "parameter that is not valid for this queue type.",
                 p->delay);
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    if (p->group_id.p == NULL) { /* [R] */
        snprintf(msg, msglen, "The request must contain the parameter MessageGroupId.");
        return p->in_batch ? ERR_SQS_INVALID_PARAMETER_VALUE : ERR_SQS_MISSING_PARAMETER;
    }
    if (p->dedup_id.p == NULL && !p->content_based_dedup) { /* [R], no final period */
        snprintf(msg, msglen,
                 "The queue should either have ContentBasedDeduplication enabled or "
                 "MessageDeduplicationId provided explicitly");
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    return ERR_OK;
}

bool sqs_send_refusal_is_whole_batch(const struct sqs_send_params *p)
{
    if (!p->in_batch || !p->fifo)
        return false;
    if (p->group_id.p == NULL)
        return true;
    return p->dedup_id.p == NULL && !p->content_based_dedup;
}

/* ---- batches ------------------------------------------------------------------------------ */

static const char *const entry_names[] = {
    [SQS_BATCH_SEND] = "SendMessageBatchRequestEntry",
    [SQS_BATCH_DELETE] = "DeleteMessageBatchRequestEntry",
    [SQS_BATCH_CHANGE_VISIBILITY] = "ChangeMessageVisibilityBatchRequestEntry",
};

static bool valid_batch_id(struct sqs_str id)
{
    return id.p && id.len > 0 && id.len <= SQS_BATCH_ID_MAX && all_name_chars(id.p, id.len);
}

enum err sqs_check_batch_ids(enum sqs_batch_op op, const struct sqs_str *ids, size_t n, char *msg,
                             size_t msglen)
{
    if ((unsigned)op > SQS_BATCH_CHANGE_VISIBILITY)
        op = SQS_BATCH_SEND;
    if (n == 0) { /* [V] moto aws_verified (send, delete); change by analogy */
        snprintf(msg, msglen, "There should be at least one %s in the request.", entry_names[op]);
        return ERR_SQS_EMPTY_BATCH;
    }
    if (n > SQS_BATCH_MAX) { /* [R] */
        snprintf(msg, msglen, "Maximum number of entries per request are %d. You have sent %zu.",
                 SQS_BATCH_MAX, n);
        return ERR_SQS_TOO_MANY_ENTRIES;
    }
    for (size_t i = 0; i < n; i++) {
        if (!valid_batch_id(ids[i])) { /* [R] */
            snprintf(msg, msglen, "%s", err_message(ERR_SQS_INVALID_BATCH_ENTRY_ID));
            return ERR_SQS_INVALID_BATCH_ENTRY_ID;
        }
        for (size_t k = 0; k < i; k++) {
            if (ids[k].len == ids[i].len && memcmp(ids[k].p, ids[i].p, ids[i].len) == 0) {
                snprintf(msg, msglen, "Id " VAL_FMT " repeated.", VAL_ARG(ids[i])); /* [V] */
                return ERR_SQS_BATCH_IDS_NOT_DISTINCT;
            }
        }
    }
    return ERR_OK;
}

enum err sqs_check_batch_size(size_t total, char *msg, size_t msglen)
{
    if (total <= SQS_BATCH_MAX_BYTES)
        return ERR_OK;
    snprintf(msg, msglen, "Batch requests cannot be longer than %d bytes. You have sent %zu bytes.",
             SQS_BATCH_MAX_BYTES, total); /* [R] */
    return ERR_SQS_BATCH_TOO_LONG;
}

/* ---- receiving and visibility ------------------------------------------------------------ */

enum err sqs_check_receive_params(const struct sqs_receive_params *p, char *msg, size_t msglen)
{
    if (p->has_max && (p->max < 1 || p->max > SQS_RECEIVE_MAX)) { /* [R] */
        snprintf(msg, msglen,
                 "Value %lld for parameter MaxNumberOfMessages is invalid. Reason: Must be between "
                 "1 and 10, if provided.",
                 p->max);
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    if (p->has_visibility && (p->visibility < 0 || p->visibility > SQS_VISIBILITY_MAX)) { /* [E] */
        snprintf(msg, msglen,
                 "Value %lld for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and "
                 "<= 43200, if provided.",
                 p->visibility);
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    if (p->has_wait && (p->wait < 0 || p->wait > SQS_WAIT_MAX)) { /* [R] */
        snprintf(msg, msglen,
                 "Value %lld for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= "
                 "20, if provided.",
                 p->wait);
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    if (p->attempt_id.p && !valid_fifo_id(p->attempt_id)) /* unconfirmed */
        return bad_fifo_id("ReceiveRequestAttemptId", p->attempt_id, msg, msglen);
    return ERR_OK;
}

enum err sqs_check_visibility_change(long long timeout, int64_t received_ms, int64_t now_ms,
                                     char *msg, size_t msglen)
{
    if (timeout < 0 || timeout > SQS_VISIBILITY_MAX) { /* [E] */
        snprintf(msg, msglen,
                 "Value %lld for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 and "
                 "<= 43200, if provided.",
                 timeout);
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    int64_t elapsed = now_ms > received_ms ? (now_ms - received_ms) / 1000 : 0;
    if (elapsed + timeout > SQS_VISIBILITY_MAX) { /* [Q] */
        snprintf(msg, msglen,
                 "Value %lld for parameter VisibilityTimeout is invalid. Reason: Total "
                 "VisibilityTimeout for the message is beyond the limit [43200 seconds].",
                 timeout);
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    return ERR_OK;
}

bool sqs_parse_int(struct sqs_str s, long long *out)
{
    if (s.p == NULL || s.len == 0 || s.len > 24)
        return false;
    char tmp[32];
    memcpy(tmp, s.p, s.len);
    tmp[s.len] = '\0';
    size_t i = (tmp[0] == '-' || tmp[0] == '+') ? 1 : 0;
    if (tmp[i] == '\0')
        return false;
    for (size_t k = i; tmp[k]; k++)
        if (tmp[k] < '0' || tmp[k] > '9')
            return false;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(tmp, &end, 10);
    if (errno != 0 || end == NULL || *end != '\0')
        return false;
    *out = v;
    return true;
}
