"""Asynchronous (Event) invocation: 202 at once, the function runs later, a failing event is
retried twice (three attempts, same request id), DryRun answers 204.

AWS retries a failed asynchronous invocation twice, after about 1 and 2 minutes; the session
daemon runs with HAAR_EVENT_RETRY_DELAYS_MS=200,400 (see e2e_helpers.DAEMON_TEST_ENV) so the
test waits under a few seconds.
"""

import json
import time

import botocore.exceptions
import pytest

from e2e_helpers import (client_error, invoke, not_found_message, raw_request, read_lines,
                         unique_name, wait_until)


def test_event_invocation_is_202_and_runs_the_function(lam, make_function, scratch):
    name = make_function("touch")
    touch = scratch / "ran"
    status, headers, body, ferr = invoke(lam, name, {"touch": str(touch), "value": "async-1"},
                                         InvocationType="Event")
    assert status == 202
    assert body == b""
    assert ferr is None
    rid = headers["x-amzn-requestid"]
    lines = wait_until(lambda: read_lines(touch), 10, what="the Event invocation to run")
    assert lines == [f"{rid} async-1"]


def test_failing_event_invocation_is_retried_twice(lam, make_function, scratch):
    name = make_function("handler_error", prefix="retry")
    touch = scratch / "attempts"
    status, headers, _, _ = invoke(lam, name, {"touch": str(touch)}, InvocationType="Event")
    assert status == 202
    rid = headers["x-amzn-requestid"]
    attempts = wait_until(lambda: (lambda x: x if len(x) >= 3 else None)(read_lines(touch)), 15,
                          what="three attempts of the failing Event invocation")
    # No fourth attempt: wait past where one would be (retry delays are ≤ 0.4 s here).
    time.sleep(1.5)
    attempts = read_lines(touch)
    assert len(attempts) == 3, attempts
    assert {a.split()[1] for a in attempts} == {rid}, "retries keep the request id"


def test_many_event_invocations_all_run_once(lam, make_function, scratch):
    name = make_function("touch", prefix="fanout")
    touch = scratch / "fan"
    n = 20
    for i in range(n):
        assert invoke(lam, name, {"touch": str(touch), "value": f"v{i}"},
                      InvocationType="Event")[0] == 202
    lines = wait_until(lambda: (lambda x: x if len(x) >= n else None)(read_lines(touch)), 20,
                       what=f"{n} Event invocations to run")
    time.sleep(0.5)
    lines = read_lines(touch)
    assert sorted(x.split()[1] for x in lines) == sorted(f"v{i}" for i in range(n))


def test_dry_run_does_not_run_the_function(lam, make_function, scratch):
    name = make_function("touch", prefix="dry")
    touch = scratch / "dry"
    r = lam.invoke(FunctionName=name, InvocationType="DryRun",
                   Payload=f'{{"touch": "{touch}", "value": "x"}}'.encode())
    assert r["StatusCode"] == 204
    time.sleep(0.5)
    assert read_lines(touch) == []


def test_event_payload_up_to_1mb_is_accepted(lam, make_function, scratch):
    """AWS's Invoke reference: "For asynchronous invocations, the maximum payload size is
    1 MB" (raised from 256 KB)."""
    name = make_function("touch", prefix="bigevent")
    touch = scratch / "big"
    payload = json.dumps({"touch": str(touch), "value": "big", "pad": "p" * 300000}).encode()
    status, _, _, _ = invoke(lam, name, payload, InvocationType="Event")
    assert status == 202
    wait_until(lambda: read_lines(touch), 10, what="the 300 KB Event invocation to run")


def test_event_payload_over_1mb_is_413(haar, echo_fn):
    body = b'"' + b"e" * 1048576 + b'"'
    status, headers, data = raw_request(
        haar.aws_url, "POST", f"/2015-03-31/functions/{echo_fn}/invocations", body,
        {"Content-Type": "application/json", "X-Amz-Invocation-Type": "Event"})
    assert status == 413, data
    assert headers.get("x-amzn-errortype", "").split(":")[0] == "RequestEntityTooLargeException"
    assert "byte payload is too large for the Event invocation type" in json.loads(data)["message"]


def test_event_invocation_of_unknown_function_is_404(lam):
    name = unique_name("ghost")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    assert client_error(e) == (404, "ResourceNotFoundException", not_found_message(name))
