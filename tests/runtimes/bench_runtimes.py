"""Cold start and warm invoke of haar's runtime clients against the fake Runtime API, beside
the floor: the same interpreter running the smallest runtime loop (import what the loop needs
and the same handler, GET /next, call the handler, POST the response).

  cold next      process spawn -> its first GET /runtime/invocation/next
  cold response  process spawn -> the response to an event queued before the spawn
  cold CPU       CPU time (user + system) of that process: start, one invoke, exit on a 500
                 from /next (a figure a busy machine disturbs less than wall time)
  warm           one invoke's round trip (queue the event -> the response is posted)

Run: /usr/bin/python3 tests/runtimes/bench_runtimes.py [--cold 20] [--warm 300]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_runtime_api import (NODE, NODE_BOOTSTRAP, PYTHON, PYTHON_BOOTSTRAP,  # noqa: E402
                              FakeRuntimeAPI, RuntimeProcess, function_env)

# The floors: the smallest loop that loads the same handler and serves the Runtime API.
FLOOR_PY = """
import http.client, json, os
from lambda_function import handler
c = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
while True:
    c.request("GET", "/2018-06-01/runtime/invocation/next")
    r = c.getresponse()
    if r.status != 200:
        raise SystemExit(1)
    event = json.loads(r.read())
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    c.request("POST", "/2018-06-01/runtime/invocation/%s/response" % rid,
              json.dumps(handler(event, None)).encode())
    c.getresponse().read()
"""

FLOOR_NODE = """
import http from 'node:http';
const { handler } = await import(process.env.LAMBDA_TASK_ROOT + '/index.mjs');
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const call = (method, path, body) => new Promise((resolve, reject) => {
  const req = http.request({ host, port, method, path, agent }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
      body: Buffer.concat(chunks).toString() }));
  });
  req.on('error', reject);
  req.end(body);
});
for (;;) {
  const next = await call('GET', '/2018-06-01/runtime/invocation/next');
  if (next.status !== 200) process.exit(1);
  const rid = next.headers['lambda-runtime-aws-request-id'];
  await call('POST', `/2018-06-01/runtime/invocation/${rid}/response`,
    JSON.stringify(await handler(JSON.parse(next.body), {})));
}
"""

HELLO_PY = "def handler(event, context):\n    return {'hello': event}\n"
HELLO_NODE = "export const handler = async (event) => ({ hello: event });\n"


def cold_once(argv, env):
    """Spawn -> first /next and spawn -> first response of one fresh process, and its CPU
    time until it exits on a 500 from /next, in ms."""
    with FakeRuntimeAPI() as api:
        env = dict(env, AWS_LAMBDA_RUNTIME_API=api.address)
        rid = api.submit({"n": 0})
        p = RuntimeProcess(argv, env, cwd=env.get("LAMBDA_TASK_ROOT", "/"))
        r = api.result(rid, wait=10)
        assert r is not None and r.kind == "response", (r, p.output(), p.stderr)
        api.fail_next()
        _, _, usage = os.wait4(p.proc.pid, 0)
        p.stop()
        return ((api.first_next_at - p.started_at) * 1000, (r.at - p.started_at) * 1000,
                (usage.ru_utime + usage.ru_stime) * 1000)


def warm(argv, env, runs):
    """Round trips of sequential invokes on one warm process, in ms."""
    with FakeRuntimeAPI() as api:
        env = dict(env, AWS_LAMBDA_RUNTIME_API=api.address)
        p = RuntimeProcess(argv, env, cwd=env.get("LAMBDA_TASK_ROOT", "/"))
        try:
            for _ in range(20):
                api.invoke({"warmup": True})
            times = []
            for i in range(runs):
                t = time.monotonic()
                r = api.invoke({"n": i})
                times.append((time.monotonic() - t) * 1000)
                assert r.kind == "response"
            return times
        finally:
            p.stop()


def summary(xs):
    xs = sorted(xs)
    return "median %6.1f  min %6.1f  p90 %6.1f" % (statistics.median(xs), xs[0],
                                                   xs[int(len(xs) * 0.9) - 1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cold", type=int, default=20)
    ap.add_argument("--warm", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        task = os.path.join(d, "task")
        os.makedirs(task)
        for name, text in (("lambda_function.py", HELLO_PY), ("index.mjs", HELLO_NODE),
                           ("floor.py", FLOOR_PY), ("floor.mjs", FLOOR_NODE)):
            with open(os.path.join(task, name), "w") as f:
                f.write(text)

        class Dummy:
            address = ""

        py_env = function_env(Dummy, task, "lambda_function.handler", "python3.11")
        node_env = function_env(Dummy, task, "index.handler", "nodejs20.x")
        subjects = [
            ("python floor", [PYTHON, os.path.join(task, "floor.py")], py_env),
            ("python haar", [PYTHON, PYTHON_BOOTSTRAP], py_env),
            ("node floor", [NODE, os.path.join(task, "floor.mjs")], node_env),
            ("node haar", [NODE, NODE_BOOTSTRAP], node_env),
        ]
        print("interpreters: %s, %s; %d cold starts each (interleaved), %d warm invokes"
              % (PYTHON, NODE, args.cold, args.warm))
        cold = {name: ([], [], []) for name, _, _ in subjects}
        for _ in range(args.cold):  # interleaved, so a busy machine weighs on all alike
            for name, argv, env in subjects:
                for figures, x in zip(cold[name], cold_once(argv, env)):
                    figures.append(x)
        for name, argv, env in subjects:
            w = warm(argv, env, args.warm)
            print("%-13s cold next:     %s" % (name, summary(cold[name][0])))
            print("%-13s cold response: %s" % (name, summary(cold[name][1])))
            print("%-13s cold CPU:      %s" % (name, summary(cold[name][2])))
            print("%-13s warm invoke:   %s" % (name, summary(w)))

if __name__ == "__main__":
    main()
