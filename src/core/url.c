#include "core/url.h"

#include <string.h>

#include "core/codec.h"

long url_decode(const char *in, size_t len, int flags, char *out, size_t outlen)
{
    size_t o = 0;
    if (outlen == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (o + 1 >= outlen)
            return -1;
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int h = codec_hexval(in[i + 1]), l = codec_hexval(in[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h * 16 + l);
            i += 2;
        } else if (c == '+' && (flags & URL_PLUS_SPACE)) {
            c = ' ';
        }
        if (c == '\0' && !(flags & URL_ALLOW_NUL))
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}

int url_decode_buf(const char *in, size_t len, int flags, struct buf *out)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c != '%' && !(c == '+' && (flags & URL_PLUS_SPACE)))
            continue;
        int rc = buf_append(out, in + run, i - run);
        if (rc != BUF_OK)
            return rc;
        if (c == '+') {
            c = ' ';
        } else {
            if (i + 2 >= len)
                return URL_EBADESCAPE;
            int h = codec_hexval(in[i + 1]), l = codec_hexval(in[i + 2]);
            if (h < 0 || l < 0)
                return URL_EBADESCAPE;
            c = (char)(h * 16 + l);
            i += 2;
            if (c == '\0' && !(flags & URL_ALLOW_NUL))
                return URL_EBADESCAPE;
        }
        if ((rc = buf_append(out, &c, 1)) != BUF_OK)
            return rc;
        run = i + 1;
    }
    if (len > run)
        return buf_append(out, in + run, len - run);
    return buf_append(out, "", 0);
}

bool url_query_next(const char *q, size_t ql, size_t *pos, struct url_member *m)
{
    while (*pos < ql) {
        size_t i = *pos;
        const char *amp = memchr(q + i, '&', ql - i);
        size_t end = amp ? (size_t)(amp - q) : ql;
        *pos = end + 1;
        if (end == i)
            continue;
        const char *eq = memchr(q + i, '=', end - i);
        m->key = q + i;
        m->key_len = eq ? (size_t)(eq - (q + i)) : end - i;
        m->has_value = eq != NULL;
        m->value = eq ? eq + 1 : q + end;
        m->value_len = eq ? (size_t)(q + end - (eq + 1)) : 0;
        return true;
    }
    return false;
}

int url_encode(const char *in, size_t len, bool keep_slash, struct buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0;
    int rc = BUF_OK;
    for (size_t i = 0; i < len && rc == BUF_OK; i++) {
        unsigned char c = (unsigned char)in[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && keep_slash))
            continue;
        char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
        rc = buf_append(out, in + run, i - run);
        if (rc == BUF_OK)
            rc = buf_append(out, esc, 3);
        run = i + 1;
    }
    if (rc == BUF_OK)
        rc = buf_append(out, in + run, len - run);
    return rc;
}
