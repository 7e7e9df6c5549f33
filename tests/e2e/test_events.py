"""EventBridge through real clients (Debian's /usr/bin/aws and boto3) against the session
daemon: rules (patterns and schedules), targets with their input options, PutEvents
delivering to a function, TestEventPattern, buses, tags, and AWS's errors as recorded
(AWS-RECORDED.md §4). The clock-driven behaviour (schedules, retries, restarts) is in
test_events_clock.py."""

import json

import botocore.exceptions
import pytest

from e2e_helpers import (ACCOUNT, REGION, RUNTIME, ROLE, boto_client, client_error, make_zip,
                         raw_request, read_lines, run_haar, unique_name, wait_active, wait_until)


@pytest.fixture(scope="module")
def events(haar):
    return boto_client("events", haar.aws_url)


def rule_arn(name, bus=None):
    tail = f"{bus}/{name}" if bus else name
    return f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{tail}"


def fn_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


@pytest.fixture
def recorder(lam, scratch):
    """A function that appends every event it gets to a file; (name, ARN, file)."""
    name = unique_name("ev-record")
    out = scratch / "events.jsonl"
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                        Code={"ZipFile": make_zip("events_record")}, Timeout=5,
                        Environment={"Variables": {"RECORD_FILE": str(out)}})
    wait_active(lam, name)
    yield name, fn_arn(name), out
    lam.delete_function(FunctionName=name)


def recorded(path, n, what):
    lines = wait_until(lambda: (lambda x: x if len(x) >= n else None)(read_lines(path)), 15,
                       what=what)
    return [json.loads(x) for x in lines]


def raw(daemon, op, body):
    """A signed JSON 1.1 request that no SDK checks first: (status, parsed answer)."""
    status, _, data = raw_request(daemon.aws_url, "POST", "/", json.dumps(body).encode(), {
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AWSEvents.{op}"},
        service="events")
    return status, json.loads(data or b"{}")


def error_of(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kwargs)
    return client_error(e)


# ---------------------------------------------------------------------------------------
# Rules


def test_rule_life_with_the_aws_cli(aws):
    name = unique_name("cli-rule")
    pattern = json.dumps({"source": ["e2e.cli"], "detail": {"n": [{"numeric": [">", 1]}]}})
    out = aws.json("events", "put-rule", "--name", name, "--event-pattern", pattern,
                   "--description", "made by the CLI")
    assert out == {"RuleArn": rule_arn(name)}
    d = aws.json("events", "describe-rule", "--name", name)
    assert d["Name"] == name and d["Arn"] == rule_arn(name)
    assert json.loads(d["EventPattern"]) == json.loads(pattern)
    assert d["State"] == "ENABLED" and d["EventBusName"] == "default"
    assert d["Description"] == "made by the CLI" and d["CreatedBy"] == ACCOUNT
    assert "ScheduleExpression" not in d
    aws.json("events", "disable-rule", "--name", name)
    assert aws.json("events", "describe-rule", "--name", name)["State"] == "DISABLED"
    aws.json("events", "enable-rule", "--name", name)
    listed = aws.json("events", "list-rules", "--name-prefix", name)["Rules"]
    assert [(r["Name"], r["State"], r["EventBusName"]) for r in listed] == \
        [(name, "ENABLED", "default")]
    aws.json("events", "delete-rule", "--name", name)
    p = aws.run("events", "describe-rule", "--name", name)
    assert p.returncode == 254
    assert "An error occurred (ResourceNotFoundException) when calling the DescribeRule" in p.stderr
    assert f": Rule {name} does not exist on EventBus default." in p.stderr


def test_put_rule_replaces_but_keeps_targets(events, recorder):
    _, arn, _ = recorder
    name = unique_name("replace")
    events.put_rule(Name=name, EventPattern='{"source":["a"]}', Description="first")
    events.put_targets(Rule=name, Targets=[{"Id": "t1", "Arn": arn}])
    events.put_rule(Name=name, ScheduleExpression="rate(3 hours)")
    d = events.describe_rule(Name=name)
    assert d["ScheduleExpression"] == "rate(3 hours)"
    assert "EventPattern" not in d and "Description" not in d
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=name)["Targets"]] == ["t1"]
    events.remove_targets(Rule=name, Ids=["t1"])
    events.delete_rule(Name=name)


def test_list_rules_pages(events):
    prefix = unique_name("page")
    names = sorted(f"{prefix}-{i}" for i in range(5))
    for n in names:
        events.put_rule(Name=n, EventPattern='{"source":["page"]}')
    seen, token, pages = [], None, 0
    while True:
        kw = {"NamePrefix": prefix, "Limit": 2}
        if token:
            kw["NextToken"] = token
        r = events.list_rules(**kw)
        seen += [x["Name"] for x in r["Rules"]]
        pages += 1
        token = r.get("NextToken")
        if not token:
            break
    assert seen == names and pages == 3
    for n in names:
        events.delete_rule(Name=n)


def test_rule_errors_as_aws_words_them(events):
    name = unique_name("bad")
    for expr in ("rate(1 minutes)", "rate(10 MINUTES)", "cron(0 1 * * * *)", "cron(INVALID)"):
        assert error_of(events.put_rule, Name=name, ScheduleExpression=expr) == \
            (400, "ValidationException", "Parameter ScheduleExpression is not valid.")
    status, code, msg = error_of(events.put_rule, Name=name, EventPattern='{"source": "int"}')
    assert (status, code) == (400, "InvalidEventPatternException")
    assert msg.startswith("Event pattern is not valid. Reason: ")
    assert error_of(events.put_rule, Name=name) == \
        (400, "ValidationException",
         "Parameter(s) EventPattern or ScheduleExpression must be specified.")
    assert error_of(events.put_rule, Name="has space", EventPattern='{"a":[1]}') == \
        (400, "ValidationException",
         "1 validation error detected: Value 'has space' at 'name' failed to satisfy "
         "constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+")
    assert error_of(events.describe_rule, Name=name) == \
        (400, "ResourceNotFoundException", f"Rule {name} does not exist on EventBus default.")
    assert error_of(events.put_targets, Rule=name, Targets=[{"Id": "a", "Arn": "arn:x"}]) == \
        (400, "ResourceNotFoundException", f"Rule {name} does not exist on EventBus default.")


# ---------------------------------------------------------------------------------------
# Targets


def test_targets_round_trip_and_delete_order(events, recorder):
    fname, arn, _ = recorder
    name = unique_name("targets")
    events.put_rule(Name=name, EventPattern='{"source":["t"]}')
    targets = [
        {"Id": "plain", "Arn": arn},
        {"Id": "const", "Arn": arn, "Input": '{"k": "v"}'},
        {"Id": "path", "Arn": arn, "InputPath": "$.detail"},
        {"Id": "tr", "Arn": arn, "InputTransformer": {
            "InputPathsMap": {"s": "$.source"}, "InputTemplate": '{"from": <s>}'}},
        {"Id": "retry", "Arn": arn, "RetryPolicy": {"MaximumRetryAttempts": 3,
                                                    "MaximumEventAgeInSeconds": 600},
         "DeadLetterConfig": {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"}},
    ]
    r = events.put_targets(Rule=name, Targets=targets)
    assert r["FailedEntryCount"] == 0 and r["FailedEntries"] == []
    got = events.list_targets_by_rule(Rule=name)["Targets"]
    assert sorted(got, key=lambda t: t["Id"]) == sorted(targets, key=lambda t: t["Id"])
    page = events.list_targets_by_rule(Rule=name, Limit=2)
    assert len(page["Targets"]) == 2 and page["NextToken"]
    rest = events.list_targets_by_rule(Rule=name, NextToken=page["NextToken"])
    assert len(rest["Targets"]) == 3 and "NextToken" not in rest
    assert name in events.list_rule_names_by_target(TargetArn=arn)["RuleNames"]
    # a sixth target is one too many; the rule cannot go while it has targets
    assert error_of(events.put_targets, Rule=name, Targets=[{"Id": "six", "Arn": arn}]) == \
        (400, "LimitExceededException",
         "The requested resource exceeds the maximum number allowed.")
    assert error_of(events.delete_rule, Name=name) == \
        (400, "ValidationException", "Rule can't be deleted since it has targets.")
    r = events.remove_targets(Rule=name, Ids=[t["Id"] for t in targets])
    assert r == {**r, "FailedEntryCount": 0, "FailedEntries": []}
    events.delete_rule(Name=name)
    assert name not in events.list_rule_names_by_target(TargetArn=arn)["RuleNames"]


def test_target_errors_as_aws_words_them(haar, events):
    name = unique_name("tgt-err")
    events.put_rule(Name=name, EventPattern='{"source":["t"]}')
    try:
        assert error_of(events.put_targets, Rule=name, Targets=[{"Id": "!@#$@!#$",
                                                                 "Arn": "arn:aws:sqs:x"}]) == \
            (400, "ValidationException",
             "1 validation error detected: Value '!@#$@!#$' at 'targets.1.member.id' failed to "
             "satisfy constraint: Member must satisfy regular expression pattern: "
             "[\\.\\-_A-Za-z0-9]+")
        long_id = "x" * 65
        assert error_of(events.put_targets, Rule=name,
                        Targets=[{"Id": long_id, "Arn": "arn:aws:sqs:x"}]) == \
            (400, "ValidationException",
             f"1 validation error detected: Value '{long_id}' at 'targets.1.member.id' failed to "
             "satisfy constraint: Member must have length less than or equal to 64")
        assert error_of(events.put_targets, Rule=name, Targets=[{
            "Id": "two", "Arn": "arn:aws:sqs:x", "Input": "{}", "InputPath": "$.detail"}]) == \
            (400, "ValidationException",
             "Only one of Input, InputPath, or InputTransformer must be provided for target two.")
        assert error_of(events.put_targets, Rule=name, Targets=[{
            "Id": "tpl", "Arn": "arn:aws:sqs:x", "InputTransformer": {
                "InputPathsMap": {"a": "$.detail"}, "InputTemplate": '"<notdefinedkey>"'}}]) == \
            (400, "ValidationException",
             "InputTemplate for target tpl contains invalid placeholder notdefinedkey.")
        # past what boto3 checks itself: two violations at once, as AWS joins them
        assert raw(haar, "PutTargets", {"Rule": name, "Targets": [{
            "Id": "age", "Arn": "arn:aws:sqs:x", "RetryPolicy": {
                "MaximumEventAgeInSeconds": 10, "MaximumRetryAttempts": 186}}]}) == (400, {
            "__type": "ValidationException",
            "message": "2 validation errors detected: Value '186' at "
            "'targets.1.member.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: "
            "Member must have value less than or equal to 185; Value '10' at "
            "'targets.1.member.retryPolicy.maximumEventAgeInSeconds' failed to satisfy "
            "constraint: Member must have value greater than or equal to 60"})
        assert raw(haar, "PutTargets", {"Rule": name, "Targets": [{
            "Id": "in", "Arn": "arn:aws:sqs:x", "Input": "{not json"}]})[0] == 400
        assert raw(haar, "PutTargets", {"Rule": name, "Targets": "no"}) == (400, {
            "__type": "SerializationException",
            "message": "Expected a list for member 'targets'."})
    finally:
        events.delete_rule(Name=name)


# ---------------------------------------------------------------------------------------
# Events


def test_put_events_delivers_to_a_function(events, recorder):
    _, arn, out = recorder
    name = unique_name("deliver")
    events.put_rule(Name=name, EventPattern=json.dumps({
        "source": ["e2e.orders"], "detail": {"total": [{"numeric": [">=", 100]}]}}))
    events.put_targets(Rule=name, Targets=[
        {"Id": "whole", "Arn": arn},
        {"Id": "shaped", "Arn": arn, "InputTransformer": {
            "InputPathsMap": {"t": "$.detail.total", "c": "$.detail.customer"},
            "InputTemplate": '{"total": <t>, "who": "<c>", "rule": "<aws.events.rule-name>"}'}},
    ])
    try:
        r = events.put_events(Entries=[
            {"Source": "e2e.orders", "DetailType": "Order Placed",
             "Detail": json.dumps({"total": 120, "customer": "ann"}),
             "Resources": ["arn:aws:s3:::shop"]},
            {"Source": "e2e.orders", "DetailType": "Order Placed",
             "Detail": json.dumps({"total": 5, "customer": "bob"})},
            {"Source": "e2e.other", "DetailType": "Order Placed",
             "Detail": json.dumps({"total": 999})},
        ])
        assert r["FailedEntryCount"] == 0
        ids = [e["EventId"] for e in r["Entries"]]
        assert len(set(ids)) == 3
        got = recorded(out, 2, "two deliveries")
        whole = next(g for g in got if "version" in g)
        shaped = next(g for g in got if "who" in g)
        assert whole["id"] == ids[0]
        assert {k: whole[k] for k in ("version", "detail-type", "source", "account", "region",
                                      "resources", "detail")} == {
            "version": "0", "detail-type": "Order Placed", "source": "e2e.orders",
            "account": ACCOUNT, "region": REGION, "resources": ["arn:aws:s3:::shop"],
            "detail": {"total": 120, "customer": "ann"}}
        assert list(whole) == ["version", "id", "detail-type", "source", "account", "time",
                               "region", "resources", "detail"]
        assert shaped == {"total": 120, "who": "ann", "rule": name}
    finally:
        events.remove_targets(Rule=name, Ids=["whole", "shaped"])
        events.delete_rule(Name=name)


def test_put_events_entry_errors(events, aws):
    r = events.put_events(Entries=[
        {"DetailType": "t", "Detail": "{}"},
        {"Source": "s", "Detail": "{}"},
        {"Source": "s", "DetailType": "t"},
        {"Source": "s", "DetailType": "t", "Detail": "not json"},
        {"Source": "s", "DetailType": "t", "Detail": "[1, 2]"},
        {"Source": "s", "DetailType": "t", "Detail": "{}"},
    ])
    assert r["FailedEntryCount"] == 5
    assert r["Entries"][:5] == [
        {"ErrorCode": "InvalidArgument",
         "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument."},
        {"ErrorCode": "InvalidArgument", "ErrorMessage":
         "Parameter DetailType is not valid. Reason: DetailType is a required argument."},
        {"ErrorCode": "InvalidArgument",
         "ErrorMessage": "Parameter Detail is not valid. Reason: Detail is a required argument."},
        {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."},
        {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."},
    ]
    assert set(r["Entries"][5]) == {"EventId"}
    big = json.dumps({"blob": "x" * 262144})
    assert error_of(events.put_events, Entries=[{"Source": "s", "DetailType": "t",
                                                 "Detail": big}]) == \
        (400, "ValidationException", "Total size of the entries in the request is over the limit.")
    entry = {"Source": "s", "DetailType": "t", "Detail": '{"a": 1}'}
    status, code, msg = error_of(events.put_events, Entries=[entry] * 11)
    assert (status, code) == (400, "ValidationException")
    assert msg.startswith("1 validation error detected: Value '[PutEventsRequestEntry(time=null, "
                          "source=s, resources=null, detailType=t, detail={\"a\": 1}, "
                          "eventBusName=null, traceHeader=null, kmsKeyIdentifier=null, "
                          "internalMetadata=null), ")
    assert msg.endswith("]' at 'entries' failed to satisfy constraint: Member must have length "
                        "less than or equal to 10")
    # the CLI's own form
    out = aws.json("events", "put-events", "--entries",
                   json.dumps([{"Source": "cli", "DetailType": "t", "Detail": "{}"}]))
    assert out["FailedEntryCount"] == 0 and len(out["Entries"][0]["EventId"]) == 36


def test_test_event_pattern(events):
    event = json.dumps({"id": "1", "account": ACCOUNT, "source": "shop", "time": "2026-01-01T00:00:00Z",
                        "region": REGION, "resources": [], "detail-type": "x",
                        "detail": {"ip": "10.0.0.7"}})
    assert events.test_event_pattern(
        EventPattern='{"detail":{"ip":[{"cidr":"10.0.0.0/24"}]}}', Event=event)["Result"] is True
    assert events.test_event_pattern(
        EventPattern='{"source":[{"anything-but":"shop"}]}', Event=event)["Result"] is False
    status, code, msg = error_of(events.test_event_pattern, EventPattern='{"a":[]}', Event=event)
    assert (status, code) == (400, "InvalidEventPatternException")
    assert msg.startswith("Event pattern is not valid. Reason: Empty arrays are not allowed")
    assert error_of(events.test_event_pattern, EventPattern='{"a":[1]}', Event='"str"') == \
        (400, "ValidationException", "Parameter Event is not valid.")


# ---------------------------------------------------------------------------------------
# Buses and tags


def test_buses(events):
    d = events.describe_event_bus()
    assert (d["Name"], d["Arn"]) == ("default", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default")
    bus = unique_name("bus")
    arn = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{bus}"
    assert events.create_event_bus(Name=bus)["EventBusArn"] == arn
    assert error_of(events.create_event_bus, Name=bus) == \
        (400, "ResourceAlreadyExistsException", f"Event bus {bus} already exists.")
    assert [b["Name"] for b in events.list_event_buses(NamePrefix=bus)["EventBuses"]] == [bus]
    assert events.describe_event_bus(Name=arn)["Name"] == bus
    r = events.put_rule(Name="on-bus", EventBusName=bus, EventPattern='{"source":["x"]}')
    assert r["RuleArn"] == rule_arn("on-bus", bus)
    assert error_of(events.put_rule, Name="sched", EventBusName=bus,
                    ScheduleExpression="rate(1 hour)") == \
        (400, "ValidationException",
         "ScheduleExpression is supported only on the default event bus.")
    assert [x["Name"] for x in events.list_rules(EventBusName=bus)["Rules"]] == ["on-bus"]
    events.delete_rule(Name="on-bus", EventBusName=bus)
    events.delete_event_bus(Name=bus)
    assert error_of(events.describe_event_bus, Name=bus) == \
        (400, "ResourceNotFoundException", f"Event bus {bus} does not exist.")
    assert error_of(events.delete_event_bus, Name="default") == \
        (400, "ValidationException", "Cannot delete event bus default.")


def test_tags(events):
    name = unique_name("tags")
    events.put_rule(Name=name, EventPattern='{"source":["t"]}',
                    Tags=[{"Key": "team", "Value": "a"}])
    arn = rule_arn(name)
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "a"}]
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "dev"},
                                               {"Key": "team", "Value": "b"}])
    events.untag_resource(ResourceARN=arn, TagKeys=["env"])
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "b"}]
    events.delete_rule(Name=name)
    assert error_of(events.list_tags_for_resource, ResourceARN=arn) == \
        (400, "ResourceNotFoundException", f"Rule {name} does not exist on EventBus default.")


# ---------------------------------------------------------------------------------------
# The environment's schedule and `haar trigger`


def test_environment_schedule_rule_from_config(events):
    d = events.describe_rule(Name="haar-dev-schedule")
    assert d["ScheduleExpression"] == "rate(5 minutes)" and d["State"] == "ENABLED"
    assert d["Description"] == "haar-dev: enqueue the scheduled tasks"
    # the producer's live alias, as Terraform's 30_app wires the schedule's target
    assert events.list_targets_by_rule(Rule="haar-dev-schedule")["Targets"] == [{
        "Id": "producer", "Arn": fn_arn("haar-dev-producer") + ":live",
        "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
        "DeadLetterConfig": {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:haar-dev-schedule-dlq"}}]
    tags = events.list_tags_for_resource(ResourceARN=rule_arn("haar-dev-schedule"))["Tags"]
    assert {t["Key"]: t["Value"] for t in tags}["owner"] == "platform"


def test_environment_producer_async_config_from_config(haar):
    """The producer's live alias: retries and event age from functions.producer, and the
    failures' records to the schedule's dead-letter queue, as wiring.tf sets them."""
    lam = boto_client("lambda", haar.aws_url)
    cfg = lam.get_function_event_invoke_config(FunctionName="haar-dev-producer",
                                               Qualifier="live")
    assert cfg["FunctionArn"] == fn_arn("haar-dev-producer") + ":live"
    assert (cfg["MaximumRetryAttempts"], cfg["MaximumEventAgeInSeconds"]) == (2, 3600)
    assert cfg["DestinationConfig"]["OnFailure"] == {
        "Destination": f"arn:aws:sqs:{REGION}:{ACCOUNT}:haar-dev-schedule-dlq"}


def test_haar_trigger_fires_a_rule_now(haar, events, recorder):
    _, arn, out = recorder
    name = unique_name("trigger")
    events.put_rule(Name=name, ScheduleExpression="rate(7 days)")
    events.put_targets(Rule=name, Targets=[{"Id": "r", "Arn": arn}])
    try:
        p = run_haar("trigger", name, "--endpoint", haar.aws_url)
        assert p.returncode == 0, p.stderr
        assert p.stdout.startswith(f"{rule_arn(name)} fired at ") and "(1 target)" in p.stdout
        got = recorded(out, 1, "the triggered event")
        assert got[0]["detail-type"] == "Scheduled Event" and got[0]["source"] == "aws.events"
        assert got[0]["resources"] == [rule_arn(name)] and got[0]["detail"] == {}
        p = run_haar("trigger", "no-such-rule", "--endpoint", haar.aws_url)
        assert p.returncode == 1
        assert "Rule no-such-rule does not exist on EventBus default." in p.stderr
    finally:
        events.remove_targets(Rule=name, Ids=["r"])
        events.delete_rule(Name=name)
