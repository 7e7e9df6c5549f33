"""The task API written the seed's way, for bench/tasks: FastAPI on uvicorn with boto3
against the same haar SQS and DynamoDB the C functions use (its own table and queue).

The same contract as the C api for what the benchmark drives — POST /tasks (202, Location,
Idempotency-Key), GET /tasks/{id}, GET /health — with the same order: a conditional put of
the task, then the message. Settings from the environment: PY_TASKS_TABLE, PY_TASKS_QUEUE_URL,
AWS_ENDPOINT_URL, AWS_REGION and the test credentials.
"""

import datetime
import hashlib
import json
import os
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

TABLE = os.environ["PY_TASKS_TABLE"]
QUEUE_URL = os.environ["PY_TASKS_QUEUE_URL"]
KINDS = {"echo", "sleep", "fail", "sha256", "report"}
_cfg = Config(retries={"mode": "standard"}, max_pool_connections=64)
# Debian's botocore (1.29) predates AWS_ENDPOINT_URL: endpoint and region are passed explicitly
_where = {"endpoint_url": os.environ["AWS_ENDPOINT_URL"], "region_name": os.environ["AWS_REGION"]}
ddb = boto3.client("dynamodb", config=_cfg, **_where)
sqs = boto3.client("sqs", config=_cfg, **_where)
app = FastAPI()


def now_iso():
    return datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def error(status, code, message):
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def render(item):
    t = {"id": item["id"]["S"], "kind": item["kind"]["S"], "status": item["status"]["S"],
         "payload": json.loads(item["payload"]["S"]), "attempts": int(item["attempts"]["N"]),
         "created_at": item["created_at"]["S"], "updated_at": item["updated_at"]["S"]}
    for k in ("started_at", "finished_at"):
        if k in item:
            t[k] = item[k]["S"]
    if "result" in item:
        t["result"] = json.loads(item["result"]["S"])
    return t


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/tasks", status_code=202)
async def create(request: Request, idempotency_key: str | None = Header(None)):
    try:
        body = json.loads(await request.body())
    except ValueError as e:
        return error(400, "InvalidJson", f"the body is not JSON: {e}")
    if not isinstance(body, dict) or body.get("kind") not in KINDS:
        return error(400, "UnknownKind", "kind must be one of " + ", ".join(sorted(KINDS)))
    payload = body.get("payload", {})
    if not isinstance(payload, dict):
        return error(400, "InvalidPayload", "payload must be a JSON object")
    # boto3 blocks: its calls run on the threadpool, as FastAPI runs plain `def` routes
    return await run_in_threadpool(_create, body["kind"], payload, idempotency_key)


def _create(kind, payload, key):
    task_id = str(uuid.UUID(bytes=hashlib.sha256(key.encode()).digest()[:16])) if key \
        else str(uuid.uuid4())
    text = json.dumps(payload, separators=(",", ":"))
    now = now_iso()
    item = {"id": {"S": task_id}, "kind": {"S": kind}, "payload": {"S": text},
            "status": {"S": "QUEUED"}, "created_at": {"S": now}, "updated_at": {"S": now},
            "attempts": {"N": "0"}, "source": {"S": "api"}}
    try:
        ddb.put_item(TableName=TABLE, Item=item, ConditionExpression="attribute_not_exists(id)")
    except ClientError as e:
        if e.response["Error"]["Code"] != "ConditionalCheckFailedException":
            return error(503, "ServiceUnavailable", str(e))
        old = ddb.get_item(TableName=TABLE, Key={"id": {"S": task_id}}, ConsistentRead=True)
        return JSONResponse(render(old["Item"]), status_code=202,
                            headers={"location": f"/tasks/{task_id}",
                                     "idempotent-replayed": "true"})
    sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=json.dumps({"id": task_id, "kind": kind}))
    return JSONResponse(render(item), status_code=202, headers={"location": f"/tasks/{task_id}"})


@app.get("/tasks/{task_id}")
def get(task_id: str):
    r = ddb.get_item(TableName=TABLE, Key={"id": {"S": task_id}}, ConsistentRead=True)
    if "Item" not in r:
        return error(404, "NotFound", f"no task '{task_id}'")
    return render(r["Item"])
