"""SQS over the query protocol (form Action=, XML answers) with Debian's clients: boto3 1.26 for
every operation and its error paths (botocore parses the XML and checks the message MD5s),
and /usr/bin/aws sqs (the CLI 2.9) for the commands people type. Real clock: visibility and
retention on the manual clock are test_sqs_esm.py's and the unit tests' business."""
import hashlib
import json
import time

import pytest
from botocore.exceptions import ClientError

from e2e_helpers import ACCOUNT, REGION, boto_client, unique_name


@pytest.fixture(scope="module")
def sqs(haar):
    return boto_client("sqs", haar.aws_url)


def err(excinfo):
    e = excinfo.value.response["Error"]
    return e["Code"], e["Message"], excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def arn(name):
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def test_boto3_query_is_the_protocol(sqs):
    # boto3 1.26 speaks query: the model says so, so the XML path is what is tested here
    assert sqs.meta.service_model.protocol == "query"


def test_queue_lifecycle_attributes_and_tags(sqs, haar):
    name = unique_name("q")
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "40"},
                           tags={"env": "dev"})["QueueUrl"]
    assert url == f"{haar.aws_url}/{ACCOUNT}/{name}"
    assert sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "40"})["QueueUrl"] == url
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=name, Attributes={"DelaySeconds": "5"})
    assert err(e) == ("QueueAlreadyExists", "A queue already exists with the same name and a "
                      "different value for attribute DelaySeconds", 400)
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
    assert sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=ACCOUNT)["QueueUrl"] == url
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert a["VisibilityTimeout"] == "40" and a["QueueArn"] == arn(name)
    assert set(a) == {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed",
                      "ApproximateNumberOfMessagesNotVisible", "CreatedTimestamp", "DelaySeconds",
                      "LastModifiedTimestamp", "MaximumMessageSize", "MessageRetentionPeriod",
                      "QueueArn", "ReceiveMessageWaitTimeSeconds", "SqsManagedSseEnabled",
                      "VisibilityTimeout"}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "2", "Policy": json.dumps(
        {"Version": "2012-10-17", "Statement": []})})
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds", "Policy"])["Attributes"]
    assert a["DelaySeconds"] == "2" and json.loads(a["Policy"])["Statement"] == []
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"FifoQueue": "true"})
    assert err(e) == ("InvalidAttributeName", "Unknown Attribute FifoQueue.", 400)
    with pytest.raises(ClientError) as e:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "43201"})
    assert err(e)[0] == "InvalidAttributeValue"
    sqs.tag_queue(QueueUrl=url, Tags={"team": "core"})
    sqs.untag_queue(QueueUrl=url, TagKeys=["env"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core"}
    sqs.add_permission(QueueUrl=url, Label="share", AWSAccountIds=["123456789012"],
                       Actions=["SendMessage", "ReceiveMessage"])
    with pytest.raises(ClientError) as e:
        sqs.add_permission(QueueUrl=url, Label="share", AWSAccountIds=["123456789012"],
                           Actions=["SendMessage"])
    assert err(e) == ("InvalidParameterValue", "Value share for parameter Label is invalid. "
                      "Reason: Already exists.", 400)
    sqs.remove_permission(QueueUrl=url, Label="share")
    sqs.delete_queue(QueueUrl=url)
    for call in (lambda: sqs.get_queue_url(QueueName=name),
                 lambda: sqs.get_queue_attributes(QueueUrl=url)):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e) == ("AWS.SimpleQueueService.NonExistentQueue",
                          "The specified queue does not exist for this wsdl version.", 400)
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=name)
    assert err(e)[0] == "AWS.SimpleQueueService.QueueDeletedRecently"


def test_list_queues_pages(sqs):
    prefix = unique_name("ls")
    urls = [sqs.create_queue(QueueName=f"{prefix}-{i}")["QueueUrl"] for i in range(5)]
    seen, kwargs = [], {"QueueNamePrefix": prefix, "MaxResults": 2}
    while True:
        page = sqs.list_queues(**kwargs)
        seen += page.get("QueueUrls", [])
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert seen == urls
    assert sqs.list_queues(QueueNamePrefix=prefix)["QueueUrls"] == urls
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix=prefix + "-none")
    with pytest.raises(ClientError) as e:
        sqs.list_queues(QueueNamePrefix=prefix, NextToken="!!not-a-token!!", MaxResults=1)
    assert err(e)[0] == "InvalidParameterValue"


def test_messages_attributes_md5_and_batches(sqs):
    url = sqs.create_queue(QueueName=unique_name("m"))["QueueUrl"]
    body = "Test message."
    r = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes={
        "attribName1": {"DataType": "String", "StringValue": "attribValue 1"}})
    assert r["MD5OfMessageBody"] == "e4e68fb7bd0e697a0ae8f1bb342846b3"
    assert r["MD5OfMessageAttributes"] == "19e27d4e946b072f3f58da80d94fd778"
    sqs.send_message(QueueUrl=url, MessageBody="bin", MessageAttributes={
        "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
        "n": {"DataType": "Number", "StringValue": "-1.5e3"}})
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                              MessageAttributeNames=["All"], WaitTimeSeconds=1)["Messages"]
    assert sorted(m["Body"] for m in got) == ["Test message.", "bin"]
    for m in got:
        assert m["MD5OfBody"] == hashlib.md5(m["Body"].encode()).hexdigest()
        assert m["Attributes"]["ApproximateReceiveCount"] == "1"
        assert m["Attributes"]["SenderId"] == ACCOUNT
        if m["Body"] == "bin":
            assert m["MessageAttributes"]["b"] == {"DataType": "Binary", "BinaryValue": b"\x00\xff"}
    # a second receive sees nothing (in flight); deleting twice is fine
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    for m in got:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    r = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "ok", "MessageBody": "fine"},
        {"Id": "late", "MessageBody": "later", "DelaySeconds": 900},
        {"Id": "bad", "MessageBody": "x", "DelaySeconds": 901}])
    assert sorted(e["Id"] for e in r["Successful"]) == ["late", "ok"]
    assert [(f["Id"], f["Code"], f["SenderFault"]) for f in r["Failed"]] == [
        ("bad", "InvalidParameterValue", True)]
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesDelayed"]) == ("1", "1")
    m = sqs.receive_message(QueueUrl=url)["Messages"][0]
    r = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 100},
        {"Id": "b", "ReceiptHandle": "garbage", "VisibilityTimeout": 1}])
    assert [s["Id"] for s in r["Successful"]] == ["a"]
    assert r["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    time.sleep(1.1)  # 12 hours counted from the receive: now past them
    with pytest.raises(ClientError) as e:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                                      VisibilityTimeout=43200)
    assert err(e)[0] == "InvalidParameterValue"
    assert "beyond the limit" in err(e)[1]
    r = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "x", "ReceiptHandle": m["ReceiptHandle"]}])
    assert r["Successful"] == [{"Id": "x"}]
    for entries, code in (([], "AWS.SimpleQueueService.EmptyBatchRequest"),
                          ([{"Id": f"i{i}", "MessageBody": "m"} for i in range(11)],
                           "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
                          ([{"Id": "i", "MessageBody": "m"}] * 2,
                           "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
                          ([{"Id": "a:b", "MessageBody": "m"}],
                           "AWS.SimpleQueueService.InvalidBatchEntryId")):
        with pytest.raises(ClientError) as e:
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        assert err(e)[0] == code
    for call, code in ((lambda: sqs.send_message(QueueUrl=url, MessageBody=""), "MissingParameter"),
                       (lambda: sqs.send_message(QueueUrl=url, MessageBody="\x08"),
                        "InvalidMessageContents"),
                       (lambda: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=11),
                        "InvalidParameterValue"),
                       (lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=21),
                        "InvalidParameterValue"),
                       (lambda: sqs.delete_message(QueueUrl=url, ReceiptHandle="garbage"),
                        "ReceiptHandleIsInvalid")):
        with pytest.raises(ClientError) as e:
            call()
        assert err(e)[0] == code


def test_long_poll_answers_when_a_message_arrives(sqs, haar):
    import threading
    url = sqs.create_queue(QueueName=unique_name("poll"))["QueueUrl"]
    result = {}

    def waiter():
        t0 = time.monotonic()
        result["r"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
        result["dt"] = time.monotonic() - t0

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.5)
    boto_client("sqs", haar.aws_url).send_message(QueueUrl=url, MessageBody="now")
    th.join(15)
    assert result["r"]["Messages"][0]["Body"] == "now"
    assert result["dt"] < 3, result["dt"]


def test_fifo_queue(sqs):
    name = unique_name("f") + ".fifo"
    url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})["QueueUrl"]
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (a["FifoQueue"], a["ContentBasedDeduplication"], a["DeduplicationScope"],
            a["FifoThroughputLimit"]) == ("true", "false", "queue", "perQueue")
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageDeduplicationId="d")
    assert err(e) == ("MissingParameter", "The request must contain the parameter MessageGroupId.", 400)
    with pytest.raises(ClientError) as e:
        sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g")
    assert err(e)[0] == "InvalidParameterValue"
    s1 = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="1")
    s2 = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g", MessageDeduplicationId="1")
    assert s1["MessageId"] == s2["MessageId"] and s1["SequenceNumber"] == s2["SequenceNumber"]
    sqs.send_message(QueueUrl=url, MessageBody="b", MessageGroupId="g", MessageDeduplicationId="2")
    sqs.send_message(QueueUrl=url, MessageBody="c", MessageGroupId="h", MessageDeduplicationId="3")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                              ReceiveRequestAttemptId="try-1")["Messages"]
    assert [m["Body"] for m in got] == ["a", "b", "c"]
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, ReceiveRequestAttemptId="try-1")
    assert [m["ReceiptHandle"] for m in again["Messages"]] == [m["ReceiptHandle"] for m in got]
    assert got[0]["Attributes"]["MessageGroupId"] == "g"
    assert int(got[0]["Attributes"]["SequenceNumber"]) < int(got[1]["Attributes"]["SequenceNumber"])
    for m in got:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_dead_letter_queue_and_move_task(sqs):
    dlq = unique_name("dlq")
    dlq_url = sqs.create_queue(QueueName=dlq)["QueueUrl"]
    src = unique_name("src")
    policy = json.dumps({"deadLetterTargetArn": arn(dlq), "maxReceiveCount": 1})
    url = sqs.create_queue(QueueName=src, Attributes={"RedrivePolicy": policy,
                                                      "VisibilityTimeout": "1"})["QueueUrl"]
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)["queueUrls"] == [url]
    mid = sqs.send_message(QueueUrl=url, MessageBody="poison")["MessageId"]
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["MessageId"] == mid
    time.sleep(1.2)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    dead = sqs.receive_message(QueueUrl=dlq_url, AttributeNames=["All"], VisibilityTimeout=0)["Messages"][0]
    assert dead["MessageId"] == mid
    assert dead["Attributes"]["DeadLetterQueueSourceArn"] == arn(src)
    with pytest.raises(ClientError) as e:
        sqs.create_queue(QueueName=unique_name("x"), Attributes={"RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": arn("nope-" + dlq), "maxReceiveCount": 1})})
    assert err(e)[0] == "InvalidParameterValue" and "Dead letter target does not exist" in err(e)[1]


def test_purge(sqs):
    name = unique_name("purge")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.purge_queue(QueueUrl=url)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    with pytest.raises(ClientError) as e:
        sqs.purge_queue(QueueUrl=url)
    assert err(e) == ("AWS.SimpleQueueService.PurgeQueueInProgress",
                      f"Only one PurgeQueue operation on {name} is allowed every 60 seconds.", 403)


def test_aws_cli(aws, haar):
    name = unique_name("cli")
    url = aws.json("sqs", "create-queue", "--queue-name", name,
                   "--attributes", "VisibilityTimeout=5")["QueueUrl"]
    assert url.endswith(f"/{ACCOUNT}/{name}")
    assert aws.json("sqs", "get-queue-url", "--queue-name", name)["QueueUrl"] == url
    assert url in aws.json("sqs", "list-queues", "--queue-name-prefix", name)["QueueUrls"]
    sent = aws.json("sqs", "send-message", "--queue-url", url, "--message-body", "from the cli",
                    "--message-attributes", '{"k":{"DataType":"String","StringValue":"v"}}')
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"from the cli").hexdigest()
    aws.json("sqs", "send-message-batch", "--queue-url", url, "--entries",
             '[{"Id":"a","MessageBody":"one"},{"Id":"b","MessageBody":"two"}]')
    got = aws.json("sqs", "receive-message", "--queue-url", url, "--max-number-of-messages", "10",
                   "--attribute-names", "All", "--message-attribute-names", "All")["Messages"]
    assert sorted(m["Body"] for m in got) == ["from the cli", "one", "two"]
    aws.json("sqs", "change-message-visibility", "--queue-url", url, "--receipt-handle",
             got[0]["ReceiptHandle"], "--visibility-timeout", "0")
    aws.json("sqs", "delete-message", "--queue-url", url, "--receipt-handle", got[1]["ReceiptHandle"])
    a = aws.json("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "All")
    assert a["Attributes"]["VisibilityTimeout"] == "5"
    aws.json("sqs", "set-queue-attributes", "--queue-url", url, "--attributes", "DelaySeconds=1")
    aws.json("sqs", "tag-queue", "--queue-url", url, "--tags", "env=dev")
    assert aws.json("sqs", "list-queue-tags", "--queue-url", url)["Tags"] == {"env": "dev"}
    p = aws.run("sqs", "get-queue-url", "--queue-name", name + "-nope")
    assert p.returncode != 0
    assert "AWS.SimpleQueueService.NonExistentQueue" in p.stderr
    assert "The specified queue does not exist for this wsdl version." in p.stderr
    p = aws.run("sqs", "receive-message", "--queue-url", url, "--max-number-of-messages", "11")
    assert "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided." in p.stderr
    aws.json("sqs", "purge-queue", "--queue-url", url)
    aws.json("sqs", "delete-queue", "--queue-url", url)


def test_haar_status_shows_queues_and_the_worker_mapping(haar):
    from e2e_helpers import run_haar
    p = run_haar("status", "--endpoint", haar.aws_url)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert any(l.split()[:2] == ["queue", "haar-dev-tasks"] and "dlq=haar-dev-tasks-dlq" in l
               for l in lines), p.stdout
    # the mapping invokes the worker through its live alias, as 30_app wires it
    assert any(l.split()[:4] == ["mapping", "haar-dev-tasks", "->", "haar-dev-worker:live"]
               for l in lines), p.stdout
