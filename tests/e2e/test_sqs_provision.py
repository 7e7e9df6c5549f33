"""`haar up` provisions the environment's queue and dead-letter queue from the tfvars file (the
names of DESIGN.md, the attributes and the redrive policy of the file, the DLQ's redrive allow
policy as infra/layers/20_infra makes it), keeps their messages across restarts, and applies
a changed attribute of the file at the next start."""
import hashlib
import json

from e2e_helpers import ACCOUNT, REGION, REPO, Daemon, boto_client


def attrs(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def test_queues_from_config_keep_messages_and_take_changes(tmp_path):
    config = json.loads((REPO / "infra/envs/dev/terraform.tfvars.json").read_text())
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    d = Daemon(tmp_path, extra_args=("--config", str(path)))
    try:
        d.wait_ready()
        sqs = boto_client("sqs", d.aws_url)
        url = sqs.get_queue_url(QueueName="haar-dev-tasks")["QueueUrl"]
        dlq = sqs.get_queue_url(QueueName="haar-dev-tasks-dlq")["QueueUrl"]
        a, q = attrs(sqs, url), config["queue"]
        assert (int(a["VisibilityTimeout"]), int(a["MessageRetentionPeriod"]),
                int(a["ReceiveMessageWaitTimeSeconds"])) == (
            q["visibility_timeout_seconds"], q["message_retention_seconds"],
            q["receive_wait_time_seconds"])
        assert json.loads(a["RedrivePolicy"]) == {
            "deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:haar-dev-tasks-dlq",
            "maxReceiveCount": q["max_receive_count"]}
        b = attrs(sqs, dlq)
        assert int(b["MessageRetentionPeriod"]) == q["dlq_message_retention_seconds"]
        assert json.loads(b["RedriveAllowPolicy"]) == {
            "redrivePermission": "byQueue",
            "sourceQueueArns": [f"arn:aws:sqs:{REGION}:{ACCOUNT}:haar-dev-tasks"]}
        # the worker's mapping is stopped so the message stays put across the restart
        lam = boto_client("lambda", d.aws_url)
        m = lam.list_event_source_mappings(FunctionName="haar-dev-worker")["EventSourceMappings"][0]
        lam.update_event_source_mapping(UUID=m["UUID"], Enabled=False)
        sent = sqs.send_message(QueueUrl=dlq, MessageBody="kept", MessageAttributes={
            "n": {"DataType": "Number", "StringValue": "7"},
            "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})
    finally:
        assert d.stop() == 0
    # a changed attribute in the file is applied; messages stay
    config["queue"]["visibility_timeout_seconds"] += 60
    path.write_text(json.dumps(config))
    d = Daemon(tmp_path, extra_args=("--config", str(path)))
    try:
        d.wait_ready()
        sqs = boto_client("sqs", d.aws_url)
        url = sqs.get_queue_url(QueueName="haar-dev-tasks")["QueueUrl"]
        dlq = sqs.get_queue_url(QueueName="haar-dev-tasks-dlq")["QueueUrl"]
        assert int(attrs(sqs, url)["VisibilityTimeout"]) == config["queue"]["visibility_timeout_seconds"]
        got = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"])["Messages"][0]
        assert got["Body"] == "kept"
        # the digests made when the restart loaded the message are the send's
        assert got["MD5OfBody"] == hashlib.md5(b"kept").hexdigest() == sent["MD5OfMessageBody"]
        assert got["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
        lam = boto_client("lambda", d.aws_url)
        ms = lam.list_event_source_mappings(FunctionName="haar-dev-worker")["EventSourceMappings"]
        assert len(ms) == 1 and ms[0]["UUID"] == m["UUID"]  # the same mapping, enabled again
    finally:
        assert d.stop() == 0
