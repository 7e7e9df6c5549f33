/*
 * sigv4.c — AWS Signature Version 4, verifier and signers (see sigv4.h).
 *
 * One computation, compute_signature(), serves sigv4_verify, sigv4_authorization and
 * sigv4_presign. The verifier rebuilds everything from the bytes that arrived; nothing the
 * client says about its own canonical form is trusted. Limits keep every buffer bounded:
 * at most 64 signed headers, 256 query members, and the caps of struct sigv4_auth.
 */
#include "core/sigv4.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/codec.h"

#define ALGORITHM    "AWS4-HMAC-SHA256"
#define MAX_SIGNED   64
#define MAX_QUERY    256
#define SKEW_MS      (5 * 60 * 1000LL)
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Appends the NUL-terminated strings given, up to a NULL: the hot paths' formatting, without
 * printf's cost. Returns 0, or -1 when one does not fit. */
static int put_parts(struct buf *b, ...)
{
    va_list ap;
    int rc = 0;
    va_start(ap, b);
    for (const char *p = va_arg(ap, const char *); p != NULL && rc == 0;
         p = va_arg(ap, const char *))
        rc = buf_puts(b, p) == BUF_OK ? 0 : -1;
    va_end(ap);
    return rc;
}

static void set_msg(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_msg(char *msg, size_t msglen, const char *fmt, ...)
{
    va_list ap;
    if (msg == NULL || msglen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
}

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/* Appends s percent-encoded RFC 3986 style; '/' kept when keep_slash. */
static int put_encoded(struct buf *b, const char *s, size_t n, bool keep_slash)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/'))
            continue;
        char e[3] = {'%', "0123456789ABCDEF"[c >> 4], "0123456789ABCDEF"[c & 15]};
        if (buf_append(b, s + run, i - run) != BUF_OK || buf_append(b, e, 3) != BUF_OK)
            return -1;
        run = i + 1;
    }
    return buf_append(b, s + run, n - run) == BUF_OK ? 0 : -1;
}

/* Percent-decodes s into b ('+' stays '+': SDKs send spaces as %20). */
static int put_decoded(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%' && i + 2 < n && codec_hexval(s[i + 1]) >= 0 && codec_hexval(s[i + 2]) >= 0) {
            c = (char)(codec_hexval(s[i + 1]) * 16 + codec_hexval(s[i + 2]));
            i += 2;
        }
        if (buf_append(b, &c, 1) != BUF_OK)
            return -1;
    }
    return 0;
}

/* ---- the canonical URI ---------------------------------------------------------------- */

/* Appends the path with dot segments and empty segments removed (as AWS SDKs normalize). */
static int put_normalized_path(struct buf *b, const char *p, size_t n)
{
    size_t segs[512][2], nseg = 0, i = 0;
    bool trailing = n > 0 && p[n - 1] == '/';
    while (i < n) {
        while (i < n && p[i] == '/')
            i++;
        size_t start = i;
        while (i < n && p[i] != '/')
            i++;
        size_t len = i - start;
        if (len == 0 || (len == 1 && p[start] == '.'))
            continue;
        if (len == 2 && p[start] == '.' && p[start + 1] == '.') {
            if (nseg > 0)
                nseg--;
            continue;
        }
        if (nseg == sizeof(segs) / sizeof(segs[0]))
            return -1;
        segs[nseg][0] = start;
        segs[nseg][1] = len;
        nseg++;
    }
    if (buf_append(b, "/", 1) != BUF_OK)
        return -1;
    for (size_t k = 0; k < nseg; k++) {
        if (k > 0 && buf_append(b, "/", 1) != BUF_OK)
            return -1;
        if (buf_append(b, p + segs[k][0], segs[k][1]) != BUF_OK)
            return -1;
    }
    if (trailing && nseg > 0 && buf_append(b, "/", 1) != BUF_OK)
        return -1;
    return 0;
}

static int put_canonical_uri(struct buf *out, const char *path, size_t n, bool normalize)
{
    struct buf tmp;
    int rc;
    if (n == 0)
        return buf_append(out, "/", 1) == BUF_OK ? 0 : -1;
    if (!normalize)
        return put_encoded(out, path, n, true);
    buf_init(&tmp, n + 2);
    rc = put_normalized_path(&tmp, path, n);
    if (rc == 0)
        rc = put_encoded(out, tmp.data ? tmp.data : "/", tmp.len ? tmp.len : 1, true);
    buf_destroy(&tmp);
    return rc;
}

/* ---- the canonical query -------------------------------------------------------------- */

struct qpair {
    char *key, *value; /* encoded, NUL-terminated */
};

static int cmp_qpair(const void *a, const void *b)
{
    const struct qpair *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* Decodes then re-encodes one key or value; a new string or NULL. */
static char *reencode(const char *s, size_t n)
{
    struct buf dec, enc;
    char *r = NULL;
    buf_init(&dec, n + 1);
    buf_init(&enc, 3 * n + 1);
    if (put_decoded(&dec, s, n) == 0 &&
        put_encoded(&enc, dec.data ? dec.data : "", dec.len, false) == 0) {
        r = malloc(enc.len + 1);
        if (r != NULL) {
            memcpy(r, enc.data ? enc.data : "", enc.len);
            r[enc.len] = '\0';
        }
    }
    buf_destroy(&dec);
    buf_destroy(&enc);
    return r;
}

static int put_canonical_query(struct buf *out, const char *q, size_t n, bool presigned)
{
    struct qpair pairs[MAX_QUERY];
    size_t np = 0, i = 0;
    int rc = 0;
    while (q != NULL && i < n && rc == 0) {
        const char *amp = memchr(q + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - q) : n;
        if (end > i) {
            const char *eq = memchr(q + i, '=', end - i);
            size_t kl = eq ? (size_t)(eq - (q + i)) : end - i;
            const char *v = eq ? eq + 1 : q + end;
            size_t vl = (size_t)(q + end - v);
            if (presigned && kl == 15 && memcmp(q + i, "X-Amz-Signature", 15) == 0) {
                i = end + 1;
                continue;
            }
            if (np == MAX_QUERY) {
                rc = -1;
                break;
            }
            pairs[np].key = reencode(q + i, kl);
            pairs[np].value = reencode(v, vl);
            np++;
            if (pairs[np - 1].key == NULL || pairs[np - 1].value == NULL)
                rc = -1;
        }
        i = end + 1;
    }
    if (rc == 0)
        qsort(pairs, np, sizeof(pairs[0]), cmp_qpair);
    for (size_t k = 0; k < np; k++) {
        if (rc == 0 &&
            ((k > 0 && buf_append(out, "&", 1) != BUF_OK) ||
             buf_puts(out, pairs[k].key) != BUF_OK || buf_append(out, "=", 1) != BUF_OK ||
             buf_puts(out, pairs[k].value) != BUF_OK))
            rc = -1;
        free(pairs[k].key);
        free(pairs[k].value);
    }
    return rc;
}

/* The raw value of query member key, or NULL. */
static const char *query_get(const struct sigv4_request *req, const char *key, size_t *len)
{
    size_t kl = strlen(key), i = 0, n = req->query_len;
    const char *q = req->query;
    while (q != NULL && i < n) {
        const char *amp = memchr(q + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - q) : n;
        if (end - i > kl && memcmp(q + i, key, kl) == 0 && q[i + kl] == '=') {
            *len = end - i - kl - 1;
            return q + i + kl + 1;
        }
        i = end + 1;
    }
    return NULL;
}

/* ---- headers -------------------------------------------------------------------------- */

static bool name_is(const struct sigv4_header *h, const char *name, size_t n)
{
    return h->name_len == n && strncasecmp(h->name, name, n) == 0;
}

/* Appends the trimmed, space-collapsed value of every header called name, joined by ','.
 * Returns the number of headers found, or -1 on overflow. */
static int put_header_values(struct buf *b, const struct sigv4_request *req, const char *name,
                             size_t n)
{
    int found = 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        const struct sigv4_header *h = &req->headers[i];
        if (!name_is(h, name, n))
            continue;
        if (found++ && buf_append(b, ",", 1) != BUF_OK)
            return -1;
        const char *v = h->value, *end = h->value + h->value_len;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        /* runs of non-blank bytes, each blank run collapsed to one space */
        while (v < end) {
            const char *run = v;
            while (v < end && *v != ' ' && *v != '\t' && *v != '\r' && *v != '\n')
                v++;
            if (buf_append(b, run, (size_t)(v - run)) != BUF_OK)
                return -1;
            if (v == end)
                break;
            while (v < end && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'))
                v++;
            if (buf_append(b, " ", 1) != BUF_OK) /* end was trimmed: more follows */
                return -1;
        }
    }
    return found;
}

/* The value of the first header called name (raw), or NULL. */
static const char *header_get(const struct sigv4_request *req, const char *name, size_t *len)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->nheaders; i++) {
        if (name_is(&req->headers[i], name, n)) {
            *len = req->headers[i].value_len;
            return req->headers[i].value;
        }
    }
    return NULL;
}

/* ---- parsing the claim ---------------------------------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool valid_amz_date(const char *s)
{
    return strlen(s) == 16 && all_digits(s, 8) && s[8] == 'T' && all_digits(s + 9, 6) &&
           s[15] == 'Z';
}

static bool copy_field(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap)
        return false;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return true;
}

/* "AKID/date/region/service/aws4_request" into auth. */
static bool parse_credential(struct sigv4_auth *a, const char *s, size_t n)
{
    const char *parts[5];
    size_t lens[5], np = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '/') {
            if (np == 5)
                return false;
            parts[np] = s + start;
            lens[np] = i - start;
            np++;
            start = i + 1;
        }
    }
    /* the access key itself may not contain '/', so exactly five parts */
    if (np != 5 || lens[0] == 0 || lens[1] != 8 || !all_digits(parts[1], 8) || lens[2] == 0 ||
        lens[3] == 0 || lens[4] != 12 || memcmp(parts[4], "aws4_request", 12) != 0)
        return false;
    return copy_field(a->access_key, sizeof a->access_key, parts[0], lens[0]) &&
           copy_field(a->date, sizeof a->date, parts[1], lens[1]) &&
           copy_field(a->region, sizeof a->region, parts[2], lens[2]) &&
           copy_field(a->service, sizeof a->service, parts[3], lens[3]);
}

static bool parse_signed_headers(struct sigv4_auth *a, const char *s, size_t n)
{
    if (n == 0 || !copy_field(a->signed_headers, sizeof a->signed_headers, s, n))
        return false;
    size_t count = 1;
    bool host = false;
    for (size_t i = 0, start = 0; i <= n; i++) {
        if (i < n && s[i] != ';') {
            char c = s[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                  c == '.'))
                return false;
            continue;
        }
        if (i == start)
            return false; /* empty name */
        host |= i - start == 4 && memcmp(s + start, "host", 4) == 0;
        if (i < n)
            count++;
        start = i + 1;
    }
    return host && count <= MAX_SIGNED;
}

static bool parse_signature(struct sigv4_auth *a, const char *s, size_t n)
{
    if (n != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (codec_hexval(s[i]) < 0 || (s[i] >= 'A' && s[i] <= 'F'))
            return false;
    return copy_field(a->signature, sizeof a->signature, s, n);
}

/* The Authorization header: "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." */
static enum sigv4_status parse_header_auth(struct sigv4_auth *a, const char *v, size_t n, char *msg,
                                           size_t msglen)
{
    size_t al = strlen(ALGORITHM);
    bool cred = false, sh = false, sig = false;
    if (n < al || memcmp(v, ALGORITHM, al) != 0 || (n > al && v[al] != ' ')) {
        set_msg(msg, msglen,
                "Unsupported AWS 'algorithm' or malformed Authorization "
                "header: only AWS4-HMAC-SHA256 is accepted.");
        return SIGV4_MALFORMED;
    }
    size_t i = al;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == ','))
            i++;
        if (i >= n)
            break;
        const char *comma = memchr(v + i, ',', n - i);
        size_t end = comma ? (size_t)(comma - v) : n;
        while (end > i && v[end - 1] == ' ')
            end--;
        const char *eq = memchr(v + i, '=', end - i);
        if (eq == NULL) {
            set_msg(msg, msglen,
                    "Authorization header requires 'Credential', "
                    "'SignedHeaders' and 'Signature' parameters.");
            return SIGV4_MALFORMED;
        }
        size_t kl = (size_t)(eq - (v + i));
        const char *val = eq + 1;
        size_t vl = (size_t)(v + end - val);
        bool ok = true;
        if (kl == 10 && memcmp(v + i, "Credential", 10) == 0 && !cred)
            ok = cred = parse_credential(a, val, vl);
        else if (kl == 13 && memcmp(v + i, "SignedHeaders", 13) == 0 && !sh)
            ok = sh = parse_signed_headers(a, val, vl);
        else if (kl == 9 && memcmp(v + i, "Signature", 9) == 0 && !sig)
            ok = sig = parse_signature(a, val, vl);
        else
            ok = false;
        if (!ok) {
            set_msg(msg, msglen, "Authorization header is malformed: invalid %.*s.", (int)kl,
                    v + i);
            return SIGV4_MALFORMED;
        }
        i = comma ? (size_t)(comma - v) + 1 : n;
    }
    if (!cred || !sh || !sig) {
        set_msg(msg, msglen,
                "Authorization header requires 'Credential', 'SignedHeaders' and "
                "'Signature' parameters.");
        return SIGV4_MALFORMED;
    }
    return SIGV4_OK;
}

/* A decoded query member into dst; false when absent or too long. */
static bool query_field(const struct sigv4_request *req, const char *key, char *dst, size_t cap)
{
    size_t n;
    const char *v = query_get(req, key, &n);
    struct buf b;
    bool ok;
    if (v == NULL)
        return false;
    buf_init(&b, cap);
    ok = put_decoded(&b, v, n) == 0 && copy_field(dst, cap, b.data ? b.data : "", b.len);
    buf_destroy(&b);
    return ok;
}

static enum sigv4_status parse_query_auth(const struct sigv4_request *req, struct sigv4_auth *a,
                                          char *msg, size_t msglen)
{
    char alg[32], cred[256], sh[1024], sig[80], exp[16];
    a->presigned = true;
    if (!query_field(req, "X-Amz-Algorithm", alg, sizeof alg) || strcmp(alg, ALGORITHM) != 0 ||
        !query_field(req, "X-Amz-Credential", cred, sizeof cred) ||
        !parse_credential(a, cred, strlen(cred)) ||
        !query_field(req, "X-Amz-SignedHeaders", sh, sizeof sh) ||
        !parse_signed_headers(a, sh, strlen(sh)) ||
        !query_field(req, "X-Amz-Signature", sig, sizeof sig) ||
        !parse_signature(a, sig, strlen(sig)) ||
        !query_field(req, "X-Amz-Date", a->amz_date, sizeof a->amz_date)) {
        set_msg(msg, msglen,
                "AWS query-string parameters must include 'X-Amz-Algorithm', "
                "'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', "
                "'X-Amz-SignedHeaders' and 'X-Amz-Expires'. Re-examine the query-"
                "string parameters.");
        return SIGV4_MALFORMED;
    }
    if (!query_field(req, "X-Amz-Expires", exp, sizeof exp) || exp[0] == '\0' || strlen(exp) > 6 ||
        !all_digits(exp, strlen(exp)) || strtol(exp, NULL, 10) > 604800) {
        set_msg(msg, msglen, "X-Amz-Expires must be a number of seconds up to 604800.");
        return SIGV4_MALFORMED;
    }
    a->expires = strtol(exp, NULL, 10);
    query_field(req, "X-Amz-Security-Token", a->token, sizeof a->token);
    return SIGV4_OK;
}

enum sigv4_status sigv4_parse(const struct sigv4_request *req, struct sigv4_auth *out, char *msg,
                              size_t msglen)
{
    size_t n;
    const char *v;
    enum sigv4_status st;
    memset(out, 0, sizeof(*out));
    if (msg != NULL && msglen > 0)
        msg[0] = '\0';
    v = header_get(req, "authorization", &n);
    if (v != NULL) {
        st = parse_header_auth(out, v, n, msg, msglen);
        if (st != SIGV4_OK)
            return st;
        v = header_get(req, "x-amz-date", &n);
        if (v == NULL || !copy_field(out->amz_date, sizeof out->amz_date, v, n)) {
            set_msg(msg, msglen,
                    "Authorization header requires existence of either a "
                    "'X-Amz-Date' or a 'Date' header.");
            return SIGV4_MALFORMED;
        }
        v = header_get(req, "x-amz-security-token", &n);
        if (v != NULL && !copy_field(out->token, sizeof out->token, v, n)) {
            set_msg(msg, msglen, "The security token included in the request is invalid.");
            return SIGV4_MALFORMED;
        }
    } else if (query_get(req, "X-Amz-Signature", &n) != NULL) {
        st = parse_query_auth(req, out, msg, msglen);
        if (st != SIGV4_OK)
            return st;
    } else {
        set_msg(msg, msglen, "Missing Authentication Token");
        return SIGV4_MISSING;
    }
    if (!valid_amz_date(out->amz_date)) {
        set_msg(msg, msglen,
                "Date must be in ISO-8601 'basic format'. Got '%.20s'. See "
                "http://en.wikipedia.org/wiki/ISO_8601",
                out->amz_date);
        return SIGV4_MALFORMED;
    }
    if (memcmp(out->amz_date, out->date, 8) != 0) {
        set_msg(msg, msglen,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                "version of date from HTTP: '%s' != '%.8s', from '%s'.",
                out->date, out->amz_date, out->amz_date);
        return SIGV4_MALFORMED;
    }
    return SIGV4_OK;
}

/* ---- building and signing ------------------------------------------------------------- */

/* The canonical request with payload_hash, or (NULL) the x-amz-content-sha256 header, else
 * the body's SHA-256. */
static int canonical_request(const struct sigv4_request *req, const struct sigv4_auth *auth,
                             bool normalize, const char *payload_hash, struct buf *out)
{
    const char *sh = auth->signed_headers;
    size_t n;
    const char *payload;
    char hex[65];

    if (buf_append(out, req->method, req->method_len) != BUF_OK ||
        buf_append(out, "\n", 1) != BUF_OK ||
        put_canonical_uri(out, req->path, req->path_len, normalize) != 0 ||
        buf_append(out, "\n", 1) != BUF_OK ||
        put_canonical_query(out, req->query, req->query_len, auth->presigned) != 0 ||
        buf_append(out, "\n", 1) != BUF_OK)
        return -1;
    /* each signed header: "name:values\n", in the order SignedHeaders lists them */
    while (*sh) {
        const char *semi = strchr(sh, ';');
        size_t len = semi ? (size_t)(semi - sh) : strlen(sh);
        if (buf_append(out, sh, len) != BUF_OK || buf_append(out, ":", 1) != BUF_OK)
            return -1;
        if (put_header_values(out, req, sh, len) < 0 || buf_append(out, "\n", 1) != BUF_OK)
            return -1;
        sh += len + (semi != NULL);
    }
    if (buf_append(out, "\n", 1) != BUF_OK || buf_puts(out, auth->signed_headers) != BUF_OK ||
        buf_append(out, "\n", 1) != BUF_OK)
        return -1;
    if (payload_hash != NULL)
        return buf_puts(out, payload_hash) == BUF_OK ? 0 : -1;
    payload = header_get(req, "x-amz-content-sha256", &n);
    if (payload != NULL)
        return buf_append(out, payload, n) == BUF_OK ? 0 : -1;
    if (req->body_len == 0)
        return buf_puts(out, EMPTY_SHA256) == BUF_OK ? 0 : -1;
    unsigned char digest[32];
    codec_sha256(req->body, req->body_len, digest);
    codec_hex(digest, 32, hex);
    return buf_append(out, hex, 64) == BUF_OK ? 0 : -1;
}

int sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_auth *auth,
                            bool normalize, struct buf *out)
{
    return canonical_request(req, auth, normalize, NULL, out);
}

int sigv4_string_to_sign(const struct sigv4_auth *auth, const char *canonical, size_t len,
                         struct buf *out)
{
    unsigned char digest[32];
    char hex[65];
    codec_sha256(canonical, len, digest);
    codec_hex(digest, 32, hex);
    return put_parts(out, ALGORITHM "\n", auth->amz_date, "\n", auth->date, "/", auth->region, "/",
                     auth->service, "/aws4_request\n", hex, (const char *)NULL);
}

/* ---- SHA-256 and HMAC ------------------------------------------------------------------- *
 * OpenSSL 3's one-shot HMAC() looks the algorithm up (a locked fetch) on every call; a
 * signature needs two digests and five HMACs, on every request of every client and the
 * daemon. The HMACs are built on codec_sha256_2 (the digest fetched once), and the signing
 * key — which changes with the day, region, service and secret only — is kept in a small
 * per-thread cache. */

/* HMAC-SHA256 (RFC 2104), keys up to 64 bytes used as they are, longer ones hashed. */
static void hmac(const void *key, size_t klen, const char *data, size_t dlen, unsigned char out[32])
{
    unsigned char k[64] = {0}, pad[64], inner[32];
    if (klen > 64)
        codec_sha256(key, klen, k);
    else
        memcpy(k, key, klen);
    for (int i = 0; i < 64; i++)
        pad[i] = (unsigned char)(k[i] ^ 0x36);
    codec_sha256_2(pad, 64, data, dlen, inner);
    for (int i = 0; i < 64; i++)
        pad[i] = (unsigned char)(k[i] ^ 0x5c);
    codec_sha256_2(pad, 64, inner, 32, out);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(pad, sizeof pad);
}

/* The signing key of (secret, date, region, service), from this thread's cache. */
enum { KEY_CACHE = 8 };
static _Thread_local struct signing_key {
    bool used;
    char secret[257], date[9], region[33], service[33];
    unsigned char key[32];
} key_cache[KEY_CACHE];
static _Thread_local unsigned key_cache_next;

static void signing_key(const char *secret, const struct sigv4_auth *auth, unsigned char out[32])
{
    for (unsigned i = 0; i < KEY_CACHE; i++) {
        struct signing_key *e = &key_cache[i];
        if (e->used && strcmp(e->date, auth->date) == 0 && strcmp(e->region, auth->region) == 0 &&
            strcmp(e->service, auth->service) == 0 && strcmp(e->secret, secret) == 0) {
            memcpy(out, e->key, 32);
            return;
        }
    }
    char k0[4 + 256];
    unsigned char k1[32], k2[32], k3[32];
    int kl = snprintf(k0, sizeof k0, "AWS4%s", secret);
    if (kl < 0 || (size_t)kl >= sizeof k0)
        kl = (int)sizeof k0 - 1;
    hmac(k0, (size_t)kl, auth->date, strlen(auth->date), k1);
    hmac(k1, 32, auth->region, strlen(auth->region), k2);
    hmac(k2, 32, auth->service, strlen(auth->service), k3);
    hmac(k3, 32, "aws4_request", 12, out);
    OPENSSL_cleanse(k0, sizeof k0);
    if (strlen(secret) < sizeof key_cache[0].secret) {
        struct signing_key *e = &key_cache[key_cache_next++ % KEY_CACHE];
        e->used = true;
        snprintf(e->secret, sizeof e->secret, "%s", secret);
        snprintf(e->date, sizeof e->date, "%s", auth->date);
        snprintf(e->region, sizeof e->region, "%s", auth->region);
        snprintf(e->service, sizeof e->service, "%s", auth->service);
        memcpy(e->key, out, 32);
    }
}

void sigv4_sign(const char *secret, const struct sigv4_auth *auth, const char *sts, size_t len,
                char out_hex[65])
{
    unsigned char key[32], sig[32];
    signing_key(secret, auth, key);
    hmac(key, 32, sts, len, sig);
    codec_hex(sig, 32, out_hex);
    OPENSSL_cleanse(key, sizeof key);
}

/*
 * The one path from a request to its signature, for the verifier and both signers:
 * canonical request (into creq) -> string to sign (into sts) -> signature (sig_hex).
 * payload_hash as canonical_request takes it. Returns 0, or -1 when a buffer is too small.
 */
static int compute_signature(const struct sigv4_request *req, const struct sigv4_auth *auth,
                             bool normalize, const char *payload_hash, const char *secret,
                             struct buf *creq, struct buf *sts, char sig_hex[65])
{
    buf_reset(creq);
    buf_reset(sts);
    if (canonical_request(req, auth, normalize, payload_hash, creq) != 0 ||
        sigv4_string_to_sign(auth, creq->data ? creq->data : "", creq->len, sts) != 0)
        return -1;
    sigv4_sign(secret, auth, sts->data, sts->len, sig_hex);
    return 0;
}

/* ---- the whole check ------------------------------------------------------------------ */

/* Epoch milliseconds of a valid YYYYMMDDTHHMMSSZ. */
static int64_t amz_date_ms(const char *s)
{
    struct tm tm = {0};
    int v[6], widths[6] = {4, 2, 2, 2, 2, 2}, offs[6] = {0, 4, 6, 9, 11, 13};
    for (int i = 0; i < 6; i++) {
        v[i] = 0;
        for (int k = 0; k < widths[i]; k++)
            v[i] = v[i] * 10 + (s[offs[i] + k] - '0');
    }
    tm.tm_year = v[0] - 1900;
    tm.tm_mon = v[1] - 1;
    tm.tm_mday = v[2];
    tm.tm_hour = v[3];
    tm.tm_min = v[4];
    tm.tm_sec = v[5];
    return (int64_t)timegm(&tm) * 1000;
}

void sigv4_format_amz_date(int64_t ms, char out[17])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    out[0] = '\0';
    if (gmtime_r(&t, &tm) == NULL || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) == 0)
        snprintf(out, 17, "?"); /* a clock past year 9999 */
}

static enum sigv4_status check_time(const struct sigv4_auth *a, int64_t now_ms, char *msg,
                                    size_t msglen)
{
    int64_t t = amz_date_ms(a->amz_date);
    char now[17], edge[17];
    sigv4_format_amz_date(now_ms, now);
    if (a->presigned) {
        if (now_ms > t + a->expires * 1000) {
            set_msg(msg, msglen, "Signature expired: %s is now earlier than %s.", a->amz_date, now);
            return SIGV4_EXPIRED;
        }
        if (t > now_ms + SKEW_MS) {
            sigv4_format_amz_date(now_ms + SKEW_MS, edge);
            set_msg(msg, msglen,
                    "Signature not yet current: %s is still later than %s (%s + 5 "
                    "min.)",
                    a->amz_date, edge, now);
            return SIGV4_EXPIRED;
        }
        return SIGV4_OK;
    }
    if (t < now_ms - SKEW_MS) {
        sigv4_format_amz_date(now_ms - SKEW_MS, edge);
        set_msg(msg, msglen, "Signature expired: %s is now earlier than %s (%s - 5 min.)",
                a->amz_date, edge, now);
        return SIGV4_EXPIRED;
    }
    if (t > now_ms + SKEW_MS) {
        sigv4_format_amz_date(now_ms + SKEW_MS, edge);
        set_msg(msg, msglen, "Signature not yet current: %s is still later than %s (%s + 5 min.)",
                a->amz_date, edge, now);
        return SIGV4_EXPIRED;
    }
    return SIGV4_OK;
}

enum sigv4_status sigv4_verify(const struct sigv4_request *req, const char *region,
                               const char *service, bool normalize, int64_t now_ms,
                               sigv4_secret_fn secret_of, void *arg, char *msg, size_t msglen)
{
    struct sigv4_auth a;
    enum sigv4_status st = sigv4_parse(req, &a, msg, msglen);
    if (st != SIGV4_OK)
        return st;
    if (region != NULL && strcmp(a.region, region) != 0) {
        set_msg(msg, msglen, "Credential should be scoped to a valid region. ");
        return SIGV4_BAD_SCOPE;
    }
    if (service != NULL && strcmp(a.service, service) != 0) {
        set_msg(msg, msglen, "Credential should be scoped to correct service: '%s'. ", service);
        return SIGV4_BAD_SCOPE;
    }
    /* every signed header must be there (host above all) */
    for (const char *sh = a.signed_headers; *sh;) {
        const char *semi = strchr(sh, ';');
        size_t len = semi ? (size_t)(semi - sh) : strlen(sh), n;
        char name[256];
        if (!copy_field(name, sizeof name, sh, len) || header_get(req, name, &n) == NULL) {
            set_msg(msg, msglen,
                    "'%.*s' is listed in SignedHeaders but is not a header of the "
                    "request.",
                    (int)len, sh);
            return SIGV4_MALFORMED;
        }
        sh += len + (semi != NULL);
    }
    st = check_time(&a, now_ms, msg, msglen);
    if (st != SIGV4_OK)
        return st;
    const char *secret = secret_of(arg, a.access_key, a.token);
    if (secret == NULL) {
        set_msg(msg, msglen, "The security token included in the request is invalid.");
        return SIGV4_UNKNOWN_KEY;
    }
    /* a presigned URL's payload is the body's hash, or UNSIGNED-PAYLOAD as some SDKs sign */
    bool match = false;
    struct buf creq, sts;
    buf_init(&creq, 1u << 20);
    buf_init(&sts, 4096);
    for (int attempt = 0; attempt < (a.presigned ? 2 : 1) && !match; attempt++) {
        char sig[65];
        if (compute_signature(req, &a, normalize, attempt ? "UNSIGNED-PAYLOAD" : NULL, secret,
                              &creq, &sts, sig) != 0) {
            buf_destroy(&creq);
            buf_destroy(&sts);
            set_msg(msg, msglen, "The request is too large to verify.");
            return SIGV4_MALFORMED;
        }
        match = CRYPTO_memcmp(sig, a.signature, 64) == 0;
    }
    if (!match) /* as AWS words it, with what it expected to help the client find why */
        set_msg(msg, msglen,
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.\n\nThe Canonical String for this request should have "
                "been\n'%.*s'\n\nThe String-to-Sign should have been\n'%.*s'\n",
                (int)creq.len, creq.data ? creq.data : "", (int)sts.len, sts.data ? sts.data : "");
    buf_destroy(&creq);
    buf_destroy(&sts);
    if (!match)
        return SIGV4_MISMATCH;
    return SIGV4_OK;
}

int sigv4_presign(const char *method, const char *host, const char *path, const char *access_key,
                  const char *secret, const char *region, const char *service, int64_t now_ms,
                  long expires, struct buf *query_out)
{
    struct sigv4_auth a;
    memset(&a, 0, sizeof a);
    sigv4_format_amz_date(now_ms, a.amz_date);
    memcpy(a.date, a.amz_date, 8);
    if (!copy_field(a.access_key, sizeof a.access_key, access_key, strlen(access_key)) ||
        !copy_field(a.region, sizeof a.region, region, strlen(region)) ||
        !copy_field(a.service, sizeof a.service, service, strlen(service)))
        return -1;
    snprintf(a.signed_headers, sizeof a.signed_headers, "host");
    a.presigned = true;
    a.expires = expires;
    size_t start = query_out->len;
    char scope[256];
    snprintf(scope, sizeof scope, "%s/%s/%s/%s/aws4_request", a.access_key, a.date, a.region,
             a.service);
    if (buf_puts(query_out, "X-Amz-Algorithm=" ALGORITHM "&X-Amz-Credential=") != BUF_OK ||
        put_encoded(query_out, scope, strlen(scope), false) != 0 ||
        buf_printf(query_out, "&X-Amz-Date=%s&X-Amz-Expires=%ld&X-Amz-SignedHeaders=host",
                   a.amz_date, expires) != BUF_OK)
        return -1;
    struct sigv4_header h = {"host", 4, host, strlen(host)};
    struct sigv4_request req = {.method = method,
                                .method_len = strlen(method),
                                .path = path,
                                .path_len = strlen(path),
                                .query = query_out->data + start,
                                .query_len = query_out->len - start,
                                .headers = &h,
                                .nheaders = 1};
    struct buf creq, sts;
    char sig[65];
    buf_init(&creq, 1u << 16);
    buf_init(&sts, 4096);
    int rc = compute_signature(&req, &a, true, NULL, secret, &creq, &sts, sig);
    if (rc == 0)
        rc = buf_printf(query_out, "&X-Amz-Signature=%s", sig) == BUF_OK ? 0 : -1;
    buf_destroy(&creq);
    buf_destroy(&sts);
    return rc;
}

/* ---- the signer's side of a signed header ----------------------------------------------- */

/* Headers SDKs never sign (botocore's SIGNED_HEADERS_BLACKLIST): proxies and clients change
 * them in flight. */
static const char *const UNSIGNED_HEADERS[] = {"authorization", "expect", "user-agent",
                                               "x-amzn-trace-id"};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "a;b;c": the lowercased names of req's headers but the unsigned ones, sorted, each once. */
static int signed_header_list(const struct sigv4_request *req, char *out, size_t cap)
{
    char names[MAX_SIGNED][128];
    const char *sorted[MAX_SIGNED];
    size_t n = 0, len = 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        const struct sigv4_header *h = &req->headers[i];
        char lower[128];
        bool skip = false;
        if (h->name_len == 0 || h->name_len >= sizeof lower)
            return -1;
        for (size_t k = 0; k < h->name_len; k++) {
            char c = h->name[k];
            lower[k] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        lower[h->name_len] = '\0';
        for (size_t k = 0; k < sizeof UNSIGNED_HEADERS / sizeof UNSIGNED_HEADERS[0]; k++)
            skip |= strcmp(lower, UNSIGNED_HEADERS[k]) == 0;
        for (size_t k = 0; k < n && !skip; k++)
            skip = strcmp(lower, names[k]) == 0;
        if (skip)
            continue;
        if (n == MAX_SIGNED)
            return -1;
        memcpy(names[n], lower, h->name_len + 1);
        sorted[n] = names[n];
        n++;
    }
    qsort(sorted, n, sizeof sorted[0], cmp_str);
    for (size_t k = 0; k < n; k++) {
        size_t l = strlen(sorted[k]);
        if (len + l + 2 > cap)
            return -1;
        if (k > 0)
            out[len++] = ';';
        memcpy(out + len, sorted[k], l);
        len += l;
    }
    if (cap == 0)
        return -1;
    out[len] = '\0';
    return n > 0 ? 0 : -1;
}

int sigv4_authorization(const struct sigv4_request *req, const char *access_key, const char *secret,
                        const char *region, const char *service, const char *amz_date,
                        bool normalize, struct buf *out)
{
    struct sigv4_auth a;
    struct buf creq, sts;
    size_t n, start = out->len;
    char sig[65];
    int rc = -1;

    memset(&a, 0, sizeof a);
    const char *date = header_get(req, "x-amz-date", &n);
    if ((date != NULL && (n != strlen(amz_date) || memcmp(date, amz_date, n) != 0)) ||
        !copy_field(a.amz_date, sizeof a.amz_date, amz_date, strlen(amz_date)) ||
        !valid_amz_date(a.amz_date) || header_get(req, "host", &n) == NULL ||
        !copy_field(a.access_key, sizeof a.access_key, access_key, strlen(access_key)) ||
        !copy_field(a.region, sizeof a.region, region, strlen(region)) ||
        !copy_field(a.service, sizeof a.service, service, strlen(service)) ||
        signed_header_list(req, a.signed_headers, sizeof a.signed_headers) != 0)
        return -1;
    memcpy(a.date, a.amz_date, 8);
    buf_init(&creq, 1u << 20);
    buf_init(&sts, 4096);
    if (buf_reserve(&creq, 1024) != BUF_OK || buf_reserve(&sts, 256) != BUF_OK)
        goto done;
    if (compute_signature(req, &a, normalize, NULL, secret, &creq, &sts, sig) != 0)
        goto done;
    if (put_parts(out, ALGORITHM " Credential=", a.access_key, "/", a.date, "/", a.region, "/",
                  a.service, "/aws4_request, SignedHeaders=", a.signed_headers, ", Signature=", sig,
                  (const char *)NULL) != 0) {
        out->len = start; /* out unchanged */
        if (out->data != NULL)
            out->data[start] = '\0';
        goto done;
    }
    rc = 0;
done:
    buf_destroy(&creq);
    buf_destroy(&sts);
    return rc;
}
