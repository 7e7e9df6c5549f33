"""The AWS SDK for JavaScript v3 (@aws-sdk/client-sqs, AWS JSON 1.0 protocol, MD5 checks on)
against a live `haar up`: js/sqs.mjs runs every SQS operation and its error paths."""
import shutil
import subprocess
from pathlib import Path

import pytest

from e2e_helpers import unique_name

JS = Path(__file__).resolve().parent / "js"


def test_js_sdk_v3_drives_sqs_over_json(haar, tmp_path):
    node = shutil.which("node")
    if node is None or not (JS / "node_modules" / "@aws-sdk" / "client-sqs").is_dir():
        pytest.skip("node or tests/e2e/js/node_modules missing (scripts/deps installs them)")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "AWS_CONFIG_FILE": str(tmp_path / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    p = subprocess.run([node, str(JS / "sqs.mjs"), haar.aws_url, unique_name("sqs")],
                       cwd=JS, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("ok "), p.stdout
    assert int(p.stdout.split()[1]) >= 40, p.stdout  # every check ran
