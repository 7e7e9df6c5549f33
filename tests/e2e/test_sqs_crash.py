"""The SQS crash test: clients send, receive and delete with acknowledgements while the daemon
is killed with SIGKILL at random moments and restarted on the same state dir, 20 rounds.
Afterwards every acknowledged send is present or was asked to be deleted, no acknowledged
delete reappears, and no receive count went back (a message never gains a fresh budget)."""
import json
import os
import random
import signal
import subprocess
import threading
import time


from e2e_helpers import HAAR, READY_RE, REPO, boto_client, free_ports, require_haar

ROUNDS = 20


class Node:
    """One `haar up` on fixed ports and a fixed state dir, restartable."""

    def __init__(self, workdir):
        require_haar()
        self.workdir = workdir
        self.api_port, self.aws_port = free_ports(2)
        self.url = f"http://127.0.0.1:{self.aws_port}"
        self.proc = None
        self.log = open(workdir / "haar.stderr", "ab")

    def start(self):
        self.proc = subprocess.Popen(
            [str(HAAR), "up", "--env", "dev", "--state-dir", str(self.workdir / "state"),
             "--api-port", str(self.api_port), "--aws-port", str(self.aws_port),
             "--log-level", "warn"],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log)
        deadline = time.monotonic() + 20
        for raw in self.proc.stdout:
            if READY_RE.match(raw.decode().strip()):
                return
            if time.monotonic() > deadline:
                break
        raise AssertionError(f"haar up did not get ready (exit {self.proc.poll()})")

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)
        self.log.close()


def test_sqs_survives_kill_9(tmp_path):
    node = Node(tmp_path)
    node.start()
    sqs = boto_client("sqs", node.url, read_timeout=5)
    url = sqs.create_queue(QueueName="crash", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    lock = threading.Lock()
    acked_sends = {}       # message id -> body
    delete_tried = set()   # message ids a delete was sent for (acknowledged or not)
    acked_deletes = set()
    max_count = {}         # message id -> highest ApproximateReceiveCount seen
    stop = threading.Event()
    errors = []

    def sender(k):
        c = boto_client("sqs", node.url, read_timeout=5)
        i = 0
        while not stop.is_set():
            i += 1
            body = f"s{k}-{i}"
            try:
                if i % 3:
                    r = c.send_message(QueueUrl=url, MessageBody=body)
                    with lock:
                        acked_sends[r["MessageId"]] = body
                else:
                    r = c.send_message_batch(QueueUrl=url, Entries=[
                        {"Id": str(n), "MessageBody": f"{body}-{n}"} for n in range(5)])
                    with lock:
                        for s in r["Successful"]:
                            acked_sends[s["MessageId"]] = f"{body}-{s['Id']}"
            except Exception:  # the daemon is down: an unacknowledged send proves nothing
                time.sleep(0.05)

    def consumer():
        c = boto_client("sqs", node.url, read_timeout=5)
        while not stop.is_set():
            try:
                got = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                        AttributeNames=["ApproximateReceiveCount"])
            except Exception:
                time.sleep(0.05)
                continue
            for m in got.get("Messages", []):
                n = int(m["Attributes"]["ApproximateReceiveCount"])
                with lock:
                    # each receive bumps the count: the same count twice means one went back
                    # (a smaller one may just be another consumer's older answer, seen late)
                    if n == max_count.get(m["MessageId"], 0):
                        errors.append(f"{m['MessageId']}: count {n} seen twice")
                    max_count[m["MessageId"]] = max(n, max_count.get(m["MessageId"], 0))
                if random.random() < 0.5:
                    with lock:
                        delete_tried.add(m["MessageId"])
                    try:
                        c.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                        with lock:
                            acked_deletes.add(m["MessageId"])
                    except Exception:
                        pass

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(2)]
    threads += [threading.Thread(target=consumer) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for _ in range(ROUNDS):
            time.sleep(random.uniform(0.3, 1.2))
            node.kill9()
            node.start()
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    # drain: every message left, with its count, on a quiet daemon
    node.kill9()
    node.start()
    time.sleep(1.1)  # visibility timeouts of the last receives run out
    left = {}
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600,
                                  AttributeNames=["ApproximateReceiveCount"])
        if "Messages" not in got:
            break
        for m in got["Messages"]:
            left[m["MessageId"]] = (m["Body"], int(m["Attributes"]["ApproximateReceiveCount"]))
    node.stop()
    assert not errors, errors[:5]
    assert len(acked_sends) > 100, "the load did not run"
    lost = [i for i in acked_sends if i not in left and i not in delete_tried]
    assert not lost, f"{len(lost)} acknowledged sends lost, e.g. {lost[:3]}"
    back = [i for i in acked_deletes if i in left]
    assert not back, f"{len(back)} acknowledged deletes came back, e.g. {back[:3]}"
    for i, (body, n) in left.items():
        if i in acked_sends:
            assert body == acked_sends[i]
        assert n > max_count.get(i, 0), f"{i}: receive count {n} after {max_count[i]}"
    print(json.dumps({"sent": len(acked_sends), "deleted": len(acked_deletes), "left": len(left)}))
