#!/usr/bin/python3
"""Generates random requests and signs them with botocore's SigV4 signer: the other half of
the differential test in tests/unit/test_aws_sigv4.c.

Each output line is one JSON object: the request exactly as it goes on the wire (method,
path, query, every header botocore sends and signs, base64 body), the key, scope and time it
was signed with, and the Authorization header botocore computed. The C signer
(sigv4_authorization) must compute the same header from the same inputs.

    /usr/bin/python3 tests/aws/sigv4_botocore.py [--count N] [--seed S]

Deterministic for a given seed. Only Debian's botocore is needed.
"""

import argparse
import base64
import datetime
import json
import random
import sys
from unittest import mock
from urllib.parse import quote, urlsplit

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"]
SERVICES = ["sqs", "dynamodb", "lambda", "logs", "events", "sts", "service", "execute-api"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1"]
HOSTS = ["127.0.0.1:4566", "localhost:4566", "sqs.eu-west-1.amazonaws.com",
         "example.amazonaws.com", "[::1]:4566", "127.0.0.1"]
# Characters a path or query may carry: unreserved, sub-delims, and some that need encoding.
TEXT = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~"
        "!$&'()*+,;=:@ /?#[]%\"<>\\^`{|}") + "\u00e9\u00fc\u4e2d\u1234\U0001f600"
HEADER_NAME = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
HEADER_VALUE = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                "!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\"")
FIXED = ["Content-Type", "X-Amz-Target", "Content-Length", "User-Agent", "Expect",
         "X-Amzn-Trace-Id", "x-amz-meta-a", "Accept"]


def text(rng, alphabet, lo, hi):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def gen_path(rng):
    if rng.random() < 0.2:
        return "/"
    segs = []
    for _ in range(rng.randint(1, 6)):
        r = rng.random()
        if r < 0.1:
            segs.append(rng.choice([".", "..", ""]))
        elif r < 0.5:
            # percent-encoded on the wire (the signer encodes it once more)
            segs.append(quote(text(rng, TEXT, 0, 8), safe="-_.~!$&'()*+,;=:@"))
        else:
            segs.append(text(rng, "abcdefghijklmnopqrstuvwxyz0123456789-_.~!$'()*+,;=:@", 1, 10))
    path = "/" + "/".join(segs)
    if rng.random() < 0.3:
        path += "/"
    return path


def gen_query(rng):
    if rng.random() < 0.3:
        return ""
    pairs = []
    keys = []
    for _ in range(rng.randint(1, 6)):
        if keys and rng.random() < 0.2:
            k = rng.choice(keys)  # a repeated key: sorted by value
        else:
            k = quote(text(rng, TEXT, 1, 8), safe="-_.~")
            keys.append(k)
        r = rng.random()
        if r < 0.1:
            pairs.append(k)  # no '='
        elif r < 0.2:
            pairs.append(k + "=")
        else:
            pairs.append(k + "=" + quote(text(rng, TEXT, 0, 12), safe="-_.~"))
    return "&".join(pairs)


def gen_headers(rng):
    headers = []
    for _ in range(rng.randint(0, 6)):
        name = rng.choice(FIXED) if rng.random() < 0.4 else text(rng, HEADER_NAME, 1, 12)
        value = text(rng, HEADER_VALUE + "  \t", 0, 24)
        if rng.random() < 0.3:
            value = " " + value + "  "
        headers.append((name, value))
    return headers


def one_case(rng, now):
    method = rng.choice(METHODS)
    host = rng.choice(HOSTS)
    scheme = rng.choice(["http", "https"])
    path = gen_path(rng)
    query = gen_query(rng)
    body = b"" if method in ("GET", "HEAD") or rng.random() < 0.2 else \
        bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
    headers = gen_headers(rng)
    key = "AKID" + text(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16, 16)
    secret = text(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40, 40)
    token = None
    if rng.random() < 0.4:
        token = text(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", 20, 300)
    region = rng.choice(REGIONS)
    service = rng.choice(SERVICES)

    url = f"{scheme}://{host}{path}" + (f"?{query}" if query else "")
    req = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        req.headers[name] = value  # HTTPHeaders appends: a repeated name is kept twice
    with mock.patch.object(botocore.auth.datetime, "datetime") as dt:
        dt.utcnow.return_value = now
        SigV4Auth(Credentials(key, secret, token), service, region).add_auth(req)

    sent = [(n, v) for n, v in req.headers.items() if n.lower() != "authorization"]
    if not any(n.lower() == "host" for n, _ in sent):
        sent.insert(0, ("Host", botocore.auth._host_from_url(url)))
    parts = urlsplit(url)
    return {
        "method": method,
        "path": parts.path,
        "query": parts.query,
        "headers": sent,
        "body": base64.b64encode(body).decode(),
        "access_key": key,
        "secret": secret,
        "region": region,
        "service": service,
        "authorization": req.headers["Authorization"],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    out = sys.stdout
    for i in range(args.count):
        now = datetime.datetime(2015, 8, 30, 12, 36, 0) + \
            datetime.timedelta(seconds=rng.randint(0, 10 * 365 * 86400))
        out.write(json.dumps(one_case(rng, now)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
