"""haar's Node.js runtime client end to end: a real `node bootstrap.mjs` per test against the
fake Runtime API (module resolution, init errors, handler errors, callbacks and async
handlers, context, logs, layers). HAAR_TEST_NODE picks another node binary.
Run: /usr/bin/python3 -m pytest -q tests/runtimes/test_node_integration.py
"""

import json
import os
import re
import subprocess
import time
import types

import pytest

from fake_runtime_api import NODE, NODE_BOOTSTRAP, PipeliningRuntimeAPI, start_node

MAJOR = int(subprocess.run([NODE, "-p", "process.versions.node.split('.')[0]"],
                           capture_output=True, text=True, check=True, timeout=30).stdout)
RUNTIME = "nodejs%d.x" % MAJOR
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"

ECHO_CJS = """
let count = 0;
exports.handler = async (event, context) => ({ event, count: ++count });
"""
ECHO_ESM = """
let count = 0;
export const handler = async (event, context) => ({ event, count: ++count, esm: true });
"""


def start(running, api, task, handler, runtime=RUNTIME, extra=None):
    return running(start_node(api, task, handler, runtime, extra))


def test_result_and_next_share_a_write(function, running):
    """The result goes out with GET /next pipelined behind it; a late event, and a shorter
    answer followed by a hang-up (a new connection), still come through."""
    server = PipeliningRuntimeAPI()
    start(running, types.SimpleNamespace(address=server.address),
          function({"index.js": ECHO_CJS}), "index.handler")
    got = server.finish()
    assert len(got) == 5, got
    assert got[1].startswith(b"POST /2018-06-01/runtime/invocation/p-1/response HTTP/1.1\r\n")
    assert b'"count":1}GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n' in got[1]
    assert b"/p-2/response HTTP/1.1" in got[2]
    assert got[3].startswith(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n")
    assert got[4].startswith(b"POST /2018-06-01/runtime/invocation/p-3/response HTTP/1.1\r\n")
    assert b'"count":3' in got[4]


def test_cjs_init_once(api, function, running):
    p = start(running, api, function({"index.js": ECHO_CJS}), "index.handler")
    for i in range(1, 4):
        r = api.invoke({"i": i})
        assert r.kind == "response", (r, p.stderr, p.output())
        assert r.json == {"event": {"i": i}, "count": i}
    assert not p.stderr


MODULE_LAYOUTS = [
    # files, handler, expected "esm" flag
    ({"index.mjs": ECHO_ESM}, "index.handler", True),
    ({"index.js": ECHO_ESM, "package.json": '{"type": "module"}'}, "index.handler", True),
    ({"app.cjs": ECHO_CJS}, "app.handler", None),
    ({"src/handlers/fn.js": ECHO_CJS}, "src/handlers/fn.handler", None),
    ({"src/handlers/fn.mjs": ECHO_ESM}, "src/handlers/fn.handler", True),
    ({"lib/esm/package.json": '{"type": "module"}', "lib/esm/h.js": ECHO_ESM},
     "lib/esm/h.handler", True),
    ({"dir/index.js": ECHO_CJS}, "dir.handler", None),  # a directory: require() loads index.js
    ({"index.js": "exports.api = { v1: { get: async () => ({ nested: true }) } };"},
     "index.api.v1.get", "nested"),
    ({"node_modules/pkgfn/index.js": ECHO_CJS}, "pkgfn.handler", None),
]


@pytest.mark.parametrize("files,handler,esm", MODULE_LAYOUTS)
def test_module_resolution(api, function, running, files, handler, esm):
    p = start(running, api, function(files), handler)
    r = api.invoke({"x": 1})
    assert r.kind == "response", (r, p.output(), p.stderr)
    if esm == "nested":
        assert r.json == {"nested": True}
    else:
        assert r.json.get("esm") == esm and r.json["event"] == {"x": 1}


def expect_init_error(api, p, error_type):
    r = api.wait_init_error()
    assert r is not None, (p.output(), p.stderr)
    assert p.wait() == 129
    body = r.json
    assert body["errorType"] == error_type
    assert body["trace"][0].startswith(error_type) and body["errorMessage"].split("\n")[0] in \
        body["trace"][0]
    assert r.error_type_header == error_type
    line = [x for x in p.wait_stdout(lambda ls: any("Uncaught Exception" in x for x in ls))
            if "\tERROR\tUncaught Exception \t" in x]
    assert line, p.output()
    assert re.match(ISO + r"\tundefined\tERROR\tUncaught Exception \t\{", line[0])
    logged = json.loads(line[0].split("\t", 4)[4])
    assert logged["errorType"] == error_type and logged["errorMessage"] == body["errorMessage"]
    return body


def test_init_error_module_not_found(api, function, running):
    p = start(running, api, function({"other.js": ""}), "index.handler")
    body = expect_init_error(api, p, "Runtime.ImportModuleError")
    assert body["errorMessage"] == ("Error: Cannot find module 'index'\nRequire stack:\n- "
                                    + NODE_BOOTSTRAP)


def test_init_error_cjs_dependency_missing(api, function, running):
    task = function({"index.js": "require('haar-absent-dep');\nexports.handler = async () => 1;"})
    p = start(running, api, task, "index.handler")
    body = expect_init_error(api, p, "Runtime.ImportModuleError")
    assert body["errorMessage"].startswith(
        "Error: Cannot find module 'haar-absent-dep'\nRequire stack:\n- %s/index.js\n" % task)


def test_init_error_esm_dependency_missing_is_a_plain_error(api, function, running):
    """AWS only wraps CommonJS's MODULE_NOT_FOUND: an ES import fails as it is."""
    task = function({"index.mjs": "import x from 'haar-absent-dep';\nexport const handler = 1;"})
    p = start(running, api, task, "index.handler")
    body = expect_init_error(api, p, "Error")
    assert body["errorMessage"].startswith("Cannot find package 'haar-absent-dep' imported from ")


@pytest.mark.parametrize("files", [
    {"index.js": "exports.handler = async () => {\n  return (;\n};"},
    {"index.mjs": "export const handler = async () => {\n  return (;\n};"},
])
def test_init_error_syntax(api, function, running, files):
    p = start(running, api, function(files), "index.handler")
    body = expect_init_error(api, p, "Runtime.UserCodeSyntaxError")
    assert body["errorMessage"].startswith("SyntaxError: ")


@pytest.mark.parametrize("files,handler,message", [
    ({"index.js": ECHO_CJS}, "index.nothere", "index.nothere is undefined or not exported"),
    ({"index.mjs": ECHO_ESM}, "index.nothere", "index.nothere is undefined or not exported"),
    ({"index.js": "exports.value = 42;"}, "index.value", "index.value is not a function"),
])
def test_init_error_handler_not_found(api, function, running, files, handler, message):
    p = start(running, api, function(files), handler)
    assert expect_init_error(api, p, "Runtime.HandlerNotFound")["errorMessage"] == message


@pytest.mark.parametrize("handler,message", [
    ("index", "Bad handler"),
    ("../index.handler", "'../index.handler' is not a valid handler name. Use absolute paths "
                         "when specifying root directories in handler names."),
])
def test_init_error_malformed_handler(api, function, running, handler, message):
    p = start(running, api, function({"index.js": ECHO_CJS}), handler)
    assert expect_init_error(api, p, "Runtime.MalformedHandlerName")["errorMessage"] == message


def test_init_error_thrown_at_load(api, function, running):
    p = start(running, api, function({"index.js": "throw new RangeError('bad config');"}),
              "index.handler")
    assert expect_init_error(api, p, "RangeError")["errorMessage"] == "bad config"


ERRORS_FN = """
class PaymentDeclined extends Error { constructor(m) { super(m); this.name = 'PaymentDeclined'; } }
exports.asyncThrow = async () => { throw new Error('boom'); };
exports.syncThrow = () => { throw new TypeError('sync boom'); };
exports.cbError = (e, c, cb) => cb(new PaymentDeclined('no funds'));
exports.cbString = (e, c, cb) => cb('just a string');
exports.reject = () => Promise.reject(new Error('rejected'));
exports.failHandled = (e, c) => c.fail();
exports.bigint = async () => ({ n: 1n });
exports.uncaught = (e, c, cb) => { setTimeout(() => { throw new Error('in a timer'); }, 10); };
exports.unhandled = async () => { Promise.reject(new Error('nobody waits')); await new Promise(r => setTimeout(r, 200)); return 'late'; };
"""


def test_handler_errors(api, function, running):
    task = function({"index.mjs": "export const handler = async () => {\n"
                                  "  throw new Error('boom');\n};\n"})
    p = start(running, api, task, "index.handler")
    rid = api.submit({})
    r = api.result(rid)
    assert r.kind == "error"
    body = r.json
    assert list(body) == ["errorType", "errorMessage", "trace"]
    assert (body["errorType"], body["errorMessage"]) == ("Error", "boom")
    assert body["trace"][0] == "Error: boom"
    # called as a method of the runtime, the handler shows in stacks as on AWS
    assert body["trace"][1].startswith("    at Runtime.handler (file://%s/index.mjs:2:" % task)
    assert r.error_type_header == "Error"
    api.wait_next(2)
    line = [x for x in p.wait_stdout(lambda ls: any("Invoke Error" in x for x in ls))
            if "\tERROR\tInvoke Error \t" in x][0]
    assert re.match(ISO + "\t" + rid + r"\tERROR\tInvoke Error \t\{\"errorType\":\"Error\","
                    r"\"errorMessage\":\"boom\",\"stack\":\[\"Error: boom\"", line)
    assert api.invoke({}).kind == "error"  # the environment goes on


@pytest.mark.parametrize("handler,error_type,message", [
    ("syncThrow", "TypeError", "sync boom"),
    ("cbError", "PaymentDeclined", "no funds"),
    ("cbString", "string", "just a string"),
    ("reject", "Error", "rejected"),
    ("failHandled", "string", "handled"),
    ("bigint", "Error", "Unable to stringify response body"),
])
def test_handler_error_shapes(api, function, running, handler, error_type, message):
    start(running, api, function({"index.js": ERRORS_FN}), "index." + handler)
    body = api.invoke({}).json
    assert (body["errorType"], body["errorMessage"]) == (error_type, message)


def test_uncaught_exception_during_invoke(api, function, running):
    p = start(running, api, function({"index.js": ERRORS_FN}), "index.uncaught")
    r = api.invoke({})
    assert (r.json["errorType"], r.json["errorMessage"]) == ("Error", "in a timer")
    assert p.wait() == 129


def test_unhandled_rejection_during_invoke(api, function, running):
    p = start(running, api, function({"index.js": ERRORS_FN}), "index.unhandled")
    r = api.invoke({})
    assert r.json["errorType"] == "Runtime.UnhandledPromiseRejection"
    assert r.json["errorMessage"] == "Error: nobody waits"
    assert p.wait() == 128


CALLBACKS_FN = """
exports.waits = (e, c, cb) => { setTimeout(() => console.log('timer done'), 300); cb(null, 'waited'); };
exports.noWait = (e, c, cb) => {
  c.callbackWaitsForEmptyEventLoop = false;
  setTimeout(() => console.log('after the response'), 1000);
  cb(null, 'fast');
};
exports.syncNoCallback = (e) => { console.log('returned nothing'); };
exports.asyncNeverSettles = async () => new Promise(() => {});
exports.succeed = (e, c) => { c.succeed({ via: 'succeed' }); };
exports.done = (e, c) => { c.done(null, 'via done'); };
exports.twice = (e, c, cb) => { cb(null, 'first'); cb(null, 'second'); };
exports.asyncUndefined = async () => {};
exports.waitDefault = (e, c, cb) => cb(null, c.callbackWaitsForEmptyEventLoop);
"""


def test_callback_waits_for_empty_event_loop(api, function, running):
    p = start(running, api, function({"index.js": CALLBACKS_FN}), "index.waits")
    api.invoke({})  # the first one includes the start
    t = time.monotonic()
    r = api.invoke({})
    assert r.json == "waited" and time.monotonic() - t >= 0.29
    # the timer's line was written before the answer; its reader thread may lag on a busy host
    deadline = time.monotonic() + 5
    while sum("timer done" in x for x in p.stdout) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sum("timer done" in x for x in p.stdout) == 2


def test_callback_without_waiting(api, function, running):
    p = start(running, api, function({"index.js": CALLBACKS_FN}), "index.noWait")
    r = api.invoke({})
    assert r.json == "fast"
    # answered at once: the pending timer (1 s) had not fired when the response came
    assert not any("after the response" in x for x in p.stdout)
    deadline = time.monotonic() + 5
    while not any("after the response" in x for x in p.stdout) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any("after the response" in x for x in p.stdout)  # and the process lives on


@pytest.mark.parametrize("handler,kind,body", [
    ("syncNoCallback", "response", None),
    ("succeed", "response", {"via": "succeed"}),
    ("done", "response", "via done"),
    ("twice", "response", "first"),
    ("asyncUndefined", "response", None),
    ("waitDefault", "response", True),
])
def test_callback_forms(api, function, running, handler, kind, body):
    start(running, api, function({"index.js": CALLBACKS_FN}), "index." + handler)
    for _ in range(2):
        r = api.invoke({})
        assert (r.kind, r.json) == (kind, body)


def test_async_handler_that_never_settles(api, function, running):
    p = start(running, api, function({"index.js": CALLBACKS_FN}), "index.asyncNeverSettles")
    body = api.invoke({}).json
    assert body["errorType"] == "Runtime.NodeJsExit"
    assert body["errorMessage"].startswith("The Lambda runtime client detected an unexpected "
                                           "Node.js exit code.")
    assert api.invoke({}).json["errorType"] == "Runtime.NodeJsExit"
    assert p.proc.poll() is None


CONTEXT_FN = """
export const handler = async (event, context) => ({
  awsRequestId: context.awsRequestId,
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  remaining: context.getRemainingTimeInMillis(),
  clientContext: context.clientContext ?? null,
  identity: context.identity ?? null,
  waits: context.callbackWaitsForEmptyEventLoop,
  trace: process.env._X_AMZN_TRACE_ID ?? null,
  cwd: process.cwd(),
});
"""


def test_context_values(api, function, running):
    task = function({"index.mjs": CONTEXT_FN})
    start(running, api, task, "index.handler")
    cc = {"custom": {"tenant": "t1"}, "env": {"locale": "en"}, "client": {"installation_id": "i"}}
    ident = {"cognitoIdentityId": "cid", "cognitoIdentityPoolId": "pool"}
    rid = api.submit({}, deadline_ms=int(time.time() * 1000) + 7000, client_context=json.dumps(cc),
                     identity=json.dumps(ident), trace_id="Root=1-abc;Parent=def;Sampled=1",
                     arn="arn:aws:lambda:us-east-1:000000000000:function:fn:live")
    got = api.result(rid).json
    assert 5000 < got.pop("remaining") <= 7000
    assert got == {
        "awsRequestId": rid, "functionName": "fn", "functionVersion": "$LATEST",
        "invokedFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:fn:live",
        "memoryLimitInMB": "128", "logGroupName": "/aws/lambda/fn",
        "logStreamName": "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
        "clientContext": cc, "identity": ident, "waits": True,
        "trace": "Root=1-abc;Parent=def;Sampled=1", "cwd": str(task)}
    second = api.invoke({}, trace_id="Root=1-second").json
    assert second["clientContext"] is None and second["trace"] == "Root=1-second"


def test_bad_client_context_fails_the_invocation(api, function, running):
    start(running, api, function({"index.mjs": CONTEXT_FN}), "index.handler")
    body = api.invoke({}, client_context="{oops").json
    assert body["errorType"] == "Error"
    assert body["errorMessage"].startswith("Cannot parse ClientContext as json: SyntaxError")


LOGGING_FN = """
exports.handler = async (event) => {
  console.log('log %s', event.n);
  console.info({ k: 1 });
  console.warn('two\\nlines');
  console.error(new Error('logged error'));
  console.debug('debug');
  return 'ok';
};
"""


def test_console_format(api, function, running):
    p = start(running, api, function({"index.js": LOGGING_FN}), "index.handler")
    rid = api.submit({"n": 5})
    api.result(rid)
    api.wait_next(2)
    out = p.wait_output("Error: logged error")
    for level, text in (("INFO", "log 5"), ("INFO", "{ k: 1 }"), ("WARN", "two\rlines"),
                        ("DEBUG", "debug")):
        assert re.search("^" + ISO + "\t" + rid + "\t" + level + "\t" + re.escape(text) + "$",
                         out, re.M), out
    assert re.search("^" + ISO + "\t" + rid + "\tERROR\tError: logged error\r    at ", out, re.M)


def test_console_level_filter(api, function, running):
    p = start(running, api, function({"index.js": LOGGING_FN}), "index.handler",
              extra={"AWS_LAMBDA_LOG_LEVEL": "WARN"})
    api.invoke({"n": 1})
    api.wait_next(2)
    out = p.wait_output("\tERROR\t")
    assert "\tWARN\t" in out and "\tERROR\t" in out
    assert "\tINFO\t" not in out and "\tDEBUG\t" not in out


def test_console_json_format(api, function, running):
    p = start(running, api, function({"index.js": LOGGING_FN}), "index.handler",
              extra={"AWS_LAMBDA_LOG_FORMAT": "JSON"})
    rid = api.submit({"n": 3})
    api.result(rid)
    api.wait_next(2)
    lines = p.wait_stdout(lambda ls: any('"level":"ERROR"' in x for x in ls))
    docs = [json.loads(x) for x in lines if x.startswith("{")]
    first = docs[0]
    assert (first["level"], first["requestId"], first["message"]) == ("INFO", rid, "log 3")
    assert re.fullmatch(ISO, first["timestamp"])
    err = [d for d in docs if d["level"] == "ERROR"][0]
    assert err["message"]["errorType"] == "Error"


def test_layer_modules_from_opt_dir(api, function, running):
    task = function({"index.js": "const a = require('layer-a'); const b = require('layer-b');\n"
                                 "exports.handler = async () => [a, b];"},
                    opt={"nodejs/node_modules/layer-a/index.js": "module.exports = 'a';",
                         "nodejs/node%d/node_modules/layer-b/index.js" % MAJOR:
                             "module.exports = 'b';"})
    p = start(running, api, task, "index.handler")
    r = api.invoke({})
    assert r.json == ["a", "b"], (r, p.output())


def test_container_error_exits_nonzero(api, function, running):
    p = start(running, api, function({"index.js": ECHO_CJS}), "index.handler")
    assert api.invoke({}).kind == "response"
    api.fail_next(500)
    assert p.wait() == 1
    assert "500" in "".join(p.stderr)


def test_timeout_is_left_to_the_server(api, function, running):
    task = function({"index.js": "exports.handler = async (e, c) => { await new Promise(r => "
                                 "setTimeout(r, 300)); return c.getRemainingTimeInMillis() < 0; };"})
    p = start(running, api, task, "index.handler")
    r = api.invoke({}, deadline_ms=int(time.time() * 1000) + 100)
    assert (r.kind, r.json) == ("response", True)
    assert p.proc.poll() is None


def test_big_response_is_left_to_the_server(api, function, running):
    task = function({"index.js": "exports.handler = async (e) => e.big ? 'x'.repeat(6291556) : 'small';"})
    start(running, api, task, "index.handler")
    assert api.invoke({"big": True}).json["errorType"] == "Function.ResponseSizeTooLarge"
    assert api.invoke({"big": False}).json == "small"


def test_event_that_is_not_json(api, function, running):
    start(running, api, function({"index.js": ECHO_CJS}), "index.handler")
    body = api.invoke(b"not json").json
    assert body["errorType"] == "SyntaxError"


def test_streaming_handler_is_buffered(api, function, running):
    task = function({"index.mjs": """
export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType('text/plain');
  responseStream.write('hello ');
  responseStream.write(context.awsRequestId.length + ' ');
  responseStream.end('world');
});
"""})
    start(running, api, task, "index.handler")
    r = api.invoke({})
    assert (r.kind, r.body, r.headers["content-type"]) == ("response", b"hello 36 world",
                                                            "text/plain")


def test_warning_when_node_differs(api, function, running):
    p = start(running, api, function({"index.js": ECHO_CJS}), "index.handler",
              runtime="nodejs%d.x" % (MAJOR + 2))
    api.invoke({})
    lines = p.wait_stdout(lambda ls: any("HAAR_WARNING" in x for x in ls))
    assert any(x.startswith("HAAR_WARNING: the function's runtime is nodejs%d.x; it runs on "
                            "Node.js v" % (MAJOR + 2)) for x in lines)


def test_one_connection_kept_alive(api, function, running):
    start(running, api, function({"index.js": ECHO_CJS}), "index.handler")
    for _ in range(3):
        api.invoke({})
    api.wait_next(4)
    assert all(h.get("connection", "keep-alive").lower() == "keep-alive" for _, _, h in api.requests)


def test_node_unit_tests():
    """test_node_runtime.mjs (node:test) on the same node, so one pytest run covers both."""
    here = os.path.dirname(os.path.abspath(__file__))
    r = subprocess.run([NODE, "--test", os.path.join(here, "test_node_runtime.mjs")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]


STREAMING_FN = """
export const ok = awslambda.streamifyResponse(async (event, stream) => {
  stream.write('a');
  stream.end('b');
});
export const unfinished = awslambda.streamifyResponse(async (event, stream) => {
  stream.write('never ended');
});
export const throws = awslambda.streamifyResponse(async () => { throw new Error('stream boom'); });
"""


@pytest.mark.parametrize("handler,error_type,message", [
    ("unfinished", "Runtime.InvalidStreamingOperation", "Response stream is not finished."),
    ("throws", "Error", "stream boom"),
])
def test_streaming_handler_errors(api, function, running, handler, error_type, message):
    p = start(running, api, function({"index.mjs": STREAMING_FN}), "index." + handler)
    for _ in range(2):  # the environment goes on, with one loop
        body = api.invoke({}).json
        assert (body["errorType"], body["errorMessage"]) == (error_type, message)
    api.wait_next(3)
    time.sleep(0.2)
    assert api.next_count == 3, api.next_count
    assert p.proc.poll() is None
