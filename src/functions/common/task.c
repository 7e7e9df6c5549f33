/*
 * task.c — task states, ids and the API's JSON form (see task.h).
 */
#include "functions/common/task.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/ids.h"

static const char *const STATUS_NAMES[TASK_STATUS_COUNT] = {
    [TASK_QUEUED] = "QUEUED",
    [TASK_RUNNING] = "RUNNING",
    [TASK_SUCCEEDED] = "SUCCEEDED",
    [TASK_FAILED] = "FAILED",
};

const char *task_status_name(enum task_status s)
{
    return s < TASK_STATUS_COUNT ? STATUS_NAMES[s] : "UNKNOWN";
}

int task_status_parse(const char *s, enum task_status *out)
{
    for (int i = 0; i < TASK_STATUS_COUNT; i++)
        if (s != NULL && strcmp(s, STATUS_NAMES[i]) == 0) {
            *out = (enum task_status)i;
            return 0;
        }
    return -1;
}

void task_id_random(char out[TASK_ID_LEN + 1])
{
    ids_uuid4(out);
}

int task_id_derived(const char *ns, const void *data, size_t len, char out[TASK_ID_LEN + 1])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, ns, strlen(ns)) == 1 && EVP_DigestUpdate(ctx, ":", 1) == 1 &&
              EVP_DigestUpdate(ctx, data, len) == 1 && EVP_DigestFinal_ex(ctx, d, &dl) == 1;
    EVP_MD_CTX_free(ctx);
    out[0] = '\0';
    if (!ok)
        return -1;
    d[6] = (unsigned char)((d[6] & 0x0f) | 0x80); /* version 8 */
    d[8] = (unsigned char)((d[8] & 0x3f) | 0x80); /* variant 10 */
    ids_uuid_format(d, out);
    return 0;
}

bool task_id_valid(const char *s, size_t len)
{
    if (s == NULL || len != TASK_ID_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

/* Optional S attributes written as strings, in this order. */
static const char *const TIMES[] = {"created_at", "updated_at", "started_at", "finished_at"};

int task_render(const struct aws_ddb_item *item, struct jsonw *w)
{
    size_t n;
    const char *id = aws_ddb_item_s(item, "id", NULL);
    const char *kind = aws_ddb_item_s(item, "kind", NULL);
    const char *status = aws_ddb_item_s(item, "status", NULL);
    if (id == NULL || kind == NULL || status == NULL)
        return -1;
    jw_obj(w);
    jw_kstr(w, "id", id);
    jw_kstr(w, "kind", kind);
    jw_kstr(w, "status", status);
    const char *payload = aws_ddb_item_s(item, "payload", &n);
    jw_key(w, "payload");
    if (payload != NULL && n > 0)
        jw_raw(w, payload, n); /* stored by us, compact JSON of an object */
    else
        jw_raw(w, "{}", 2);
    int64_t attempts = 0;
    (void)aws_ddb_item_n(item, "attempts", &attempts);
    jw_kint(w, "attempts", attempts);
    const char *result = aws_ddb_item_s(item, "result", &n);
    if (result != NULL && n > 0 && strcmp(status, "SUCCEEDED") == 0) {
        jw_key(w, "result");
        jw_raw(w, result, n);
    }
    const char *code = aws_ddb_item_s(item, "error_code", NULL);
    if (code != NULL) {
        jw_key(w, "error");
        jw_obj(w);
        jw_kstr(w, "code", code);
        const char *msg = aws_ddb_item_s(item, "error_message", &n);
        jw_kstrn(w, "message", msg ? msg : "", msg ? n : 0);
        jw_obj_end(w);
    }
    for (size_t i = 0; i < sizeof TIMES / sizeof TIMES[0]; i++) {
        const char *t = aws_ddb_item_s(item, TIMES[i], NULL);
        if (t != NULL)
            jw_kstr(w, TIMES[i], t);
    }
    jw_obj_end(w);
    return 0;
}

void task_render_new(struct jsonw *w, const char *id, const char *kind, const char *payload,
                     size_t payload_len, const char *created_at)
{
    jw_obj(w);
    jw_kstr(w, "id", id);
    jw_kstr(w, "kind", kind);
    jw_kstr(w, "status", "QUEUED");
    jw_key(w, "payload");
    jw_raw(w, payload, payload_len);
    jw_kint(w, "attempts", 0);
    jw_kstr(w, "created_at", created_at);
    jw_kstr(w, "updated_at", created_at);
    jw_obj_end(w);
}
