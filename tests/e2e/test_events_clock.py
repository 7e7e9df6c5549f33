"""EventBridge on the manual clock (`haar up --clock manual`): the environment's schedule
(rate(5 minutes) from infra/envs/dev) fires once per due time with that time in the event — a
day of it is exactly 288 producer invocations; schedules missed while the daemon was down are
not replayed; rules, targets and pending deliveries survive kill -9; a failing target is
retried with backoff on the clock, then dead-lettered.

SQS is not part of this daemon yet: an SQS target fails to deliver (CONNECTION_FAILURE,
retriable), and its dead-letter queue — an SQS queue too — cannot be written, so these tests
follow the retry and expiry path through the daemon's counters (/_haar/health "events").
The producer gets reserved concurrency 2 here, so a day's 288 invocations run on two
environments instead of starting 288."""

import calendar
import json
import time
import urllib.request

import pytest

from e2e_helpers import (ACCOUNT, REGION, REPO, Daemon, boto_client, clock, run_haar,
                         wait_until)

T0 = "2026-01-01T00:00:00Z"
PRODUCER = "haar-dev-producer"


def config_file(tmp_path):
    doc = json.loads((REPO / "infra" / "envs" / "dev" / "terraform.tfvars.json").read_text())
    doc["functions"]["producer"]["reserved_concurrency"] = 2
    p = tmp_path / "dev.tfvars.json"
    p.write_text(json.dumps(doc))
    return p


def start(workdir, cfg, at=T0):
    d = Daemon(workdir, extra_args=("--config", str(cfg), "--clock", f"manual={at}"))
    try:
        d.wait_ready()
    except AssertionError:
        d.stop(5)
        raise
    return d


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    work = tmp_path_factory.mktemp("events-clock")
    d = start(work, config_file(work))
    yield d
    assert d.stop(30) == 0, d.stderr_tail()


def health(d):
    with urllib.request.urlopen(d.aws_url + "/_haar/health", timeout=10) as r:
        return json.loads(r.read())


def deliveries(d):
    return health(d)["events"]["deliveries"]


def producer_times(d):
    """The scheduled times the producer logged, one per invocation."""
    logs = boto_client("logs", d.aws_url)
    times, token = [], None
    while True:
        kw = {"logGroupName": f"/aws/lambda/{PRODUCER}", "filterPattern": '"scheduled event"'}
        if token:
            kw["nextToken"] = token
        try:
            r = logs.filter_log_events(**kw)
        except logs.exceptions.ResourceNotFoundException:
            return []
        times += [json.loads(e["message"])["time"] for e in r["events"]]
        token = r.get("nextToken")
        if not token:
            return sorted(times)


def iso(base, seconds):
    t = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%SZ")) + seconds
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def test_a_day_at_rate_5_minutes_is_288_producer_invocations(daemon):
    assert producer_times(daemon) == []
    t = time.monotonic()
    status, now = clock(daemon, advance=86400)
    took = time.monotonic() - t
    assert status == 200 and now["now"] == "2026-01-02T00:00:00.000Z", now
    assert took < 1.0, f"a day of schedules took {took:.3f} s of wall time"
    assert health(daemon)["events"]["fired"] == 288
    times = wait_until(lambda: (lambda x: x if len(x) >= 288 else None)(producer_times(daemon)),
                       90, 0.5, "288 producer invocations")
    assert times == [iso(T0, 300 * k) for k in range(1, 289)]
    assert deliveries(daemon)["pending"] == 0


def test_haar_trigger_with_the_short_name(daemon):
    before = len(producer_times(daemon))
    p = run_haar("trigger", "schedule", "--endpoint", daemon.aws_url)
    assert p.returncode == 0, p.stderr
    now = clock(daemon)[1]["now"][:19] + "Z"
    assert p.stdout == (f"arn:aws:events:{REGION}:{ACCOUNT}:rule/haar-dev-schedule fired at "
                        f"{now} (1 target)\n")
    times = wait_until(lambda: (lambda x: x if len(x) > before else None)(producer_times(daemon)),
                       30, 0.2, "the triggered invocation")
    assert times.count(now) == 2  # the day's last fire, and the trigger at the same time


def test_failing_target_is_retried_on_the_clock_then_given_up(daemon):
    events = boto_client("events", daemon.aws_url)
    events.put_rule(Name="to-sqs", EventPattern='{"source":["e2e.retry"]}')
    events.put_targets(Rule="to-sqs", Targets=[{
        "Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:nowhere",
        "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600},
        "DeadLetterConfig": {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"}}])
    base = deliveries(daemon)
    r = events.put_events(Entries=[{"Source": "e2e.retry", "DetailType": "t", "Detail": "{}"}])
    assert r["FailedEntryCount"] == 0

    def delta(key):
        return deliveries(daemon)[key] - base[key]

    # the first attempt fails at once; a retry waits 1 s of the clock, the next 2 s more
    wait_until(lambda: delta("retried") == 1, 10, what="the first attempt to fail")
    assert delta("pending") == 1
    clock(daemon, advance=0.5)
    assert delta("retried") == 1
    clock(daemon, advance=0.5)
    assert delta("retried") == 2
    clock(daemon, advance=1.5)
    assert delta("dropped") == 0
    clock(daemon, advance=0.5)
    # retries exhausted: to the DLQ, which is SQS too, so the event is dropped
    assert (delta("retried"), delta("dlq_failed"), delta("dropped"), delta("pending")) == \
        (2, 1, 1, 0)
    # a target that does not exist is not retried at all
    events.put_targets(Rule="to-sqs", Targets=[{
        "Id": "q", "Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:no-such-function",
        "DeadLetterConfig": {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"}}])
    events.put_events(Entries=[{"Source": "e2e.retry", "DetailType": "t", "Detail": "{}"}])
    wait_until(lambda: delta("dlq_failed") == 2, 10, what="the straight dead letter")
    assert (delta("retried"), delta("pending")) == (2, 0)
    events.remove_targets(Rule="to-sqs", Ids=["q"])
    events.delete_rule(Name="to-sqs")


def test_missed_schedules_are_not_replayed_and_state_survives_kill_9(tmp_path):
    cfg = config_file(tmp_path)
    d = start(tmp_path, cfg)
    try:
        events = boto_client("events", d.aws_url)
        events.put_rule(Name="kept", EventPattern='{"source":["k"]}', Description="survives")
        events.put_targets(Rule="kept", Targets=[
            {"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:nowhere", "Input": '{"a":1}'}])
        events.put_events(Entries=[{"Source": "k", "DetailType": "t", "Detail": "{}"}])
        wait_until(lambda: deliveries(d)["retried"] == 1, 10, what="a failed first attempt")
        clock(d, advance=600)
        wait_until(lambda: len(producer_times(d)) == 2, 30, 0.2, "two producer invocations")
        d.proc.kill()
        d.proc.wait(5)
    finally:
        d.stop(5)
    # three hours later, the daemon starts again
    d2 = start(tmp_path, cfg, at=iso(T0, 3 * 3600))
    try:
        events = boto_client("events", d2.aws_url)
        r = events.describe_rule(Name="kept")
        assert (r["Description"], r["State"]) == ("survives", "ENABLED")
        assert events.list_targets_by_rule(Rule="kept")["Targets"] == [
            {"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:nowhere", "Input": '{"a":1}'}]
        assert deliveries(d2)["pending"] == 1  # still being retried
        time.sleep(0.5)
        assert producer_times(d2) == [iso(T0, 300), iso(T0, 600)]  # nothing replayed
        # the schedule keeps its anchor: the next fire is at 03:05
        clock(d2, advance=300)
        times = wait_until(lambda: (lambda x: x if len(x) == 3 else None)(producer_times(d2)),
                           30, 0.2, "the first fire after the restart")
        assert times[-1] == iso(T0, 3 * 3600 + 300)
    finally:
        assert d2.stop(30) == 0, d2.stderr_tail()
