"""The task service survives `kill -9` (issue 12): while clients post tasks, the daemon is
killed with SIGKILL — its function processes die with it — and started again on the same
state directory. Every task the API accepted (202) must then reach SUCCEEDED or FAILED:
none lost (the put and the send were both durable before the 202), none stuck (messages in
flight come back after their visibility timeout; a task left RUNNING is taken over once its
run's lease, the dead invocation's deadline, has passed).

Real clock, with a short visibility timeout (12 s, worker timeout 2 s) so recovery takes
seconds, not minutes.
"""

import http.client
import json
import threading
import time

from e2e_helpers import REPO, Daemon, require_haar, wait_until

POSTERS = 6
LOAD_SECONDS = 4.0
KILL_AFTER = 2.5


def kill_config(tmp_path):
    c = json.loads((REPO / "infra/envs/dev/terraform.tfvars.json").read_text())
    c["queue"].update({"visibility_timeout_seconds": 12, "max_receive_count": 5})
    c["functions"]["worker"]["timeout_seconds"] = 2
    # a batch's work fits in one run even on a loaded machine: at most 5 tasks of ≤ 100 ms
    c["functions"]["worker"]["batch_size"] = 5
    # The check reads every accepted task once a second: the stage's throttle must not
    # answer it (a 429 is the gateway's word, not the task's), so it is raised here.
    c["api"].update({"throttling_rate_limit": 100000, "throttling_burst_limit": 100000})
    path = tmp_path / "kill.tfvars.json"
    path.write_text(json.dumps(c))
    return path


def poster(port, stop, accepted, lock, n):
    """Posts tasks on one kept-alive connection until stop or the daemon goes away."""
    bodies = [json.dumps({"kind": "echo", "payload": {"poster": n}}),
              json.dumps({"kind": "sleep", "payload": {"ms": 100}}),
              json.dumps({"kind": "sha256", "payload": {"data": f"p{n}"}})]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    i = 0
    while not stop.is_set():
        try:
            conn.request("POST", "/tasks", body=bodies[i % 3],
                         headers={"content-type": "application/json"})
            r = conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException):
            return  # the daemon is gone
        if r.status == 202:
            with lock:
                accepted.append(json.loads(data)["id"])
        i += 1


def test_kill_9_loses_no_accepted_task(tmp_path):
    require_haar()
    cfg = kill_config(tmp_path)
    first = Daemon(tmp_path, extra_args=("--config", str(cfg)))
    first.wait_ready()
    accepted, lock, stop = [], threading.Lock(), threading.Event()
    threads = [threading.Thread(target=poster, args=(first.api_port, stop, accepted, lock, n))
               for n in range(POSTERS)]
    for t in threads:
        t.start()
    time.sleep(KILL_AFTER)
    first.proc.kill()  # SIGKILL: no drain, no flush
    first.proc.wait(10)
    stop.set()
    for t in threads:
        t.join(15)
    first.stop(5)
    assert len(accepted) > 20, f"only {len(accepted)} tasks were accepted before the kill"

    second = Daemon(tmp_path, extra_args=("--config", str(cfg)))
    try:
        second.wait_ready()
        conn = http.client.HTTPConnection("127.0.0.1", second.api_port, timeout=10)
        pending = set(accepted)

        def settled():
            for task_id in list(pending):
                conn.request("GET", f"/tasks/{task_id}")
                r = conn.getresponse()
                body = r.read()
                if r.status == 429:
                    return False  # throttled all the same: ask again on the next round
                assert r.status == 200, f"accepted task {task_id} is gone: {r.status} {body!r}"
                if json.loads(body)["status"] in ("SUCCEEDED", "FAILED"):
                    pending.discard(task_id)
            return not pending
        wait_until(settled, 90, 1.0, f"{len(accepted)} accepted tasks to finish")
        # they all ran: none of these kinds fails
        failed = []
        for task_id in accepted:
            conn.request("GET", f"/tasks/{task_id}")
            t = json.loads(conn.getresponse().read())
            if t["status"] != "SUCCEEDED":
                failed.append(t)
        assert not failed, failed[:3]
    finally:
        assert second.stop() == 0, second.stderr_tail()
