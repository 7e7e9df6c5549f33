/*
 * buf.h — growable byte buffers with a hard cap (STYLE.md rule 8).
 *
 * A buf owns its bytes. Every append checks the cap given at init; past it the append
 * fails with BUF_ETOOBIG and the buffer is left as it was. The data is always followed
 * by a NUL byte (not counted in len) so text can be passed to C string functions, but
 * wire data may itself contain NULs: use len.
 * Not thread-safe; a buf belongs to one owner at a time.
 */
#ifndef HAAR_CORE_BUF_H
#define HAAR_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

enum { BUF_OK = 0, BUF_ENOMEM = -1, BUF_ETOOBIG = -2 };

struct buf {
    char *data;  /* NULL until the first append; NUL-terminated after one */
    size_t len;  /* bytes used */
    size_t cap;  /* bytes allocated */
    size_t max;  /* hard cap on len */
};

/* Sets up an empty buffer that may grow to `max` bytes. Cannot fail. */
void buf_init(struct buf *b, size_t max);

/* Frees the bytes and leaves an empty buffer with the same cap; accepts NULL. */
void buf_destroy(struct buf *b);

/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* Appends len bytes. Returns BUF_OK, BUF_ETOOBIG (past max) or BUF_ENOMEM. Inline where the
 * bytes fit in the memory the buffer has (the case of nearly every append: JSON writers make
 * several per value); buf__append_grow otherwise. */
int buf__append_grow(struct buf *b, const void *p, size_t len);
static inline int buf_append(struct buf *b, const void *p, size_t len)
{
    if (len >= b->cap - b->len || len > b->max - b->len) /* cap 0: no data yet */
        return buf__append_grow(b, p, len);
    if (len > 0) /* p may be NULL then */
        memcpy(b->data + b->len, p, len);
    b->len += len;
    b->data[b->len] = '\0';
    return BUF_OK;
}

/* Appends a C string. Same returns as buf_append. */
int buf_puts(struct buf *b, const char *s);

/* Appends printf-formatted text. Same returns as buf_append. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Makes room for `extra` more bytes; returns BUF_OK or an error as above. */
int buf_reserve(struct buf *b, size_t extra);

/* Hands the bytes to the caller (who frees them with free()) and empties the buffer.
 * Returns a valid empty string when nothing was appended, or NULL if out of memory. */
char *buf_take(struct buf *b, size_t *len);

#endif
