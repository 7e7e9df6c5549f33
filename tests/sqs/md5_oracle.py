#!/usr/bin/env python3
"""Reference MD5s for the SQS digests, for the differential test in tests/unit/test_sqs_md5.c.

Generates random message bodies, message attribute sets (String, Number, Binary, custom
DataType labels, non-ASCII names and values) and AWSTraceHeader system attributes, and prints
one JSON object per line with the digests as an independent oracle computes them:

  - this script's own implementation of the algorithm in the Amazon SQS Developer Guide
    ("Calculating the MD5 message digest for message attributes"), and
  - when moto is importable (it is not on Debian's /usr/bin/python3, but may be on another
    interpreter), moto's Message.body_md5 / attribute_md5 as a second oracle: any
    disagreement between the two aborts the run.

botocore has no SQS MD5 checker (none of its versions validates MD5OfMessageAttributes), so
it cannot serve as the oracle; the AWS SDK for Java v2's MessageMD5ChecksumInterceptor
implements the same algorithm as the reference below.

Usage: md5_oracle.py [--seed N] [--count N] [--require-moto]
Each line: {"body", "body_md5", "attrs": {name: {"DataType", "StringValue"|"BinaryValue"}},
            "attrs_md5", "select": [...], "selected_md5" (or null), "sys": {...} | null,
            "sys_md5" (or null)}
"""
import argparse
import base64
import hashlib
import json
import random
import struct
import sys


def ref_attrs_md5(attrs):
    """attrs: {name: (data_type, transport(1|2), value_bytes)} -> hex or None when empty."""
    if not attrs:
        return None
    h = hashlib.md5()
    for name in sorted(attrs, key=lambda n: n.encode("utf-8")):
        data_type, transport, value = attrs[name]
        for part in (name.encode("utf-8"), data_type.encode("utf-8")):
            h.update(struct.pack(">I", len(part)))
            h.update(part)
        h.update(bytes([transport]))
        h.update(struct.pack(">I", len(value)))
        h.update(value)
    return h.hexdigest()


def moto_md5s(body, wire_attrs):
    try:
        from moto.sqs.models import Message
    except Exception:
        return None
    # moto's own name rule is narrower than AWS's (no Latin letters): use its digest only
    Message.validate_attribute_name = staticmethod(lambda name: None)
    m = Message("id", body)
    attrs = {}
    for name, v in wire_attrs.items():
        if "BinaryValue" in v:
            attrs[name] = {"DataType": v["DataType"],
                           "BinaryValue": base64.b64decode(v["BinaryValue"])}
        else:
            attrs[name] = {"DataType": v["DataType"], "StringValue": v["StringValue"]}
    m.message_attributes = attrs
    return m.body_md5, (m.attribute_md5 if attrs else None)


NAME_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
LATIN = [chr(c) for c in range(0xC0, 0x180)]


def rand_text(rng, lo, hi):
    """Message-body characters, from every allowed range."""
    out = []
    for _ in range(rng.randint(lo, hi)):
        r = rng.random()
        if r < 0.6:
            out.append(chr(rng.randint(0x20, 0x7E)))
        elif r < 0.65:
            out.append(rng.choice("\t\n\r"))
        elif r < 0.8:
            out.append(chr(rng.randint(0xA0, 0xD7FF)))
        elif r < 0.9:
            out.append(chr(rng.randint(0xE000, 0xFFFD)))
        else:
            out.append(chr(rng.randint(0x10000, 0x10FFFF)))
    return "".join(out)


def rand_name(rng, taken):
    while True:
        n = rng.randint(1, 40)
        chars = [rng.choice(NAME_CHARS) if rng.random() < 0.9 else rng.choice(LATIN)
                 for _ in range(n)]
        # periods allowed inside, never first, last or doubled
        for i in range(1, n - 1):
            if rng.random() < 0.08 and chars[i - 1] != ".":
                chars[i] = "."
        name = "".join(chars)
        if name.endswith(".") or ".." in name:
            continue
        low = name.lower()
        if low.startswith("aws.") or low.startswith("amazon."):
            continue
        if name not in taken:
            return name


def rand_number(rng):
    forms = [
        lambda: str(rng.randint(-10**12, 10**12)),
        lambda: "%d.%d" % (rng.randint(-999, 999), rng.randint(0, 99999)),
        lambda: "%de%d" % (rng.randint(1, 9), rng.randint(-100, 100)),
        lambda: "0." + "0" * rng.randint(0, 5) + str(rng.randint(1, 10**9)),
        lambda: "+" + str(rng.randint(0, 10**6)),
        lambda: "1" * rng.randint(1, 38),
    ]
    return rng.choice(forms)()


def rand_attr(rng):
    kind = rng.choice(["String", "Number", "Binary"])
    label = ""
    if rng.random() < 0.4:
        label = "." + rng.choice(["int", "float", "gif", "png", "x", "custom-type",
                                  rand_text(rng, 1, 12)])
    data_type = kind + label
    if kind == "Binary":
        raw = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))
        return {"DataType": data_type, "BinaryValue": base64.b64encode(raw).decode()}, \
            (data_type, 2, raw)
    value = rand_number(rng) if kind == "Number" else rand_text(rng, 1, 60)
    return {"DataType": data_type, "StringValue": value}, (data_type, 1, value.encode("utf-8"))


def rand_selection(rng, names):
    choices = []
    for _ in range(rng.randint(0, 3)):
        r = rng.random()
        if r < 0.1:
            choices.append(rng.choice(["All", ".*", "*"]))
        elif r < 0.5 and names:
            choices.append(rng.choice(names))
        elif r < 0.8 and names:
            n = rng.choice(names)
            choices.append(n[: rng.randint(0, len(n))] + ".*")
        else:
            choices.append(rng.choice(["AWS.", "..foo", "missing", "Help"]))
    return choices


def selected(names, selection):
    out = set()
    for s in selection:
        if s in ("All", ".*", "*"):
            return set(names)
        if s.endswith(".*"):
            out |= {n for n in names if n.startswith(s[:-2])}
        elif s in names:
            out.add(s)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--require-moto", action="store_true")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    checked_by_moto = 0
    for _ in range(args.count):
        body = rand_text(rng, 1, 200)
        wire, ref = {}, {}
        for _ in range(rng.randint(0, 10)):
            name = rand_name(rng, wire)
            wire[name], ref[name] = rand_attr(rng)
        body_md5 = hashlib.md5(body.encode("utf-8")).hexdigest()
        attrs_md5 = ref_attrs_md5(ref)
        other = moto_md5s(body, wire)
        if other is not None:
            checked_by_moto += 1
            if other != (body_md5, attrs_md5):
                sys.exit("oracles disagree: %r vs %r for %r" % (other, (body_md5, attrs_md5), wire))
        selection = rand_selection(rng, list(wire))
        sel = selected(list(wire), selection)
        sys_attrs, sys_md5 = None, None
        if rng.random() < 0.3:
            trace = "Root=1-%08x-%024x;Parent=%016x;Sampled=%d" % (
                rng.getrandbits(32), rng.getrandbits(96), rng.getrandbits(64), rng.randint(0, 1))
            sys_attrs = {"AWSTraceHeader": {"DataType": "String", "StringValue": trace}}
            sys_md5 = ref_attrs_md5({"AWSTraceHeader": ("String", 1, trace.encode())})
        print(json.dumps({
            "body": body, "body_md5": body_md5, "attrs": wire, "attrs_md5": attrs_md5,
            "select": selection,
            "selected_md5": ref_attrs_md5({n: ref[n] for n in sel}),
            "sys": sys_attrs, "sys_md5": sys_md5,
        }, ensure_ascii=False))
    if args.require_moto and checked_by_moto != args.count:
        sys.exit("moto is not importable here")
    print("oracle: %d sets, %d also checked against moto" % (args.count, checked_by_moto),
          file=sys.stderr)


if __name__ == "__main__":
    main()
