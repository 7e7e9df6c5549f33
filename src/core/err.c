#include "core/err.h"

#include "core/jsonw.h"

#include <stdlib.h>
#include <string.h>

struct err_row {
    const char *name;
    int status;
    const char *code;
    const char *query_code;
    const char *fault;
    const char *message;
};

static const struct err_row rows[ERR__COUNT] = {
#define ERR_ROW(name, status, code, qcode, fault, msg) {#name, status, code, qcode, fault, msg},
    ERR_MAP(ERR_ROW)
#undef ERR_ROW
};

static const struct err_row *row(enum err e)
{
    if ((unsigned)e >= ERR__COUNT)
        e = ERR_INTERNAL;
    return &rows[e];
}

int err_status(enum err e)
{
    return row(e)->status;
}

const char *err_code(enum err e)
{
    return row(e)->code;
}

const char *err_query_code(enum err e)
{
    return row(e)->query_code ? row(e)->query_code : row(e)->code;
}

const char *err_fault(enum err e)
{
    return row(e)->fault;
}

const char *err_message(enum err e)
{
    return row(e)->message;
}

const char *err_name(enum err e)
{
    return row(e)->name;
}

/* Appends a JSON string literal (quotes included) for s. */
static int put_json_string(struct buf *out, const char *s)
{
    return jw_escape(out, s, strlen(s));
}

int err_json_body(enum err e, const char *prefix, const char *msg, struct buf *out)
{
    const struct err_row *r = row(e);
    int rc = buf_printf(out, "{\"__type\":\"%s%s\",\"message\":", prefix ? prefix : "", r->code);
    if (rc == BUF_OK)
        rc = put_json_string(out, msg ? msg : r->message);
    if (rc == BUF_OK)
        rc = buf_puts(out, "}");
    return rc;
}

int err_rest_json_body(enum err e, const char *msg, struct buf *out)
{
    const struct err_row *r = row(e);
    int rc = buf_printf(
        out, "{\"Type\":\"%s\",\"message\":", strcmp(r->fault, "Sender") == 0 ? "User" : "Service");
    if (rc == BUF_OK)
        rc = put_json_string(out, msg ? msg : r->message);
    if (rc == BUF_OK)
        rc = buf_puts(out, "}");
    return rc;
}

/* Appends s with the five XML special characters escaped. */
static int put_xml_text(struct buf *out, const char *s)
{
    int rc = BUF_OK;
    for (; *s && rc == BUF_OK; s++) {
        switch (*s) {
        case '<':
            rc = buf_puts(out, "&lt;");
            break;
        case '>':
            rc = buf_puts(out, "&gt;");
            break;
        case '&':
            rc = buf_puts(out, "&amp;");
            break;
        case '"':
            rc = buf_puts(out, "&quot;");
            break;
        case '\'':
            rc = buf_puts(out, "&apos;");
            break;
        default:
            rc = buf_append(out, s, 1);
        }
    }
    return rc;
}

int err_xml_body(enum err e, const char *msg, const char *request_id, struct buf *out)
{
    const struct err_row *r = row(e);
    int rc = buf_printf(out, "<?xml version=\"1.0\"?><ErrorResponse><Error><Type>%s</Type><Code>",
                        r->fault);
    if (rc == BUF_OK)
        rc = put_xml_text(out, err_query_code(e));
    if (rc == BUF_OK)
        rc = buf_puts(out, "</Code><Message>");
    if (rc == BUF_OK)
        rc = put_xml_text(out, msg ? msg : r->message);
    if (rc == BUF_OK)
        rc = buf_puts(out, "</Message><Detail/></Error><RequestId>");
    if (rc == BUF_OK)
        rc = put_xml_text(out, request_id ? request_id : "");
    if (rc == BUF_OK)
        rc = buf_puts(out, "</RequestId></ErrorResponse>");
    return rc;
}
