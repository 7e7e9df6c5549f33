/* libFuzzer target: SQS receipt handles — decoding any bytes (never accepted unless they are
 * a handle this key made), and encode/decode round trips of fuzzed handle contents, with one
 * character changed: a changed handle must never decode to other contents. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cloud/sqs/receipt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sqs_receipt_key k;
    memset(k.key, 0x5a, sizeof(k.key));
    char msg[2048];
    struct sqs_receipt out;
    enum err rc = sqs_receipt_decode(&k, (const char *)data, size, &out, msg, sizeof(msg));
    if (rc == ERR_OK) {
        char again[SQS_RECEIPT_LEN + 1];
        sqs_receipt_encode(&k, &out, again);
        if (size != SQS_RECEIPT_LEN || memcmp(again, data, size) != 0)
            __builtin_trap(); /* one spelling per handle */
    } else if (rc != ERR_SQS_RECEIPT_HANDLE_INVALID || strlen(msg) == 0) {
        __builtin_trap();
    }
    if (size < 22)
        return 0;
    struct sqs_receipt r;
    memcpy(&r.queue_id, data, 8);
    memcpy(&r.seq, data + 8, 8);
    memcpy(&r.gen, data + 16, 4);
    char h[SQS_RECEIPT_LEN + 1];
    sqs_receipt_encode(&k, &r, h);
    if (sqs_receipt_decode(&k, h, strlen(h), &out, msg, sizeof(msg)) != ERR_OK ||
        out.queue_id != r.queue_id || out.seq != r.seq || out.gen != r.gen)
        __builtin_trap();
    size_t at = data[20] % SQS_RECEIPT_LEN;
    char c = (char)data[21];
    if (c != h[at] && c != '\0') {
        h[at] = c;
        if (sqs_receipt_decode(&k, h, strlen(h), &out, msg, sizeof(msg)) == ERR_OK)
            __builtin_trap(); /* forged */
    }
    return 0;
}
