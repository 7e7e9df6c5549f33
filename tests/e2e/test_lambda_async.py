"""Asynchronous (Event) invocation: 202 at once, the function runs later, a failing event is
retried twice (three attempts, same request id), DryRun answers 204; the asynchronous-invocation
settings (EventInvokeConfig).

AWS retries a failed asynchronous invocation twice, after about 1 and 2 minutes: the retry
tests run on a daemon with a manual clock (`haar up --clock manual`) and move it with
POST /_haar/clock, so they see each retry at its minute without waiting for it.
"""

import datetime
import json
import time

import botocore.exceptions
import pytest

from e2e_helpers import (ROLE, RUNTIME, boto_client, client_error, clock, fn_health, invoke,
                         make_zip, not_found_message, raw_request, read_lines, unique_name,
                         wait_active, wait_until)


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


def _manual_function(lam, fixture, **kw):
    name = unique_name(fixture.replace("_", "-"))
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                        Code={"ZipFile": make_zip(fixture)}, Timeout=3, **kw)
    wait_active(lam, name)
    return name


def _queued(daemon, name):
    """The function's queued Event invocations (waiting for a retry among them)."""
    return fn_health(daemon, name)["queued_events"]


def _wait_retry_scheduled(daemon, name):
    # the function writes its file before it reports the error: wait for the report
    wait_until(lambda: _queued(daemon, name) == 1, 10, what="the failed attempt to be queued")


def _attempts(path, n, what):
    return wait_until(lambda: (lambda x: x if len(x) >= n else None)(read_lines(path)), 10,
                      what=what)


def test_failing_event_invocation_is_retried_twice_on_the_clock(manual_haar, scratch):
    lam = boto_client("lambda", manual_haar.aws_url)
    name = _manual_function(lam, "handler_error")
    touch = scratch / "attempts"
    status, headers, _, _ = invoke(lam, name, {"touch": str(touch)}, InvocationType="Event")
    assert status == 202
    rid = headers["x-amzn-requestid"]
    _attempts(touch, 1, "the first attempt")
    _wait_retry_scheduled(manual_haar, name)
    # the first retry comes after a minute of the clock, not before
    assert clock(manual_haar, advance=59)[0] == 200
    time.sleep(0.5)
    assert len(read_lines(touch)) == 1
    st, now = clock(manual_haar, advance=1)
    assert st == 200 and now["timers_run"] >= 1, now
    _attempts(touch, 2, "the first retry, after 1 minute")
    _wait_retry_scheduled(manual_haar, name)
    # the second after two more
    clock(manual_haar, advance=119)
    time.sleep(0.5)
    assert len(read_lines(touch)) == 2
    clock(manual_haar, advance=1)
    _attempts(touch, 3, "the second retry, after 2 more minutes")
    # and no fourth, however long the clock runs
    clock(manual_haar, advance=6 * 3600)
    time.sleep(0.5)
    attempts = read_lines(touch)
    assert len(attempts) == 3, attempts
    assert {a.split()[1] for a in attempts} == {rid}, "retries keep the request id"
    lam.delete_function(FunctionName=name)


def test_event_invoke_config_limits_retries_and_age(manual_haar, scratch):
    lam = boto_client("lambda", manual_haar.aws_url)
    name = _manual_function(lam, "handler_error")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName=name)
    assert client_error(e)[:2] == (404, "ResourceNotFoundException")
    got = lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0,
                                               MaximumEventAgeInSeconds=60)
    assert got["MaximumRetryAttempts"] == 0 and got["MaximumEventAgeInSeconds"] == 60
    assert got["FunctionArn"].endswith(f":function:{name}:$LATEST")
    got = lam.update_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=120)
    assert (got["MaximumRetryAttempts"], got["MaximumEventAgeInSeconds"]) == (0, 120)
    listed = lam.list_function_event_invoke_configs(FunctionName=name)
    assert len(listed["FunctionEventInvokeConfigs"]) == 1
    # botocore checks these ranges itself: sent raw, the service refuses them too
    for bad, msg in (({"MaximumRetryAttempts": 3}, "less than or equal to 2"),
                     ({"MaximumEventAgeInSeconds": 59}, "greater than or equal to 60")):
        status, headers, data = raw_request(
            manual_haar.aws_url, "PUT", f"/2019-09-25/functions/{name}/event-invoke-config",
            json.dumps(bad).encode(), {"Content-Type": "application/json"})
        assert status == 400, data
        assert headers["x-amzn-errortype"] == "ValidationException"
        assert msg in json.loads(data)["message"]
    # no retries: one attempt, however long the clock runs
    touch = scratch / "once"
    invoke(lam, name, {"touch": str(touch)}, InvocationType="Event")
    _attempts(touch, 1, "the only attempt")
    time.sleep(0.5)
    assert _queued(manual_haar, name) == 0
    clock(manual_haar, advance=3600)
    time.sleep(0.5)
    assert len(read_lines(touch)) == 1
    # an event older than its maximum age is dropped: held back by reserved concurrency 0,
    # it never runs once the clock passes its age
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    old = scratch / "old"
    invoke(lam, name, {"touch": str(old)}, InvocationType="Event")
    clock(manual_haar, advance=121)
    lam.delete_function_concurrency(FunctionName=name)
    time.sleep(1)
    assert read_lines(old) == []
    lam.delete_function_event_invoke_config(FunctionName=name)
    with pytest.raises(botocore.exceptions.ClientError):
        lam.get_function_event_invoke_config(FunctionName=name)
    lam.delete_function(FunctionName=name)


def test_clock_endpoint(manual_haar, haar):
    st, c = clock(manual_haar)
    assert st == 200 and c["mode"] == "manual", c
    start = c["now"]
    assert clock(manual_haar, advance=-1)[0] == 400
    assert clock(manual_haar, set_to="2020-01-01T00:00:00Z")[0] == 400  # only forward
    assert clock(manual_haar, set_to="not a time")[0] == 400
    # three days on, at noon: every timer due meanwhile runs (the worker's mapping long-polls,
    # so a jump of years would run millions of them), then the clock reads that time
    target = (datetime.datetime.fromisoformat(start.replace("Z", "+00:00")).date()
              + datetime.timedelta(days=3)).isoformat()
    st, c = clock(manual_haar, set_to=f"{target}T12:00:00Z")
    assert st == 200 and c["now"] == f"{target}T12:00:00.000Z", (start, c)
    # the real clock cannot be moved
    st, c = clock(haar)
    assert st == 200 and c["mode"] == "real"
    assert clock(haar, advance=1)[0] == 409
    # the runtime's deadline stays true epoch time under a manual clock
    lam = boto_client("lambda", manual_haar.aws_url)
    name = _manual_function(lam, "env")
    body = json.loads(invoke(lam, name, {})[2])
    remaining = int(body["headers"]["lambda-runtime-deadline-ms"]) - int(time.time() * 1000)
    assert 1000 < remaining <= 3500, remaining
    lam.delete_function(FunctionName=name)


def test_many_event_invocations_all_run_once(lam, make_function, scratch):
    name = make_function("touch", prefix="fanout", timeout=60)  # 20 bash starts at once
    touch = scratch / "fan"
    n = 20
    for i in range(n):
        assert invoke(lam, name, {"touch": str(touch), "value": f"v{i}"},
                      InvocationType="Event")[0] == 202
    lines = wait_until(lambda: (lambda x: x if len(x) >= n else None)(read_lines(touch)), 120,
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
