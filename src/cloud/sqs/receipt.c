/* receipt.c — see receipt.h. Layout of the 37 bytes under the base64: version (1, = 1),
 * queue_id (8, big-endian), seq (8), gen (4), HMAC-SHA256 of those 21 bytes truncated to 16. */
#include "cloud/sqs/receipt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/ids.h"
#include "core/utf8.h"

enum { BODY = 21, MAC = 16, RAW = BODY + MAC };

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int sqs_receipt_key_random(struct sqs_receipt_key *k)
{
    return ids_random(k->key, sizeof(k->key));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void mac(const struct sqs_receipt_key *k, const unsigned char *body, unsigned char *out)
{
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (HMAC(EVP_sha256(), k->key, sizeof(k->key), body, BODY, full, &n) == NULL || n < MAC)
        memset(full, 0, MAC); /* cannot happen with a working libcrypto */
    memcpy(out, full, MAC);
}

/* Base64url of RAW (37) bytes without padding: 50 characters. */
static void encode_b64url(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url[v >> 18];
        out[o++] = b64url[(v >> 12) & 63];
        out[o++] = b64url[(v >> 6) & 63];
        out[o++] = b64url[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = b64url[v >> 18];
        out[o++] = b64url[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = b64url[v >> 18];
        out[o++] = b64url[(v >> 12) & 63];
        out[o++] = b64url[(v >> 6) & 63];
    }
    out[o] = '\0';
}

static int b64val(char c)
{
    const char *p = c ? strchr(b64url, c) : NULL;
    return p ? (int)(p - b64url) : -1;
}

/* Decodes exactly 50 characters into RAW bytes; false on any other input. The last
 * character's unused low bits must be zero, so every handle has one spelling. */
static bool decode_b64url(const char *s, unsigned char *out)
{
    size_t o = 0, i = 0;
    for (; i + 4 <= 48; i += 4) {
        int a = b64val(s[i]), b = b64val(s[i + 1]), c = b64val(s[i + 2]), d = b64val(s[i + 3]);
        if ((a | b | c | d) < 0)
            return false;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
    }
    int a = b64val(s[48]), b = b64val(s[49]);
    if ((a | b) < 0 || (b & 15) != 0)
        return false;
    out[o++] = (unsigned char)(a << 2 | b >> 4);
    return o == RAW;
}

void sqs_receipt_encode(const struct sqs_receipt_key *k, const struct sqs_receipt *r,
                        char out[SQS_RECEIPT_LEN + 1])
{
    unsigned char raw[RAW];
    raw[0] = 1;
    put64(raw + 1, r->queue_id);
    put64(raw + 9, r->seq);
    raw[17] = (unsigned char)(r->gen >> 24);
    raw[18] = (unsigned char)(r->gen >> 16);
    raw[19] = (unsigned char)(r->gen >> 8);
    raw[20] = (unsigned char)r->gen;
    mac(k, raw, raw + BODY);
    out[0] = 'A';
    out[1] = 'Q';
    encode_b64url(raw, RAW, out + 2);
}

void sqs_receipt_invalid_msg(const char *s, size_t len, char *msg, size_t msglen)
{
    /* echo the printable UTF-8 prefix, at most 1024 bytes */
    size_t keep = 0, cap = len < 1024 ? len : 1024;
    while (s && keep < cap) {
        size_t n = utf8_seq_len((const unsigned char *)s + keep, cap - keep);
        if (n == 0 || (n == 1 && ((unsigned char)s[keep] < 0x20 || s[keep] == 0x7F)))
            break;
        keep += n;
    }
    snprintf(msg, msglen, "The input receipt handle \"%.*s\" is not a valid receipt handle.",
             (int)keep, s ? s : "");
}

enum err sqs_receipt_decode(const struct sqs_receipt_key *k, const char *s, size_t len,
                            struct sqs_receipt *out, char *msg, size_t msglen)
{
    unsigned char raw[RAW], want[MAC];
    memset(out, 0, sizeof(*out));
    if (s == NULL || len != SQS_RECEIPT_LEN || s[0] != 'A' || s[1] != 'Q' ||
        !decode_b64url(s + 2, raw) || raw[0] != 1)
        goto invalid;
    mac(k, raw, want);
    if (CRYPTO_memcmp(want, raw + BODY, MAC) != 0)
        goto invalid;
    out->queue_id = get64(raw + 1);
    out->seq = get64(raw + 9);
    out->gen = (uint32_t)raw[17] << 24 | (uint32_t)raw[18] << 16 | (uint32_t)raw[19] << 8 | raw[20];
    return ERR_OK;
invalid:
    sqs_receipt_invalid_msg(s, len, msg, msglen);
    return ERR_SQS_RECEIPT_HANDLE_INVALID;
}
