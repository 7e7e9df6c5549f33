/* md5.c — see md5.h. */
#include "cloud/sqs/md5.h"

#include <openssl/evp.h>

#include "core/codec.h"

void sqs_md5_hex(const void *data, size_t len, char out[SQS_MD5_HEX_LEN + 1])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(data, len, d, &n, EVP_md5(), NULL) != 1 || n != 16) {
        out[0] = '\0'; /* libcrypto without MD5: nothing sensible to answer */
        return;
    }
    codec_hex(d, 16, out);
}

/* Feeds a 4-byte big-endian length and the bytes. */
static int update_field(EVP_MD_CTX *ctx, const void *p, size_t len)
{
    unsigned char l[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                          (unsigned char)(len >> 8), (unsigned char)len};
    return EVP_DigestUpdate(ctx, l, 4) == 1 && EVP_DigestUpdate(ctx, p, len) == 1;
}

bool sqs_md5_attrs(const struct sqs_attrs *set, uint32_t mask, char out[SQS_MD5_HEX_LEN + 1])
{
    bool done = false;
    out[0] = '\0';
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1)
        goto out;
    size_t used = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (!(mask & (1u << i)))
            continue;
        const struct sqs_attr *a = &set->a[i];
        unsigned char transport = a->kind == SQS_ATTR_BINARY ? 2 : 1;
        if (!update_field(ctx, a->name, a->name_len) || !update_field(ctx, a->type, a->type_len) ||
            EVP_DigestUpdate(ctx, &transport, 1) != 1 || !update_field(ctx, a->value, a->value_len))
            goto out;
        used++;
    }
    if (used == 0)
        goto out;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(ctx, d, &n) != 1 || n != 16)
        goto out;
    codec_hex(d, 16, out);
    done = true;
out:
    EVP_MD_CTX_free(ctx);
    return done;
}
