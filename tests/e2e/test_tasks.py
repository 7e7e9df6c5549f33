"""The task service end to end (issue 12): the api, worker and producer functions — the very
bootstraps Terraform deploys — on a live `haar up`, driven over HTTP with curl like a user
would, checked with boto3 where the queues and table are concerned.

The module's daemon runs on a manual clock with a configuration derived from the dev
environment's (infra/envs/dev/terraform.tfvars.json): visibility timeout 30 s, max receive
count 3, worker timeout 5 s, so a message comes back the moment the test moves the clock
past its visibility timeout instead of three minutes later. The functions themselves run on
real time (their deadlines are real), as on AWS.
"""

import concurrent.futures
import hashlib
import json
import subprocess
import time
import uuid

import pytest

from e2e_helpers import REPO, Daemon, boto_client, clock, require_haar, run_haar, wait_until

KINDS_RESULT_TIMEOUT = 20
VISIBILITY = 30
MAX_RECEIVE = 3


def task_config(tmp_path, **queue):
    """The dev environment's settings, made quick for tests; returns the file's path."""
    c = json.loads((REPO / "infra/envs/dev/terraform.tfvars.json").read_text())
    c["queue"].update({"visibility_timeout_seconds": VISIBILITY, "max_receive_count": MAX_RECEIVE,
                       **queue})
    c["functions"]["worker"]["timeout_seconds"] = 5
    path = tmp_path / "tasks.tfvars.json"
    path.write_text(json.dumps(c, indent=1))
    return path


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    require_haar()
    work = tmp_path_factory.mktemp("tasks")
    d = Daemon(work, extra_args=("--clock", "manual", "--config", str(task_config(work))))
    try:
        d.wait_ready()
    except AssertionError:
        d.stop(5)
        raise
    yield d
    assert d.stop() == 0, d.stderr_tail()


# ---------------------------------------------------------------------------------------
# curl, as a user types it


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.headers} {self.body[:300]!r}>"


def curl(daemon, method, path, body=None, headers=(), timeout=30):
    """One request with /usr/bin/curl; returns Answer(status, lowercase headers, body)."""
    cmd = ["/usr/bin/curl", "-sS", "-i", "--max-time", str(timeout), "-X", method]
    for h in headers:
        cmd += ["-H", h]
    if body is not None:
        cmd += ["-H", "content-type: application/json", "--data-binary", "@-"]
    cmd.append(daemon.api_url + path)
    data = body if isinstance(body, bytes) else (body or "").encode()
    p = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout + 5)
    assert p.returncode == 0, p.stderr.decode()
    raw = p.stdout
    head, _, rest = raw.partition(b"\r\n\r\n")
    while head.startswith(b"HTTP/1.1 100"):
        head, _, rest = rest.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return Answer(status, hdrs, rest.decode("utf-8", "replace"))


def post_task(daemon, kind, payload=None, key=None):
    body = {"kind": kind} if payload is None else {"kind": kind, "payload": payload}
    a = curl(daemon, "POST", "/tasks", json.dumps(body),
             headers=[f"Idempotency-Key: {key}"] if key else ())
    assert a.status == 202, a
    return a


def get_task(daemon, task_id):
    a = curl(daemon, "GET", f"/tasks/{task_id}")
    assert a.status == 200, a
    return a.json()


def wait_status(daemon, task_id, statuses, timeout=KINDS_RESULT_TIMEOUT):
    """Waits for the task to reach one of statuses (it may not exist yet: 404 waits too)."""
    statuses = (statuses,) if isinstance(statuses, str) else statuses

    def reached():
        a = curl(daemon, "GET", f"/tasks/{task_id}")
        assert a.status in (200, 404), a
        return a.json() if a.status == 200 and a.json()["status"] in statuses else None
    return wait_until(reached, timeout, 0.1, f"task {task_id} to be {statuses}")


def error_of(a):
    e = a.json()["error"]
    assert set(e) == {"code", "message"} and e["message"], a
    return e["code"]


def queue_url(daemon, name="haar-dev-tasks"):
    return f"{daemon.aws_url}/000000000000/{name}"


def derived_id(namespace, data):
    """What the functions derive a task id from (functions/common/task.c): SHA-256 of
    namespace ":" data, its first 16 bytes as a version 8 UUID."""
    d = bytearray(hashlib.sha256(f"{namespace}:{data}".encode()).digest()[:16])
    d[6] = (d[6] & 0x0F) | 0x80
    d[8] = (d[8] & 0x3F) | 0x80
    h = d.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def advance(daemon, seconds):
    status, body = clock(daemon, advance=seconds)
    assert status == 200, body
    return body


def queue_empty(sqs, url):
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return a["ApproximateNumberOfMessages"] == "0" and a["ApproximateNumberOfMessagesNotVisible"] == "0"


# ---------------------------------------------------------------------------------------
# the flow


def test_health(app):
    a = curl(app, "GET", "/health")
    assert a.status == 200 and a.json() == {"status": "ok"}
    assert a.headers["content-type"] == "application/json"


KIND_CASES = [
    ("echo", {"hello": "world", "n": [1, 2.5, None, True]},
     lambda r: r == {"hello": "world", "n": [1, 2.5, None, True]}),
    ("sleep", {"ms": 150}, lambda r: r == {"slept_ms": 150}),
    ("sha256", {"data": "abc"},
     lambda r: r == {"sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                     "bytes": 3}),
    ("fail", {"times": 0}, lambda r: r == {"attempts": 1}),
    ("report", None, lambda r: set(r["counts"]) == {"QUEUED", "RUNNING", "SUCCEEDED", "FAILED"}
     and r["counts"]["RUNNING"] >= 1 and r["total"] == sum(r["counts"].values())),
]


@pytest.mark.parametrize("kind,payload,check", KIND_CASES, ids=[c[0] for c in KIND_CASES])
def test_every_kind_runs(app, kind, payload, check):
    a = post_task(app, kind, payload)
    task = a.json()
    assert a.headers["location"] == f"/tasks/{task['id']}"
    assert task["status"] == "QUEUED" and task["kind"] == kind and task["attempts"] == 0
    assert task["payload"] == (payload or {})
    done = wait_status(app, task["id"], ("SUCCEEDED", "FAILED"))
    assert done["status"] == "SUCCEEDED", done
    assert check(done["result"]), done
    assert done["attempts"] == 1 and "error" not in done
    assert done["created_at"] <= done["started_at"] <= done["finished_at"]


def test_list_by_status_paged(app):
    ids = {post_task(app, "echo", {"i": i}).json()["id"] for i in range(7)}
    for i in ids:
        wait_status(app, i, "SUCCEEDED")
    seen, pages, nxt = [], 0, None
    while True:
        a = curl(app, "GET", "/tasks?status=SUCCEEDED&limit=3" + (f"&next={nxt}" if nxt else ""))
        assert a.status == 200, a
        page = a.json()
        assert len(page["tasks"]) <= 3
        seen += [t["id"] for t in page["tasks"]]
        assert all(t["status"] == "SUCCEEDED" for t in page["tasks"])
        pages += 1
        nxt = page.get("next")
        if not nxt:
            break
        assert pages < 100
    assert len(seen) == len(set(seen)), "a task came twice"
    assert ids <= set(seen)
    created = [t for t in seen]
    assert pages >= 3 and len(created) >= 7
    # newest first
    first = curl(app, "GET", "/tasks?status=SUCCEEDED&limit=100").json()["tasks"]
    stamps = [t["created_at"] for t in first]
    assert stamps == sorted(stamps, reverse=True)
    # a cursor continues the status it was made for, and nothing else
    cursor = curl(app, "GET", "/tasks?status=SUCCEEDED&limit=1").json()["next"]
    a = curl(app, "GET", f"/tasks?status=FAILED&next={cursor}")
    assert a.status == 400 and error_of(a) == "InvalidCursor"


def test_idempotent_post(app):
    key = f"order-{uuid.uuid4().hex}"
    first = post_task(app, "echo", {"order": 1}, key=key)
    again = post_task(app, "echo", {"order": 1}, key=key)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert first.json()["id"] == derived_id("idempotency-key", key)
    # the same key for another request
    a = curl(app, "POST", "/tasks", json.dumps({"kind": "echo", "payload": {"order": 2}}),
             headers=[f"Idempotency-Key: {key}"])
    assert a.status == 409 and error_of(a) == "IdempotencyKeyReused"


def test_twenty_concurrent_retries_make_one_task(app):
    key = f"burst-{uuid.uuid4().hex}"
    body = json.dumps({"kind": "sha256", "payload": {"data": key}})
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: curl(app, "POST", "/tasks", body,
                                               headers=[f"Idempotency-Key: {key}"]), range(20)))
    assert [a.status for a in answers] == [202] * 20, answers
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == 1
    (task_id,) = ids
    # exactly one task holds the key, and it runs once
    ddb = boto_client("dynamodb", app.aws_url)
    items = ddb.scan(TableName="haar-dev-tasks", FilterExpression="idempotency_key = :k",
                     ExpressionAttributeValues={":k": {"S": key}})["Items"]
    assert [i["id"]["S"] for i in items] == [task_id]
    done = wait_status(app, task_id, "SUCCEEDED")
    assert done["attempts"] == 1
    assert done["result"]["sha256"] == hashlib.sha256(key.encode()).hexdigest()


def test_fail_then_succeed_on_retry(app):
    task = post_task(app, "fail", {"times": 1}).json()
    first = wait_until(lambda: (lambda t: t if t["attempts"] == 1 and t["status"] == "QUEUED"
                                else None)(get_task(app, task["id"])), 20, 0.1, "attempt 1")
    assert first["error"]["code"] == "TaskFailed"
    advance(app, VISIBILITY + 1)  # the message comes back
    done = wait_status(app, task["id"], "SUCCEEDED")
    assert done["attempts"] == 2 and done["result"] == {"attempts": 2}
    assert "error" not in done


def test_fail_exhausts_deliveries_into_dlq_then_retry(app):
    sqs = boto_client("sqs", app.aws_url)
    dlq = queue_url(app, "haar-dev-tasks-dlq")
    sqs.purge_queue(QueueUrl=dlq)
    task = post_task(app, "fail", {"times": MAX_RECEIVE}).json()
    for attempt in range(1, MAX_RECEIVE + 1):
        t = wait_until(lambda: (lambda t: t if t["attempts"] == attempt and t["status"] != "RUNNING"
                                else None)(get_task(app, task["id"])), 20, 0.1,
                       f"attempt {attempt}")
        # the last delivery marks the task FAILED; earlier ones put it back
        assert t["status"] == ("FAILED" if attempt == MAX_RECEIVE else "QUEUED"), t
        advance(app, VISIBILITY + 1)
    failed = get_task(app, task["id"])
    assert failed["status"] == "FAILED"
    assert failed["error"] == {"code": "TaskFailed",
                               "message": f"attempt {MAX_RECEIVE} of {MAX_RECEIVE} that fail on purpose"}
    assert "finished_at" in failed

    def dead_letter():
        r = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"], MaxNumberOfMessages=10,
                                WaitTimeSeconds=1)
        return [m for m in r.get("Messages", []) if json.loads(m["Body"])["id"] == task["id"]]
    (msg,) = wait_until(dead_letter, 20, 0.2, "the message in the DLQ")
    assert json.loads(msg["Body"]) == {"id": task["id"], "kind": "fail"}
    assert msg["Attributes"]["DeadLetterQueueSourceArn"].endswith(":haar-dev-tasks")
    assert int(msg["Attributes"]["ApproximateReceiveCount"]) > MAX_RECEIVE
    # sent by the api function with its own credentials, not with the caller's keys
    sts = boto_client("sts", app.aws_url)
    sender = msg["Attributes"]["SenderId"]
    assert sender != sts.get_caller_identity()["UserId"]
    assert sender.endswith(":haar-dev-api"), sender
    sqs.delete_message(QueueUrl=dlq, ReceiptHandle=msg["ReceiptHandle"])

    # a retry starts a new round: attempt 4 passes the three planned failures
    a = curl(app, "POST", f"/tasks/{task['id']}/retry")
    assert a.status == 202, a
    assert a.json()["status"] == "QUEUED"
    done = wait_status(app, task["id"], "SUCCEEDED")
    assert done["attempts"] == MAX_RECEIVE + 1
    again = curl(app, "POST", f"/tasks/{task['id']}/retry")
    assert again.status == 409 and error_of(again) == "NotFailed"


def test_duplicate_delivery_does_not_run_twice(app):
    task = post_task(app, "sha256", {"data": "once"}).json()
    done = wait_status(app, task["id"], "SUCCEEDED")
    sqs = boto_client("sqs", app.aws_url)
    url = queue_url(app)
    body = json.dumps({"id": task["id"], "kind": "sha256"}, separators=(",", ":"))
    for _ in range(3):  # at-least-once delivery, exaggerated
        sqs.send_message(QueueUrl=url, MessageBody=body)
    wait_until(lambda: queue_empty(sqs, url), 20, 0.2, "the duplicates to be consumed")
    after = get_task(app, task["id"])
    assert after == done, "a finished task was run again"
    logs = run_haar("logs", "haar-dev-worker", "--endpoint", app.aws_url,
                    "--since", "2026-01-01T00:00:00Z", "--format", "message")
    dups = [json.loads(line) for line in logs.stdout.splitlines()
            if "duplicate delivery of a finished task" in line and task["id"] in line]
    assert len(dups) == 3, logs.stdout[-2000:]


def test_producer_under_manual_clock(app):
    now = clock(app)[1]["now"]
    # move to the next five-minute mark: the schedule rule (rate(5 minutes)) fires
    t = time.strptime(now, "%Y-%m-%dT%H:%M:%S.000Z")
    epoch = int(time.mktime(t)) - time.timezone
    mark = (epoch // 300 + 1) * 300
    advance(app, mark - epoch)
    fired = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(mark))
    task_id = derived_id("schedule", f"haar-dev-schedule\n{fired}\n0")
    done = wait_status(app, task_id, "SUCCEEDED")
    assert done["kind"] == "report" and done["payload"] == {}
    # the same event delivered again creates and enqueues nothing
    lam = boto_client("lambda", app.aws_url)
    event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
             "source": "aws.events", "account": "000000000000", "time": fired,
             "region": "eu-west-1",
             "resources": ["arn:aws:events:eu-west-1:000000000000:rule/haar-dev-schedule"],
             "detail": {}}
    r = lam.invoke(FunctionName="haar-dev-producer", Payload=json.dumps(event).encode())
    assert "FunctionError" not in r
    out = json.loads(r["Payload"].read())
    assert out["created"] == 0 and out["existing"] == 1, out
    assert get_task(app, task_id) == done


BAD_REQUESTS = [
    ("POST", "/tasks", b"{not json", (), 400, "InvalidJson"),
    ("POST", "/tasks", b"", (), 400, "InvalidRequest"),
    ("POST", "/tasks", b"[1,2]", (), 400, "InvalidRequest"),
    ("POST", "/tasks", b'{"kind":"teleport"}', (), 400, "UnknownKind"),
    ("POST", "/tasks", b'{"payload":{}}', (), 400, "InvalidRequest"),
    ("POST", "/tasks", b'{"kind":"echo","payload":"x"}', (), 400, "InvalidPayload"),
    ("POST", "/tasks", b'{"kind":"sleep","payload":{"ms":-1}}', (), 400, "InvalidPayload"),
    ("POST", "/tasks", b'{"kind":"sha256","payload":{}}', (), 400, "InvalidPayload"),
    ("POST", "/tasks", b'{"kind":"echo","extra":1}', (), 400, "InvalidRequest"),
    ("POST", "/tasks", b'{"kind":"echo"}', ("Idempotency-Key: " + "k" * 300,), 400,
     "InvalidIdempotencyKey"),
    ("GET", "/tasks/00000000-0000-4000-8000-000000000000", None, (), 404, "NotFound"),
    ("GET", "/tasks/not-a-task", None, (), 404, "NotFound"),
    ("POST", "/tasks/00000000-0000-4000-8000-000000000000/retry", None, (), 404, "NotFound"),
    ("GET", "/nowhere", None, (), 404, "NotFound"),
    ("DELETE", "/tasks", None, (), 405, "MethodNotAllowed"),
    ("PUT", "/tasks/00000000-0000-4000-8000-000000000000", b"{}", (), 405, "MethodNotAllowed"),
    ("POST", "/health", b"{}", (), 405, "MethodNotAllowed"),
    ("GET", "/tasks", None, (), 400, "InvalidStatus"),
    ("GET", "/tasks?status=DONE", None, (), 400, "InvalidStatus"),
    ("GET", "/tasks?status=QUEUED&limit=1000", None, (), 400, "InvalidLimit"),
    ("GET", "/tasks?status=QUEUED&next=bm9wZQ", None, (), 400, "InvalidCursor"),
]


@pytest.mark.parametrize("method,path,body,headers,status,code", BAD_REQUESTS,
                         ids=[f"{c[0]} {c[1][:30]} {c[5]}" for c in BAD_REQUESTS])
def test_bad_requests(app, method, path, body, headers, status, code):
    a = curl(app, method, path, body, headers=headers)
    assert a.status == status, a
    assert error_of(a) == code
    assert a.headers["content-type"] == "application/json"
    if status == 405:
        assert a.headers["allow"]


def test_oversized_payload(app):
    big = json.dumps({"kind": "echo", "payload": {"blob": "x" * (256 * 1024)}})
    a = curl(app, "POST", "/tasks", big)
    assert a.status == 413 and error_of(a) == "PayloadTooLarge"
    # 256 KB of payload is still fine
    fits = {"data": "y" * (256 * 1024 - len('{"data":""}'))}
    ok = post_task(app, "sha256", fits)
    assert wait_status(app, ok.json()["id"], "SUCCEEDED")["result"]["bytes"] == len(fits["data"])


def test_logs_and_metrics(app):
    task = post_task(app, "echo", {"log": "me"}).json()
    wait_status(app, task["id"], "SUCCEEDED")

    def lines(fn):
        p = run_haar("logs", fn, "--endpoint", app.aws_url, "--since", "2026-01-01T00:00:00Z",
                     "--format", "message")
        assert p.returncode == 0, p.stderr
        return [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]

    created = [j for j in lines("haar-dev-api") if j.get("message") == "task created"
               and j.get("taskId") == task["id"]]
    assert len(created) == 1
    j = created[0]
    assert j["level"] == "INFO" and j["function"] == "haar-dev-api" and j["requestId"]
    assert "coldStart" in j and j["traceId"].startswith("Root=1-") and j["timestamp"].endswith("Z")
    worker = lines("haar-dev-worker")
    assert any(w.get("message") == "task succeeded" and w.get("taskId") == task["id"] for w in worker)
    emf = [w for w in worker if "_aws" in w and "TasksSucceeded" in w]
    assert emf, "no EMF metrics from the worker"
    m = emf[-1]["_aws"]["CloudWatchMetrics"][0]
    assert m["Namespace"] == "Haar/Tasks"
    assert {x["Name"] for x in m["Metrics"]} >= {"TasksSucceeded", "TaskDuration", "QueueLatency"}
    # and with the AWS SDK: filter-log-events over the api's group
    logs = boto_client("logs", app.aws_url)
    ev = logs.filter_log_events(logGroupName="/aws/lambda/haar-dev-api",
                                filterPattern=f'"{task["id"]}"')["events"]
    assert any("task created" in e["message"] for e in ev)
