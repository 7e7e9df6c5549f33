"""The AWS SDK for JavaScript v3 against a live `haar up`: js/lambda.mjs creates, waits for,
lists, invokes (RequestResponse with Tail, Event, DryRun), updates, errors, reads logs and
deletes a function through @aws-sdk/client-lambda and @aws-sdk/client-cloudwatch-logs."""
import shutil
import subprocess
from pathlib import Path

import pytest

from e2e_helpers import make_zip, unique_name

JS = Path(__file__).resolve().parent / "js"


def test_js_sdk_v3_drives_the_lambda_api(haar, tmp_path):
    node = shutil.which("node")
    if node is None or not (JS / "node_modules" / "@aws-sdk" / "client-lambda").is_dir():
        pytest.skip("node or tests/e2e/js/node_modules missing (scripts/deps installs them)")
    zips = []
    for fixture in ("echo", "handler_error", "env"):
        p = tmp_path / f"{fixture}.zip"
        p.write_bytes(make_zip(fixture))
        zips.append(str(p))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "AWS_CONFIG_FILE": str(tmp_path / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    p = subprocess.run([node, str(JS / "lambda.mjs"), haar.aws_url, unique_name("js"), *zips],
                       cwd=JS, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("ok "), p.stdout
    assert int(p.stdout.split()[1]) >= 30, p.stdout  # every check ran
