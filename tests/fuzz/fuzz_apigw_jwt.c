/*
 * fuzz_apigw_jwt.c — the JWT authorizer (auth.c) on arbitrary tokens, plus the JWKS parser and
 * the Lambda authorizer's answer parser.
 *
 * Input: the first byte holds flags: bit 0 prefixes "Bearer ", bit 1 parses the rest as a
 * JWKS document instead, bit 2 parses it as a Lambda authorizer's simple answer, bit 3 as an
 * IAM policy answer; bits 4-5 pick a clock offset. Otherwise the rest is a token verified
 * against tests/data/apigw/jwt/jwks.json (embedded below) with two audiences and a scope.
 * Statuses must be in range, the www-authenticate text terminated, and an allowed token must
 * have claims that the authorizer JSON writer turns into valid JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/apigw/auth.h"

static const char jwks_json[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"rsa1\",\"use\":\"sig\",\"alg\":\"RS256\",\"n\":\"kZ8Lnoi8h3eU1EBe9EUZHQwR"
    "DFq1F9I45_XOdh9MwraOhKzNqOAMHoXgrYmF_TTVUbC963rhDb2e_X-pDdcTUdZL9BnVM4QPbrYhWyRPCfsddBqpr3"
    "jtQQaq-qWervuqPLTKOOP1Id57A7TiHdr2_-s1zWXAQaZeM0MckObTxUgOS5KF3E_LaZSet0LGvXVWZQbU2MqHELFG"
    "fs2bzNy9S-oH-P5fGx07TLMAYuSXtqOgdl8RUbixf-JLOpSllLAXFBjdX1HtmDgAFTB3rwXQce5EW-oPjlOOiQVG3Y"
    "GR7swKbXkbKJReIQ_3ontoMCJrcRnH0mvbtLgi6vPqOehFCw\",\"e\":\"AQAB\"},{\"kty\":\"EC\",\"kid\":\"ec256\",\"u"
    "se\":\"sig\",\"crv\":\"P-256\",\"x\":\"isdHgq2k0bUZur0uyJG6RmnLjWHYPe1K3v5N6ORLBZA\",\"y\":\"yppAFRkW5LO"
    "Liv6ObhP7vCwEBVCC8VHpmGCLhkHgoks\"},{\"kty\":\"EC\",\"kid\":\"ec384\",\"use\":\"sig\",\"crv\":\"P-384\",\"x\""
    ":\"cDBJAhhR5JAF2Wm4SQBGS78mjKQz2FvpPOfgQNqkF6geAiRVZ9swWhs7wXsCKlHg\",\"y\":\"nRJTONvBBPEt34yHu"
    "bOYLQn640XFzpSmLbuonPUfKxrjRXspgkakIOhhz0rAnDMY\"},{\"kty\":\"oct\",\"kid\":\"sym\",\"k\":\"c2VjcmV0\"}"
    ",{\"kty\":\"RSA\",\"kid\":\"rsa-any\",\"use\":\"sig\",\"n\":\"kZ8Lnoi8h3eU1EBe9EUZHQwRDFq1F9I45_XOdh9Mwra"
    "OhKzNqOAMHoXgrYmF_TTVUbC963rhDb2e_X-pDdcTUdZL9BnVM4QPbrYhWyRPCfsddBqpr3jtQQaq-qWervuqPLTKO"
    "OP1Id57A7TiHdr2_-s1zWXAQaZeM0MckObTxUgOS5KF3E_LaZSet0LGvXVWZQbU2MqHELFGfs2bzNy9S-oH-P5fGx0"
    "7TLMAYuSXtqOgdl8RUbixf-JLOpSllLAXFBjdX1HtmDgAFTB3rwXQce5EW-oPjlOOiQVG3YGR7swKbXkbKJReIQ_3o"
    "ntoMCJrcRnH0mvbtLgi6vPqOehFCw\",\"e\":\"AQAB\"}]}";

static struct apigw_jwks *keys;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (keys == NULL && (keys = apigw_jwks_parse(jwks_json, sizeof jwks_json - 1, NULL, 0)) == NULL)
        abort();
    if (size == 0)
        return 0;
    unsigned flags = data[0];
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    if (flags & 2) {
        char err[128];
        struct apigw_jwks *k = apigw_jwks_parse(in, len, err, sizeof err);
        if (k == NULL && memchr(err, 0, sizeof err) == NULL)
            abort();
        apigw_jwks_free(k);
        return 0;
    }
    if (flags & 12) {
        struct apigw_lambda_auth_result res;
        enum apigw_auth_status st = apigw_lambda_auth_parse(
            in, len, (flags & 4) != 0, "arn:aws:execute-api:us-east-1:0:api/$default/GET/x", &res);
        if ((unsigned)st > APIGW_AUTH_ERROR)
            abort();
        struct buf out;
        buf_init(&out, 1u << 22);
        if (st != APIGW_AUTH_ERROR && apigw_lambda_authorizer_json(&res, (flags & 16) != 0, &out) == 0) {
            json_t *j = json_loadb(out.data, out.len, 0, NULL);
            if (!json_is_object(j))
                abort();
            json_decref(j);
        }
        buf_destroy(&out);
        apigw_lambda_auth_result_destroy(&res);
        return 0;
    }
    char tok[8192];
    size_t tl = 0;
    if (flags & 1) {
        memcpy(tok, "Bearer ", 7);
        tl = 7;
    }
    if (len > sizeof tok - tl)
        len = sizeof tok - tl;
    memcpy(tok + tl, in, len);
    tl += len;
    static const char *const auds[] = {"api-client", "other"};
    static const char *const scopes[] = {"write"};
    struct apigw_jwt_config cfg = {"https://issuer.example", auds, 2, scopes, (flags >> 6) & 1,
                                   (int64_t)((flags >> 4) & 3) * 60};
    static const int64_t now[2] = {1700000000000LL, 4102444800000LL};
    struct apigw_jwt_result res;
    enum apigw_auth_status st = apigw_jwt_verify(keys, &cfg, tok, tl, now[(flags >> 7) & 1], &res);
    if ((unsigned)st > APIGW_AUTH_ERROR || st == APIGW_AUTH_ERROR ||
        memchr(res.www_authenticate, 0, sizeof res.www_authenticate) == NULL)
        abort();
    if (st == APIGW_AUTH_ALLOW) {
        struct buf out;
        buf_init(&out, 1u << 22);
        if (res.claims == NULL || apigw_jwt_authorizer_json(res.claims, false, &out) != 0)
            abort();
        json_t *j = json_loadb(out.data, out.len, 0, NULL);
        if (!json_is_object(j))
            abort();
        json_decref(j);
        buf_destroy(&out);
    }
    apigw_jwt_result_destroy(&res);
    return 0;
}
