/*
 * xmlw.h — a small XML writer for query-protocol answers, into a bounded buffer. Text is
 * escaped (& < > " ', and CR as &#xD; so it survives parsing). Errors are sticky: xw_ok()
 * turns false and writing stops. Not thread-safe.
 */
#ifndef HAAR_CLOUD_PROTO_XMLW_H
#define HAAR_CLOUD_PROTO_XMLW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct xmlw {
    struct buf *b;
    bool failed;
};

void xw_init(struct xmlw *w, struct buf *b);
bool xw_ok(const struct xmlw *w);

/* <tag> and <tag xmlns="ns"> */
void xw_open(struct xmlw *w, const char *tag);
void xw_open_ns(struct xmlw *w, const char *tag, const char *ns);
/* </tag> */
void xw_close(struct xmlw *w, const char *tag);
/* Escaped text. */
void xw_text(struct xmlw *w, const char *s, size_t len);
/* <tag>text</tag> */
void xw_elem(struct xmlw *w, const char *tag, const char *text);
void xw_elemn(struct xmlw *w, const char *tag, const char *text, size_t len);
void xw_elem_int(struct xmlw *w, const char *tag, int64_t v);

#endif
