/*
 * response.h — what the client gets: a status, a validated header list and body bytes, built
 * from a function's output as API Gateway maps it (AWS-CONTRACTS.md §2, AWS-RECORDED.md §5),
 * or from a gateway error. Never a string concatenated onto the wire: every header name is an
 * HTTP token and every value is free of CR, LF, NUL and other control bytes (HTAB allowed), so
 * the HTTP layer can write them as they are.
 *
 * Payload 2.0: valid JSON that is not an object with `statusCode` is sent as 200,
 * content-type application/json, the output itself as the body (a JSON string: its value,
 * without quotes; anything else: the bytes as the function wrote them). Otherwise the
 * structured form {statusCode, headers, cookies, body, isBase64Encoded}: statusCode a number or
 * a numeric string (200..599), header values strings, numbers or booleans (text), a null
 * value leaves the header out; each cookie one set-cookie; body a string, base64-decoded when
 * isBase64Encoded; content-type application/json when none is set. Payload 1.0: the
 * structured form is required (no inference) and adds multiValueHeaders (emitted after headers,
 * both kept, as AWS does); cookies are not read. Function URL: 2.0 rules, but a non-string
 * shortcut body is re-serialized compactly, and errors are 502 "Internal Server Error".
 *
 * The gateway owns framing: a content-length, transfer-encoding, connection, keep-alive,
 * upgrade, te, trailer or proxy-* header from the function is renamed x-amzn-remapped-<name>
 * (as AWS does for Lambda responses) and content-length is the HTTP layer's to write. A 204
 * or 304 carries no body. Anything malformed (not JSON for 1.0/2.0, a statusCode out of range,
 * a header or cookie that is not a token/clean value, an object or array as a header value,
 * headers that are not an object, a non-string body, invalid base64, more than
 * APIGW_RESP_MAX_HEADERS headers or APIGW_RESP_MAX_HEADER_BYTES of them) becomes
 * 500 {"message":"Internal Server Error"} (502 for a Function URL), with `error` saying why.
 *
 * A response is caller-allocated (init/destroy) and owns its bytes; not thread-safe.
 */
#ifndef HAAR_CLOUD_APIGW_RESPONSE_H
#define HAAR_CLOUD_APIGW_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include "cloud/apigw/request.h"
#include "core/buf.h"

enum apigw_payload { APIGW_PAYLOAD_V1, APIGW_PAYLOAD_V2, APIGW_PAYLOAD_URL };

enum {
    APIGW_RESP_MAX_HEADERS = 128,                   /* from the function, cookies included */
    APIGW_RESP_MAX_HEADER_BYTES = 64 * 1024,        /* names + values from the function */
    APIGW_RESP_MAX_BODY = 10 * 1024 * 1024,         /* the HTTP API payload quota */
    APIGW_RESP_SLOTS = APIGW_RESP_MAX_HEADERS + 32, /* room for the gateway's own headers */
};

enum {
    APIGW_RESP_MALFORMED = -40,  /* the output was refused; the response holds the 500/502 */
    APIGW_RESP_EBADHEADER = -41, /* apigw_response_add_header: not a token / unclean value */
    APIGW_RESP_EFULL = -42,      /* no header slot left */
};

struct apigw_response {
    int status;
    struct apigw_kv headers[APIGW_RESP_SLOTS]; /* pointers into store; valid until the next
                                                   call that changes the response */
    size_t nheaders;
    struct buf body;
    const char *error; /* static text: why a function's output was refused, else NULL */
    /* private */
    struct buf store;
    size_t off[APIGW_RESP_SLOTS][2];
};

/* Sets up an empty 200 response (cannot fail). destroy frees its bytes (NULL ok). */
void apigw_response_init(struct apigw_response *r);
void apigw_response_destroy(struct apigw_response *r);

/* Empties the response for reuse (status 200, no headers, no body, no error). */
void apigw_response_reset(struct apigw_response *r);

/*
 * Maps a function's output (len bytes, no NUL needed) into r, which is reset first.
 * Returns APIGW_OK, APIGW_RESP_MALFORMED (r then holds the 500, or the URL's 502, and
 * r->error says why) or APIGW_ENOMEM.
 */
int apigw_response_map(struct apigw_response *r, enum apigw_payload fmt, const char *out,
                       size_t len);

/* The answer to a function error (unhandled exception, timeout handled elsewhere):
 * 500 {"message":"Internal Server Error"}, or 502 "Internal Server Error" for a URL. */
int apigw_response_function_error(struct apigw_response *r, enum apigw_payload fmt);

/* A gateway answer: status with {"message":"<message>"} and content-type application/json
 * (message is NUL-terminated, JSON-escaped here). r is reset first. */
int apigw_response_message(struct apigw_response *r, int status, const char *message);

/* Appends a header after validating it (APIGW_RESP_EBADHEADER when the name is not a token or
 * the value holds CR, LF, NUL or another control byte; APIGW_RESP_EFULL past the slots).
 * Copies the bytes. */
int apigw_response_add_header(struct apigw_response *r, const char *name, size_t name_len,
                              const char *value, size_t value_len);

/* Removes every header whose name starts with prefix (ASCII case-insensitive, so a full name
 * removes that header). Returns how many went. */
size_t apigw_response_remove_headers(struct apigw_response *r, const char *prefix);

/* The first header named name (case-insensitive), or NULL. Borrowed. */
const struct apigw_kv *apigw_response_find(const struct apigw_response *r, const char *name);

/* True when name is an HTTP token (RFC 9110 tchar+) and value is a clean field value. */
bool apigw_header_valid(const char *name, size_t name_len, const char *value, size_t value_len);

/* Appends r as an HTTP/1.1 response ("HTTP/1.1 200 OK", the headers, content-length, the
 * body) — the bytes a client would read; for tests, fuzzing and simple adapters. */
int apigw_response_to_http1(const struct apigw_response *r, struct buf *out);

#endif
