"""The AWS SDK for JavaScript v3 document client (@aws-sdk/lib-dynamodb) against a live
`haar up`: js/dynamodb.mjs creates a table with a GSI, writes JS values (sets, nested
documents, binaries, big numbers), pages through queries and parallel scans, fails
conditions, cancels a transaction, runs PartiQL and batches, checks the error paths."""
import shutil
import subprocess
from pathlib import Path

import pytest

from e2e_helpers import unique_name

JS = Path(__file__).resolve().parent / "js"


def test_js_document_client(haar, tmp_path):
    node = shutil.which("node")
    if node is None or not (JS / "node_modules" / "@aws-sdk" / "lib-dynamodb").is_dir():
        pytest.skip("node or tests/e2e/js/node_modules missing (scripts/deps installs them)")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "AWS_CONFIG_FILE": str(tmp_path / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    p = subprocess.run([node, str(JS / "dynamodb.mjs"), haar.aws_url, unique_name("js")],
                       cwd=JS, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("ok "), p.stdout
    assert int(p.stdout.split()[1]) >= 25, p.stdout
