"""EventBridge on the manual clock (`haar up --clock manual`): the environment's schedule
(rate(5 minutes) from infra/envs/dev) fires once per due time with that time in the event — a
day of it is exactly 288 producer invocations; schedules missed while the daemon was down are
not replayed; rules, targets and pending deliveries survive kill -9; a failing target is
retried with backoff on the clock, then dead-lettered.

SQS targets and dead-letter queues are the daemon's own SQS queues: a target whose queue or
function does not exist is not retried but dead-lettered at once, with AWS's attributes
(retries with backoff on the clock are the engine's, covered by test_events_engine.c).
The producer gets reserved concurrency 2 here, so a day's 288 invocations run on two
environments instead of starting 288."""

import calendar
import json
import time

import pytest

from e2e_helpers import (ACCOUNT, REGION, REPO, Daemon, boto_client, clock, health, run_haar,
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


def received(sqs, url, n=1):
    """n messages off the queue at url (each deleted), with all their attributes."""
    got = []
    for _ in range(20):
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                MessageAttributeNames=["All"], AttributeNames=["All"])
        for m in r.get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            got.append(m)
        if len(got) >= n:
            return got
    raise AssertionError(f"{len(got)} of {n} messages arrived on {url}")


def attrs(m):
    return {k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()}


def test_sqs_targets_and_dead_letters(daemon):
    events = boto_client("events", daemon.aws_url)
    sqs = boto_client("sqs", daemon.aws_url)
    target = sqs.create_queue(QueueName="ev-target")["QueueUrl"]
    dlq = sqs.create_queue(QueueName="ev-dlq")["QueueUrl"]
    fifo = sqs.create_queue(QueueName="ev-target.fifo", Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:"
    rule_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/to-sqs"
    events.put_rule(Name="to-sqs", EventPattern='{"source":["e2e.sqs"]}')
    assert events.put_targets(Rule="to-sqs", Targets=[
        {"Id": "q", "Arn": arn + "ev-target", "DeadLetterConfig": {"Arn": arn + "ev-dlq"}},
        {"Id": "f", "Arn": arn + "ev-target.fifo", "SqsParameters": {"MessageGroupId": "g1"}},
    ])["FailedEntryCount"] == 0
    base = deliveries(daemon)
    r = events.put_events(Entries=[{"Source": "e2e.sqs", "DetailType": "t", "Detail": '{"n":1}'}])
    assert r["FailedEntryCount"] == 0
    event_id = r["Entries"][0]["EventId"]
    (m,) = received(sqs, target)
    body = json.loads(m["Body"])
    assert (body["id"], body["source"], body["detail-type"], body["detail"]) == \
        (event_id, "e2e.sqs", "t", {"n": 1})
    assert body["resources"] == [] and body["account"] == ACCOUNT
    (f,) = received(sqs, fifo)
    assert json.loads(f["Body"])["id"] == event_id and f["Attributes"]["MessageGroupId"] == "g1"

    # a target queue that does not exist: no retry, straight to the DLQ with AWS's attributes
    events.put_targets(Rule="to-sqs", Targets=[
        {"Id": "q", "Arn": arn + "nowhere", "DeadLetterConfig": {"Arn": arn + "ev-dlq"},
         "RetryPolicy": {"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 600}}])
    events.remove_targets(Rule="to-sqs", Ids=["f"])
    r = events.put_events(Entries=[{"Source": "e2e.sqs", "DetailType": "t", "Detail": "{}"}])
    (d,) = received(sqs, dlq)
    assert json.loads(d["Body"])["id"] == r["Entries"][0]["EventId"]
    a = attrs(d)
    assert (a["RULE_ARN"], a["TARGET_ARN"], a["ERROR_CODE"], a["RETRY_ATTEMPTS"]) == \
        (rule_arn, arn + "nowhere", "NO_RESOURCE", "0")
    assert "nowhere" in a["ERROR_MESSAGE"] and "EXHAUSTED_RETRY_CONDITION" not in a

    # so is a function that does not exist
    fn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:no-such-function"
    events.put_targets(Rule="to-sqs", Targets=[
        {"Id": "q", "Arn": fn, "DeadLetterConfig": {"Arn": arn + "ev-dlq"}}])
    events.put_events(Entries=[{"Source": "e2e.sqs", "DetailType": "t", "Detail": "{}"}])
    (d,) = received(sqs, dlq)
    assert (attrs(d)["TARGET_ARN"], attrs(d)["ERROR_CODE"]) == (fn, "NO_RESOURCE")

    # and when the DLQ does not exist either, the event is dropped
    events.put_targets(Rule="to-sqs", Targets=[
        {"Id": "q", "Arn": arn + "nowhere", "DeadLetterConfig": {"Arn": arn + "no-dlq"}}])
    events.put_events(Entries=[{"Source": "e2e.sqs", "DetailType": "t", "Detail": "{}"}])

    def delta(key):
        return deliveries(daemon)[key] - base[key]

    wait_until(lambda: delta("dlq_failed") == 1, 10, what="the failed dead letter")
    assert (delta("retried"), delta("dead_lettered"), delta("dropped"), delta("pending")) == \
        (0, 2, 1, 0)
    events.remove_targets(Rule="to-sqs", Ids=["q"])
    events.delete_rule(Name="to-sqs")


def test_the_schedule_dead_letters_to_the_environment_queue(daemon):
    events = boto_client("events", daemon.aws_url)
    sqs = boto_client("sqs", daemon.aws_url)
    (t,) = events.list_targets_by_rule(Rule="haar-dev-schedule")["Targets"]
    dlq_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:haar-dev-schedule-dlq"
    assert t["DeadLetterConfig"] == {"Arn": dlq_arn}
    url = sqs.get_queue_url(QueueName="haar-dev-schedule-dlq")["QueueUrl"]
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert got["QueueArn"] == dlq_arn and got["MessageRetentionPeriod"] == "1209600"


def test_missed_schedules_are_not_replayed_and_state_survives_kill_9(tmp_path):
    cfg = config_file(tmp_path)
    d = start(tmp_path, cfg)
    try:
        events = boto_client("events", d.aws_url)
        events.put_rule(Name="kept", EventPattern='{"source":["k"]}', Description="survives")
        sqs = boto_client("sqs", d.aws_url)
        sqs.create_queue(QueueName="kept")
        events.put_targets(Rule="kept", Targets=[
            {"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:kept", "Input": '{"a":1}'}])
        events.put_events(Entries=[{"Source": "k", "DetailType": "t", "Detail": "{}"}])
        wait_until(lambda: deliveries(d)["delivered"] == 1, 10, what="the delivery")
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
            {"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:kept", "Input": '{"a":1}'}]
        sqs = boto_client("sqs", d2.aws_url)
        url = sqs.get_queue_url(QueueName="kept")["QueueUrl"]
        assert [m["Body"] for m in received(sqs, url)] == ['{"a":1}']  # delivered, kept
        time.sleep(0.5)
        assert producer_times(d2) == [iso(T0, 300), iso(T0, 600)]  # nothing replayed
        # the schedule keeps its anchor: the next fire is at 03:05
        clock(d2, advance=300)
        times = wait_until(lambda: (lambda x: x if len(x) == 3 else None)(producer_times(d2)),
                           30, 0.2, "the first fire after the restart")
        assert times[-1] == iso(T0, 3 * 3600 + 300)
    finally:
        assert d2.stop(30) == 0, d2.stderr_tail()
