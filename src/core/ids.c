#include "core/ids.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "core/clock.h"
#include "core/codec.h"

static unsigned char pool[4096];
static size_t pool_left;

static int refill(void)
{
    size_t got = 0;
    while (got < sizeof(pool)) {
        ssize_t n = getrandom(pool + got, sizeof(pool) - got, 0);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    pool_left = sizeof(pool);
    return 0;
}

int ids_random(void *out, size_t n)
{
    unsigned char *p = out;
    while (n > 0) {
        if (pool_left == 0 && refill() != 0)
            return -1;
        size_t take = n < pool_left ? n : pool_left;
        memcpy(p, pool + sizeof(pool) - pool_left, take);
        pool_left -= take;
        p += take;
        n -= take;
    }
    return 0;
}

void ids_uuid_format(const unsigned char b[16], char out[IDS_UUID_LEN + 1])
{
    static const size_t groups[] = {4, 2, 2, 2, 6}; /* bytes per dash-separated group */
    size_t o = 0, i = 0;
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        if (g > 0)
            out[o++] = '-';
        codec_hex(b + i, groups[g], out + o);
        i += groups[g];
        o += 2 * groups[g];
    }
}

void ids_uuid4(char out[IDS_UUID_LEN + 1])
{
    unsigned char r[16];
    ids_random(r, sizeof(r));
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    ids_uuid_format(r, out);
}

void ids_hex(char *out, size_t nbytes)
{
    unsigned char r[64];
    size_t o = 0;
    while (nbytes > 0) {
        size_t take = nbytes < sizeof(r) ? nbytes : sizeof(r);
        ids_random(r, take);
        codec_hex(r, take, out + o);
        o += 2 * take;
        nbytes -= take;
    }
    out[o] = '\0';
}

void ids_trace_root(char out[IDS_TRACE_ROOT_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    uint32_t secs = (uint32_t)(clock_real_now_ms() / 1000); /* the low 32 bits, as %08x */
    memcpy(out, "Root=1-", 7);
    for (int i = 7; i >= 0; i--, secs >>= 4)
        out[7 + i] = digits[secs & 15];
    out[15] = '-';
    ids_hex(out + 16, 12); /* and the NUL */
}

static void from_alphabet(char *out, size_t n, const char *alpha, size_t alen)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = 0;
        do
            ids_random(&c, 1);
        while (c >= 256 - (256 % alen)); /* no modulo bias */
        out[i] = alpha[c % alen];
    }
    out[n] = '\0';
}

void ids_alnum_upper(char *out, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    from_alphabet(out, n, a, sizeof(a) - 1);
}

void ids_secret(char *out, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    from_alphabet(out, n, a, sizeof(a) - 1);
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int ids_is_uuid(const char *s, size_t len)
{
    if (len != IDS_UUID_LEN)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!is_hex(s[i])) {
            return 0;
        }
    }
    return 1;
}
