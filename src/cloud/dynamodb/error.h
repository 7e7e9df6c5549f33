/*
 * error.h — the error the DynamoDB core modules (num, value, expr, legacy, capacity) hand
 * back: an error row from core/err.h (DDB_VALIDATION or DDB_SERIALIZATION) and DynamoDB's
 * exact message text.
 *
 * Messages are the bare text DynamoDB puts after any "1 validation error detected: " prefix;
 * whether that prefix is added depends on the operation (PutItem/UpdateItem/DeleteItem add
 * it in the regions that do, GetItem/Query/Scan do not), so the operation layer adds it.
 * Not thread-safe per object; the functions keep no global state.
 */
#ifndef HAAR_CLOUD_DYNAMODB_ERROR_H
#define HAAR_CLOUD_DYNAMODB_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct ddb_err {
    enum err code; /* ERR_OK when no error is set */
    char *msg;     /* owned, NUL-terminated; NULL when no error is set */
};

/* Sets *e to "no error". Cannot fail. */
void ddb_err_init(struct ddb_err *e);

/* Frees the message and resets *e to "no error"; accepts NULL. */
void ddb_err_clear(struct ddb_err *e);

/*
 * Records an error with a printf-formatted message, replacing any earlier one. If the
 * message cannot be allocated the code is still set and msg stays NULL (the caller then
 * answers with the row's default message). Returns -1, so a failing path can
 * `return ddb_err_set(...)`.
 */
int ddb_err_set(struct ddb_err *e, enum err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ddb_err_set with a va_list. max > 0 keeps at most max - 1 bytes of the message (what
 * formatting into a char[max] keeps). Returns -1. */
int ddb_err_vset(struct ddb_err *e, enum err code, size_t max, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* True when an error is recorded. */
bool ddb_err_isset(const struct ddb_err *e);

/* The message, or "" when none is recorded. Borrowed. */
const char *ddb_err_msg(const struct ddb_err *e);

#endif
