#include "cloud/proto/xmlw.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void xw_init(struct xmlw *w, struct buf *b)
{
    w->b = b;
    w->failed = false;
}

bool xw_ok(const struct xmlw *w)
{
    return !w->failed;
}

static void put(struct xmlw *w, const char *s, size_t n)
{
    if (!w->failed && buf_append(w->b, s, n) != BUF_OK)
        w->failed = true;
}

static void puts_(struct xmlw *w, const char *s)
{
    put(w, s, strlen(s));
}

void xw_text(struct xmlw *w, const char *s, size_t len)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        const char *e;
        switch (s[i]) {
        case '&':
            e = "&amp;";
            break;
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '"':
            e = "&quot;";
            break;
        case '\'':
            e = "&apos;";
            break;
        case '\r':
            e = "&#xD;";
            break;
        default:
            continue;
        }
        put(w, s + run, i - run);
        puts_(w, e);
        run = i + 1;
    }
    put(w, s + run, len - run);
}

void xw_open(struct xmlw *w, const char *tag)
{
    put(w, "<", 1);
    puts_(w, tag);
    put(w, ">", 1);
}

void xw_open_ns(struct xmlw *w, const char *tag, const char *ns)
{
    put(w, "<", 1);
    puts_(w, tag);
    puts_(w, " xmlns=\"");
    xw_text(w, ns, strlen(ns));
    puts_(w, "\">");
}

void xw_close(struct xmlw *w, const char *tag)
{
    put(w, "</", 2);
    puts_(w, tag);
    put(w, ">", 1);
}

void xw_elemn(struct xmlw *w, const char *tag, const char *text, size_t len)
{
    xw_open(w, tag);
    xw_text(w, text, len);
    xw_close(w, tag);
}

void xw_elem(struct xmlw *w, const char *tag, const char *text)
{
    xw_elemn(w, tag, text ? text : "", text ? strlen(text) : 0);
}

void xw_elem_int(struct xmlw *w, const char *tag, int64_t v)
{
    char n[24];
    int len = snprintf(n, sizeof n, "%" PRId64, v);
    xw_elemn(w, tag, n, (size_t)len);
}
