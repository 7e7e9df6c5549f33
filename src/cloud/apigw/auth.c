/* auth.c — see auth.h. */
#include "cloud/apigw/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "core/codec.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/str.h"
#include "core/url.h"

int apigw_auth_http_status(enum apigw_auth_status st)
{
    static const int status[] = {0, 401, 403, 500};
    return (unsigned)st < 4 ? status[st] : 500;
}

const char *apigw_auth_message(enum apigw_auth_status st)
{
    static const char *const msg[] = {NULL, "Unauthorized", "Forbidden", "Internal Server Error"};
    return (unsigned)st < 4 ? msg[st] : "Internal Server Error";
}

/* ---- base64url ---- */

/* Appends the decoding of unpadded base64url text; -1 when it is not base64url. */
static int b64url_decode(const char *s, size_t len, struct buf *out)
{
    if (len % 4 == 1)
        return -1;
    struct buf tmp;
    buf_init(&tmp, len + 4);
    int rc = buf_reserve(&tmp, len + 3);
    for (size_t i = 0; rc == BUF_OK && i < len; i++) {
        char c = s[i];
        if (c == '+' || c == '/' || c == '=')
            rc = -1;
        else
            rc = buf_append(&tmp, c == '-' ? "+" : c == '_' ? "/" : &c, 1);
    }
    while (rc == BUF_OK && tmp.len % 4 != 0)
        rc = buf_append(&tmp, "=", 1);
    if (rc == BUF_OK)
        rc = codec_b64_decode(tmp.data ? tmp.data : "", tmp.len, out);
    buf_destroy(&tmp);
    return rc == BUF_OK ? 0 : -1;
}

/* ---- JWKS ---- */

enum key_kind { KEY_RSA, KEY_P256, KEY_P384 };

struct jwk {
    char *kid;
    char alg[8]; /* "" when the JWK names none */
    enum key_kind kind;
    EVP_PKEY *pkey;
};

struct apigw_jwks {
    struct jwk *keys;
    size_t n;
};

static BIGNUM *bn_of(const json_t *o, const char *name)
{
    const char *s = jsonh_str(o, name, NULL);
    if (s == NULL)
        return NULL;
    struct buf b;
    buf_init(&b, 8192);
    BIGNUM *bn = NULL;
    if (b64url_decode(s, strlen(s), &b) == 0 && b.len > 0)
        bn = BN_bin2bn((const unsigned char *)b.data, (int)b.len, NULL);
    buf_destroy(&b);
    return bn;
}

static EVP_PKEY *pkey_from(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *rsa_key(const json_t *o)
{
    BIGNUM *n = bn_of(o, "n"), *e = bn_of(o, "e");
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    if (n && e && bld && BN_num_bits(n) >= 1024 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
        pkey = pkey_from("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pkey;
}

static EVP_PKEY *ec_key(const json_t *o, enum key_kind *kind)
{
    const char *crv = jsonh_str(o, "crv", "");
    size_t clen;
    const char *group;
    if (strcmp(crv, "P-256") == 0) {
        *kind = KEY_P256;
        clen = 32;
        group = "prime256v1";
    } else if (strcmp(crv, "P-384") == 0) {
        *kind = KEY_P384;
        clen = 48;
        group = "secp384r1";
    } else {
        return NULL;
    }
    const char *x = jsonh_str(o, "x", NULL), *y = jsonh_str(o, "y", NULL);
    struct buf pt;
    buf_init(&pt, 1 + 2 * 48 + 8);
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    if (x == NULL || y == NULL || buf_append(&pt, "\x04", 1) != BUF_OK ||
        b64url_decode(x, strlen(x), &pt) != 0 || pt.len != 1 + clen ||
        b64url_decode(y, strlen(y), &pt) != 0 || pt.len != 1 + 2 * clen)
        goto out;
    bld = OSSL_PARAM_BLD_new();
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt.data, pt.len))
        pkey = pkey_from("EC", bld);
out:
    OSSL_PARAM_BLD_free(bld);
    buf_destroy(&pt);
    return pkey;
}

struct apigw_jwks *apigw_jwks_parse(const char *text, size_t len, char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    json_t *doc = jsonh_parse(text, len, err, errlen);
    json_t *keys = json_object_get(doc, "keys");
    struct apigw_jwks *k = NULL;
    if (!json_is_array(keys)) {
        if (err != NULL && errlen > 0 && doc != NULL)
            snprintf(err, errlen, "a JWKS document is an object with a \"keys\" array");
        goto out;
    }
    k = calloc(1, sizeof *k);
    if (k == NULL || (json_array_size(keys) > 0 &&
                      (k->keys = calloc(json_array_size(keys), sizeof *k->keys)) == NULL)) {
        apigw_jwks_free(k);
        k = NULL;
        goto out;
    }
    size_t i;
    json_t *o;
    json_array_foreach(keys, i, o)
    {
        const char *kty = jsonh_str(o, "kty", "");
        const char *use = jsonh_str(o, "use", "sig");
        const char *alg = jsonh_str(o, "alg", "");
        if (strcmp(use, "sig") != 0 || strlen(alg) >= sizeof k->keys[0].alg)
            continue;
        struct jwk *j = &k->keys[k->n];
        j->kind = KEY_RSA;
        if (strcmp(kty, "RSA") == 0)
            j->pkey = rsa_key(o);
        else if (strcmp(kty, "EC") == 0)
            j->pkey = ec_key(o, &j->kind);
        if (j->pkey == NULL)
            continue;
        j->kid = strdup(jsonh_str(o, "kid", ""));
        if (j->kid == NULL) {
            EVP_PKEY_free(j->pkey);
            continue;
        }
        memcpy(j->alg, alg, strlen(alg) + 1);
        k->n++;
    }
out:
    json_decref(doc);
    return k;
}

void apigw_jwks_free(struct apigw_jwks *k)
{
    if (k == NULL)
        return;
    for (size_t i = 0; i < k->n; i++) {
        free(k->keys[i].kid);
        EVP_PKEY_free(k->keys[i].pkey);
    }
    free(k->keys);
    free(k);
}

size_t apigw_jwks_count(const struct apigw_jwks *k)
{
    return k ? k->n : 0;
}

/* ---- JWT ---- */

static const struct {
    const char *alg;
    enum key_kind kind;
    size_t ec_len; /* bytes of r (and of s) for ES*, 0 for RS* */
} algs[] = {
    {"RS256", KEY_RSA, 0},   {"RS384", KEY_RSA, 0},   {"RS512", KEY_RSA, 0},
    {"ES256", KEY_P256, 32}, {"ES384", KEY_P384, 48},
};

static const EVP_MD *md_of(const char *alg)
{
    if (strcmp(alg + 2, "256") == 0)
        return EVP_sha256();
    if (strcmp(alg + 2, "384") == 0)
        return EVP_sha384();
    return EVP_sha512();
}

/* Verifies sig over data with key for alg; true when it holds. */
static bool sig_ok(const struct jwk *key, const char *alg, size_t ec_len, const char *data,
                   size_t dlen, const unsigned char *sig, size_t slen)
{
    unsigned char *der = NULL;
    int derlen = 0;
    if (ec_len > 0) {
        if (slen != 2 * ec_len)
            return false;
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(sig, (int)ec_len, NULL);
        BIGNUM *s = BN_bin2bn(sig + ec_len, (int)ec_len, NULL);
        if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
            BN_free(r);
            BN_free(s);
            ECDSA_SIG_free(es);
            return false;
        }
        derlen = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        if (derlen <= 0)
            return false;
        sig = der;
        slen = (size_t)derlen;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md != NULL && EVP_DigestVerifyInit(md, NULL, md_of(alg), NULL, key->pkey) == 1 &&
              EVP_DigestVerify(md, sig, slen, (const unsigned char *)data, dlen) == 1;
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    return ok;
}

/* A claim as a NumericDate (seconds); false when absent or not a number. */
static bool numeric(const json_t *claims, const char *name, double *out)
{
    json_t *v = json_object_get(claims, name);
    if (!json_is_number(v))
        return false;
    *out = json_number_value(v);
    return true;
}

static bool aud_ok(const json_t *claims, const struct apigw_jwt_config *cfg)
{
    json_t *aud = json_object_get(claims, "aud");
    if (aud == NULL)
        aud = json_object_get(claims, "client_id");
    for (size_t i = 0; i < cfg->naudiences; i++) {
        const char *want = cfg->audiences[i];
        if (json_is_string(aud) && strcmp(json_string_value(aud), want) == 0)
            return true;
        size_t k;
        json_t *v;
        if (json_is_array(aud))
            json_array_foreach(aud, k, v) if (json_is_string(v) &&
                                              strcmp(json_string_value(v), want) == 0) return true;
    }
    return false;
}

/* True when the token holds scope `want` (space-separated `scope`, or `scp`). */
static bool has_scope(const json_t *claims, const char *want)
{
    static const char *const names[] = {"scope", "scp"};
    size_t wl = strlen(want);
    for (size_t n = 0; n < 2; n++) {
        json_t *v = json_object_get(claims, names[n]);
        if (json_is_string(v)) {
            const char *s = json_string_value(v);
            size_t sl = json_string_length(v), i = 0;
            while (i < sl) {
                while (i < sl && s[i] == ' ')
                    i++;
                size_t st = i;
                while (i < sl && s[i] != ' ')
                    i++;
                if (i - st == wl && memcmp(s + st, want, wl) == 0)
                    return true;
            }
        } else if (json_is_array(v)) {
            size_t k;
            json_t *e;
            json_array_foreach(v, k, e) if (json_is_string(e) &&
                                            strcmp(json_string_value(e), want) == 0) return true;
        }
    }
    return false;
}

static enum apigw_auth_status refuse(struct apigw_jwt_result *res,
                                     const struct apigw_jwt_config *cfg, bool scope,
                                     const char *desc)
{
    char scopes[128] = "";
    size_t used = 0;
    for (size_t i = 0; i < cfg->nscopes && used < sizeof scopes - 1; i++) {
        int n = snprintf(scopes + used, sizeof scopes - used, "%s%s", i ? " " : "", cfg->scopes[i]);
        if (n < 0)
            break;
        used += (size_t)n;
        if (used >= sizeof scopes)
            used = sizeof scopes - 1;
    }
    snprintf(res->www_authenticate, sizeof res->www_authenticate,
             "Bearer scope=\"%s\" error=\"%s\" error_description=\"%s\"", scopes,
             scope ? "insufficient_scope" : "invalid_token", desc);
    json_decref(res->claims);
    res->claims = NULL;
    res->status = scope ? APIGW_AUTH_FORBIDDEN : APIGW_AUTH_UNAUTHORIZED;
    return res->status;
}

enum apigw_auth_status apigw_jwt_verify(const struct apigw_jwks *keys,
                                        const struct apigw_jwt_config *cfg, const char *value,
                                        size_t len, int64_t now_ms, struct apigw_jwt_result *res)
{
    memset(res, 0, sizeof *res);
    res->status = APIGW_AUTH_UNAUTHORIZED;
    while (value != NULL && len > 0 && (value[0] == ' ' || value[0] == '\t')) {
        value++;
        len--;
    }
    while (value != NULL && len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (value != NULL && len == 6 && apigw_ieq(value, 6, "Bearer", 6))
        len = 0; /* "Bearer " and nothing after it */
    if (value != NULL && len >= 7 && apigw_ieq(value, 7, "Bearer ", 7)) {
        value += 7;
        len -= 7;
        while (len > 0 && value[0] == ' ') {
            value++;
            len--;
        }
    }
    if (value == NULL || len == 0)
        return res->status; /* no token: 401, nothing to say */
    const char *d1 = memchr(value, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - value)) : NULL;
    if (d1 == NULL || d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - value)) != NULL)
        return refuse(res, cfg, false, "the token is not a JWT");
    struct buf hb, pb, sb;
    buf_init(&hb, 16384);
    buf_init(&pb, 65536);
    buf_init(&sb, 2048);
    json_t *hdr = NULL;
    const char *desc = NULL;
    if (b64url_decode(value, (size_t)(d1 - value), &hb) != 0 ||
        b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &pb) != 0 ||
        b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - value), &sb) != 0) {
        desc = "the token is not base64url";
        goto done;
    }
    hdr = jsonh_parse(hb.data ? hb.data : "", hb.len, NULL, 0);
    res->claims = jsonh_parse(pb.data ? pb.data : "", pb.len, NULL, 0);
    if (!json_is_object(hdr) || !json_is_object(res->claims)) {
        desc = "the token's header or payload is not a JSON object";
        goto done;
    }
    const char *alg = jsonh_str(hdr, "alg", "");
    const char *kid = jsonh_str(hdr, "kid", NULL);
    size_t ai = 0;
    while (ai < sizeof algs / sizeof algs[0] && strcmp(algs[ai].alg, alg) != 0)
        ai++;
    if (ai == sizeof algs / sizeof algs[0]) {
        desc = "the token's signing algorithm is not supported";
        goto done;
    }
    const struct jwk *key = NULL;
    for (size_t i = 0; kid != NULL && keys != NULL && i < keys->n; i++)
        if (strcmp(keys->keys[i].kid, kid) == 0)
            key = &keys->keys[i];
    if (key == NULL) {
        desc = "the token's kid matches no signing key";
        goto done;
    }
    if (key->kind != algs[ai].kind || (key->alg[0] && strcmp(key->alg, alg) != 0) ||
        !sig_ok(key, alg, algs[ai].ec_len, value, (size_t)(d2 - value),
                (const unsigned char *)sb.data, sb.len)) {
        desc = "the token's signature is not valid";
        goto done;
    }
    double now = (double)now_ms / 1000.0, t;
    if (cfg->issuer == NULL || strcmp(jsonh_str(res->claims, "iss", ""), cfg->issuer) != 0)
        desc = "the token does not have a valid issuer";
    else if (!aud_ok(res->claims, cfg))
        desc = "the token does not have a valid audience";
    else if (!numeric(res->claims, "exp", &t) || t + (double)cfg->skew_s <= now)
        desc = "the token has expired";
    else if (numeric(res->claims, "nbf", &t) && t - (double)cfg->skew_s > now)
        desc = "the token is not valid yet";
    else if (numeric(res->claims, "iat", &t) && t - (double)cfg->skew_s > now)
        desc = "the token was issued in the future";
done:
    buf_destroy(&hb);
    buf_destroy(&pb);
    buf_destroy(&sb);
    json_decref(hdr);
    if (desc != NULL)
        return refuse(res, cfg, false, desc);
    if (cfg->nscopes > 0) {
        bool any = false;
        for (size_t i = 0; i < cfg->nscopes && !any; i++)
            any = has_scope(res->claims, cfg->scopes[i]);
        if (!any)
            return refuse(res, cfg, true, "the token does not have a required scope");
    }
    res->status = APIGW_AUTH_ALLOW;
    return res->status;
}

void apigw_jwt_result_destroy(struct apigw_jwt_result *res)
{
    if (res == NULL)
        return;
    json_decref(res->claims);
    res->claims = NULL;
}

/* A claim as AWS passes it on: text. */
static int claim_text(const json_t *v, struct buf *out)
{
    if (json_is_string(v))
        return buf_append(out, json_string_value(v), json_string_length(v));
    if (json_is_array(v)) {
        int rc = buf_append(out, "[", 1);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (rc == BUF_OK && i > 0)
                rc = buf_append(out, " ", 1);
            if (rc == BUF_OK)
                rc = claim_text(e, out);
        }
        return rc == BUF_OK ? buf_append(out, "]", 1) : rc;
    }
    return jsonh_dump_buf(v, JSON_COMPACT | JSON_ENCODE_ANY, out);
}

int apigw_jwt_authorizer_json(const json_t *claims, bool v1, struct buf *out)
{
    struct buf tmp;
    buf_init(&tmp, 1u << 20);
    struct jsonw w;
    jw_init(&w, out);
    jw_obj(&w);
    if (!v1) {
        jw_key(&w, "jwt");
        jw_obj(&w);
    }
    jw_key(&w, "claims");
    jw_obj(&w);
    const char *k;
    json_t *v;
    int rc = BUF_OK;
    json_object_foreach((json_t *)claims, k, v)
    {
        if (rc != BUF_OK || json_is_null(v))
            continue;
        buf_reset(&tmp);
        rc = claim_text(v, &tmp);
        jw_key(&w, k);
        jw_strn(&w, tmp.data ? tmp.data : "", tmp.len);
    }
    jw_obj_end(&w);
    jw_key(&w, "scopes");
    /* the token's scopes: `scope` split on spaces, else `scp` */
    json_t *scope = json_object_get(claims, "scope");
    json_t *scp = json_object_get(claims, "scp");
    bool any = false;
    if (json_is_string(scope)) {
        const char *s = json_string_value(scope);
        size_t sl = json_string_length(scope), i = 0;
        while (i < sl) {
            while (i < sl && s[i] == ' ')
                i++;
            size_t st = i;
            while (i < sl && s[i] != ' ')
                i++;
            if (i == st)
                continue;
            if (!any)
                jw_arr(&w);
            any = true;
            jw_strn(&w, s + st, i - st);
        }
    } else if (json_is_array(scp)) {
        size_t i;
        json_t *e;
        json_array_foreach(scp, i, e)
        {
            if (!json_is_string(e))
                continue;
            if (!any)
                jw_arr(&w);
            any = true;
            jw_strn(&w, json_string_value(e), json_string_length(e));
        }
    }
    if (any)
        jw_arr_end(&w);
    else
        jw_null(&w);
    if (!v1)
        jw_obj_end(&w);
    jw_obj_end(&w);
    buf_destroy(&tmp);
    return rc != BUF_OK ? rc : jw_error(&w);
}

/* ---- identity sources ---- */

static int join_headers(const struct apigw_request *req, const char *name, size_t nl,
                        struct buf *store, bool *any)
{
    int rc = APIGW_OK;
    for (size_t i = 0; rc == APIGW_OK && i < req->nheaders; i++) {
        const struct apigw_kv *h = &req->headers[i];
        if (!apigw_ieq(h->name, h->name_len, name, nl))
            continue;
        if (*any)
            rc = buf_append(store, ",", 1);
        if (rc == APIGW_OK)
            rc = buf_append(store, h->value, h->value_len);
        *any = true;
    }
    return rc;
}

static int join_query(const struct apigw_request *req, const char *name, size_t nl,
                      struct buf *store, bool *any)
{
    const char *q = req->query ? req->query : "";
    size_t ql = req->query ? req->query_len : 0, i = 0;
    struct buf key;
    buf_init(&key, ql + 1);
    int rc = APIGW_OK;
    while (rc == APIGW_OK && i < ql) {
        const char *amp = memchr(q + i, '&', ql - i);
        size_t end = amp ? (size_t)(amp - q) : ql;
        const char *eq = memchr(q + i, '=', end - i);
        size_t kend = eq ? (size_t)(eq - q) : end;
        buf_reset(&key);
        if (url_decode_buf(q + i, kend - i, URL_PLUS_SPACE | URL_ALLOW_NUL, &key) == BUF_OK &&
            key.len == nl && memcmp(key.data, name, nl) == 0) {
            size_t mark = store->len;
            if (*any)
                rc = buf_append(store, ",", 1);
            if (rc == APIGW_OK && eq != NULL) {
                rc = url_decode_buf(eq + 1, end - kend - 1, URL_PLUS_SPACE | URL_ALLOW_NUL, store);
                if (rc == URL_EBADESCAPE) {
                    store->len = mark;
                    rc = APIGW_OK;
                    i = end + 1;
                    continue;
                }
            }
            *any = true;
        }
        i = end + 1;
    }
    buf_destroy(&key);
    return rc;
}

static const struct apigw_kv *kv_find(const struct apigw_kv *kv, size_t n, const char *name,
                                      size_t nl)
{
    for (size_t i = 0; i < n; i++)
        if (kv[i].name_len == nl && memcmp(kv[i].name, name, nl) == 0)
            return &kv[i];
    return NULL;
}

int apigw_identity_resolve(const char *const *sources, size_t nsources,
                           const struct apigw_request *req, const struct apigw_auth_vars *vars,
                           struct apigw_kv *values, struct buf *store)
{
    static const char hdr[] = "$request.header.", qs[] = "$request.querystring.",
                      ctx[] = "$context.", sv[] = "$stageVariables.";
    size_t offs[64];
    if (nsources > 64)
        return APIGW_AUTH_MISSING;
    bool missing = false;
    for (size_t i = 0; i < nsources; i++) {
        const char *s = sources[i];
        size_t start = store->len;
        bool any = false;
        int rc = APIGW_OK;
        if (strncmp(s, hdr, sizeof hdr - 1) == 0) {
            rc = join_headers(req, s + sizeof hdr - 1, strlen(s + sizeof hdr - 1), store, &any);
        } else if (strncmp(s, qs, sizeof qs - 1) == 0) {
            rc = join_query(req, s + sizeof qs - 1, strlen(s + sizeof qs - 1), store, &any);
        } else {
            const struct apigw_kv *found = NULL;
            if (vars != NULL && strncmp(s, ctx, sizeof ctx - 1) == 0)
                found = kv_find(vars->context, vars->ncontext, s + sizeof ctx - 1,
                                strlen(s + sizeof ctx - 1));
            else if (vars != NULL && strncmp(s, sv, sizeof sv - 1) == 0)
                found = kv_find(vars->stage_vars, vars->nstage_vars, s + sizeof sv - 1,
                                strlen(s + sizeof sv - 1));
            if (found != NULL) {
                any = true;
                rc = buf_append(store, found->value, found->value_len);
            }
        }
        if (rc != APIGW_OK)
            return rc;
        offs[i] = start;
        values[i].name = s;
        values[i].name_len = strlen(s);
        values[i].value_len = store->len - start;
        if (!any || values[i].value_len == 0)
            missing = true;
    }
    for (size_t i = 0; i < nsources; i++)
        values[i].value = store->data ? store->data + offs[i] : "";
    return missing ? APIGW_AUTH_MISSING : APIGW_OK;
}

/* ---- Lambda authorizer ---- */

/* 1 when a string or array-of-strings field matches s, 0 when not, -1 when malformed. */
static int field_matches(const json_t *f, const char *s)
{
    if (json_is_string(f))
        return str_glob(json_string_value(f), s);
    if (!json_is_array(f))
        return -1;
    size_t i;
    json_t *e;
    int hit = 0;
    json_array_foreach(f, i, e)
    {
        if (!json_is_string(e))
            return -1;
        hit |= str_glob(json_string_value(e), s);
    }
    return hit;
}

enum apigw_auth_status apigw_policy_evaluate(const json_t *policy, const char *route_arn)
{
    json_t *st = json_object_get(policy, "Statement");
    if (!json_is_object(policy) || st == NULL)
        return APIGW_AUTH_ERROR;
    size_t n = json_is_array(st) ? json_array_size(st) : 1;
    bool allow = false;
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_is_array(st) ? json_array_get(st, i) : st;
        const char *effect = jsonh_str(s, "Effect", NULL);
        if (!json_is_object(s) || effect == NULL ||
            (strcmp(effect, "Allow") != 0 && strcmp(effect, "Deny") != 0))
            return APIGW_AUTH_ERROR;
        int act = field_matches(json_object_get(s, "Action"), "execute-api:Invoke");
        int res = field_matches(json_object_get(s, "Resource"), route_arn);
        if (act < 0 || res < 0)
            return APIGW_AUTH_ERROR;
        if (act && res && strcmp(effect, "Deny") == 0)
            return APIGW_AUTH_FORBIDDEN;
        if (act && res)
            allow = true;
    }
    return allow ? APIGW_AUTH_ALLOW : APIGW_AUTH_FORBIDDEN;
}

enum apigw_auth_status apigw_lambda_auth_parse(const char *out, size_t len, bool simple,
                                               const char *route_arn,
                                               struct apigw_lambda_auth_result *res)
{
    memset(res, 0, sizeof *res);
    res->status = APIGW_AUTH_ERROR;
    json_t *o = jsonh_parse(out, len, NULL, 0);
    if (!json_is_object(o))
        goto out;
    json_t *ctx = json_object_get(o, "context");
    if (ctx != NULL && !json_is_null(ctx) && !json_is_object(ctx))
        goto out;
    if (simple) {
        json_t *ok = json_object_get(o, "isAuthorized");
        if (!json_is_boolean(ok))
            goto out;
        res->status = json_is_true(ok) ? APIGW_AUTH_ALLOW : APIGW_AUTH_FORBIDDEN;
    } else {
        json_t *pol = json_object_get(o, "policyDocument");
        json_t *pid = json_object_get(o, "principalId");
        if (pid != NULL && !json_is_string(pid))
            goto out;
        res->status = apigw_policy_evaluate(pol, route_arn ? route_arn : "");
        if (res->status == APIGW_AUTH_ERROR)
            goto out;
        if (pid != NULL && (res->principal_id = strdup(json_string_value(pid))) == NULL)
            res->status = APIGW_AUTH_ERROR;
        res->policy = json_incref(pol);
    }
    if (json_is_object(ctx))
        res->context = json_incref(ctx);
out:
    json_decref(o);
    return res->status;
}

void apigw_lambda_auth_result_destroy(struct apigw_lambda_auth_result *res)
{
    if (res == NULL)
        return;
    free(res->principal_id);
    json_decref(res->context);
    json_decref(res->policy);
    memset(res, 0, sizeof *res);
}

int apigw_lambda_authorizer_json(const struct apigw_lambda_auth_result *res, bool v1,
                                 struct buf *out)
{
    struct jsonw w;
    jw_init(&w, out);
    jw_obj(&w);
    if (v1) {
        const char *k;
        json_t *v;
        json_object_foreach(res->context, k, v)
        {
            jw_key(&w, k);
            jw_json(&w, v);
        }
    }
    if (res->principal_id != NULL)
        jw_kstr(&w, "principalId", res->principal_id);
    if (v1) {
        jw_kint(&w, "integrationLatency", 0);
    } else {
        jw_key(&w, "lambda");
        if (res->context != NULL) {
            jw_json(&w, res->context);
        } else {
            jw_obj(&w);
            jw_obj_end(&w);
        }
    }
    jw_obj_end(&w);
    return jw_error(&w);
}

int apigw_route_arn(const char *region, const char *account, const char *api, const char *stage,
                    const char *method, size_t method_len, const char *path, size_t path_len,
                    struct buf *out)
{
    if (path_len > 0 && path[0] == '/') {
        path++;
        path_len--;
    }
    return buf_printf(out, "arn:aws:execute-api:%s:%s:%s/%s/%.*s/%.*s", region, account, api, stage,
                      (int)method_len, method, (int)path_len, path);
}

/* ---- cache ---- */

void apigw_auth_cache_key(const char *authorizer_id, const struct apigw_kv *values, size_t n,
                          char key[65])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char h[32];
    unsigned int hl = 0;
    char lenbuf[24];
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    EVP_DigestUpdate(md, authorizer_id, strlen(authorizer_id) + 1);
    for (size_t i = 0; i < n; i++) {
        /* length-prefixed, so ("ab","c") and ("a","bc") differ */
        int ll = snprintf(lenbuf, sizeof lenbuf, "%zu:", values[i].value_len);
        EVP_DigestUpdate(md, lenbuf, (size_t)ll);
        EVP_DigestUpdate(md, values[i].value, values[i].value_len);
    }
    EVP_DigestFinal_ex(md, h, &hl);
    EVP_MD_CTX_free(md);
    codec_hex(h, 32, key);
}

struct cent {
    char key[65];
    char *val;
    size_t len;
    int64_t expires;
    bool used;
    size_t next; /* chain; SIZE_MAX ends it */
};

struct apigw_auth_cache {
    struct cent *ents;
    size_t cap, ring; /* entries used in FIFO order: ring is the next slot to take */
    size_t *buckets;
    size_t nbuckets;
};

static size_t bucket_of(const struct apigw_auth_cache *c, const char key[65])
{
    size_t h = 0;
    for (size_t i = 0; i < 16 && key[i]; i++)
        h = h * 16 + (size_t)codec_hexval(key[i]);
    return h & (c->nbuckets - 1);
}

struct apigw_auth_cache *apigw_auth_cache_new(size_t capacity)
{
    struct apigw_auth_cache *c = calloc(1, sizeof *c);
    if (c == NULL || capacity == 0)
        goto fail;
    c->cap = capacity;
    c->nbuckets = 1;
    while (c->nbuckets < capacity * 2)
        c->nbuckets *= 2;
    c->ents = calloc(capacity, sizeof *c->ents);
    c->buckets = malloc(c->nbuckets * sizeof *c->buckets);
    if (c->ents == NULL || c->buckets == NULL)
        goto fail;
    for (size_t i = 0; i < c->nbuckets; i++)
        c->buckets[i] = SIZE_MAX;
    return c;
fail:
    apigw_auth_cache_free(c);
    return NULL;
}

void apigw_auth_cache_free(struct apigw_auth_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; c->ents != NULL && i < c->cap; i++)
        free(c->ents[i].val);
    free(c->ents);
    free(c->buckets);
    free(c);
}

static void unlink_ent(struct apigw_auth_cache *c, size_t idx)
{
    size_t *p = &c->buckets[bucket_of(c, c->ents[idx].key)];
    while (*p != SIZE_MAX && *p != idx)
        p = &c->ents[*p].next;
    if (*p == idx)
        *p = c->ents[idx].next;
    free(c->ents[idx].val);
    c->ents[idx].val = NULL;
    c->ents[idx].used = false;
}

static size_t find_ent(const struct apigw_auth_cache *c, const char key[65])
{
    for (size_t i = c->buckets[bucket_of(c, key)]; i != SIZE_MAX; i = c->ents[i].next)
        if (memcmp(c->ents[i].key, key, 64) == 0)
            return i;
    return SIZE_MAX;
}

int apigw_auth_cache_put(struct apigw_auth_cache *c, const char key[65], const char *value,
                         size_t len, int ttl_s, int64_t now_ms)
{
    if (ttl_s <= 0)
        return APIGW_OK;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return APIGW_ENOMEM;
    memcpy(copy, value, len);
    copy[len] = '\0';
    size_t idx = find_ent(c, key);
    if (idx == SIZE_MAX) {
        idx = c->ring;
        c->ring = (c->ring + 1) % c->cap;
        if (c->ents[idx].used)
            unlink_ent(c, idx);
        struct cent *e = &c->ents[idx];
        memcpy(e->key, key, 64);
        e->key[64] = '\0';
        size_t b = bucket_of(c, key);
        e->next = c->buckets[b];
        c->buckets[b] = idx;
        e->used = true;
    }
    struct cent *e = &c->ents[idx];
    free(e->val);
    e->val = copy;
    e->len = len;
    e->expires = now_ms + (int64_t)ttl_s * 1000;
    return APIGW_OK;
}

const char *apigw_auth_cache_get(struct apigw_auth_cache *c, const char key[65], int64_t now_ms,
                                 size_t *len)
{
    size_t idx = find_ent(c, key);
    if (idx == SIZE_MAX)
        return NULL;
    if (now_ms >= c->ents[idx].expires) {
        unlink_ent(c, idx);
        return NULL;
    }
    if (len != NULL)
        *len = c->ents[idx].len;
    return c->ents[idx].val;
}
