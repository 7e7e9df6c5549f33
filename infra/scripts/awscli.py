"""The AWS CLI, as infra/scripts/rollback and shift-traffic call it: one subprocess per
call, JSON out. (Run from the repository or a GitHub runner: `aws` on PATH, credentials in
the environment.)"""
import json
import subprocess


class AwsError(Exception):
    pass


def aws(*args, region=None):
    cmd = ["aws", *args, "--output", "json"]
    if region:
        cmd += ["--region", region]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise AwsError(f"aws {' '.join(args[:2])}: {proc.stderr.strip() or proc.returncode}")
    return json.loads(proc.stdout) if proc.stdout.strip() else {}


def published_versions(function, region=None):
    """The function's published versions, as integers, ascending ($LATEST left out)."""
    versions, marker = [], None
    while True:
        args = ["lambda", "list-versions-by-function", "--function-name", function]
        if marker:
            args += ["--marker", marker]
        page = aws(*args, region=region)
        versions += [int(v["Version"]) for v in page.get("Versions", []) if v["Version"].isdigit()]
        marker = page.get("NextMarker")
        if not marker:
            return sorted(versions)
