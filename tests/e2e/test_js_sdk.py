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


def test_js_sdk_v3_drives_versions_aliases_layers_and_urls(haar, tmp_path):
    """js/lambda2.mjs: a layer, a Node.js and a Python function importing from it, versions, an
    alias, provisioned concurrency and a function URL through @aws-sdk/client-lambda."""
    from e2e_helpers import zip_files
    node = shutil.which("node")
    if node is None or not (JS / "node_modules" / "@aws-sdk" / "client-lambda").is_dir():
        pytest.skip("node or tests/e2e/js/node_modules missing (scripts/deps installs them)")
    zips = {
        "node.zip": zip_files({"index.js": "const g = require('greeting');\n"
                                           "exports.handler = async (e) => ({greeting: g.hello(e.who)});\n"}),
        "py.zip": zip_files({"app.py": "import greeting\n"
                                       "def handler(e, c):\n"
                                       "    return {'greeting': greeting.hello(e.get('who'))}\n"}),
        "layer.zip": zip_files({
            "nodejs/node_modules/greeting/index.js": "exports.hello = (w) => 'hello ' + w;\n",
            "python/greeting.py": "def hello(w):\n    return 'hello ' + str(w)\n"}),
    }
    paths = []
    for fname, data in zips.items():
        (tmp_path / fname).write_bytes(data)
        paths.append(str(tmp_path / fname))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "AWS_CONFIG_FILE": str(tmp_path / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    p = subprocess.run([node, str(JS / "lambda2.mjs"), haar.aws_url, str(haar.api_port),
                        unique_name("js2"), *paths],
                       cwd=JS, env=env, capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith("ok "), p.stdout
    assert int(p.stdout.split()[1]) >= 14, p.stdout
