#!/usr/bin/env bash
# Regenerates the JWT fixtures of tests/unit/test_apigw_auth.c and the fuzz seeds: keys made
# with the openssl CLI, a JWKS document (jwks.json) of their public parts, and tokens signed
# with `openssl dgst -sign` (tokens.json). Run from anywhere; the outputs are committed, so the
# tests need neither this script nor openssl. Times: valid tokens expire in 2100, the expired
# one in 2001; the tests verify at 2023-11-14T22:13:20Z (1700000000 s).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsa.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/other.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/p256.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$tmp/p384.pem" 2>/dev/null
for k in rsa p256 p384; do openssl pkey -in "$tmp/$k.pem" -pubout -outform DER -out "$tmp/$k.der"; done
/usr/bin/python3 - "$tmp" <<'PY'
import base64, json, subprocess, sys
tmp = sys.argv[1]

def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def text(k):
    return subprocess.run(["openssl", "pkey", "-in", f"{tmp}/{k}.pem", "-text_pub", "-noout"],
                          check=True, capture_output=True, text=True).stdout

def hexblock(t, start):
    lines, on = [], False
    for line in t.splitlines():
        if line.strip().startswith(start):
            on = True
            continue
        if on:
            if line.startswith("    "):
                lines.append(line.strip())
            else:
                break
    return bytes.fromhex("".join(lines).replace(":", ""))

def rsa_jwk(k, kid):
    t = text(k)
    n = hexblock(t, "Modulus:").lstrip(b"\x00")
    e = int([l for l in t.splitlines() if l.startswith("Exponent:")][0].split()[1])
    return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64u(n),
            "e": b64u(e.to_bytes((e.bit_length() + 7) // 8, "big"))}

def ec_jwk(k, kid, crv, size):
    pub = hexblock(text(k), "pub:")
    assert pub[0] == 4 and len(pub) == 1 + 2 * size
    return {"kty": "EC", "kid": kid, "use": "sig", "crv": crv,
            "x": b64u(pub[1:1 + size]), "y": b64u(pub[1 + size:])}

jwks = {"keys": [rsa_jwk("rsa", "rsa1"), ec_jwk("p256", "ec256", "P-256", 32),
                 ec_jwk("p384", "ec384", "P-384", 48),
                 {"kty": "oct", "kid": "sym", "k": "c2VjcmV0"}]}
rsa_any = dict(rsa_jwk("rsa", "rsa-any")); del rsa_any["alg"]
jwks["keys"].append(rsa_any)
open("jwks.json", "w").write(json.dumps(jwks, indent=1) + "\n")

def der_to_raw(der, size):
    # SEQUENCE { INTEGER r, INTEGER s }
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7f)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        l = der[i + 1]
        v = der[i + 2:i + 2 + l].lstrip(b"\x00")
        out += v.rjust(size, b"\x00")
        i += 2 + l
    return out

def sign(key, alg, header, claims):
    h = b64u(json.dumps(header, separators=(",", ":")).encode())
    p = b64u(json.dumps(claims, separators=(",", ":")).encode())
    data = f"{h}.{p}".encode()
    md = {"256": "-sha256", "384": "-sha384", "512": "-sha512"}[alg[2:]]
    sig = subprocess.run(["openssl", "dgst", md, "-sign", f"{tmp}/{key}.pem"], input=data,
                         check=True, capture_output=True).stdout
    if alg.startswith("ES"):
        sig = der_to_raw(sig, 32 if alg == "ES256" else 48)
    return f"{h}.{p}.{b64u(sig)}"

ISS = "https://issuer.example"
base = {"iss": ISS, "aud": "api-client", "sub": "user-1", "exp": 4102444800, "iat": 1600000000,
        "scope": "read write", "groups": ["admin", "dev"], "n": 7}
def with_(**kw):
    c = dict(base); c.update(kw)
    return {k: v for k, v in c.items() if v is not None}
cases = [
    ("rs256 valid", "allow", sign("rsa", "RS256", {"alg": "RS256", "kid": "rsa1", "typ": "JWT"}, base)),
    ("rs384 valid (key without alg)", "allow", sign("rsa", "RS384", {"alg": "RS384", "kid": "rsa-any"}, base)),
    ("rs512 valid (key without alg)", "allow", sign("rsa", "RS512", {"alg": "RS512", "kid": "rsa-any"}, base)),
    ("rs384 against a key whose alg is RS256", "unauthorized", sign("rsa", "RS384", {"alg": "RS384", "kid": "rsa1"}, base)),
    ("es256 valid", "allow", sign("p256", "ES256", {"alg": "ES256", "kid": "ec256"}, base)),
    ("es384 valid", "allow", sign("p384", "ES384", {"alg": "ES384", "kid": "ec384"}, base)),
    ("aud as an array", "allow", sign("rsa", "RS256", {"alg": "RS256", "kid": "rsa1"}, with_(aud=["x", "api-client"]))),
    ("client_id when aud is absent", "allow", sign("rsa", "RS256", {"alg": "RS256", "kid": "rsa1"}, with_(aud=None, client_id="api-client"))),
    ("expired", "unauthorized", sign("rsa", "RS256", {"alg": "RS256", "kid": "rsa1"}, with_(exp=1000000000))),
    ("no exp", "unauthorized", sign("rsa", "RS256", {"alg": "RS256", "kid": "rsa1"}, with_(exp=None))),
    ("nbf in the future", "unauthorized", sign("rsa", "RS256", {"alg": "RS256", "kid": "rsa1"}, with_(nbf=4000000000))),
    ("iat in the future", "unauthorized", sign("rsa", "RS256", {"alg": "RS256", "kid": "rsa1"}, with_(iat=4000000000))),
    ("wrong audience", "unauthorized", sign("rsa", "RS256", {"alg": "RS256", "kid": "rsa1"}, with_(aud="someone-else"))),
    ("wrong issuer", "unauthorized", sign("rsa", "RS256", {"alg": "RS256", "kid": "rsa1"}, with_(iss="https://evil.example"))),
    ("signed by another key", "unauthorized", sign("other", "RS256", {"alg": "RS256", "kid": "rsa1"}, base)),
    ("unknown kid", "unauthorized", sign("rsa", "RS256", {"alg": "RS256", "kid": "nope"}, base)),
    ("no kid", "unauthorized", sign("rsa", "RS256", {"alg": "RS256"}, base)),
    ("es256 token naming the RSA key", "unauthorized", sign("p256", "ES256", {"alg": "ES256", "kid": "rsa1"}, base)),
    ("scope missing from the token", "forbidden", sign("rsa", "RS256", {"alg": "RS256", "kid": "rsa1"}, with_(scope="other"))),
    ("scp array holds the scope", "allow", sign("rsa", "RS256", {"alg": "RS256", "kid": "rsa1"}, with_(scope=None, scp=["x", "write"]))),
]
good = cases[0][2]
h, p, s = good.split(".")
bad_sig = s[:-4] + ("AAAA" if s[-4:] != "AAAA" else "BBBB")
cases += [
    ("bad signature", "unauthorized", f"{h}.{p}.{bad_sig}"),
    ("alg none", "unauthorized", b64u(b'{"alg":"none","kid":"rsa1"}') + "." + p + "."),
    ("HS256 with the symmetric key", "unauthorized", b64u(b'{"alg":"HS256","kid":"sym"}') + "." + p + ".c2ln"),
    ("two parts", "unauthorized", f"{h}.{p}"),
    ("padding is not base64url", "unauthorized", f"{h}=.{p}.{s}"),
    ("payload tampered", "unauthorized", f"{h}.{b64u(json.dumps(with_(sub='admin')).encode())}.{s}"),
]
out = [{"name": n, "expect": e, "token": t} for n, e, t in cases]
open("tokens.json", "w").write(json.dumps({"issuer": ISS, "audience": "api-client", "scopes": ["write", "admin"],
                                           "now_ms": 1700000000000, "cases": out}, indent=1) + "\n")
PY
echo "fixtures written"
