"""Function logs in CloudWatch Logs shape: the platform lines Lambda writes around each
invocation, the function's own output between them, stream names, `haar logs`, log tails.

Platform lines (AWS-CONTRACTS.md §1, fields after the request id separated by TABs):
  START RequestId: <id> Version: $LATEST
  END RequestId: <id>
  REPORT RequestId: <id>\tDuration: 2.10 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\t
         Max Memory Used: 56 MB\t[Init Duration: 164.18 ms\t]   (Init Duration: cold only)
"""

import base64
import json
import math
import re
import signal
import subprocess
import threading
import time

import pytest

from e2e_helpers import HAAR, invoke, require_haar, run_haar, unique_name, wait_until

REPORT_RE = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: (?P<dur>\d+\.\d{2}) ms\t"
    r"Billed Duration: (?P<billed>\d+) ms\tMemory Size: (?P<mem>\d+) MB\t"
    r"Max Memory Used: (?P<used>\d+) MB\t(?:Init Duration: (?P<init>\d+\.\d{2}) ms\t)?$")
STREAM_RE = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")


def messages(logs_client, name):
    """Every event of the function's log group, oldest first: (stream, message sans newline)."""
    out, token = [], None
    for _ in range(50):
        kwargs = {"logGroupName": f"/aws/lambda/{name}"}
        if token:
            kwargs["nextToken"] = token
        r = logs_client.filter_log_events(**kwargs)
        out += [(e["logStreamName"], e["message"].rstrip("\n")) for e in r["events"]]
        token = r.get("nextToken")
        if not token:
            break
    return out


def wait_for_report(logs_client, name, rid, timeout=10):
    def ready():
        try:
            msgs = messages(logs_client, name)
        except logs_client.exceptions.ResourceNotFoundException:
            return None
        return msgs if any(m.startswith(f"REPORT RequestId: {rid}") for _, m in msgs) else None
    return wait_until(ready, timeout, 0.1, f"the REPORT line of {rid}")


def test_invocation_is_framed_by_start_end_report(lam, logs_client, make_function):
    name = make_function("logger", memory=128)
    rids = [invoke(lam, name, {})[1]["x-amzn-requestid"] for _ in range(2)]
    msgs = wait_for_report(logs_client, name, rids[1])
    text = [m for _, m in msgs]
    for i, rid in enumerate(rids):
        start = text.index(f"START RequestId: {rid} Version: $LATEST")
        end = text.index(f"END RequestId: {rid}")
        report = next(j for j, m in enumerate(text) if m.startswith(f"REPORT RequestId: {rid}"))
        assert start < end < report, text
        between = text[start + 1:end]
        assert f"e2e stdout line for {rid}" in between
        assert f"e2e stderr line for {rid}" in between
        m = REPORT_RE.match(text[report])
        assert m, repr(text[report])
        assert m.group("mem") == "128"
        dur, billed = float(m.group("dur")), int(m.group("billed"))
        assert billed >= max(1, math.ceil(dur)), text[report]
        if i == 0:
            assert m.group("init") is not None, f"cold start without Init Duration: {text[report]!r}"
        else:
            assert m.group("init") is None, f"warm start with Init Duration: {text[report]!r}"
            assert billed == max(1, math.ceil(dur))
        assert int(m.group("used")) >= 1


def test_log_stream_name_matches_the_function_environment(lam, logs_client, make_function):
    name = make_function("env", prefix="logstream")
    status, headers, body, _ = invoke(lam, name, {})
    stream = json.loads(body)["env"]["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert STREAM_RE.match(stream), stream
    msgs = wait_for_report(logs_client, name, headers["x-amzn-requestid"])
    assert {s for s, _ in msgs} == {stream}
    groups = logs_client.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")
    assert [g["logGroupName"] for g in groups["logGroups"]] == [f"/aws/lambda/{name}"]
    streams = logs_client.describe_log_streams(logGroupName=f"/aws/lambda/{name}")
    assert [s["logStreamName"] for s in streams["logStreams"]] == [stream]


def test_haar_logs_prints_the_function_log(haar, lam, logs_client, make_function):
    name = make_function("logger", prefix="haarlogs")
    rid = invoke(lam, name, {})[1]["x-amzn-requestid"]
    wait_for_report(logs_client, name, rid)
    p = run_haar("logs", name, "--endpoint", haar.aws_url, timeout=20)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert any(line.endswith(f"START RequestId: {rid} Version: $LATEST") for line in lines), p.stdout
    assert any(f"e2e stdout line for {rid}" in line for line in lines), p.stdout
    assert any(f"END RequestId: {rid}" in line for line in lines), p.stdout
    assert any(f"REPORT RequestId: {rid}\tDuration: " in line for line in lines), p.stdout


def test_haar_logs_unknown_function_fails(haar):
    p = run_haar("logs", "e2e-no-such-function", "--endpoint", haar.aws_url, timeout=20)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "ResourceNotFoundException" in p.stderr or "does not exist" in p.stderr, p.stderr


def test_invoke_log_type_tail_returns_the_last_log_lines(lam, make_function):
    name = make_function("logger", prefix="tail")
    r = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    tail = base64.b64decode(r["LogResult"]).decode()
    assert len(base64.b64decode(r["LogResult"])) <= 4096
    assert f"START RequestId: {rid} Version: $LATEST" in tail
    assert f"e2e stdout line for {rid}" in tail
    assert f"END RequestId: {rid}" in tail
    assert f"REPORT RequestId: {rid}\tDuration: " in tail


def test_timeout_and_crash_are_logged(lam, logs_client, make_function):
    """AWS logs a timed-out invocation's "Task timed out after 1.00 seconds" and a crash's
    "Runtime exited with error: exit status 1", each before END/REPORT of its request."""
    for fixture, payload, needle in (
            ("worker", {"sleep": 3}, "Task timed out after 1.00 seconds"),
            ("crash", {}, "Runtime exited with error: exit status 1")):
        name = make_function(fixture, prefix=f"log-{fixture}", timeout=1)
        rid = invoke(lam, name, payload)[1]["x-amzn-requestid"]
        text = [m for _, m in wait_for_report(logs_client, name, rid)]
        end = text.index(f"END RequestId: {rid}")
        start = text.index(f"START RequestId: {rid} Version: $LATEST")
        assert any(needle in m and rid in m for m in text[start + 1:end]), text


def test_haar_logs_follow_streams_new_invocations(haar, lam, make_function):
    name = make_function("logger", prefix="follow")
    invoke(lam, name, {})  # the group exists before following starts
    require_haar()
    proc = subprocess.Popen([str(HAAR), "logs", name, "--follow", "--endpoint", haar.aws_url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    lines = []
    try:
        reader = threading.Thread(target=lambda: [lines.append(x) for x in proc.stdout],
                                  daemon=True)
        reader.start()
        time.sleep(0.5)
        rid = invoke(lam, name, {})[1]["x-amzn-requestid"]
        wait_until(lambda: any(f"REPORT RequestId: {rid}" in x for x in lines), 10,
                   what="`haar logs --follow` to print the new invocation")
        assert any(f"e2e stdout line for {rid}" in x for x in lines)
        assert proc.poll() is None, "--follow exited on its own"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# ---- log group tags (what Terraform's aws_cloudwatch_log_group needs) ----

def _group_arn(logs_client, group):
    """The group's ARN without the ":*" DescribeLogGroups' "arn" carries, as Terraform uses
    (Debian's botocore predates the "logGroupArn" member, which haar also answers)."""
    g = logs_client.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
    assert g["arn"].endswith(":*"), g
    return g["arn"][:-2]


@pytest.fixture
def tagged_group(logs_client):
    group = f"/e2e/tags/{unique_name('grp')}"
    logs_client.create_log_group(logGroupName=group, tags={"env": "dev", "team": "core"})
    yield group
    try:
        logs_client.delete_log_group(logGroupName=group)
    except logs_client.exceptions.ResourceNotFoundException:
        pass


def test_create_log_group_with_tags_lists_them_by_arn_and_name(logs_client, tagged_group):
    arn = _group_arn(logs_client, tagged_group)
    assert arn.startswith("arn:aws:logs:") and arn.endswith(f":log-group:{tagged_group}")
    assert logs_client.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev",
                                                                          "team": "core"}
    assert logs_client.list_tags_for_resource(resourceArn=arn + ":*")["tags"] == {
        "env": "dev", "team": "core"}
    assert logs_client.list_tags_log_group(logGroupName=tagged_group)["tags"] == {
        "env": "dev", "team": "core"}


def test_tag_and_untag_resource(logs_client, tagged_group):
    arn = _group_arn(logs_client, tagged_group)
    logs_client.tag_resource(resourceArn=arn, tags={"env": "prod", "owner": "me"})
    assert logs_client.list_tags_for_resource(resourceArn=arn)["tags"] == {
        "env": "prod", "team": "core", "owner": "me"}
    logs_client.untag_resource(resourceArn=arn, tagKeys=["team", "no-such-key"])
    assert logs_client.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "prod",
                                                                          "owner": "me"}
    logs_client.tag_log_group(logGroupName=tagged_group, tags={"legacy": "1"})
    logs_client.untag_log_group(logGroupName=tagged_group, tags=["owner"])
    assert logs_client.list_tags_log_group(logGroupName=tagged_group)["tags"] == {
        "env": "prod", "legacy": "1"}


def test_tags_of_a_missing_group_are_not_found(logs_client, tagged_group):
    arn = _group_arn(logs_client, tagged_group).replace(tagged_group, "/e2e/tags/no-such-group")
    with pytest.raises(logs_client.exceptions.ResourceNotFoundException) as ei:
        logs_client.list_tags_for_resource(resourceArn=arn)
    assert ei.value.response["Error"]["Message"] == "The specified log group does not exist."
    with pytest.raises(logs_client.exceptions.ResourceNotFoundException):
        logs_client.tag_resource(resourceArn=arn, tags={"a": "b"})
    with pytest.raises(logs_client.exceptions.ResourceNotFoundException):
        logs_client.list_tags_log_group(logGroupName="/e2e/tags/no-such-group")
    with pytest.raises(logs_client.exceptions.InvalidParameterException):
        logs_client.list_tags_for_resource(resourceArn="arn:aws:logs:not-an-arn")


def test_tag_limits_are_enforced_and_change_nothing(logs_client, tagged_group):
    arn = _group_arn(logs_client, tagged_group)
    with pytest.raises(logs_client.exceptions.InvalidParameterException) as ei:
        logs_client.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(51)})
    assert "50" in ei.value.response["Error"]["Message"]
    with pytest.raises(logs_client.exceptions.InvalidParameterException):
        logs_client.tag_resource(resourceArn=arn, tags={"aws:reserved": "x", "ok": "1"})
    # 2 + 48 = 50 is the most; one more after merging is TooManyTagsException
    logs_client.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(48)})
    with pytest.raises(logs_client.exceptions.TooManyTagsException):
        logs_client.tag_resource(resourceArn=arn, tags={"one-more": "v"})
    tags = logs_client.list_tags_for_resource(resourceArn=arn)["tags"]
    assert len(tags) == 50 and "one-more" not in tags and "ok" not in tags


def test_create_log_group_kms_key_is_reported(logs_client):
    # Debian's botocore predates logGroupClass; the unit tests cover it
    group = f"/e2e/tags/{unique_name('kms')}"
    key = "arn:aws:kms:eu-west-1:000000000000:key/e2e"
    logs_client.create_log_group(logGroupName=group, kmsKeyId=key, tags={"k": "v"})
    try:
        g = logs_client.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
        assert g["kmsKeyId"] == key
    finally:
        logs_client.delete_log_group(logGroupName=group)


def test_aws_cli_lists_tags_for_resource(aws, logs_client, tagged_group):
    arn = _group_arn(logs_client, tagged_group)
    aws.json("logs", "tag-resource", "--resource-arn", arn, "--tags", "cli=yes")
    out = aws.json("logs", "list-tags-for-resource", "--resource-arn", arn)
    assert out == {"tags": {"env": "dev", "team": "core", "cli": "yes"}}
    p = aws.run("logs", "list-tags-for-resource", "--resource-arn",
                arn.replace(tagged_group, "/e2e/tags/no-such-group"))
    assert p.returncode != 0 and "ResourceNotFoundException" in p.stderr, p.stderr
