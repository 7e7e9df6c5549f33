"""The daemon survives functions that misbehave and keeps serving the others: a runtime that
never asks for work, one that floods its output, one that sends garbage to its Runtime API,
one whose response is over the 6 MB limit (AWS: Runtime API 413, invoke error
Function.ResponseSizeTooLarge, "Response payload size exceeded maximum allowed payload size
(6291556 bytes).")."""

import concurrent.futures
import json
import socket
import time

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from e2e_helpers import (REGION, assert_serving, boto_client, invoke, pid_alive, read_lines,
                         wait_until)


def test_runtime_that_never_calls_next_times_out_and_is_killed(haar, lam, make_function,
                                                                 echo_fn, scratch):
    """AWS bounds init at 10 s, then retries it inside the invoke, bounded by the function
    timeout: the invoke ends within about 12 s as Sandbox.Timedout and the sandbox is gone."""
    pidfile = scratch / "pid"
    name = make_function("never_next", timeout=2, env={"PIDFILE": str(pidfile)})
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        t0 = time.monotonic()
        fut = pool.submit(invoke, boto_client("lambda", haar.aws_url, read_timeout=18), name, {})
        # While it hangs, other functions are served.
        wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), 5,
                   what="the stuck runtime to start")
        assert_serving(lam, echo_fn)
        status, headers, body, ferr = fut.result(20)
        elapsed = time.monotonic() - t0
    assert (status, ferr) == (200, "Unhandled"), body
    err = json.loads(body)
    assert err["errorType"] == "Sandbox.Timedout", err
    rid = headers["x-amzn-requestid"]
    assert err["errorMessage"] == f"RequestId: {rid} Error: Task timed out after 2.00 seconds"
    assert elapsed < 14, elapsed
    pid = int(pidfile.read_text())
    wait_until(lambda: not pid_alive(pid), 3, what=f"the stuck runtime (pid {pid}) to be killed")
    assert_serving(lam, echo_fn)


def test_runtime_flooding_its_output_still_completes(lam, make_function, echo_fn):
    name = make_function("flood", timeout=30)
    t0 = time.monotonic()
    status, _, body, ferr = invoke(lam, name, {})
    assert (status, ferr) == (200, None), body[:300]
    assert json.loads(body) == {"flooded": True}
    assert time.monotonic() - t0 < 20
    assert_serving(lam, echo_fn)
    # The environment is still usable after the flood.
    assert invoke(lam, name, {})[2] == b'{"flooded":true}'


def test_garbage_on_the_runtime_api_is_refused_and_harmless(lam, make_function, echo_fn,
                                                             scratch):
    name = make_function("garbage", timeout=10)
    touch = scratch / "statuses"
    payload = {"touch": str(touch), "keep": "me"}
    status, _, body, ferr = invoke(lam, name, payload)
    assert (status, ferr) == (200, None), body
    assert json.loads(body) == payload
    s_bogus, s_path, s_huge = (int(x) for x in read_lines(touch)[0].split())
    assert 400 <= s_bogus < 500, f"response for an unknown request id answered {s_bogus}"
    assert s_path == 404, f"unknown Runtime API path answered {s_path}"
    assert 400 <= s_huge < 500, f"a 64 KB header answered {s_huge}"
    assert_serving(lam, echo_fn)


def test_response_over_6mb_is_refused(lam, make_function, echo_fn, scratch):
    name = make_function("big_response", timeout=20)
    touch = scratch / "status"
    status, _, body, ferr = invoke(lam, name, {"touch": str(touch)})
    assert (status, ferr) == (200, "Unhandled"), body[:300]
    err = json.loads(body)
    assert err["errorType"] == "Function.ResponseSizeTooLarge", err
    assert "6291556" in err["errorMessage"], err
    wait_until(lambda: read_lines(touch), 5, what="the runtime to record its POST status")
    assert read_lines(touch) == ["413"]
    assert_serving(lam, echo_fn)


def test_many_functions_at_once_then_all_deleted(haar, lam, make_function, echo_fn):
    """Eight functions started at once all answer; deleting them stops their processes."""
    names = [make_function("worker", prefix=f"many{i}", timeout=60) for i in range(8)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(
            lambda n: invoke(boto_client("lambda", haar.aws_url), n, {}), names))
    assert [(s, f) for s, _, _, f in results] == [(200, None)] * 8, [b for _, _, b, _ in results]
    pids = [json.loads(b)["pid"] for _, _, b, _ in results]
    assert len(set(pids)) == 8
    for n in names:
        lam.delete_function(FunctionName=n)
    wait_until(lambda: not any(pid_alive(p) for p in pids), 5,
               what="deleted functions' environments to stop")
    assert_serving(lam, echo_fn)


def test_garbage_to_the_aws_endpoint_gets_errors_not_a_crash(haar, lam, echo_fn):
    host, port = "127.0.0.1", haar.aws_port
    probes = [
        b"GARBAGE \x00\x01\xff\r\n\r\n",
        b"POST /2015-03-31/functions/x/invocations HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 200000 + b"\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: a\r\nX-Amz-Target: NoSuchService.NoSuchOp\r\nContent-Length: 2\r\n\r\n{}",
        b"POST /2015-03-31/functions HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n{not json",
    ]
    for probe in probes:
        with socket.create_connection((host, port), timeout=5) as s:
            try:
                s.sendall(probe)
                s.shutdown(socket.SHUT_WR)
                s.settimeout(5)
                data = s.recv(65536)
            except (ConnectionResetError, BrokenPipeError, socket.timeout):
                data = b""
        if data:
            status = int(data.split(b" ", 2)[1])
            assert 400 <= status < 500, (probe[:60], data[:200])
    assert_serving(lam, echo_fn)


def test_client_hanging_up_mid_invoke_does_not_disturb_the_function(haar, lam, make_function,
                                                                     scratch):
    name = make_function("worker", prefix="hangup", timeout=10)
    touch = scratch / "t"
    body = json.dumps({"sleep": 1, "touch": str(touch)}).encode()
    req = AWSRequest(method="POST", url=f"{haar.aws_url}/2015-03-31/functions/{name}/invocations",
                     data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("test", "test"), "lambda", REGION).add_auth(req)
    head = (f"POST /2015-03-31/functions/{name}/invocations HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{haar.aws_port}\r\n")  # the host that was signed
    head += "".join(f"{k}: {v}\r\n" for k, v in req.headers.items())
    head += f"Content-Length: {len(body)}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", haar.aws_port), timeout=5) as s:
        s.sendall(head.encode() + body)
        wait_until(lambda: any(x.startswith("start ") for x in read_lines(touch)), 10,
                   what="the invocation to start")
    # The caller is gone; the invocation still completes and the environment is reused.
    wait_until(lambda: any(x.startswith("done ") for x in read_lines(touch)), 5,
               what="the abandoned invocation to finish")
    first_pid = int(read_lines(touch)[0].split()[2])
    time.sleep(0.2)
    status, _, out, ferr = invoke(lam, name, {})
    assert (status, ferr) == (200, None)
    assert json.loads(out)["pid"] == first_pid
