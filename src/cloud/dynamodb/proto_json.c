/*
 * proto_json.c — DynamoDB's wire (JSON 1.0): request bytes → ddb_call → answer, every answer
 * with x-amz-crc32 (botocore checks it).
 *
 * What DynamoDB answers before an operation runs (dynalite's tests, written against it):
 *   - a method other than POST, or a body whose Content-Type is neither
 *     application/x-amz-json-1.0 nor application/json: 404 "<UnknownOperationException/>\n";
 *   - a body over 16 MB: 413 with an empty body;
 *   - a body that is not JSON, or an empty one: 400
 *     {"__type":"com.amazon.coral.service#SerializationException"} (no message);
 *   - an unknown operation: 400 {"__type":"com.amazon.coral.service#UnknownOperationException"}.
 * haar checks the signature first (the router does), DynamoDB after the points above.
 * The answer's Content-Type echoes the request's (application/json answers application/json).
 */
#include "cloud/dynamodb/proto_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cloud/dynamodb/ddb.h"
#include "core/json.h"
#include "core/jsonw.h"

#define MAX_BODY  (16 * 1024 * 1024)
#define CT_JSON10 "application/x-amz-json-1.0"
#define CT_JSON   "application/json"

const char *ddb_error_namespace(enum err e)
{
    switch (e) {
    case ERR_DDB_VALIDATION:
        return "com.amazon.coral.validate#";
    case ERR_DDB_SERIALIZATION:
    case ERR_DDB_UNKNOWN_OPERATION:
    case ERR_UNKNOWN_OPERATION:
    case ERR_SERIALIZATION:
    case ERR_MISSING_AUTH:
    case ERR_UNRECOGNIZED_CLIENT:
    case ERR_INVALID_SIGNATURE:
    case ERR_INCOMPLETE_SIGNATURE:
    case ERR_REQUEST_TOO_LARGE:
        return "com.amazon.coral.service#";
    default:
        return "com.amazonaws.dynamodb.v20120810#";
    }
}

void ddb_error_body(enum err e, const char *msg, const char *extra, size_t extra_len,
                    struct buf *out)
{
    if (e == ERR_INTERNAL)
        e = ERR_DDB_INTERNAL;
    bool capital = e == ERR_DDB_SERIALIZATION || e == ERR_DDB_TRANSACTION_CANCELED;
    buf_puts(out, "{\"__type\":\"");
    buf_puts(out, ddb_error_namespace(e));
    buf_puts(out, err_code(e));
    buf_puts(out, "\"");
    if (capital && extra && extra_len)
        buf_append(out, extra, extra_len);
    if (msg && msg[0]) {
        buf_puts(out, capital ? ",\"Message\":" : ",\"message\":");
        jw_escape(out, msg, strlen(msg));
    }
    if (!capital && extra && extra_len)
        buf_append(out, extra, extra_len);
    buf_puts(out, "}");
}

/* ---- answering ---- */

static void respond_error(struct proto_req *r, const char *ctype, enum err e, const char *msg,
                          const char *extra, size_t extra_len)
{
    struct buf b;
    buf_init(&b, 80 * 1024 * 1024);
    ddb_error_body(e, msg, extra, extra_len, &b);
    int status = err_status(e == ERR_INTERNAL ? ERR_DDB_INTERNAL : e);
    proto_answer(r, status, ctype, b.data, b.len);
    buf_destroy(&b);
}

/* A request waiting for its answer; freed by on_reply (the engine always answers). */
struct pending {
    struct proto_req *r;
    const char *ctype;
    bool gone;
};

static void on_gone(void *arg)
{
    struct pending *p = arg;
    p->gone = true;
}

static void on_reply(void *arg, const struct ddb_reply *rep)
{
    struct pending *p = arg;
    if (!p->gone) {
        if (rep->err == ERR_OK)
            proto_answer(p->r, 200, p->ctype, rep->body, rep->len);
        else
            respond_error(p->r, p->ctype, rep->err, rep->message, rep->body,
                          rep->body ? rep->len : 0);
    }
    /* the connection forgets the gone callback once the request is answered */
    free(p);
}

static bool ctype_is(const char *ct, size_t n, const char *want)
{
    size_t wl = strlen(want);
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    const char *semi = memchr(ct, ';', n);
    if (semi)
        n = (size_t)(semi - ct);
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return n == wl && strncasecmp(ct, want, wl) == 0;
}

static void handle(void *engine, struct proto_req *r)
{
    struct ddb *db = engine;
    size_t cl = 0;
    const char *ct = proto_header(r, "content-type", &cl);
    bool json10 = ct && ctype_is(ct, cl, CT_JSON10);
    bool json = ct && ctype_is(ct, cl, CT_JSON);
    if (!proto_method_is(r, "POST") || (r->body_len > 0 && !json10 && !json)) {
        static const char body[] = "<UnknownOperationException/>\n";
        proto_answer(r, 404, NULL, body, sizeof body - 1);
        return;
    }
    const char *ctype = json ? CT_JSON : CT_JSON10;
    if (r->body_len > MAX_BODY) {
        proto_answer(r, 413, NULL, "", 0);
        return;
    }
    json_t *req = NULL;
    if (r->body_len > 0) {
        json_error_t je;
        req = jsonh_loadb(r->body, r->body_len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
        if (req == NULL) {
            respond_error(r, ctype, ERR_DDB_SERIALIZATION, NULL, NULL, 0);
            return;
        }
    }
    enum ddb_op op = ddb_op_from_name(r->op, r->op_len);
    if (op == DDB_OP_UNKNOWN) {
        char msg[256];
        msg[0] = '\0';
        if (ddb_op_known_unimplemented(r->op, r->op_len))
            snprintf(msg, sizeof msg, "haar does not implement the DynamoDB operation %.*s",
                     (int)(r->op_len > 100 ? 100 : r->op_len), r->op);
        respond_error(r, ctype, ERR_DDB_UNKNOWN_OPERATION, msg[0] ? msg : NULL, NULL, 0);
        json_decref(req);
        return;
    }
    if (req == NULL) {
        respond_error(r, ctype, ERR_DDB_SERIALIZATION, NULL, NULL, 0);
        return;
    }
    struct pending *p = calloc(1, sizeof *p);
    if (p == NULL) {
        json_decref(req);
        respond_error(r, ctype, ERR_DDB_INTERNAL, "Internal server error", NULL, 0);
        return;
    }
    p->r = r;
    p->ctype = ctype;
    proto_on_gone(r, on_gone, p);
    ddb_call(db, op, req, on_reply, p);
}

void ddb_service(struct ddb *db, struct proto_service *out)
{
    *out = (struct proto_service){
        .name = "dynamodb",
        .protocol = PROTO_JSON10,
        .target_prefix = "DynamoDB_20120810.",
        .json_type_ns = "com.amazonaws.dynamodb.v20120810#",
        .json_content_type = CT_JSON10,
        .max_body = 0, /* the adapter answers oversized bodies as DynamoDB does */
        .handle = handle,
        .engine = db,
        .json_type_ns_of = ddb_error_namespace,
        .json_crc32 = true,
    };
}
