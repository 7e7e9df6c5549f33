"""Execution environments as AWS runs them: the env vars a function sees, reuse and
concurrency, throttling, timeouts, crashes and every error path of the Runtime API.

Expected error bodies (AWS-CONTRACTS.md §1):
  timeout: {"errorType":"Sandbox.Timedout",
            "errorMessage":"RequestId: <id> Error: Task timed out after 1.00 seconds"}
  crash:   {"errorType":"Runtime.ExitError",
            "errorMessage":"RequestId: <id> Error: Runtime exited with error: exit status 1"}
  /error and /runtime/init/error: the runtime's JSON, unchanged, X-Amz-Function-Error: Unhandled.
"""

import base64
import concurrent.futures
import datetime
import json
import re
import subprocess
import threading
import time

import botocore.exceptions
import pytest

from e2e_helpers import (REGION, assert_serving, boto_client, client_error, fn_health,
                         function_arn, invoke, pid_alive, read_lines, wait_active, wait_until)


def test_function_sees_lambda_environment_variables(haar, lam, make_function):
    name = make_function("env", memory=192, timeout=4, handler="my.handler",
                         env={"USER_SETTING": "from-config"})
    status, headers, body, ferr = invoke(lam, name, {})
    assert (status, ferr) == (200, None), body
    seen = json.loads(body)
    env = seen["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "192"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    m = re.match(r"^(\d{4})/(\d{2})/(\d{2})/\[\$LATEST\][0-9a-f]{32}$",
                 env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert m, env["AWS_LAMBDA_LOG_STREAM_NAME"]
    today = datetime.datetime.now(datetime.timezone.utc).date()
    stream_day = datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    assert stream_day in (today, today - datetime.timedelta(days=1))
    assert env["AWS_REGION"] == REGION
    assert env["AWS_DEFAULT_REGION"] == REGION
    assert env["AWS_ENDPOINT_URL"] == haar.aws_url
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert re.match(r"^127\.0\.0\.1:\d+$", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["AWS_LAMBDA_RUNTIME_API"] != f"127.0.0.1:{haar.aws_port}"
    assert env["_HANDLER"] == "my.handler"
    assert env["USER_SETTING"] == "from-config"
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"]
    assert env.get("AWS_SESSION_TOKEN", "x") != ""
    # LAMBDA_TASK_ROOT is where the unpacked code is, and the working directory.
    assert seen["bootstrap_in_task_root"] is True, env.get("LAMBDA_TASK_ROOT")
    assert seen["cwd"] == env["LAMBDA_TASK_ROOT"]
    # Runtime API headers of /next.
    h = seen["headers"]
    assert h["lambda-runtime-aws-request-id"] == headers["x-amzn-requestid"]
    assert h["lambda-runtime-invoked-function-arn"] == function_arn(name)
    assert re.match(r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24};", h["lambda-runtime-trace-id"]), h
    remaining = int(h["lambda-runtime-deadline-ms"]) - int(time.time() * 1000)
    assert 1000 < remaining <= 4000, remaining


def test_function_credentials_are_accepted_by_the_endpoint(haar, lam, make_function):
    name = make_function("env", prefix="creds")
    env = json.loads(invoke(lam, name, {})[2])["env"]
    client = boto_client("lambda", haar.aws_url, key=env["AWS_ACCESS_KEY_ID"],
                         secret=env["AWS_SECRET_ACCESS_KEY"], token=env.get("AWS_SESSION_TOKEN"))
    got = client.get_function_configuration(FunctionName=name)
    assert got["FunctionName"] == name


def test_sequential_invokes_reuse_one_warm_environment(haar, lam, make_function):
    """An invocation after the last one's environment is back in /next runs there. (One
    arriving while the runtime is still on its way back waits 100 ms for it, then starts
    another: on a loaded machine the bash runtime takes longer than that, hence the wait.)"""
    name = make_function("worker", prefix="warm")
    results = []
    for _ in range(3):
        results.append(json.loads(invoke(lam, name, {})[2]))
        wait_until(lambda: fn_health(haar, name)["idle"] == 1, 30,
                   what="the environment to ask for its next invocation")
    assert len({r["pid"] for r in results}) == 1, results
    assert [r["count"] for r in results] == [1, 2, 3]
    assert len({r["request_id"] for r in results}) == 3


def test_parallel_invokes_run_in_distinct_environments_concurrently(haar, make_function):
    name = make_function("worker", prefix="par", timeout=10)
    n = 4
    clients = [boto_client("lambda", haar.aws_url) for _ in range(n)]
    barrier = threading.Barrier(n)

    def one(c):
        barrier.wait(5)
        return invoke(c, name, {"sleep": 1.5})

    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        results = list(pool.map(one, clients))
    assert all((s, f) == (200, None) for s, _, _, f in results), results
    got = [json.loads(b) for _, _, b, _ in results]
    assert len({r["pid"] for r in got}) == n, got
    # all four were sleeping at one moment: the last to start began before the first ended
    # (wall-clock bounds would fail on a loaded machine, where cold starts take seconds)
    assert max(r["began_us"] for r in got) < min(r["ended_us"] for r in got), got


def test_reserved_concurrency_one_throttles_the_overlapping_invoke(haar, lam, aws, make_function,
                                                                    scratch):
    name = make_function("worker", prefix="throttle", timeout=10)
    out = aws.json("lambda", "put-function-concurrency", "--function-name", name,
                   "--reserved-concurrent-executions", "1")
    assert out == {"ReservedConcurrentExecutions": 1}
    touch = scratch / "started"
    slow_client = boto_client("lambda", haar.aws_url)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(invoke, slow_client, name, {"sleep": 2, "touch": str(touch)})
        wait_until(lambda: any(x.startswith("start ") for x in read_lines(touch)), 10,
                   what="the first invocation to start")
        with pytest.raises(botocore.exceptions.ClientError) as e:
            lam.invoke(FunctionName=name, Payload=b"{}")
        status, code, msg = client_error(e)
        assert (status, code) == (429, "TooManyRequestsException")
        assert msg == "Rate Exceeded."
        assert e.value.response.get("Reason") == "ReservedFunctionConcurrentInvocationLimitExceeded"
        s, _, body, ferr = slow.result(15)
    assert (s, ferr) == (200, None)
    # Once the slot is free again, invokes pass.
    assert invoke(lam, name, {})[0] == 200


def test_reserved_concurrency_zero_always_throttles(lam, make_function):
    name = make_function("echo", prefix="zero")
    assert lam.put_function_concurrency(
        FunctionName=name, ReservedConcurrentExecutions=0)["ReservedConcurrentExecutions"] == 0
    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            lam.invoke(FunctionName=name, Payload=b"{}")
        assert client_error(e)[:2] == (429, "TooManyRequestsException")
    lam.delete_function_concurrency(FunctionName=name)
    assert invoke(lam, name, {"back": 1})[2] == b'{"back": 1}'


def test_timeout_kills_environment_and_next_invoke_cold_starts(lam, make_function, scratch):
    name = make_function("worker", prefix="timeout", timeout=1)
    touch = scratch / "t"
    t0 = time.monotonic()
    status, headers, body, ferr = invoke(lam, name, {"sleep": 3, "touch": str(touch)})
    elapsed = time.monotonic() - t0
    assert (status, ferr) == (200, "Unhandled"), body
    rid = headers["x-amzn-requestid"]
    assert json.loads(body) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {rid} Error: Task timed out after 1.00 seconds",
    }
    assert elapsed < 2.9, f"a 1 s timeout answered after {elapsed:.2f}s"
    lines = read_lines(touch)
    start = next(x for x in lines if x.startswith("start "))
    assert start.split()[1] == rid
    pid = int(start.split()[2])
    child = int(next(x for x in lines if x.startswith("child ")).split()[1])
    wait_until(lambda: not pid_alive(pid) and not pid_alive(child), 3,
               what=f"the timed-out environment (pid {pid}) and its child ({child}) to be killed")
    assert not any(x.startswith("done ") for x in read_lines(touch))
    status, _, body, ferr = invoke(lam, name, {})
    assert (status, ferr) == (200, None), body
    assert json.loads(body)["pid"] != pid
    assert json.loads(body)["count"] == 1


def test_crash_mid_invocation_is_runtime_exit_error(lam, make_function):
    name = make_function("crash")
    status, headers, body, ferr = invoke(lam, name, {})
    assert (status, ferr) == (200, "Unhandled"), body
    rid = headers["x-amzn-requestid"]
    assert json.loads(body) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 1",
    }
    # The environment is reset: the next invoke starts a new process (and crashes again).
    status, headers2, body2, ferr2 = invoke(lam, name, {})
    assert (status, ferr2) == (200, "Unhandled")
    assert json.loads(body2)["errorType"] == "Runtime.ExitError"
    assert headers2["x-amzn-requestid"] != rid


def test_init_error_is_returned_to_the_invoke(lam, make_function):
    name = make_function("init_error")
    status, headers, body, ferr = invoke(lam, name, {})
    assert (status, ferr) == (200, "Unhandled"), body
    assert json.loads(body) == {"errorMessage": "init failed: missing configuration",
                                "errorType": "InitError.E2E", "stackTrace": ["bootstrap line 4"]}
    # Every invoke retries init and fails the same way (nothing is left half-started).
    status, _, body, ferr = invoke(lam, name, {})
    assert (status, ferr) == (200, "Unhandled")
    assert json.loads(body)["errorType"] == "InitError.E2E"


def test_handler_error_body_is_returned_unchanged(lam, make_function):
    name = make_function("handler_error")
    status, headers, body, ferr = invoke(lam, name, {})
    assert (status, ferr) == (200, "Unhandled")
    assert headers["x-amz-function-error"] == "Unhandled"
    assert body == (b'{"errorMessage":"handler failed on purpose","errorType":"HandlerError.E2E",'
                    b'"stackTrace":["frame one","frame two"]}')
    # A handler error does not reset the environment: the same process serves the next one.
    status, _, body2, ferr = invoke(lam, name, {})
    assert (status, ferr, body2) == (200, "Unhandled", body)


def test_memory_over_the_limit_fails_the_invocation(lam, make_function, echo_fn):
    name = make_function("hog", memory=128, timeout=20)
    status, headers, body, ferr = invoke(lam, name, {})
    assert status == 200
    assert ferr == "Unhandled", f"300 MB in a 128 MB function succeeded: {body[:200]!r}"
    err = json.loads(body)
    assert err["errorType"] in ("Runtime.OutOfMemory", "Runtime.ExitError"), err
    assert err["errorMessage"].startswith(f"RequestId: {headers['x-amzn-requestid']} Error: ")
    assert_serving(lam, echo_fn)


def test_client_context_reaches_the_runtime(lam, make_function):
    name = make_function("env", prefix="ctx")
    ctx = {"custom": {"tenant": "t1"}, "client": {"app_title": "e2e"}}
    r = lam.invoke(FunctionName=name, Payload=b"{}",
                   ClientContext=base64.b64encode(json.dumps(ctx).encode()).decode())
    seen = json.loads(r["Payload"].read())
    assert json.loads(seen["headers"]["lambda-runtime-client-context"]) == ctx
    # Without one, the header is absent.
    seen = json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
    assert "lambda-runtime-client-context" not in seen["headers"]


def test_chunked_response_from_the_runtime(lam, make_function):
    name = make_function("chunked")
    payload = {"chunked": True, "data": "x" * 100000}
    status, _, body, ferr = invoke(lam, name, payload)
    assert (status, ferr) == (200, None), body[:200]
    assert json.loads(body) == payload


def test_error_type_header_stands_in_for_an_unreadable_error_body(lam, make_function):
    """AWS-CONTRACTS §1: Lambda builds the error from Lambda-Runtime-Function-Error-Type when
    the body is missing or unreadable."""
    name = make_function("error_type_header")
    status, _, body, ferr = invoke(lam, name, {})
    assert (status, ferr) == (200, "Unhandled")
    assert json.loads(body)["errorType"] == "Runtime.E2EHeaderOnly", body


def test_chunked_invoke_request_signed_by_curl(haar, make_function):
    """curl's own SigV4 signer, with a chunked request body (as streaming SDKs send)."""
    name = make_function("echo", prefix="curl")
    p = subprocess.run(
        ["curl", "-sS", "--max-time", "20", "-w", "\\n%{http_code}",
         "--aws-sigv4", f"aws:amz:{REGION}:lambda", "--user", "test:test",
         "-H", "Content-Type: application/json", "-H", "Transfer-Encoding: chunked",
         "--data-binary", '{"via": "curl", "chunked": true}',
         f"{haar.aws_url}/2015-03-31/functions/{name}/invocations"],
        capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    body, _, code = p.stdout.rpartition("\n")
    assert code == "200", p.stdout
    assert json.loads(body) == {"via": "curl", "chunked": True}


def test_configuration_update_lets_the_in_flight_invocation_finish(haar, lam, make_function,
                                                                    scratch):
    name = make_function("worker", prefix="inflight", timeout=10)
    touch = scratch / "t"
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        fut = pool.submit(invoke, boto_client("lambda", haar.aws_url), name,
                          {"sleep": 1, "touch": str(touch)})
        wait_until(lambda: any(x.startswith("start ") for x in read_lines(touch)), 10,
                   what="the invocation to start")
        lam.update_function_configuration(FunctionName=name,
                                          Environment={"Variables": {"PHASE": "two"}})
        status, _, body, ferr = fut.result(15)
    assert (status, ferr) == (200, None), body
    old_pid = json.loads(body)["pid"]
    wait_active(lam, name)
    status, _, body, ferr = invoke(lam, name, {})
    assert (status, ferr) == (200, None), body
    assert json.loads(body)["pid"] != old_pid


def test_the_answer_to_a_result_is_never_held_from_a_runtime_waiting_for_it(lam, make_function,
                                                                           scratch):
    """The daemon lets the 202 to a result wait for the connection's next answer (one segment)
    only when the runtime has already sent GET /next behind the result (HTTP/1.1 pipelining).
    A runtime that waits for the 202 before asking for more gets it at once; a pipelining one
    gets it before its next event, and even when no event comes (the kernel's TCP_CORK limit,
    200 ms). Every result reaches its invoke either way."""
    name = make_function("pipelined", timeout=10)
    plain, piped = scratch / "plain", scratch / "piped"
    for i in range(5):
        payload = {"record": str(plain), "n": i}
        status, _, body, ferr = invoke(lam, name, payload)
        assert (status, ferr, json.loads(body)) == (200, None, {"got": payload})
    lines = wait_until(lambda: len(read_lines(plain)) == 5 and read_lines(plain), 10,
                       what="five answers to results sent alone")
    assert [line.split()[0] for line in lines] == ["202"] * 5
    # A held answer would take the cork's 200 ms every time.
    assert min(float(line.split()[1]) for line in lines) < 0.1, lines

    payload = {"record": str(piped), "pipeline": True, "n": 0}
    status, _, body, ferr = invoke(lam, name, payload)
    assert (status, ferr, json.loads(body)) == (200, None, {"got": payload})
    # No next event comes: the 202 still reaches the runtime.
    assert wait_until(lambda: read_lines(piped), 5, what="the 202 with no event behind it") \
        [0].split()[0] == "202"
    for i in range(1, 6):
        payload = {"record": str(piped), "pipeline": True, "n": i}
        status, _, body, ferr = invoke(lam, name, payload)
        assert (status, ferr, json.loads(body)) == (200, None, {"got": payload})
    lines = wait_until(lambda: len(read_lines(piped)) >= 5 and read_lines(piped), 10,
                       what="the answers to pipelined results")
    assert all(line.split()[0] == "202" for line in lines), lines
