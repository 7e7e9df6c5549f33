#!/usr/bin/python3
"""Managed runtimes (issue #14): cold start and warm invoke of a Python and a Node.js hello
handler under haar, beside the same handlers under serverless-offline 13.9 (serverless 3.40,
PEERS.md) and haar's C function, in one run. Not a test: a measurement for report.py.

  floors   the same interpreter starting, importing what a minimal runtime loop needs and
           the handler, serving one event (spawn -> first response, against coldstart.c's
           fake Runtime API); beside it haar's runtime client alone (same measure)
  cold     through a live `haar up`: an Invoke that has to start an environment (each round
           first changes the function's configuration, which retires its environments), as
           the client sees it (request sent -> response read); serverless-offline's cold
           figure is the same Invoke against its Lambda port started with --reloadHandler
           (every invocation loads the handler afresh)
  warm     invoke_load with 1 and 4 connections for SECONDS each, against haar's Lambda API
           and serverless-offline's Lambda port, the same event

usage: managed.py BUILD WORK ROUNDS SECONDS SLS_DIR|-     (writes WORK/managed.json)
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

PY = "/usr/bin/python3"
REGION = "eu-west-1"
CREDS = Credentials("test", "test")

HELLO_PY = "def handler(event, context):\n    return {'hello': event.get('who', 'world')}\n"
HELLO_NODE = ("module.exports.handler = async (event) => ({ hello: event.who || 'world' });\n")

# The floors: the smallest loop that loads the same handler and serves the Runtime API, the
# very ones tests/runtimes/bench_runtimes.py measures against its own fake API. Its Node.js
# floor is an ES module importing index.mjs: the same handler as an ES module, in a folder
# of its own.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tests", "runtimes"))
from bench_runtimes import FLOOR_NODE, FLOOR_PY  # noqa: E402

HELLO_NODE_ESM = "export const handler = async (event) => ({ hello: event.who || 'world' });\n"

EVENT = b'{"who":"bench"}'


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def wait_port(port, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def pct(values, p):
    v = sorted(values)
    return round(v[int((len(v) - 1) * p + 0.5)], 2) if v else None


def summary(ms):
    return {"n": len(ms), "p50_ms": pct(ms, 0.5), "p90_ms": pct(ms, 0.9),
            "min_ms": round(min(ms), 2) if ms else None}


class Lambda:
    """Signed Lambda API calls over one kept-alive connection."""

    def __init__(self, port, sign=True):
        self.port, self.sign = port, sign
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def headers(self, method, path, body):
        if not self.sign:
            return {"Content-Type": "application/json"}
        req = AWSRequest(method=method, url=f"http://127.0.0.1:{self.port}{path}", data=body)
        SigV4Auth(CREDS, "lambda", REGION).add_auth(req)
        return dict(req.headers.items())

    def call(self, method, path, body=b"", timed=False):
        hdrs = self.headers(method, path, body)
        t0 = time.perf_counter()
        self.conn.request(method, path, body=body, headers=hdrs)
        r = self.conn.getresponse()
        data = r.read()
        ms = (time.perf_counter() - t0) * 1000
        if r.status >= 300:
            raise RuntimeError(f"{method} {path}: {r.status} {data[:300]!r}")
        return (ms, data) if timed else data

    def invoke_ms(self, fn):
        ms, data = self.call("POST", f"/2015-03-31/functions/{fn}/invocations", EVENT, timed=True)
        assert b"bench" in data, data
        return ms


def zip_of(files, modes=None):
    import io
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | (modes or {}).get(name, 0o644)) << 16
            z.writestr(info, data)
    return buf.getvalue()


def coldstart_floors(build, work, rounds):
    """Spawn -> first response of the floors and of haar's clients (coldstart.c)."""
    tp, tn = os.path.join(work, "task-py"), os.path.join(work, "task-node")
    tf = os.path.join(work, "task-node-floor")
    for d, files in ((tp, {"lambda_function.py": HELLO_PY, "floor.py": FLOOR_PY}),
                     (tn, {"index.js": HELLO_NODE}),
                     (tf, {"index.mjs": HELLO_NODE_ESM, "floor.mjs": FLOOR_NODE})):
        os.makedirs(d, exist_ok=True)
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
    node = shutil.which("node") or "/usr/bin/node"
    rt = os.path.join(build, "runtimes")
    with open(os.path.join(work, "event.json"), "wb") as f:
        f.write(EVENT)
    variants = [
        f"python_floor=LAMBDA_TASK_ROOT={tp} {PY} {tp}/floor.py",
        f"python_client=_HANDLER=lambda_function.handler LAMBDA_TASK_ROOT={tp} "
        f"AWS_EXECUTION_ENV=AWS_Lambda_python3.11 {PY} {rt}/python/bootstrap.py",
        f"node_floor=LAMBDA_TASK_ROOT={tf} {node} {tf}/floor.mjs",
        f"node_client=_HANDLER=index.handler LAMBDA_TASK_ROOT={tn} "
        f"AWS_EXECUTION_ENV=AWS_Lambda_nodejs20.x {node} {rt}/node/bootstrap.mjs",
    ]  # the C bootstrap's own figures are bench/lambda/run's (b), with its /health event
    out = subprocess.run([os.path.join(build, "bench", "lambda", "coldstart"), str(rounds),
                          os.path.join(work, "event.json"), *variants],
                         capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError("coldstart: " + out.stderr[-500:])
    return {v["name"]: v for v in json.loads(out.stdout)["variants"]}


def invoke_load(build, port, fn, conns, seconds, work, event="event.json"):
    out = subprocess.run([os.path.join(build, "bench", "lambda", "invoke_load"),
                          f"127.0.0.1:{port}", fn, os.path.join(work, event), str(conns),
                          str(seconds), "1"], capture_output=True, text=True,
                         timeout=seconds + 120)
    if out.returncode != 0:
        raise RuntimeError(f"invoke_load {fn}: " + (out.stderr + out.stdout)[-500:])
    return json.loads(out.stdout)


def haar_side(build, work, rounds, seconds):
    api_port, aws_port = free_ports(2)
    state = os.path.join(work, "haar-state")
    shutil.rmtree(state, ignore_errors=True)
    log = open(os.path.join(work, "haar-managed.log"), "w")
    proc = subprocess.Popen([os.path.join(build, "bin", "haar"), "up", "--state-dir", state,
                             "--api-port", str(api_port), "--aws-port", str(aws_port)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=os.path.dirname(
                                os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    try:
        if not wait_port(aws_port, 20):
            raise RuntimeError("haar up did not start")
        lam = Lambda(aws_port)
        fns = {
            "python": ("python3.11", "lambda_function.handler",
                       zip_of({"lambda_function.py": HELLO_PY})),
            "node": ("nodejs20.x", "index.handler", zip_of({"index.js": HELLO_NODE})),
            "c": ("provided.al2023", "bootstrap", zip_of(
                {"bootstrap": open(os.path.join(build, "functions", "api", "bootstrap"),
                                   "rb").read()}, {"bootstrap": 0o755})),
        }
        import base64
        # the api function refuses to start without its table and queue (it answers /health
        # without using them): placeholders, as bench/lambda/run gives it
        env = {lang: {} for lang in fns}
        env["c"] = {"TASKS_TABLE": "bench", "TASKS_STATUS_INDEX": "status",
                    "TASKS_QUEUE_URL": "http://127.0.0.1:1/000000000000/bench"}
        for lang, (runtime, handler, code) in fns.items():
            lam.call("POST", "/2015-03-31/functions", json.dumps({
                "FunctionName": f"bench-{lang}", "Runtime": runtime, "Handler": handler,
                "Role": "arn:aws:iam::000000000000:role/bench", "MemorySize": 256,
                "Environment": {"Variables": env[lang]},
                "Code": {"ZipFile": base64.b64encode(code).decode()}}).encode())
        # the C function is the api function: it answers GET /health (bench/lambda/run's event)
        cold = {lang: [] for lang in fns}
        with open(os.path.join(work, "health.json"), "rb") as f:
            c_event = f.read()
        for lang in ("python", "node"):  # the page cache: one cold start each, not counted
            lam.invoke_ms(f"bench-{lang}")
        for r in range(rounds):
            for lang in fns:
                fn = f"bench-{lang}"
                # a configuration change retires the environments: the next invoke is cold
                lam.call("PUT", f"/2015-03-31/functions/{fn}/configuration",
                         json.dumps({"Environment": {"Variables": {
                             "ROUND": str(r), **env[lang]}}}).encode())
                if lang == "c":
                    ms, _ = lam.call("POST", f"/2015-03-31/functions/{fn}/invocations",
                                     c_event, timed=True)
                else:
                    ms = lam.invoke_ms(fn)
                cold[lang].append(ms)
        warm = {lang: {c: invoke_load(build, aws_port, f"bench-{lang}", c, seconds, work,
                                      "health.json" if lang == "c" else "event.json")
                       for c in (1, 4)} for lang in fns}
        return {"cold": {k: summary(v) for k, v in cold.items()}, "warm": warm}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


SLS_YML = """service: haar-bench
frameworkVersion: "3"
provider:
  name: aws
  region: eu-west-1
  stage: dev
plugins:
  - serverless-offline
custom:
  serverless-offline:
    host: 127.0.0.1
    httpPort: %(http)d
    lambdaPort: %(lambda)d
    noPrependStageInUrl: true
    reloadHandler: %(reload)s
functions:
  python:
    runtime: python3.11
    handler: handler.handler
  node:
    runtime: nodejs20.x
    handler: index.handler
"""


def sls_side(sls, work, rounds, seconds, build):
    """serverless-offline: warm (started once), cold (--reloadHandler)."""
    base = os.path.join(work, "sls")
    os.makedirs(os.path.join(base, "home"), exist_ok=True)
    with open(os.path.join(base, "handler.py"), "w") as f:
        f.write(HELLO_PY)
    with open(os.path.join(base, "index.js"), "w") as f:
        f.write(HELLO_NODE)
    link = os.path.join(base, "node_modules")
    if not os.path.exists(link):
        os.symlink(os.path.join(sls, "node_modules"), link)
    env = dict(HOME=os.path.join(base, "home"), SLS_TELEMETRY_DISABLED="1",
               SLS_NOTIFICATIONS_MODE="off", PATH="/usr/bin:/bin")
    out = {}
    for reload in (False, True):
        http_port, lambda_port = free_ports(2)
        with open(os.path.join(base, "serverless.yml"), "w") as f:
            f.write(SLS_YML % {"http": http_port, "lambda": lambda_port,
                               "reload": "true" if reload else "false"})
        log = open(os.path.join(work, f"sls-{reload}.log"), "w")
        proc = subprocess.Popen(["node", "node_modules/serverless/bin/serverless.js", "offline",
                                 "start"], cwd=base, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            if not wait_port(lambda_port, 90):
                raise RuntimeError("serverless-offline did not start")
            lam = Lambda(lambda_port, sign=True)
            for lang in ("python", "node"):
                lam.invoke_ms(f"haar-bench-dev-{lang}")  # the first load, not counted
            if reload:
                cold = {lang: [] for lang in ("python", "node")}
                for _ in range(rounds):
                    for lang in cold:
                        cold[lang].append(lam.invoke_ms(f"haar-bench-dev-{lang}"))
                out["cold"] = {k: summary(v) for k, v in cold.items()}
            else:
                out["warm"] = {lang: {c: invoke_load(build, lambda_port, f"haar-bench-dev-{lang}",
                                                     c, seconds, work) for c in (1, 4)}
                               for lang in ("python", "node")}
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            log.close()
    return out


def main():
    build, work, rounds, seconds, sls = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        int(float(sys.argv[4])), sys.argv[5]
    result = {"rounds": rounds, "seconds": seconds,
              "node": subprocess.run(["node", "--version"], capture_output=True,
                                     text=True).stdout.strip(),
              "python": subprocess.run([PY, "--version"], capture_output=True,
                                       text=True).stdout.strip()}
    print("bench/lambda: managed runtimes: floors and clients (cold, coldstart.c)", flush=True)
    result["floors"] = coldstart_floors(build, work, rounds)
    print("bench/lambda: managed runtimes under haar up (cold, warm)", flush=True)
    result["haar"] = haar_side(build, work, rounds, seconds)
    if sls != "-" and os.path.exists(os.path.join(sls, "node_modules", "serverless")):
        print("bench/lambda: the same handlers under serverless-offline", flush=True)
        try:
            result["sls"] = sls_side(sls, work, rounds, seconds, build)
        except Exception as e:  # a peer that fails is reported, not fatal
            result["sls_error"] = str(e)[:500]
    else:
        result["sls_error"] = "serverless-offline not installed"
    with open(os.path.join(work, "managed.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result)[:2000])


if __name__ == "__main__":
    main()
