/*
 * sigv4.h — AWS Signature Version 4, both sides of it (AWS-CONTRACTS.md §7). The server
 * parses what a request claims (Authorization header or presigned query), rebuilds its
 * canonical request from the bytes that arrived, and compares signatures; the signers (a
 * signed request for the functions' AWS client, a presigned URL) build the same canonical
 * request with the same code, so what one side signs the other verifies by construction.
 *
 * The path is taken as sent on the wire (already percent-encoded by the client); with
 * `normalize` (every service but S3) dot segments and repeated slashes are removed first,
 * then each byte but the unreserved ones and '/' is percent-encoded — the "double encoding"
 * of non-S3 services. Query members are percent-decoded and re-encoded RFC 3986 style,
 * then sorted. Pure functions: no I/O, no clock (the caller passes now).
 */
#ifndef HAAR_CORE_SIGV4_H
#define HAAR_CORE_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct sigv4_header {
    const char *name; /* any case */
    size_t name_len;
    const char *value; /* raw; trimmed and space-collapsed when canonicalized */
    size_t value_len;
};

struct sigv4_request {
    const char *method;
    size_t method_len;
    const char *path; /* as sent, without the query */
    size_t path_len;
    const char *query; /* as sent, without '?'; may be NULL */
    size_t query_len;
    const struct sigv4_header *headers;
    size_t nheaders;
    const void *body;
    size_t body_len;
};

/* What a request claims: from "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/
 * service/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>", or from the
 * X-Amz-* members of a presigned URL. */
struct sigv4_auth {
    char access_key[129];
    char date[9]; /* YYYYMMDD of the scope */
    char region[33];
    char service[33];
    char amz_date[17];         /* YYYYMMDDTHHMMSSZ (X-Amz-Date header or query member) */
    char signed_headers[1024]; /* "a;b;c", lowercase, sorted as sent */
    char signature[65];
    char token[2048]; /* X-Amz-Security-Token, "" when absent */
    bool presigned;
    long expires; /* X-Amz-Expires (presigned), else 0 */
};

enum sigv4_status {
    SIGV4_OK,
    SIGV4_MISSING,   /* no Authorization header and no X-Amz-Signature */
    SIGV4_MALFORMED, /* msg says what */
    SIGV4_UNKNOWN_KEY,
    SIGV4_MISMATCH,
    SIGV4_EXPIRED,   /* outside the allowed clock skew, or past X-Amz-Expires */
    SIGV4_BAD_SCOPE, /* region or service of the credential scope is not this endpoint's */
};

/*
 * Parses the request's claim into out. Returns SIGV4_OK, SIGV4_MISSING or
 * SIGV4_MALFORMED (with an AWS-like message in msg).
 */
enum sigv4_status sigv4_parse(const struct sigv4_request *req, struct sigv4_auth *out, char *msg,
                              size_t msglen);

/* The canonical request of req as auth describes it (signed headers, payload hash). */
int sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_auth *auth,
                            bool normalize, struct buf *out);

/* "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(canonical)>" */
int sigv4_string_to_sign(const struct sigv4_auth *auth, const char *canonical, size_t len,
                         struct buf *out);

/* The hex signature of string_to_sign with secret and auth's scope. */
void sigv4_sign(const char *secret, const struct sigv4_auth *auth, const char *sts, size_t len,
                char out_hex[65]);

/* Looks up the secret of an access key; NULL when unknown. `token` is the request's
 * session token ("" when none); a lookup may refuse a key whose token does not match. */
typedef const char *(*sigv4_secret_fn)(void *arg, const char *access_key, const char *token);

/*
 * The whole check (normalize: every service but S3): parse, scope (region and service must be these
 * when non-NULL), clock skew (5 minutes either side of now_ms, or X-Amz-Expires for presigned
 * requests), key, signature. On failure msg holds the message AWS gives for it.
 */
enum sigv4_status sigv4_verify(const struct sigv4_request *req, const char *region,
                               const char *service, bool normalize, int64_t now_ms,
                               sigv4_secret_fn secret, void *arg, char *msg, size_t msglen);

/* Writes now_ms as YYYYMMDDTHHMMSSZ (the X-Amz-Date form) into out. */
void sigv4_format_amz_date(int64_t ms, char out[17]);

/*
 * The signer's side of a signed request (the functions' AWS client, load generators):
 * appends to out the value of its Authorization header, "AWS4-HMAC-SHA256 Credential=
 * <key>/<date>/<region>/<service>/aws4_request, SignedHeaders=<names>, Signature=<hex>".
 * req must be the request exactly as it will be sent: path and query as on the wire, and
 * every header already there — Host, X-Amz-Date (whose value must be amz_date,
 * "YYYYMMDDTHHMMSSZ", the time signed for; SDKs send it) and, with temporary credentials,
 * X-Amz-Security-Token. Every header is signed but Authorization, Expect, User-Agent and
 * X-Amzn-Trace-Id, which SDKs leave unsigned because proxies change them. The payload hash
 * is the X-Amz-Content-Sha256 header when present, else the body's SHA-256. normalize as for
 * sigv4_verify (every service but S3). The canonical request, string to sign and signature
 * are computed by the code sigv4_verify runs. Returns 0, or -1 (out unchanged) when Host is
 * missing, amz_date is not a date or X-Amz-Date differs from it, or a value does not fit (at
 * most 64 signed headers, names under 128 bytes). Pure and thread-safe.
 */
int sigv4_authorization(const struct sigv4_request *req, const char *access_key, const char *secret,
                        const char *region, const char *service, const char *amz_date,
                        bool normalize, struct buf *out);

/*
 * The signer's side of a presigned URL: writes into query_out the query string (without '?')
 * that makes `method host path` valid for `expires` seconds from now_ms under the key
 * (access_key, secret) and the scope's region and service: the X-Amz-* members, the
 * signature last, covering the host header and an empty body. Returns 0, or -1 when a value
 * does not fit.
 */
int sigv4_presign(const char *method, const char *host, const char *path, const char *access_key,
                  const char *secret, const char *region, const char *service, int64_t now_ms,
                  long expires, struct buf *query_out);

#endif
