"""The environment's own functions and the haar CLI verbs against the live daemon:
the built-in api function answering an API Gateway v2 event, `haar invoke`, `haar status`,
and GET /_haar/health (with curl)."""

import json
import subprocess
import time

from e2e_helpers import ENV_FUNCTIONS, HAAR, free_port, invoke, run_haar


def health_event(path="/health", method="GET"):
    """An API Gateway HTTP API payload 2.0 request event (AWS-CONTRACTS.md §2)."""
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"accept": "application/json", "host": "127.0.0.1", "user-agent": "e2e"},
        "requestContext": {
            "accountId": "000000000000", "apiId": "haar", "domainName": "127.0.0.1",
            "domainPrefix": "127", "requestId": "e2e-health-1", "routeKey": "$default",
            "stage": "$default",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "e2e"},
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }


def test_env_functions_exist_with_configured_settings(lam):
    expected = {"haar-dev-api": (256, 10), "haar-dev-worker": (256, 30),
                "haar-dev-producer": (128, 30)}  # infra/envs/dev/terraform.tfvars.json
    for name in ENV_FUNCTIONS:
        cfg = lam.get_function_configuration(FunctionName=name)
        assert (cfg["MemorySize"], cfg["Timeout"]) == expected[name], name
        assert cfg["Runtime"] == "provided.al2023"
        assert cfg["State"] == "Active"


def test_api_function_answers_health_event(lam):
    status, headers, body, ferr = invoke(lam, "haar-dev-api", health_event())
    assert (status, ferr) == (200, None), body
    resp = json.loads(body)
    assert resp["statusCode"] == 200, resp


def test_haar_invoke_prints_the_response(haar):
    p = run_haar("invoke", "api", "--payload", json.dumps(health_event()),
                 "--endpoint", haar.aws_url)
    assert p.returncode == 0, (p.returncode, p.stderr)
    resp = json.loads(p.stdout)
    assert resp["statusCode"] == 200


def test_haar_invoke_payload_from_file(haar, make_function, tmp_path):
    name = make_function("echo", prefix="haarinv")
    (tmp_path / "p.json").write_text('{"from": "file"}')
    p = run_haar("invoke", name, "--payload", f"@{tmp_path / 'p.json'}", "--endpoint", haar.aws_url)
    assert p.returncode == 0, (p.returncode, p.stderr)
    assert json.loads(p.stdout) == {"from": "file"}


def test_haar_invoke_unknown_function_fails(haar):
    p = run_haar("invoke", "e2e-no-such-fn", "--payload", "{}", "--endpoint", haar.aws_url)
    assert p.returncode == 1
    assert p.stdout == ""
    assert p.stderr.strip() == (
        "haar: invoke e2e-no-such-fn: HTTP 404: ResourceNotFoundException: Function not found: "
        "arn:aws:lambda:eu-west-1:000000000000:function:e2e-no-such-fn"), p.stderr


def test_haar_status_lists_the_environment(haar):
    p = run_haar("status", "--endpoint", haar.aws_url)
    assert p.returncode == 0, (p.returncode, p.stderr)
    for name in ENV_FUNCTIONS:
        assert name in p.stdout, p.stdout


def test_haar_status_without_daemon_fails(tmp_path):
    p = run_haar("status", "--endpoint", f"http://127.0.0.1:{free_port()}", timeout=20)
    assert p.returncode != 0
    assert p.stderr.strip() != ""


def test_health_endpoint_with_curl(haar):
    p = subprocess.run(["curl", "-sS", "--max-time", "10", "-D", "-",
                        f"{haar.aws_url}/_haar/health"], capture_output=True, timeout=15)
    assert p.returncode == 0, p.stderr
    head, _, body = p.stdout.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 200"), head
    assert "content-type: application/json" in head.lower()
    doc = json.loads(body)
    assert isinstance(doc, dict)
    for name in ENV_FUNCTIONS:
        assert name in body


def test_haar_endpoint_env_var_is_the_default_endpoint(haar):
    p = run_haar("status", env={"HAAR_ENDPOINT": haar.aws_url})
    assert p.returncode == 0, (p.returncode, p.stderr)
    assert "haar-dev-api" in p.stdout


def test_describe_finds_the_config_where_haar_up_does(tmp_path):
    """Outside the repository, `haar describe` reads the configuration `haar up` would: the
    one under the executable's ../.. (the repository, for build/bin/haar)."""
    p = subprocess.run([str(HAAR), "describe", "--env", "dev", "--json"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["environment"] == "dev"
    p = subprocess.run([str(HAAR), "describe", "--env", "nope", "--json"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "infra/envs/nope/terraform.tfvars.json" in p.stderr, p.stderr
