#include "core/codec.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

void codec_hex(const void *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * len] = '\0';
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Appends the base64 of len bytes in alphabet; a last group of 1 or 2 bytes is padded with
 * '=' to four characters when pad, else ends after its 2 or 3. */
static int b64_encode(const unsigned char *p, size_t len, const char *alphabet, bool pad,
                      struct buf *out)
{
    size_t tail = len % 3;
    int rc = buf_reserve(out, len / 3 * 4 + (tail == 0 ? 0 : pad ? 4 : tail + 1));
    for (size_t i = 0; rc == BUF_OK && i < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        char q[4] = {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63],
                     i + 1 < len ? alphabet[(v >> 6) & 63] : '=',
                     i + 2 < len ? alphabet[v & 63] : '='};
        rc = buf_append(out, q, i + 3 <= len || pad ? 4 : len - i + 1);
    }
    return rc;
}

int codec_b64_encode(const void *data, size_t len, struct buf *out)
{
    return b64_encode(data, len, b64chars, true, out);
}

int codec_b64url_encode(const void *data, size_t len, struct buf *out)
{
    return b64_encode(data, len, b64url_chars, false, out);
}

int codec_b64_decode(const char *text, size_t len, struct buf *out)
{
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    size_t pad = 0;
    while (len > 0 && text[len - 1] == '=' && pad < 2) {
        len--;
        pad++;
    }
    if (len % 4 == 1)
        return CODEC_EBADB64;
    if (pad > 0 && (len + pad) % 4 != 0)
        return CODEC_EBADB64;
    int rc = buf_reserve(out, len / 4 * 3 + 3);
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; rc == BUF_OK && i < len; i++) {
        int v = codec_b64val(text[i]);
        if (v < 0)
            return CODEC_EBADB64;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            unsigned char c = (unsigned char)((acc >> bits) & 0xff);
            rc = buf_append(out, &c, 1);
        }
    }
    return rc;
}

static EVP_MD *g_sha256;
static pthread_once_t g_sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
    g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void codec_sha256_2(const void *a, size_t an, const void *b, size_t bn, unsigned char out[32])
{
    pthread_once(&g_sha256_once, fetch_sha256);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int olen = 32;
    if (ctx == NULL || EVP_DigestInit_ex(ctx, g_sha256 ? g_sha256 : EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, a, an) != 1 || (bn > 0 && EVP_DigestUpdate(ctx, b, bn) != 1) ||
        EVP_DigestFinal_ex(ctx, out, &olen) != 1)
        memset(out, 0, 32); /* out of memory: a digest that matches nothing */
    EVP_MD_CTX_free(ctx);
}

void codec_sha256(const void *data, size_t len, unsigned char out[32])
{
    codec_sha256_2(data, len, NULL, 0, out);
}
