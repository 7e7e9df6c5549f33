/* libFuzzer target: SQS's query-protocol adapter (proto_query.c, form decoding included, with
 * the actions of proto_ops.c) end to end over an engine without a store. Input: the request
 * path (the queue URL a request may be posted to), a newline, the form body; Action= is found
 * as the router finds it. Whatever the bytes, the request is answered at most once with a sane
 * status, nothing leaks or crashes. */
#include "fuzz_sqs_proto_common.h"

#include "cloud/sqs/proto_query.h"
#include "core/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct proto_service svc;
    struct sqs *s = fuzz_sqs();
    if (svc.handle == NULL)
        sqs_query_service(s, &svc);
    const char *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - (const char *)data) : 0;
    const char *body = nl ? nl + 1 : (const char *)data;
    size_t blen = nl ? size - plen - 1 : size;
    if (plen > 512)
        return 0;
    char path[520] = "/";
    if (plen > 0) {
        memcpy(path, data, plen);
        path[plen] = '\0';
    }
    /* the router's work: the raw Action= value */
    const char *op = "";
    size_t op_len = 0, pos = 0;
    struct url_member m;
    while (url_query_next(body, blen, &pos, &m))
        if (m.key_len == 6 && memcmp(m.key, "Action", 6) == 0) {
            op = m.value;
            op_len = m.value_len;
            break;
        }
    struct proto_hdr h[1] = {{"content-type", "application/x-www-form-urlencoded", 33}};
    struct proto_req r = {.method = "POST",
                          .method_len = 4,
                          .path = path,
                          .path_len = strlen(path),
                          .query = "",
                          .body = body,
                          .body_len = blen,
                          .headers = h,
                          .nheaders = 1,
                          .request_id = "00000000-0000-4000-8000-000000000000",
                          .service = &svc,
                          .op = op,
                          .op_len = op_len};
    memcpy(r.caller.user_id, "000000000000", 13);
    fuzz_run(&r, svc.handle, svc.engine);
    return 0;
}
