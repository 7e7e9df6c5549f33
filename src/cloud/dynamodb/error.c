/*
 * error.c — the DynamoDB core's error record (see error.h).
 */
#include "cloud/dynamodb/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void ddb_err_init(struct ddb_err *e)
{
    e->code = ERR_OK;
    e->msg = NULL;
}

void ddb_err_clear(struct ddb_err *e)
{
    if (e == NULL)
        return;
    free(e->msg);
    ddb_err_init(e);
}

int ddb_err_vset(struct ddb_err *e, enum err code, size_t max, const char *fmt, va_list ap)
{
    if (e == NULL)
        return -1;
    free(e->msg);
    e->msg = NULL;
    e->code = code;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return -1;
    size_t len = (size_t)n;
    if (max > 0 && len > max - 1)
        len = max - 1;
    char *m = malloc(len + 1);
    if (m == NULL)
        return -1;
    vsnprintf(m, len + 1, fmt, ap);
    e->msg = m;
    return -1;
}

int ddb_err_set(struct ddb_err *e, enum err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ddb_err_vset(e, code, 0, fmt, ap);
    va_end(ap);
    return -1;
}

bool ddb_err_isset(const struct ddb_err *e)
{
    return e != NULL && e->code != ERR_OK;
}

const char *ddb_err_msg(const struct ddb_err *e)
{
    return (e != NULL && e->msg != NULL) ? e->msg : "";
}
