#include "core/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void buf_destroy(struct buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

int buf_reserve(struct buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return BUF_ETOOBIG;
    size_t need = b->len + extra + 1; /* + NUL */
    if (need <= b->cap)
        return BUF_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return BUF_ENOMEM;
    b->data = p;
    b->cap = cap;
    return BUF_OK;
}

int buf__append_grow(struct buf *b, const void *p, size_t len)
{
    int rc = buf_reserve(b, len);
    if (rc != BUF_OK)
        return rc;
    if (len > 0)
        memcpy(b->data + b->len, p, len);
    b->len += len;
    b->data[b->len] = '\0';
    return BUF_OK;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return BUF_ENOMEM;
    int rc = buf_reserve(b, (size_t)n);
    if (rc != BUF_OK)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return BUF_OK;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *buf_take(struct buf *b, size_t *len)
{
    char *p = b->data;
    if (p == NULL)
        p = calloc(1, 1);
    if (len != NULL)
        *len = p ? b->len : 0;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
