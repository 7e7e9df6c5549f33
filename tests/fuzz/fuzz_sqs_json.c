/* libFuzzer target: SQS's AWS JSON 1.0 adapter (proto_json.c, with the actions of proto_ops.c)
 * end to end over an engine without a store. Input: the operation name (the X-Amz-Target
 * suffix), a newline, the body. Whatever the bytes, the request is answered at most once with
 * a sane status and nothing leaks or crashes (ASan/UBSan). Long polls (WaitTimeSeconds) stay
 * parked: harmless. */
#include "fuzz_sqs_proto_common.h"

#include "cloud/sqs/proto_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct proto_service svc;
    struct sqs *s = fuzz_sqs();
    if (svc.handle == NULL)
        sqs_json_service(s, &svc);
    const char *nl = memchr(data, '\n', size);
    size_t oplen = nl ? (size_t)(nl - (const char *)data) : size;
    if (oplen > 64)
        return 0;
    const char *body = nl ? nl + 1 : "";
    size_t blen = nl ? size - oplen - 1 : 0;
    struct proto_hdr h[1] = {{"content-type", "application/x-amz-json-1.0", 26}};
    struct proto_req r = {.method = "POST",
                          .method_len = 4,
                          .path = "/",
                          .path_len = 1,
                          .query = "",
                          .body = body,
                          .body_len = blen,
                          .headers = h,
                          .nheaders = 1,
                          .request_id = "00000000-0000-4000-8000-000000000000",
                          .service = &svc,
                          .op = (const char *)data,
                          .op_len = oplen};
    memcpy(r.caller.user_id, "000000000000", 13);
    fuzz_run(&r, svc.handle, svc.engine);
    return 0;
}
