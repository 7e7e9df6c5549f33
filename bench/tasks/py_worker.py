"""The worker written the seed's way, for bench/tasks: a Python process long-polling the
Python variant's queue with boto3 (batches of ten), moving each task QUEUED -> RUNNING ->
SUCCEEDED with the same conditional updates as the C worker, then deleting the batch.

    PY_TASKS_TABLE=... PY_TASKS_QUEUE_URL=... /usr/bin/python3 py_worker.py
"""

import datetime
import hashlib
import json
import os
import signal
import sys
import time
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

TABLE = os.environ["PY_TASKS_TABLE"]
QUEUE_URL = os.environ["PY_TASKS_QUEUE_URL"]
_cfg = Config(retries={"mode": "standard"})
# Debian's botocore (1.29) predates AWS_ENDPOINT_URL: endpoint and region are passed explicitly
_where = {"endpoint_url": os.environ["AWS_ENDPOINT_URL"], "region_name": os.environ["AWS_REGION"]}
ddb = boto3.client("dynamodb", config=_cfg, **_where)
sqs = boto3.client("sqs", config=_cfg, **_where)
running = True


def stop(*_):
    global running
    running = False


def now_iso():
    return datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def run_kind(kind, payload, attempt):
    if kind == "echo":
        return payload
    if kind == "sleep":
        time.sleep(payload.get("ms", 0) / 1000)
        return {"slept_ms": payload.get("ms", 0)}
    if kind == "sha256":
        data = payload["data"].encode()
        return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    if kind == "fail":
        if attempt <= payload.get("times", 1):
            raise RuntimeError(f"attempt {attempt} that fails on purpose")
        return {"attempts": attempt}
    return {}


def process(msg):
    task_id = json.loads(msg["Body"])["id"]
    run_id = uuid.uuid4().hex
    now = now_iso()
    try:
        task = ddb.update_item(
            TableName=TABLE, Key={"id": {"S": task_id}},
            UpdateExpression="SET #s = :r, run_id = :run, started_at = :now, updated_at = :now "
                             "ADD attempts :one",
            ConditionExpression="#s = :q", ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":q": {"S": "QUEUED"}, ":r": {"S": "RUNNING"},
                                       ":run": {"S": run_id}, ":now": {"S": now},
                                       ":one": {"N": "1"}},
            ReturnValues="ALL_NEW")["Attributes"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return True  # finished already, or running elsewhere
        return False
    result = run_kind(task["kind"]["S"], json.loads(task["payload"]["S"]),
                      int(task["attempts"]["N"]))
    done = now_iso()
    ddb.update_item(
        TableName=TABLE, Key={"id": {"S": task_id}},
        UpdateExpression="SET #s = :d, #r = :res, finished_at = :now, updated_at = :now "
                         "REMOVE run_id",
        ConditionExpression="#s = :r AND run_id = :run",
        ExpressionAttributeNames={"#s": "status", "#r": "result"},
        ExpressionAttributeValues={":r": {"S": "RUNNING"}, ":d": {"S": "SUCCEEDED"},
                                   ":run": {"S": run_id}, ":now": {"S": done},
                                   ":res": {"S": json.dumps(result, separators=(",", ":"))}})
    return True


def main():
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while running:
        r = sqs.receive_message(QueueUrl=QUEUE_URL, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                AttributeNames=["All"])
        done = []
        for m in r.get("Messages", []):
            try:
                if process(m):
                    done.append(m)
            except Exception as e:  # a failed task: its message comes back
                print(json.dumps({"level": "WARN", "message": str(e)}), file=sys.stderr)
        if done:
            sqs.delete_message_batch(QueueUrl=QUEUE_URL, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
