"""Helpers for the end-to-end tests: the daemon wrapper, clients, zips, waits.

The daemon is started from the repository root (so infra/envs/dev/terraform.tfvars.json is
found) as `$HAAR_BUILD_DIR/bin/haar up --env dev --state-dir <tmp> --api-port P --aws-port Q`;
tests talk to it with Debian's AWS CLI (/usr/bin/aws), boto3 and curl. Every subprocess and
every wait is bounded. Functions created by tests get unique names and are deleted afterwards.
"""

import base64
import hashlib
import http.client
import io
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
import zipfile
from pathlib import Path

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("HAAR_BUILD_DIR", REPO / "build")).resolve()
HAAR = BUILD / "bin" / "haar"
AWS_CLI = "/usr/bin/aws"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

REGION = "eu-west-1"
ACCOUNT = "000000000000"
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
RUNTIME = "provided.al2023"
ENV_FUNCTIONS = ("haar-dev-api", "haar-dev-worker", "haar-dev-producer")

READY_TIMEOUT = 10.0
STOP_TIMEOUT = 20.0
READY_RE = re.compile(r"^haar: ready api=http://127\.0\.0\.1:(\d+) aws=http://127\.0\.0\.1:(\d+)$")

# Short async-retry delays so the "retried twice" test takes seconds, not 3 minutes.
# (The daemon's knob; see the e2e README notes in the test module.)


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def not_found_message(name):
    return f"Function not found: {function_arn(name)}"


def require_haar():
    """Fails the calling test clearly when the daemon binary has not been built."""
    if not HAAR.is_file():
        raise AssertionError(f"{HAAR} does not exist: build first (HAAR_BUILD_DIR={BUILD})")


def free_ports(n):
    """n distinct free ports: every socket stays bound until all are chosen, so the kernel
    cannot hand the same port out twice."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port():
    return free_ports(1)[0]


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    """Polls predicate() until it returns a truthy value or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# ---------------------------------------------------------------------------------------
# The daemon


class Daemon:
    """A running `haar up`: its ports, its output, and how to stop it."""

    def __init__(self, workdir, extra_args=(), env=None):
        require_haar()
        self.workdir = Path(workdir)
        self.state_dir = self.workdir / "state"
        self.api_port, self.aws_port = free_ports(2)
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.aws_url = f"http://127.0.0.1:{self.aws_port}"
        self.stdout_lines = []
        self.stderr_path = self.workdir / "haar.stderr"
        self.args = [
            str(HAAR), "up", "--env", "dev", "--state-dir", str(self.state_dir),
            "--api-port", str(self.api_port), "--aws-port", str(self.aws_port), *extra_args,
        ]
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        self._ready = threading.Event()
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            self.args, cwd=REPO, env=full_env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=self._stderr,
        )
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()

    def _read_stdout(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.stdout_lines.append(line)
            m = READY_RE.match(line)
            if m and int(m.group(1)) == self.api_port and int(m.group(2)) == self.aws_port:
                self._ready.set()

    def wait_ready(self, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready.wait(0.05):
                return
            if self.proc.poll() is not None:
                break
        raise AssertionError(
            f"`{' '.join(self.args)}` did not print the ready line "
            f"'haar: ready api={self.api_url} aws={self.aws_url}' within {timeout}s "
            f"(exit status {self.proc.poll()}).\nstdout:\n" + "\n".join(self.stdout_lines[-20:])
            + "\nstderr:\n" + self.stderr_tail())

    def stderr_tail(self, lines=40):
        try:
            text = self.stderr_path.read_text("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then waits; returns the exit status (kills with SIGKILL past timeout)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            rc = None
        self._reader.join(5)
        self._stderr.close()
        return rc


def health(daemon, timeout=10):
    """GET /_haar/health on the AWS port (unsigned), parsed."""
    with urllib.request.urlopen(daemon.aws_url + "/_haar/health", timeout=timeout) as r:
        return json.loads(r.read())


def fn_health(daemon, name):
    """The function's row in /_haar/health (environments, idle, in_flight, queued_events...)."""
    return next(f for f in health(daemon)["lambda"]["functions"] if f["name"] == name)


# The keys of the worker fixture's answer (tests/e2e/fixtures/worker.sh).
WORKER_ANSWER = {"pid", "request_id", "count", "deadline_ms", "began_us", "ended_us"}


# ---------------------------------------------------------------------------------------
# The manual clock


def clock(daemon, advance=None, set_to=None):
    """GET /_haar/clock, or POST it forward ({"advance_seconds"} / {"set"}): (status, json)."""
    import urllib.request
    url = daemon.aws_url + "/_haar/clock"
    if advance is None and set_to is None:
        req = urllib.request.Request(url)
    else:
        body = {"advance_seconds": advance} if advance is not None else {"set": set_to}
        req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


# ---------------------------------------------------------------------------------------
# Clients


def boto_client(service, endpoint, read_timeout=30, **creds):
    session = boto3.session.Session()
    return session.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=creds.get("key", "test"),
        aws_secret_access_key=creds.get("secret", "test"),
        aws_session_token=creds.get("token"),
        config=Config(retries={"max_attempts": 0}, read_timeout=read_timeout, connect_timeout=5,
                      max_pool_connections=32),
    )


class AwsCli:
    """Runs Debian's AWS CLI v2 against the daemon with throwaway config and test keys."""

    def __init__(self, endpoint, home):
        self.endpoint = endpoint
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_PAGER": "",
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
        }

    def run(self, *args, timeout=60, cwd=None):
        cmd = [AWS_CLI, "--endpoint-url", self.endpoint, "--region", REGION, "--output", "json",
               "--cli-connect-timeout", "5", "--cli-read-timeout", "30", *args]
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True,
                              timeout=timeout, cwd=cwd)

    def json(self, *args, timeout=60, cwd=None):
        p = self.run(*args, timeout=timeout, cwd=cwd)
        assert p.returncode == 0, f"aws {' '.join(args)} failed ({p.returncode}):\n{p.stderr}"
        return json.loads(p.stdout) if p.stdout.strip() else {}


def run_haar(*args, timeout=30, env=None):
    """Runs a `haar` CLI verb (not `up`) to completion."""
    require_haar()
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([str(HAAR), *args], cwd=REPO, env=full_env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def raw_request(endpoint, method, path, body=b"", headers=None, service="lambda", sign=True,
                timeout=30):
    """One HTTP request with python's http.client, SigV4-signed with the test keys.

    Returns (status, headers with lowercase names, body bytes).
    """
    m = re.match(r"http://([^:/]+):(\d+)$", endpoint)
    host, port = m.group(1), int(m.group(2))
    hdrs = dict(headers or {})
    if sign:
        req = AWSRequest(method=method, url=endpoint + path, data=body, headers=hdrs)
        SigV4Auth(Credentials("test", "test"), service, REGION).add_auth(req)
        hdrs = dict(req.headers.items())
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------
# Function code and functions


def make_zip(fixture, extra=None, mode=0o755, bootstrap_name="bootstrap"):
    """A deployment package: fixtures/<fixture>.sh as `bootstrap` (mode 0755) + lib.sh."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if fixture is not None:
            info = zipfile.ZipInfo(bootstrap_name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, (FIXTURES / f"{fixture}.sh").read_bytes())
        lib = zipfile.ZipInfo("lib.sh", date_time=(2026, 1, 1, 0, 0, 0))
        lib.external_attr = 0o100644 << 16
        lib.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(lib, (FIXTURES / "lib.sh").read_bytes())
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


def zip_files(files, modes=None):
    """A zip of {name: text or bytes}; names in modes get that file mode (default 0644)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | (modes or {}).get(name, 0o644)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def code_sha256(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def unique_name(prefix):
    return f"e2e-{prefix}-{uuid.uuid4().hex[:8]}"


def wait_active(client, name, timeout=10):
    """Waits until State is Active and LastUpdateStatus is Successful (as SDK waiters do)."""
    def ready():
        c = client.get_function_configuration(FunctionName=name)
        state = c.get("State", "Active")
        assert state not in ("Failed", "Inactive"), f"{name} went {state}: {c}"
        return state == "Active" and c.get("LastUpdateStatus", "Successful") == "Successful"
    wait_until(ready, timeout, 0.05, f"{name} to become Active")


def invoke(client, name, payload=b"{}", **kwargs):
    """boto3 Invoke; returns (status, headers, payload bytes, FunctionError or None)."""
    if isinstance(payload, (dict, list)):
        payload = json.dumps(payload).encode()
    r = client.invoke(FunctionName=name, Payload=payload, **kwargs)
    body = r["Payload"].read()
    headers = r["ResponseMetadata"]["HTTPHeaders"]
    return r["StatusCode"], headers, body, r.get("FunctionError")


def client_error(excinfo):
    """(HTTP status, error code, message) of a botocore ClientError."""
    resp = excinfo.value.response
    return (resp["ResponseMetadata"]["HTTPStatusCode"], resp["Error"]["Code"],
            resp["Error"].get("Message", ""))


def read_lines(path):
    try:
        return Path(path).read_text().splitlines()
    except FileNotFoundError:
        return []


def assert_serving(client, echo_name):
    payload = {"still": "serving", "n": uuid.uuid4().hex}
    status, _, body, ferr = invoke(client, echo_name, payload)
    assert (status, ferr) == (200, None), body
    assert json.loads(body) == payload
