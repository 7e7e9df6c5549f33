/* md5.c — see md5.h. */
#include "cloud/sqs/md5.h"

#include <string.h>

#include <openssl/evp.h>

#include "core/codec.h"

void sqs_md5_fmt(const unsigned char *d, char out[SQS_MD5_HEX_LEN + 1])
{
    if (d == NULL)
        out[0] = '\0';
    else
        codec_hex(d, SQS_MD5_LEN, out);
}

bool sqs_md5(const void *data, size_t len, unsigned char d[SQS_MD5_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(data, len, md, &n, EVP_md5(), NULL) != 1 || n != SQS_MD5_LEN)
        return false; /* libcrypto without MD5: nothing sensible to answer */
    memcpy(d, md, SQS_MD5_LEN);
    return true;
}

void sqs_md5_hex(const void *data, size_t len, char out[SQS_MD5_HEX_LEN + 1])
{
    unsigned char d[SQS_MD5_LEN];
    sqs_md5_fmt(sqs_md5(data, len, d) ? d : NULL, out);
}

/* Feeds a 4-byte big-endian length and the bytes. */
static int update_field(EVP_MD_CTX *ctx, const void *p, size_t len)
{
    unsigned char l[4] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
                          (unsigned char)(len >> 8), (unsigned char)len};
    return EVP_DigestUpdate(ctx, l, 4) == 1 && EVP_DigestUpdate(ctx, p, len) == 1;
}

bool sqs_md5_attrs_bin(const struct sqs_attrs *set, uint32_t mask, unsigned char d[SQS_MD5_LEN])
{
    bool done = false;
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
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(ctx, md, &n) != 1 || n != SQS_MD5_LEN)
        goto out;
    memcpy(d, md, SQS_MD5_LEN);
    done = true;
out:
    EVP_MD_CTX_free(ctx);
    return done;
}

bool sqs_md5_attrs(const struct sqs_attrs *set, uint32_t mask, char out[SQS_MD5_HEX_LEN + 1])
{
    unsigned char d[SQS_MD5_LEN];
    bool done = sqs_md5_attrs_bin(set, mask, d);
    sqs_md5_fmt(done ? d : NULL, out);
    return done;
}
