/*
 * sqs.c — SendMessage over SQS's JSON protocol (see sqs.h).
 */
#include "aws/sqs.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "core/codec.h"
#include "core/json.h"
#include "core/jsonw.h"

enum { ANSWER_MAX = 64 * 1024 };

/* MD5 fetched once: OpenSSL 3 looks an algorithm up on every implicit use. */
static EVP_MD *g_md5;
static pthread_once_t g_md5_once = PTHREAD_ONCE_INIT;

static void fetch_md5(void)
{
    g_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
}

static void md5_hex(const void *p, size_t n, char out[33])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    pthread_once(&g_md5_once, fetch_md5);
    out[0] = '\0';
    if (EVP_Digest(p, n, d, &dl, g_md5 ? g_md5 : EVP_md5(), NULL) != 1 || dl != 16)
        return;
    codec_hex(d, 16, out);
}

static int fail(struct aws_error *err, int rc, const char *msg)
{
    memset(err, 0, sizeof *err);
    err->rc = rc;
    snprintf(err->message, sizeof err->message, "%s", msg);
    return rc;
}

int aws_sqs_send_message(struct aws_client *c, const struct aws_sqs_message *m, int64_t deadline_ms,
                         char message_id[AWS_SQS_MESSAGE_ID_MAX], struct aws_error *err)
{
    struct buf req, ans;
    struct jsonw w;
    int rc;
    json_t *j = NULL;

    message_id[0] = '\0';
    if (m->queue_url == NULL || m->body == NULL || m->delay_seconds > 900)
        return fail(err, AWS_EINVAL, "SendMessage: a queue URL and a body are needed");
    buf_init(&req, AWS_MAX_REQUEST);
    buf_init(&ans, ANSWER_MAX);
    jw_init(&w, &req);
    jw_obj(&w);
    jw_kstr(&w, "QueueUrl", m->queue_url);
    jw_kstrn(&w, "MessageBody", m->body, m->body_len);
    if (m->delay_seconds >= 0)
        jw_kint(&w, "DelaySeconds", m->delay_seconds);
    if (m->nattributes > 0) {
        jw_key(&w, "MessageAttributes");
        jw_obj(&w);
        for (size_t i = 0; i < m->nattributes; i++) {
            jw_key(&w, m->attributes[i].name);
            jw_obj(&w);
            jw_kstr(&w, "DataType", "String");
            jw_kstr(&w, "StringValue", m->attributes[i].value);
            jw_obj_end(&w);
        }
        jw_obj_end(&w);
    }
    jw_obj_end(&w);
    if (!jw_ok(&w)) {
        rc = fail(err, AWS_EINVAL, "SendMessage: the message is too large");
        goto done;
    }
    rc = aws_client_call(c, AWS_SQS, "SendMessage", req.data, req.len, deadline_ms, &ans, err);
    if (rc != AWS_OK)
        goto done;
    j = jsonh_loadb(ans.data ? ans.data : "", ans.len, 0, NULL);
    const char *id = json_string_value(json_object_get(j, "MessageId"));
    const char *md5 = json_string_value(json_object_get(j, "MD5OfMessageBody"));
    char want[33];
    md5_hex(m->body, m->body_len, want);
    if (id == NULL || strlen(id) >= AWS_SQS_MESSAGE_ID_MAX) {
        rc = fail(err, AWS_EINVAL, "SendMessage: the answer has no MessageId");
        goto done;
    }
    if (md5 == NULL || strcasecmp(md5, want) != 0) {
        rc = fail(err, AWS_EINVAL, "SendMessage: MD5OfMessageBody does not match the body sent");
        goto done;
    }
    memcpy(message_id, id, strlen(id) + 1);
done:
    json_decref(j);
    buf_destroy(&req);
    buf_destroy(&ans);
    return rc;
}
