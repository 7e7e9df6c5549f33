"""`haar up` itself: refusing a bad configuration (exit 2, naming file and key) and a
graceful SIGTERM that lets an in-flight invocation finish before exiting 0."""

import concurrent.futures
import json
import signal
import subprocess
import time
from pathlib import Path

import botocore.exceptions
import pytest

from e2e_helpers import (HAAR, REPO, ROLE, RUNTIME, WORKER_ANSWER, Daemon, boto_client, free_ports,
                         make_zip, read_lines, require_haar, unique_name, wait_active, wait_until)

DEV_TFVARS = REPO / "infra" / "envs" / "dev" / "terraform.tfvars.json"


def run_up_with_config(tmp_path, config_path):
    require_haar()
    api_port, aws_port = free_ports(2)
    args = [str(HAAR), "up", "--env", "dev", "--config", str(config_path),
            "--state-dir", str(tmp_path / "state"),
            "--api-port", str(api_port), "--aws-port", str(aws_port)]
    try:
        return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=15,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"`haar up` with a bad config did not exit within 15 s: {e.stdout!r}")


def bad_config(tmp_path, mutate):
    doc = json.loads(DEV_TFVARS.read_text())
    mutate(doc)
    p = tmp_path / "bad.tfvars.json"
    p.write_text(json.dumps(doc, indent=2))
    return p


@pytest.mark.parametrize("mutate,key", [
    (lambda d: d["queue"].__setitem__("visibility_timeout_seconds", 60),
     "queue.visibility_timeout_seconds"),
    (lambda d: d["functions"]["api"].__setitem__("memory_mb", 64), "functions.api.memory_mb"),
    (lambda d: d["functions"]["worker"].__setitem__("timeout_secs", 30),
     "functions.worker.timeout_secs"),
    (lambda d: d.__setitem__("project", "Has Spaces"), "project"),
], ids=["visibility-below-6x-worker-timeout", "memory-too-small", "unknown-key", "bad-project"])
def test_bad_config_exits_2_naming_file_and_key(tmp_path, mutate, key):
    path = bad_config(tmp_path, mutate)
    p = run_up_with_config(tmp_path, path)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert str(path) in p.stderr, p.stderr
    assert key in p.stderr, p.stderr
    assert "haar: ready" not in p.stdout


def test_malformed_json_config_exits_2_naming_file(tmp_path):
    path = tmp_path / "broken.tfvars.json"
    path.write_text('{"project": "haar",\n  "environment": }\n')
    p = run_up_with_config(tmp_path, path)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert str(path) in p.stderr, p.stderr
    assert "haar: ready" not in p.stdout


def test_same_port_for_api_and_aws_exits_2(tmp_path):
    require_haar()
    port = str(free_ports(1)[0])
    p = subprocess.run([str(HAAR), "up", "--env", "dev", "--state-dir", str(tmp_path / "state"),
                        "--api-port", port, "--aws-port", port],
                       cwd=REPO, capture_output=True, text=True, timeout=15, stdin=subprocess.DEVNULL)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "--api-port and --aws-port" in p.stderr and port in p.stderr, p.stderr
    assert "haar: ready" not in p.stdout
    assert not (tmp_path / "state").exists()


def test_sigterm_lets_in_flight_invocation_finish(tmp_path):
    d = Daemon(tmp_path)
    try:
        d.wait_ready()
        lam = boto_client("lambda", d.aws_url)
        name = unique_name("drain")
        lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                            Code={"ZipFile": make_zip("worker")}, Timeout=10)
        wait_active(lam, name)
        touch = tmp_path / "started"
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            fut = pool.submit(lambda: lam.invoke(FunctionName=name,
                                                 Payload=json.dumps({"sleep": 2,
                                                                     "touch": str(touch)})))
            wait_until(lambda: any(x.startswith("start ") for x in read_lines(touch)), 10,
                       what="the invocation to start")
            t0 = time.monotonic()
            d.proc.send_signal(signal.SIGTERM)
            r = fut.result(20)
            assert r["StatusCode"] == 200
            assert "FunctionError" not in r, r
            result = json.loads(r["Payload"].read())
            assert set(result) == WORKER_ANSWER
        rc = d.proc.wait(15)
        assert rc == 0, d.stderr_tail()
        assert time.monotonic() - t0 < 12
        assert any(x.startswith("done ") for x in read_lines(touch))
    finally:
        d.stop(5)


def test_state_survives_restart(tmp_path):
    """A created function is still there after SIGTERM and a restart on the same state dir."""
    name = unique_name("durable")
    d = Daemon(tmp_path)
    try:
        d.wait_ready()
        lam = boto_client("lambda", d.aws_url)
        lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                            Code={"ZipFile": make_zip("echo")}, Timeout=5)
        wait_active(lam, name)
    finally:
        assert d.stop(15) == 0
    d2 = Daemon(Path(tmp_path))
    try:
        d2.wait_ready()
        lam = boto_client("lambda", d2.aws_url)
        wait_active(lam, name)
        r = lam.invoke(FunctionName=name, Payload=b'{"after": "restart"}')
        assert r["Payload"].read() == b'{"after": "restart"}'
    finally:
        assert d2.stop(15) == 0


def test_sigterm_with_a_stuck_runtime_still_exits_0(tmp_path):
    """In-flight work is bounded by timeouts, so shutdown is too — even when a runtime never
    asks for its event (AWS: init at most 10 s, then the function timeout)."""
    d = Daemon(tmp_path)
    try:
        d.wait_ready()
        lam = boto_client("lambda", d.aws_url, read_timeout=25)
        name = unique_name("stuck")
        lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                            Code={"ZipFile": make_zip("never_next")}, Timeout=1,
                            Environment={"Variables": {"PIDFILE": str(tmp_path / "pid")}})
        wait_active(lam, name)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            fut = pool.submit(lambda: lam.invoke(FunctionName=name, Payload=b"{}"))
            wait_until(lambda: (tmp_path / "pid").exists(), 5, what="the stuck runtime to start")
            d.proc.send_signal(signal.SIGTERM)
            try:
                rc = d.proc.wait(15)
            except subprocess.TimeoutExpired:
                rc = None
                d.proc.kill()  # frees the client thread too
            try:
                fut.result(30)
            except Exception:
                pass
        assert rc == 0, f"haar up did not exit 0 within 15 s of SIGTERM (rc={rc})"
    finally:
        d.stop(5)


def test_created_function_survives_kill_9(tmp_path):
    """CreateFunction's 201 is durable: SIGKILL right after it, restart, the function is there."""
    name = unique_name("kill9")
    d = Daemon(tmp_path)
    try:
        d.wait_ready()
        lam = boto_client("lambda", d.aws_url)
        lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                            Code={"ZipFile": make_zip("echo")}, Timeout=5)
        d.proc.kill()
        d.proc.wait(5)
    finally:
        d.stop(5)
    d2 = Daemon(tmp_path)
    try:
        d2.wait_ready()
        lam = boto_client("lambda", d2.aws_url)
        wait_active(lam, name)
        r = lam.invoke(FunctionName=name, Payload=b'{"after": "kill -9"}')
        assert r["Payload"].read() == b'{"after": "kill -9"}'
    finally:
        assert d2.stop(15) == 0


def test_queued_event_invocation_survives_restart(tmp_path):
    """An accepted (202) Event invocation that could not run yet (reserved concurrency 0:
    AWS keeps retrying throttled events for up to 6 hours) runs after a restart."""
    name = unique_name("queued")
    touch = tmp_path / "ran"
    d = Daemon(tmp_path)
    try:
        d.wait_ready()
        lam = boto_client("lambda", d.aws_url)
        lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                            Code={"ZipFile": make_zip("touch")}, Timeout=5)
        wait_active(lam, name)
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
        r = lam.invoke(FunctionName=name, InvocationType="Event",
                       Payload=json.dumps({"touch": str(touch), "value": "queued"}).encode())
        assert r["StatusCode"] == 202
        time.sleep(0.5)
        assert read_lines(touch) == []
    finally:
        assert d.stop(15) == 0
    d2 = Daemon(tmp_path)
    try:
        d2.wait_ready()
        lam = boto_client("lambda", d2.aws_url)
        lam.delete_function_concurrency(FunctionName=name)
        lines = wait_until(lambda: read_lines(touch), 15, what="the queued event to run")
        assert [x.split()[1] for x in lines] == ["queued"]
    finally:
        assert d2.stop(15) == 0


def test_acknowledged_event_invocations_survive_kill_9(tmp_path):
    """Every Event invocation answered 202 runs after a kill -9 of the daemon: the 202 goes out
    only once the event is committed (group commit), and a daemon killed at any moment after
    it keeps the event. 30 events are acknowledged while the function cannot run them
    (reserved concurrency 0), the daemon is killed at once, and a new one runs all 30."""
    name = unique_name("kill9ev")
    touch = tmp_path / "ran"
    d = Daemon(tmp_path)
    acked = []
    try:
        d.wait_ready()
        lam = boto_client("lambda", d.aws_url)
        lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                            Code={"ZipFile": make_zip("touch")}, Timeout=60)
        wait_active(lam, name)
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
        clients = [boto_client("lambda", d.aws_url) for _ in range(6)]

        def send(i):
            r = clients[i % 6].invoke(
                FunctionName=name, InvocationType="Event",
                Payload=json.dumps({"touch": str(touch), "value": f"e{i}"}).encode())
            return f"e{i}" if r["StatusCode"] == 202 else None

        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            acked = [v for v in pool.map(send, range(30)) if v]
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
    finally:
        d.stop(5)
    assert len(acked) == 30
    d2 = Daemon(tmp_path)
    try:
        d2.wait_ready()
        boto_client("lambda", d2.aws_url).delete_function_concurrency(FunctionName=name)
        # 30 bash environments start at once: ~8 s on an idle 2-core machine, several times
        # that beside the other test files (a timed-out attempt would wait a minute to retry)
        lines = wait_until(lambda: (lambda x: x if len(x) >= 30 else None)(read_lines(touch)),
                           120, what="the 30 acknowledged events to run after kill -9")
        assert sorted(x.split()[1] for x in lines) == sorted(acked)
    finally:
        assert d2.stop(15) == 0


def test_account_concurrency_limit_throttles_unreserved_functions(tmp_path):
    """With emulator.account_concurrency_limit = 2, a third overlapping invoke is throttled:
    429 TooManyRequestsException, Reason ConcurrentInvocationLimitExceeded."""
    cfg = bad_config(tmp_path, lambda d: d["emulator"].__setitem__("account_concurrency_limit", 2))
    d = Daemon(tmp_path, extra_args=("--config", str(cfg)))
    try:
        d.wait_ready()
        lam = boto_client("lambda", d.aws_url)
        name = unique_name("acct")
        lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                            Code={"ZipFile": make_zip("worker")}, Timeout=10)
        wait_active(lam, name)
        touch = tmp_path / "started"
        clients = [boto_client("lambda", d.aws_url) for _ in range(2)]
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            futs = [pool.submit(c.invoke, FunctionName=name,
                                Payload=json.dumps({"sleep": 2, "touch": str(touch)}))
                    for c in clients]
            wait_until(lambda: sum(x.startswith("start ") for x in read_lines(touch)) == 2, 10,
                       what="two invocations to be running")
            with pytest.raises(botocore.exceptions.ClientError) as e:
                lam.invoke(FunctionName=name, Payload=b"{}")
            assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
            assert e.value.response["Error"]["Code"] == "TooManyRequestsException"
            assert e.value.response.get("Reason") == "ConcurrentInvocationLimitExceeded"
            assert all(f.result(15)["StatusCode"] == 200 for f in futs)
    finally:
        assert d.stop(15) == 0


def test_environment_functions_get_the_variables_terraform_sets(tmp_path):
    """haar up gives api/worker/producer the env vars infra/layers/30_app sets on AWS."""
    fdir = tmp_path / "functions"
    for short in ("api", "worker", "producer"):
        (fdir / short).mkdir(parents=True)
        boot = fdir / short / "bootstrap"
        boot.write_bytes((REPO / "tests" / "e2e" / "fixtures" / "env.sh").read_bytes())
        boot.chmod(0o755)
        (fdir / short / "lib.sh").write_bytes((REPO / "tests" / "e2e" / "fixtures" / "lib.sh").read_bytes())
    cfg = json.loads(DEV_TFVARS.read_text())
    d = Daemon(tmp_path, extra_args=("--functions-dir", str(fdir)))
    try:
        d.wait_ready()
        lam = boto_client("lambda", d.aws_url)
        common = {
            "HAAR_PROJECT": cfg["project"],
            "HAAR_ENVIRONMENT": cfg["environment"],
            "TASKS_TABLE": "haar-dev-tasks",
            "TASKS_STATUS_INDEX": "by-status",
            "TASKS_QUEUE_URL": f"{d.aws_url}/000000000000/haar-dev-tasks",
        }
        own = {
            "api": {},
            "worker": {"MAX_RECEIVE_COUNT": str(cfg["queue"]["max_receive_count"])},
            "producer": {"SCHEDULE_RULE": "haar-dev-schedule",
                         "SCHEDULE_TASKS": json.dumps(cfg["schedule"]["tasks"], sort_keys=True,
                                                      separators=(",", ":"))},
        }
        for short, extra in own.items():
            name = f"haar-dev-{short}"
            want = dict(common, **extra)
            seen = json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
            got = {k: seen["env"].get(k) for k in want}
            if short == "producer":
                assert json.loads(got["SCHEDULE_TASKS"]) == cfg["schedule"]["tasks"]
            assert got == want, (name, got)
            others = {"MAX_RECEIVE_COUNT", "SCHEDULE_RULE", "SCHEDULE_TASKS"} - set(extra)
            assert not others & set(seen["env"]), (name, sorted(others & set(seen["env"])))
            conf = lam.get_function_configuration(FunctionName=name)
            assert conf["Environment"]["Variables"] == want
    finally:
        assert d.stop(15) == 0
