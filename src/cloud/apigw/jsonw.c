/* jsonw.c — see jsonw.h. */
#include "cloud/apigw/jsonw.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cloud/apigw/request.h"
#include "core/utf8.h"

/* 1 for bytes that can be copied as they are (printable ASCII but '"' and '\\'). */
static bool plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

int apigw_jw_str(struct buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    int rc = buf_reserve(out, len + 2);
    if (rc != BUF_OK)
        return rc;
    rc = buf_append(out, "\"", 1);
    size_t i = 0;
    while (rc == BUF_OK && i < len) {
        size_t run = i;
        while (run < len && plain(p[run]))
            run++;
        if (run > i && (rc = buf_append(out, p + i, run - i)) != BUF_OK)
            break;
        i = run;
        if (i >= len)
            break;
        unsigned char c = p[i];
        if (c >= 0x80) {
            size_t n = utf8_seq_len(p + i, len - i);
            if (n == 0) {
                rc = buf_append(out, "\\ufffd", 6);
                i++;
            } else {
                rc = buf_append(out, p + i, n);
                i += n;
            }
            continue;
        }
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t el = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            el = 6;
        }
        rc = buf_append(out, esc, el);
        i++;
    }
    if (rc == BUF_OK)
        rc = buf_append(out, "\"", 1);
    return rc;
}

int apigw_jw_cstr(struct buf *out, const char *s)
{
    return apigw_jw_str(out, s, strlen(s));
}

int apigw_jw_keyn(struct buf *out, bool *first, const char *key, size_t len)
{
    int rc = BUF_OK;
    if (!*first)
        rc = buf_append(out, ",", 1);
    *first = false;
    if (rc == BUF_OK)
        rc = apigw_jw_str(out, key, len);
    if (rc == BUF_OK)
        rc = buf_append(out, ":", 1);
    return rc;
}

int apigw_jw_key(struct buf *out, bool *first, const char *key)
{
    return apigw_jw_keyn(out, first, key, strlen(key));
}

int apigw_jw_int(struct buf *out, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    return buf_append(out, tmp, (size_t)n);
}

int apigw_jw_raw(struct buf *out, const char *s)
{
    return buf_append(out, s, strlen(s));
}

bool apigw_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_seq_len(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}
