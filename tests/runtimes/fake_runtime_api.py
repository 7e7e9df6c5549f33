"""A small Lambda Runtime API server for testing haar's runtime clients end to end.

FakeRuntimeAPI serves the 2018-06-01 Runtime API on 127.0.0.1 (one thread per connection,
HTTP/1.1 keep-alive): it hands the events given to invoke() to GET /runtime/invocation/next,
with the headers haar sends, and records what the runtime posts back (response, error,
init error, with their headers). As haar does, it answers 202, 400 for an unknown request
id, and 413 for a response over 6 MB (ending the invocation with
Function.ResponseSizeTooLarge); fail_next() makes /next answer 500 ("container error").
It enforces no deadline: timeouts are the server's business, not the client's.

RuntimeProcess starts a runtime client (`python3 bootstrap.py` or `node bootstrap.mjs`) with
the environment haar gives a function, and collects its stdout and stderr lines.
"""

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime/"
MAX_SYNC_PAYLOAD = 6291556
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON_BOOTSTRAP = os.path.join(REPO, "src", "runtimes", "python", "bootstrap.py")
PYTHON_RUNTIME = os.path.join(REPO, "src", "runtimes", "python", "haar_lambda_runtime.py")
NODE_BOOTSTRAP = os.path.join(REPO, "src", "runtimes", "node", "bootstrap.mjs")
PYTHON = os.environ.get("HAAR_TEST_PYTHON", "/usr/bin/python3")  # the runtime's interpreter
NODE_ENV_VAR = "HAAR_TEST_NODE"
NODE = os.environ.get(NODE_ENV_VAR) or shutil.which("node") or "/usr/bin/node"


class Result:
    """What the runtime posted for one invocation (or for init)."""

    def __init__(self, kind, body, headers, at):
        self.kind = kind  # "response", "error" or "init_error"
        self.body = body
        self.headers = headers  # lowercase names
        self.at = at  # time.monotonic() of the POST

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def error_type_header(self):
        return self.headers.get("lambda-runtime-function-error-type")

    def __repr__(self):
        return "Result(%s, %r)" % (self.kind, self.body[:300])


class FakeRuntimeAPI:
    def __init__(self):
        self._cond = threading.Condition()
        self._queue = []  # (request id, headers, body)
        self._results = {}  # request id -> Result
        self._current = set()
        self._next_status = None
        self._closing = False
        self.init_error = None
        self.first_next_at = None
        self.next_count = 0
        self.requests = []  # (method, path, lowercase headers)
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                api._get(self)

            def do_POST(self):
                api._post(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.handle_error = lambda request, address: None  # a runtime killed mid-answer
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self._server.server_address[1]

    def close(self):
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- the test's side --------------------------------------------------------------------

    def submit(self, event, *, deadline_ms=None, timeout_s=3.0, client_context=None,
               identity=None, trace_id=None, arn=None, content_type="application/json",
               request_id=None, tenant_id=None):
        """Queues an event (bytes, str, or a value to serialise as JSON); returns its id."""
        rid = request_id or str(uuid.uuid4())
        if isinstance(event, str):
            body = event.encode("utf-8")
        elif isinstance(event, bytes):
            body = event
        else:
            body = json.dumps(event).encode("utf-8")
        if deadline_ms is None:
            deadline_ms = int(time.time() * 1000 + timeout_s * 1000)
        headers = {
            "Content-Type": content_type,
            "Lambda-Runtime-Aws-Request-Id": rid,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn":
                arn or "arn:aws:lambda:us-east-1:000000000000:function:fn",
            "Lambda-Runtime-Trace-Id": trace_id or
                "Root=1-5f84c7a1-%s;Parent=%s;Sampled=0" % (uuid.uuid4().hex[:24],
                                                           uuid.uuid4().hex[:16]),
        }
        if client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = client_context
        if identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = identity
        if tenant_id is not None:
            headers["Lambda-Runtime-Aws-Tenant-Id"] = tenant_id
        with self._cond:
            self._queue.append((rid, headers, body))
            self._cond.notify_all()
        return rid

    def result(self, rid, wait=10.0):
        """The Result posted for a request id, waiting up to `wait` seconds (None if none)."""
        end = time.monotonic() + wait
        with self._cond:
            while rid not in self._results:
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return self._results[rid]

    def invoke(self, event, wait=10.0, **kw):
        """submit() then result()."""
        return self.result(self.submit(event, **kw), wait)

    def wait_init_error(self, wait=10.0):
        end = time.monotonic() + wait
        with self._cond:
            while self.init_error is None:
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return self.init_error

    def wait_next(self, count=1, wait=10.0):
        """Waits until the runtime has asked for `count` events; returns whether it did."""
        end = time.monotonic() + wait
        with self._cond:
            while self.next_count < count:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def fail_next(self, status=500):
        """From now on, /next answers `status` (haar's container error by default)."""
        with self._cond:
            self._next_status = status
            self._cond.notify_all()

    # ---- the runtime's side ------------------------------------------------------------------

    def _send(self, h, status, body=b"", headers=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        h.send_response(status)
        for k, v in (headers or {"Content-Type": "application/json"}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _record(self, h):
        self.requests.append((h.command, h.path, {k.lower(): v for k, v in h.headers.items()}))

    def _get(self, h):
        self._record(h)
        if h.path != PREFIX + "invocation/next":
            return self._send(h, 404, '{"errorMessage":"Not Found","errorType":"NotFound"}')
        with self._cond:
            if self.first_next_at is None:
                self.first_next_at = time.monotonic()
            self.next_count += 1
            self._cond.notify_all()
            while not self._queue and self._next_status is None and not self._closing:
                self._cond.wait()
            if self._next_status is not None or self._closing:
                status = self._next_status or 500
                item = None
            else:
                item = self._queue.pop(0)
                self._current.add(item[0])
        if item is None:
            return self._send(h, status, '{"errorMessage":"container error: the environment is '
                                         'shutting down","errorType":"Runtime.ContainerError"}')
        self._send(h, 200, item[2], item[1])

    def _post(self, h):
        self._record(h)
        n = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(n) if n else b""
        headers = {k.lower(): v for k, v in h.headers.items()}
        now = time.monotonic()
        rest = h.path[len(PREFIX):] if h.path.startswith(PREFIX) else None
        if rest == "init/error":
            with self._cond:
                self.init_error = Result("init_error", body, headers, now)
                self._cond.notify_all()
            return self._send(h, 202, '{"status":"OK"}')
        parts = rest.split("/") if rest else []
        if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            rid = parts[1]
            with self._cond:
                if rid not in self._current:
                    status = 400
                elif parts[2] == "response" and len(body) > MAX_SYNC_PAYLOAD:
                    status = 413
                    self._results[rid] = Result("error", json.dumps({
                        "errorMessage": "Response payload size exceeded maximum allowed "
                                        "payload size (6291556 bytes).",
                        "errorType": "Function.ResponseSizeTooLarge"}).encode(), headers, now)
                else:
                    status = 202
                    self._results[rid] = Result(parts[2], body, headers, now)
                self._current.discard(rid)
                self._cond.notify_all()
            if status == 400:
                return self._send(h, 400, '{"errorMessage":"Invalid request ID",'
                                          '"errorType":"InvalidRequestID"}')
            if status == 413:
                return self._send(h, 413, '{"errorMessage":"Exceeded maximum allowed payload '
                                          'size (6291556 bytes).",'
                                          '"errorType":"RequestEntityTooLarge"}')
            return self._send(h, 202, '{"status":"OK"}')
        self._send(h, 404, '{"errorMessage":"Not Found","errorType":"NotFound"}')


def function_env(api, task_root, handler, runtime, extra=None):
    """The environment haar gives a function's process (src/cloud/lambda/engine.c env_build),
    without the caller's PYTHONPATH/NODE_PATH."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "_HANDLER": handler,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_" + runtime,
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "token",
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "LAMBDA_TASK_ROOT": str(task_root),
        "HAAR_OPT_DIR": os.path.join(str(task_root), "..", "opt"),
    }
    env.update(extra or {})
    return {k: v for k, v in env.items() if v is not None}


class RuntimeProcess:
    """A runtime client process with its output collected line by line."""

    def __init__(self, argv, env, cwd=None):
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stdout = []
        self.stderr = []
        self._readers = [threading.Thread(target=self._read, args=(s, out), daemon=True)
                         for s, out in ((self.proc.stdout, self.stdout),
                                        (self.proc.stderr, self.stderr))]
        for t in self._readers:
            t.start()

    @staticmethod
    def _read(stream, out):
        for line in iter(stream.readline, b""):
            out.append(line.decode("utf-8", "replace"))
        stream.close()

    def wait(self, timeout=10.0):
        """The exit status (None if still running after `timeout` seconds)."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        for t in self._readers:
            t.join(2)
        return rc

    def output(self):
        return "".join(self.stdout)

    def wait_stdout(self, done, timeout=5.0):
        """The stdout lines once done(lines) holds, or after `timeout` seconds: a thread
        reads them, and may be behind what the function had written when its result (and the
        GET pipelined behind it) reached the Runtime API."""
        deadline = time.monotonic() + timeout
        while not done(self.stdout) and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.stdout)

    def wait_output(self, text, timeout=5.0):
        """All of stdout, once it holds `text` (or after `timeout` seconds)."""
        return "".join(self.wait_stdout(lambda lines: text in "".join(lines), timeout))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.wait(5)


def start_python(api, task_root, handler, runtime="python3.11", extra=None, python=PYTHON):
    return RuntimeProcess([python, PYTHON_BOOTSTRAP],
                          function_env(api, task_root, handler, runtime, extra), cwd="/")


def start_node(api, task_root, handler, runtime="nodejs20.x", extra=None, node=NODE):
    return RuntimeProcess([node, NODE_BOOTSTRAP],
                          function_env(api, task_root, handler, runtime, extra), cwd="/")


class PipeliningRuntimeAPI:
    """A raw-socket Runtime API that plays one script, for the clients' pipelining tests: an
    event; the result's 202 once the result and the GET pipelined behind it have come; the
    next event 200 ms later; a short 202 to that result, then a hang-up; on a new connection
    a third event and a 202 to its result. `got` holds what each read took (the bytes, or the
    OSError that ended the script). Start the client on `address`, then call finish()."""

    ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}"

    def __init__(self):
        self._ls = socket.socket()
        self._ls.bind(("127.0.0.1", 0))
        self._ls.listen(4)
        self._ls.settimeout(10)
        self.address = "127.0.0.1:%d" % self._ls.getsockname()[1]
        self.got = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @staticmethod
    def _event(rid):
        return (b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: " + rid +
                b"\r\nLambda-Runtime-Deadline-Ms: 99999999999999\r\n"
                b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")

    @staticmethod
    def _heads(c, n):
        data = b""
        while data.count(b"\r\n\r\n") < n:
            more = c.recv(65536)
            if not more:
                break
            data += more
        return data

    def _accept(self):
        c, _ = self._ls.accept()
        c.settimeout(10)
        return c

    def _serve(self):
        try:
            c = self._accept()
            self.got.append(self._heads(c, 1))
            c.sendall(self._event(b"p-1"))
            self.got.append(self._heads(c, 2))  # the result and the GET behind it
            c.sendall(self.ACCEPTED)
            time.sleep(0.2)
            c.sendall(self._event(b"p-2"))
            self.got.append(self._heads(c, 2))
            c.sendall(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
            c.close()
            c = self._accept()
            self.got.append(self._heads(c, 1))
            c.sendall(self._event(b"p-3"))
            self.got.append(self._heads(c, 1))
            c.sendall(self.ACCEPTED)
            c.close()
        except OSError as e:
            self.got.append(e)

    def finish(self):
        """Waits for the script's end; returns got."""
        self._thread.join(15)
        self._ls.close()
        return self.got
