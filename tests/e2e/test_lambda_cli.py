"""The Lambda function lifecycle through Debian's AWS CLI v2 (create, list, get, invoke,
update code and configuration, delete), as a user would drive it."""

import json
import re
import time

import pytest

from e2e_helpers import (ENV_FUNCTIONS, ROLE, RUNTIME, WORKER_ANSWER, code_sha256, function_arn,
                         invoke, make_zip, not_found_message, unique_name, wait_active)

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def cli_fn(aws, lam, tmp_path_factory):
    """A function created with `aws lambda create-function ... --zip-file fileb://...`."""
    d = tmp_path_factory.mktemp("cli")
    code = make_zip("echo")
    (d / "fn.zip").write_bytes(code)
    name = unique_name("cli")
    out = aws.json("lambda", "create-function", "--function-name", name, "--runtime", RUNTIME,
                   "--role", ROLE, "--handler", "bootstrap", "--zip-file", f"fileb://{d / 'fn.zip'}",
                   "--description", "e2e via the AWS CLI")
    wait_active(lam, name)
    yield {"name": name, "out": out, "zip": code, "dir": d}
    try:
        lam.delete_function(FunctionName=name)
    except Exception:
        pass


def test_create_function_returns_its_configuration(cli_fn):
    out, name, code = cli_fn["out"], cli_fn["name"], cli_fn["zip"]
    assert out["FunctionName"] == name
    assert out["FunctionArn"] == function_arn(name)
    assert out["Runtime"] == RUNTIME
    assert out["Role"] == ROLE
    assert out["Handler"] == "bootstrap"
    assert out["Description"] == "e2e via the AWS CLI"
    assert out["Timeout"] == 3  # AWS default
    assert out["MemorySize"] == 128  # AWS default
    assert out["Version"] == "$LATEST"
    assert out["PackageType"] == "Zip"
    assert out["CodeSize"] == len(code)
    assert out["CodeSha256"] == code_sha256(code)
    assert out["State"] in ("Pending", "Active")


def test_list_functions_shows_created_and_environment_functions(aws, cli_fn):
    out = aws.json("lambda", "list-functions")
    names = [f["FunctionName"] for f in out["Functions"]]
    assert cli_fn["name"] in names
    for env_fn in ENV_FUNCTIONS:
        assert env_fn in names
    mine = next(f for f in out["Functions"] if f["FunctionName"] == cli_fn["name"])
    assert mine["FunctionArn"] == function_arn(cli_fn["name"])
    assert mine["Runtime"] == RUNTIME


def test_get_function_returns_configuration_and_code_location(aws, cli_fn):
    out = aws.json("lambda", "get-function", "--function-name", cli_fn["name"])
    cfg = out["Configuration"]
    assert cfg["FunctionName"] == cli_fn["name"]
    assert cfg["State"] == "Active"
    assert cfg["CodeSha256"] == code_sha256(cli_fn["zip"])
    assert out["Code"]["RepositoryType"] == "S3"
    assert out["Code"]["Location"].startswith("http")


def test_cli_invoke_writes_echoed_payload_to_outfile(aws, cli_fn):
    d = cli_fn["dir"]
    payload = {"hello": "world", "n": [1, 2, 3], "nested": {"ok": True}}
    (d / "payload.json").write_text(json.dumps(payload))
    out = aws.json("lambda", "invoke", "--function-name", cli_fn["name"],
                   "--payload", f"fileb://{d / 'payload.json'}", str(d / "out.json"))
    assert out == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    assert (d / "out.json").read_bytes() == (d / "payload.json").read_bytes()


def test_cli_update_function_code_takes_effect_on_next_invoke(aws, lam, make_function, tmp_path):
    name = make_function("echo", prefix="cli-code")
    assert invoke(lam, name, {"before": 1})[2] == b'{"before": 1}'  # a warm echo environment
    (tmp_path / "worker.zip").write_bytes(make_zip("worker"))
    out = aws.json("lambda", "update-function-code", "--function-name", name,
                   "--zip-file", f"fileb://{tmp_path / 'worker.zip'}")
    assert out["CodeSha256"] == code_sha256(make_zip("worker"))
    assert out["CodeSize"] == len(make_zip("worker"))
    wait_active(lam, name)
    status, _, body, ferr = invoke(lam, name, {"echo": "no more"})
    assert (status, ferr) == (200, None)
    result = json.loads(body)
    assert set(result) == WORKER_ANSWER  # the worker answered
    assert result["count"] == 1


def test_cli_update_function_configuration_visible_to_next_invoke(aws, lam, make_function):
    name = make_function("env", prefix="cli-cfg")
    before = json.loads(invoke(lam, name, {})[2])  # a warm environment with the old settings
    assert before["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    out = aws.json("lambda", "update-function-configuration", "--function-name", name,
                   "--timeout", "7", "--memory-size", "256",
                   "--environment", "Variables={GREETING=hello,SECOND=two}")
    assert out["Timeout"] == 7
    assert out["MemorySize"] == 256
    assert out["Environment"] == {"Variables": {"GREETING": "hello", "SECOND": "two"}}
    wait_active(lam, name)
    cfg = lam.get_function_configuration(FunctionName=name)
    assert (cfg["Timeout"], cfg["MemorySize"]) == (7, 256)

    r = lam.invoke(FunctionName=name, Payload=b"{}")
    seen = json.loads(r["Payload"].read())
    env = seen["env"]
    assert env["GREETING"] == "hello"
    assert env["SECOND"] == "two"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert seen["pid"] != before["pid"], "configuration changes need a fresh environment"
    # The deadline handed to the runtime reflects the new 7 s timeout.
    remaining_ms = int(seen["headers"]["lambda-runtime-deadline-ms"]) - int(time.time() * 1000)
    assert 4000 < remaining_ms <= 7000, remaining_ms


def test_cli_delete_function_then_invoke_is_404(aws, lam, tmp_path):
    name = unique_name("cli-del")
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                        Code={"ZipFile": make_zip("echo")})
    wait_active(lam, name)
    p = aws.run("lambda", "delete-function", "--function-name", name)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == ""

    p = aws.run("lambda", "invoke", "--function-name", name, str(tmp_path / "out.json"))
    assert p.returncode == 254, (p.returncode, p.stderr)
    assert "(ResourceNotFoundException)" in p.stderr
    assert not_found_message(name) in p.stderr
    assert not (tmp_path / "out.json").exists() or (tmp_path / "out.json").read_bytes() == b""


def test_cli_put_function_concurrency(aws, lam, make_function):
    name = make_function("echo", prefix="cli-conc")
    out = aws.json("lambda", "put-function-concurrency", "--function-name", name,
                   "--reserved-concurrent-executions", "3")
    assert out == {"ReservedConcurrentExecutions": 3}
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 3
    lam.delete_function_concurrency(FunctionName=name)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)


def test_invoke_response_headers(lam, cli_fn):
    status, headers, body, ferr = invoke(lam, cli_fn["name"], {"k": "v"})
    assert (status, ferr) == (200, None)
    assert headers["x-amz-executed-version"] == "$LATEST"
    assert UUID_RE.match(headers["x-amzn-requestid"]), headers
    assert "x-amz-function-error" not in headers
    assert json.loads(body) == {"k": "v"}


def test_list_functions_paginates_with_marker(lam, make_function):
    mine = {make_function("echo", prefix="page", wait=False) for _ in range(3)}
    seen, marker, pages = [], None, 0
    while True:
        kwargs = {"MaxItems": 2}
        if marker:
            kwargs["Marker"] = marker
        r = lam.list_functions(**kwargs)
        pages += 1
        assert len(r["Functions"]) <= 2
        seen += [f["FunctionName"] for f in r["Functions"]]
        marker = r.get("NextMarker")
        if not marker:
            break
        assert pages < 100
    assert len(seen) == len(set(seen)), "a function appeared on two pages"
    assert mine <= set(seen)
    assert pages >= 3
