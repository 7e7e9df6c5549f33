"""SQS event source mappings (queue -> function) on a daemon with a manual clock: the Lambda API
of mappings (Create 202 "Creating", Get, List by function and by source, Update, Delete, the
State transitions, AWS's refusals), the SQS event field for field, successes deleted, failures
redelivered after the visibility timeout (the clock is moved), ReportBatchItemFailures, an
invalid batchItemFailures answer, exhausted messages reaching the dead-letter queue, filters,
pollers that scale with a backlog, and the worker's own mapping provisioned from config."""
import json
import time

import pytest
from botocore.exceptions import ClientError

from e2e_helpers import (ACCOUNT, REGION, ROLE, RUNTIME, boto_client, clock, make_zip,
                         raw_request, unique_name, wait_active, wait_until)


@pytest.fixture(scope="module")
def env(manual_haar, tmp_path_factory):
    lam = boto_client("lambda", manual_haar.aws_url)
    sqs = boto_client("sqs", manual_haar.aws_url)
    events = tmp_path_factory.mktemp("events")
    fn = unique_name("consumer")
    lam.create_function(FunctionName=fn, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                        Code={"ZipFile": make_zip("sqs_consumer")}, Timeout=10,
                        Environment={"Variables": {"EVENT_DIR": str(events)}})
    wait_active(lam, fn)
    yield {"lam": lam, "sqs": sqs, "fn": fn, "events": events, "daemon": manual_haar}
    for m in lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"]:
        if m["State"] != "Deleting":
            lam.delete_event_source_mapping(UUID=m["UUID"])
    lam.delete_function(FunctionName=fn)


def arn(name):
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def esm_raw(env, method, uuid="", body=None):
    """The mappings API by hand, for members boto3 1.26's model does not know yet
    (ScalingConfig, EventSourceMappingArn): (status, parsed body)."""
    path = "/2015-03-31/event-source-mappings/" + uuid
    data = json.dumps(body).encode() if body is not None else b""
    status, _, out = raw_request(env["daemon"].aws_url, method, path, data,
                                 {"Content-Type": "application/json"})
    return status, json.loads(out) if out else None


def queue(env, vt=30, dlq=None, max_receive=2):
    name = unique_name("esmq")
    attrs = {"VisibilityTimeout": str(vt)}
    if dlq:
        attrs["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arn(dlq),
                                             "maxReceiveCount": max_receive})
    return name, env["sqs"].create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]


def mapping(env, qname, **kw):
    m = env["lam"].create_event_source_mapping(EventSourceArn=arn(qname), FunctionName=env["fn"],
                                               **kw)
    wait_until(lambda: env["lam"].get_event_source_mapping(UUID=m["UUID"])["State"] == "Enabled",
               10, what="the mapping to be Enabled")
    return m


def snapshot(env):
    """The event files there now, those still being written included (by their final name)."""
    return set(p.name.removesuffix(".part") for p in env["events"].iterdir())


def events_since(env, seen):
    """New event files (sorted by time), as parsed JSON."""
    files = sorted(p for p in env["events"].iterdir()
                   if p.name.endswith(".json") and p.name not in seen)
    out = []
    for p in files:
        seen.add(p.name)
        out.append(json.loads(p.read_text()))
    return out


def wait_events(env, seen, n=1, timeout=15):
    got = []

    def more():
        got.extend(events_since(env, seen))
        return len(got) >= n

    wait_until(more, timeout, what=f"{n} invocation(s)")
    return got


def depth(env, url):
    a = env["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def settle(env, url, want, timeout=10):
    wait_until(lambda: depth(env, url) == want, timeout, what=f"depth {want}")


def test_mapping_api_and_states(env):
    lam = env["lam"]
    qname, _ = queue(env)
    m = lam.create_event_source_mapping(EventSourceArn=arn(qname), FunctionName=env["fn"])
    assert m["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (m["State"], m["StateTransitionReason"], m["BatchSize"],
            m["MaximumBatchingWindowInSeconds"], m["FunctionResponseTypes"]) == (
        "Creating", "USER_INITIATED", 10, 0, [])
    if "EventSourceMappingArn" in lam.meta.service_model.shape_for(
            "EventSourceMappingConfiguration").members:  # newer models only
        assert m["EventSourceMappingArn"] == (
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{m['UUID']}")
    assert m["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{env['fn']}"
    wait_until(lambda: lam.get_event_source_mapping(UUID=m["UUID"])["State"] == "Enabled", 10)
    by_fn = lam.list_event_source_mappings(FunctionName=env["fn"])["EventSourceMappings"]
    assert m["UUID"] in [x["UUID"] for x in by_fn]
    by_src = lam.list_event_source_mappings(EventSourceArn=arn(qname))["EventSourceMappings"]
    assert [x["UUID"] for x in by_src] == [m["UUID"]]
    status, u = esm_raw(env, "PUT", m["UUID"], {
        "BatchSize": 5, "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": 3}})
    assert (status, u["State"], u["BatchSize"]) == (202, "Updating", 5)
    assert u["ScalingConfig"] == {"MaximumConcurrency": 3}
    assert u["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert u["EventSourceMappingArn"] == (
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{m['UUID']}")
    wait_until(lambda: lam.get_event_source_mapping(UUID=m["UUID"])["State"] == "Enabled", 10)
    assert lam.update_event_source_mapping(UUID=m["UUID"], Enabled=False)["State"] == "Disabling"
    wait_until(lambda: lam.get_event_source_mapping(UUID=m["UUID"])["State"] == "Disabled", 10)
    # AWS's refusals (AWS-RECORDED.md §3)
    for kw, code, msg in (
            (dict(BatchSize=11), "InvalidParameterValueException",
             "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
             "greater than 10"),
            (dict(FilterCriteria={"Filters": [{"Pattern": "not json"}]}),
             "InvalidParameterValueException", "Invalid filter pattern definition."),
            ({}, "ResourceConflictException",
             f'An event source mapping with SQS arn (" {arn(qname)} ") and function (" {env["fn"]} ") '
             f"already exists. Please update or delete the existing mapping with UUID {m['UUID']}")):
        with pytest.raises(ClientError) as e:
            lam.create_event_source_mapping(EventSourceArn=arn(qname), FunctionName=env["fn"], **kw)
        assert (e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]) == (code, msg)
    with pytest.raises(ClientError) as e:
        lam.create_event_source_mapping(EventSourceArn=arn("nope-" + qname), FunctionName=env["fn"])
    assert e.value.response["Error"]["Message"] == (
        "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
        "SQS Error Message: The specified queue does not exist.")
    d = lam.delete_event_source_mapping(UUID=m["UUID"])
    assert (d["ResponseMetadata"]["HTTPStatusCode"], d["State"]) == (202, "Deleting")

    def gone():
        try:
            lam.get_event_source_mapping(UUID=m["UUID"])
        except ClientError as ex:
            return ex.response["Error"]["Code"] == "ResourceNotFoundException"
        return False

    wait_until(gone, 10, what="the mapping to go")


def test_event_shape_and_success_deletes(env):
    qname, url = queue(env)
    m = mapping(env, qname, FunctionResponseTypes=["ReportBatchItemFailures"])
    seen = snapshot(env)
    sent = env["sqs"].send_message(QueueUrl=url, MessageBody='{"foo": "bar"}', MessageAttributes={
        "Author": {"DataType": "String", "StringValue": "John Grisham"}})
    ev = wait_events(env, seen)[0]
    assert list(ev) == ["Records"] and len(ev["Records"]) == 1
    r = ev["Records"][0]
    assert list(r) == ["messageId", "receiptHandle", "body", "attributes", "messageAttributes",
                       "md5OfMessageAttributes", "md5OfBody", "eventSource", "eventSourceARN",
                       "awsRegion"]
    assert r["messageId"] == sent["MessageId"] and r["body"] == '{"foo": "bar"}'
    assert list(r["attributes"]) == ["ApproximateReceiveCount", "SentTimestamp", "SenderId",
                                     "ApproximateFirstReceiveTimestamp"]
    assert r["attributes"]["ApproximateReceiveCount"] == "1"
    assert r["messageAttributes"] == {"Author": {"stringValue": "John Grisham", "stringListValues": [],
                                                 "binaryListValues": [], "dataType": "String"}}
    assert r["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert r["md5OfBody"] == sent["MD5OfMessageBody"]
    assert (r["eventSource"], r["eventSourceARN"], r["awsRegion"]) == ("aws:sqs", arn(qname), REGION)
    settle(env, url, (0, 0))
    # no attributes: md5OfMessageAttributes is null, not absent [R]
    env["sqs"].send_message(QueueUrl=url, MessageBody="plain")
    assert wait_events(env, seen)[0]["Records"][0]["md5OfMessageAttributes"] is None
    settle(env, url, (0, 0))
    env["lam"].delete_event_source_mapping(UUID=m["UUID"])


def test_failure_partial_failures_invalid_answers_and_dlq(env):
    dlq, dlq_url = queue(env)
    qname, url = queue(env, vt=30, dlq=dlq, max_receive=2)
    m = mapping(env, qname, FunctionResponseTypes=["ReportBatchItemFailures"])
    seen = snapshot(env)
    # partial: only the listed message stays; it comes back after the visibility timeout
    env["sqs"].send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "good"}, {"Id": "b", "MessageBody": "bad one"}])
    ev = wait_events(env, seen)[0]
    assert sorted(x["body"] for x in ev["Records"]) == ["bad one", "good"]
    settle(env, url, (0, 1))
    clock(env["daemon"], advance=30)
    ev = wait_events(env, seen)[0]
    assert [(x["body"], x["attributes"]["ApproximateReceiveCount"]) for x in ev["Records"]] == [
        ("bad one", "2")]
    # its budget used up: the third receive moves it to the DLQ, same MessageId
    clock(env["daemon"], advance=30)
    settle(env, dlq_url, (1, 0))
    dead = env["sqs"].receive_message(QueueUrl=dlq_url, AttributeNames=["All"])["Messages"][0]
    assert dead["MessageId"] == ev["Records"][0]["messageId"]
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == arn(qname)
    env["sqs"].delete_message(QueueUrl=dlq_url, ReceiptHandle=dead["ReceiptHandle"])
    # a function error: nothing is deleted, the whole batch comes back
    env["sqs"].send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "fine"}, {"Id": "b", "MessageBody": "fail now"}])
    assert len(wait_events(env, seen)[0]["Records"]) == 2
    settle(env, url, (0, 2))
    # an invalid batchItemFailures answer fails the whole batch too, and so does one naming a
    # message id the batch does not hold (beside ones it does)
    for body in ("invalid answer", "unknown id"):
        env["lam"].update_event_source_mapping(UUID=m["UUID"], Enabled=False)
        wait_until(lambda: env["lam"].get_event_source_mapping(UUID=m["UUID"])["State"] ==
                   "Disabled", 10)
        env["sqs"].purge_queue(QueueUrl=url)
        clock(env["daemon"], advance=61)
        env["sqs"].send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "fine"}, {"Id": "b", "MessageBody": body},
            {"Id": "c", "MessageBody": "bad too"}])
        env["lam"].update_event_source_mapping(UUID=m["UUID"], Enabled=True)
        assert len(wait_events(env, seen)[0]["Records"]) == 3
        settle(env, url, (0, 3))
        clock(env["daemon"], advance=30)
        recs = wait_events(env, seen)[0]["Records"]
        assert sorted(x["attributes"]["ApproximateReceiveCount"] for x in recs) == ["2"] * 3
    env["lam"].delete_event_source_mapping(UUID=m["UUID"])


def test_empty_answer_is_success_and_filters_delete_what_they_drop(env):
    qname, url = queue(env)
    m = mapping(env, qname, FunctionResponseTypes=["ReportBatchItemFailures"],
                FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["keep"]}})}]})
    seen = snapshot(env)
    env["sqs"].send_message(QueueUrl=url, MessageBody=json.dumps({"kind": "drop"}))
    env["sqs"].send_message(QueueUrl=url, MessageBody=json.dumps({"kind": "keep", "x": "empty"}))
    recs = wait_events(env, seen)[0]["Records"]
    assert [json.loads(x["body"])["kind"] for x in recs] == ["keep"]
    settle(env, url, (0, 0))
    assert m["FilterCriteria"]["Filters"][0]["Pattern"] == json.dumps({"body": {"kind": ["keep"]}})
    env["lam"].delete_event_source_mapping(UUID=m["UUID"])


def test_filters_see_every_member_of_the_record(env):
    # each pattern matches on a different member of the record the function gets: the body
    # as a string (not JSON), system attributes, string and binary message attributes
    qname, url = queue(env)
    patterns = [{"body": ["plain text"]},
                {"attributes": {"ApproximateReceiveCount": ["1"]}, "body": [{"prefix": "attr "}]},
                {"messageAttributes": {"color": {"stringValue": ["red"], "dataType": ["String"]}}},
                {"messageAttributes": {"bin": {"binaryValue": ["AAE="]}}},
                {"eventSource": ["aws:sqs"], "awsRegion": [{"exists": True}],
                 "body": {"n": [{"numeric": [">", 10]}]}}]
    m = mapping(env, qname, FilterCriteria={
        "Filters": [{"Pattern": json.dumps(x)} for x in patterns]})
    seen = snapshot(env)
    send = env["sqs"].send_message
    send(QueueUrl=url, MessageBody="plain text")
    send(QueueUrl=url, MessageBody="plain text, no")
    send(QueueUrl=url, MessageBody="attr one")
    send(QueueUrl=url, MessageBody="red", MessageAttributes={
        "color": {"DataType": "String", "StringValue": "red"}})
    send(QueueUrl=url, MessageBody="blue", MessageAttributes={
        "color": {"DataType": "String", "StringValue": "blue"}})
    send(QueueUrl=url, MessageBody="bin", MessageAttributes={
        "bin": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})
    send(QueueUrl=url, MessageBody=json.dumps({"n": 11}))
    send(QueueUrl=url, MessageBody=json.dumps({"n": 9}))
    kept = []
    while len(kept) < 5:
        for ev in wait_events(env, seen):
            kept += [x["body"] for x in ev["Records"]]
    settle(env, url, (0, 0))  # the ones filtered out are deleted
    assert sorted(kept) == sorted(["plain text", "attr one", "red", "bin", json.dumps({"n": 11})])
    env["lam"].delete_event_source_mapping(UUID=m["UUID"])


def test_records_past_the_payload_wait_for_the_next_batch(env):
    # seven 1 MB messages come in one receive: six fill the 6 MB payload, the seventh stays in
    # flight (the payload is never broken or short of a record that is then deleted) and is
    # the next batch once its visibility timeout ends
    qname, url = queue(env)
    bodies = [str(i) * 1000000 for i in range(7)]
    for b in bodies:
        env["sqs"].send_message(QueueUrl=url, MessageBody=b)
    seen = snapshot(env)
    m = mapping(env, qname)
    first = wait_events(env, seen)[0]["Records"]
    assert len(first) == 6
    settle(env, url, (0, 1))
    clock(env["daemon"], advance=31)
    second = wait_events(env, seen)[0]["Records"]
    assert len(second) == 1 and second[0]["attributes"]["ApproximateReceiveCount"] == "2"
    settle(env, url, (0, 0))
    assert sorted(x["body"] for x in first + second) == bodies
    env["lam"].delete_event_source_mapping(UUID=m["UUID"])


def test_pollers_scale_with_a_backlog(env):
    qname, url = queue(env)
    # a backlog first, then the mapping: full receives add pollers up to MaximumConcurrency
    for i in range(20):
        env["sqs"].send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(k), "MessageBody": f"m{i}-{k}"} for k in range(10)])
    status, m = esm_raw(env, "POST", body={"EventSourceArn": arn(qname), "FunctionName": env["fn"],
                                           "ScalingConfig": {"MaximumConcurrency": 4}})
    assert status == 202
    settle(env, url, (0, 0), timeout=60)

    def mine():
        import urllib.request
        health = json.load(urllib.request.urlopen(env["daemon"].aws_url + "/_haar/health"))
        return [x for x in health["event_source_mappings"] if x["uuid"] == m["UUID"]][0]

    assert mine()["batches"] >= 20 and mine()["failures"] == 0
    assert 2 <= mine()["pollers"] <= 4, mine()  # scaled up, never past MaximumConcurrency
    # the queue is empty: long polls come back empty after their 20 s and pollers leave
    clock(env["daemon"], advance=20)
    wait_until(lambda: mine()["pollers"] == 1, 10, what="one poller left")
    env["lam"].delete_event_source_mapping(UUID=m["UUID"])


def test_the_worker_mapping_from_config(env):
    lam, sqs = env["lam"], env["sqs"]
    ms = lam.list_event_source_mappings(FunctionName="haar-dev-worker")["EventSourceMappings"]
    assert len(ms) == 1
    w = ms[0]
    assert (w["EventSourceArn"], w["BatchSize"], w["MaximumBatchingWindowInSeconds"],
            w["FunctionResponseTypes"], w["State"]) == (
        arn("haar-dev-tasks"), 10, 0, ["ReportBatchItemFailures"], "Enabled")
    assert esm_raw(env, "GET", w["UUID"])[1]["ScalingConfig"] == {"MaximumConcurrency": 10}
    url = sqs.get_queue_url(QueueName="haar-dev-tasks")["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName="haar-dev-tasks-dlq")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    vt = int(attrs["VisibilityTimeout"])
    max_receive = json.loads(attrs["RedrivePolicy"])["maxReceiveCount"]
    # success deletes (the worker itself)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": "t1", "kind": "echo"}))
    settle(env, url, (0, 0))
    # the same mapping feeding a stand-in that fails on demand: failures come back after the
    # queue's visibility timeout, batchItemFailures only those, exhausted ones reach the DLQ
    lam.update_event_source_mapping(UUID=w["UUID"], FunctionName=env["fn"])
    wait_until(lambda: lam.get_event_source_mapping(UUID=w["UUID"])["State"] == "Enabled", 10)
    seen = snapshot(env)
    try:
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "ok"}, {"Id": "b", "MessageBody": "bad task"}])
        wait_events(env, seen)
        settle(env, url, (0, 1))
        for attempt in range(2, max_receive + 1):
            clock(env["daemon"], advance=vt)
            recs = wait_events(env, seen)[0]["Records"]
            assert [(x["body"], x["attributes"]["ApproximateReceiveCount"]) for x in recs] == [
                ("bad task", str(attempt))]
            settle(env, url, (0, 1))
        clock(env["daemon"], advance=vt)
        settle(env, dlq_url, (1, 0))
        dead = sqs.receive_message(QueueUrl=dlq_url)["Messages"][0]
        assert dead["Body"] == "bad task"
        sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=dead["ReceiptHandle"])
    finally:
        lam.update_event_source_mapping(UUID=w["UUID"], FunctionName="haar-dev-worker")


def test_batching_window_gathers_until_it_ends(env):
    qname, url = queue(env)
    m = mapping(env, qname, BatchSize=50, MaximumBatchingWindowInSeconds=5)
    seen = snapshot(env)
    for i in range(3):
        env["sqs"].send_message(QueueUrl=url, MessageBody=f"w{i}")
    time.sleep(1)
    assert events_since(env, seen) == []  # gathering: the window is on the (manual) clock
    clock(env["daemon"], advance=5)
    recs = wait_events(env, seen)[0]["Records"]
    assert sorted(x["body"] for x in recs) == ["w0", "w1", "w2"]
    settle(env, url, (0, 0))
    env["lam"].delete_event_source_mapping(UUID=m["UUID"])
