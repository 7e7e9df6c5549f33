"""Managed runtimes without Docker: python3.x and nodejsNN.x functions from zips, run by haar's
runtime clients (src/runtimes, installed as build/runtimes) on the machine's interpreters,
driven by boto3 and the AWS CLI. Handlers in packages (Python) and ES / CommonJS modules
(Node.js), the context object, init errors, handler errors, timeouts, logs as AWS prints
them, a layer providing a module each imports, and a runtime whose version the machine lacks
(the nearest interpreter runs it, with the clients' warning)."""
import base64
import json
import re

import pytest

from e2e_helpers import (REGION, ROLE, client_error, invoke, unique_name, wait_until, zip_files)

PY = "python3.11"    # Debian 12's
NODE = "nodejs20.x"  # the machine's node; nodejs18.x (Debian's) works as well

PY_PKG = {
    "pkg/__init__.py": "",
    "pkg/sub/__init__.py": "",
    "pkg/sub/app.py": """
import os, time
COLD = {"n": 0}
COLD["n"] += 1  # module scope runs once per environment (init)

def handler(event, context):
    if event.get("raise"):
        raise ValueError("bad input: " + event["raise"])
    if event.get("sleep"):
        time.sleep(event["sleep"])
    print("printed by the handler", context.aws_request_id)
    return {
        "inits": COLD["n"],
        "name": context.function_name,
        "version": context.function_version,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "group": context.log_group_name,
        "stream": context.log_stream_name,
        "request_id": context.aws_request_id,
        "remaining": context.get_remaining_time_in_millis(),
        "client": context.client_context.custom if context.client_context else None,
        "task_root": os.environ["LAMBDA_TASK_ROOT"],
        "handler_env": os.environ["_HANDLER"],
    }
""",
}

NODE_ESM = {
    "package.json": json.dumps({"type": "module"}),
    "src/index.js": """
let inits = 0;
inits++;
export const handler = async (event, context) => {
  if (event.throw) throw new TypeError("bad input: " + event.throw);
  if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep * 1000));
  console.log("logged by the handler", context.awsRequestId);
  return {
    inits, name: context.functionName, version: context.functionVersion,
    arn: context.invokedFunctionArn, memory: context.memoryLimitInMB,
    group: context.logGroupName, stream: context.logStreamName,
    requestId: context.awsRequestId, remaining: context.getRemainingTimeInMillis(),
    client: context.clientContext ? context.clientContext.custom : null,
  };
};
""",
}

NODE_CJS_CALLBACK = {
    "handler.js": """
exports.run = function (event, context, callback) {
  setTimeout(() => callback(null, { via: "callback", got: event.n }), 10);
};
""",
}


def logs_of(logs_client, name, needle, timeout=10):
    """Every message of the function's log group, once one contains needle."""
    def ready():
        try:
            events = logs_client.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        except logs_client.exceptions.ResourceNotFoundException:
            return None
        msgs = [e["message"] for e in events]
        return msgs if any(needle in m for m in msgs) else None
    return wait_until(ready, timeout, 0.1, f"{needle!r} in /aws/lambda/{name}")


def test_python_handler_in_a_package_with_its_context(lam, logs_client, make_managed):
    name = make_managed(PY, "pkg.sub.app.handler", PY_PKG, prefix="py-ctx", memory=256,
                        timeout=5)
    ctx = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    status, headers, body, ferr = invoke(lam, name, {}, ClientContext=ctx)
    assert (status, ferr) == (200, None), body
    got = json.loads(body)
    assert got["inits"] == 1
    assert got["name"] == name and got["version"] == "$LATEST"
    assert got["arn"] == f"arn:aws:lambda:{REGION}:000000000000:function:{name}"
    assert got["memory"] == "256"  # a string, as AWS's context has it
    assert got["group"] == f"/aws/lambda/{name}"
    assert re.match(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$", got["stream"])
    assert got["request_id"] == headers["x-amzn-requestid"]
    assert 0 < got["remaining"] <= 5000
    assert got["client"] == {"k": "v"}
    assert got["handler_env"] == "pkg.sub.app.handler"
    # warm: the module is not loaded again
    assert json.loads(invoke(lam, name, {})[2])["inits"] == 1
    # the slash form of the same handler
    lam.update_function_configuration(FunctionName=name, Handler="pkg/sub/app.handler")
    assert json.loads(invoke(lam, name, {})[2])["handler_env"] == "pkg/sub/app.handler"
    msgs = logs_of(logs_client, name, f"printed by the handler {got['request_id']}")
    assert any(m.startswith(f"START RequestId: {got['request_id']} Version: $LATEST")
               for m in msgs)


def test_python_handler_error_in_aws_shape(lam, logs_client, make_managed):
    name = make_managed(PY, "pkg.sub.app.handler", PY_PKG, prefix="py-err")
    status, headers, body, ferr = invoke(lam, name, {"raise": "x"})
    assert (status, ferr) == (200, "Unhandled")
    err = json.loads(body)
    assert err["errorType"] == "ValueError" and err["errorMessage"] == "bad input: x"
    assert err["requestId"] == headers["x-amzn-requestid"]
    assert isinstance(err["stackTrace"], list) and any("app.py" in f for f in err["stackTrace"])
    msgs = logs_of(logs_client, name, "[ERROR] ValueError: bad input: x")
    assert any(m.startswith("[ERROR] ValueError: bad input: x") for m in msgs)
    # the environment survives a handler error
    assert invoke(lam, name, {})[3] is None


@pytest.mark.parametrize("files,handler,error_type", [
    ({"app.py": "import no_such_module\ndef handler(e, c): return 1\n"}, "app.handler",
     "Runtime.ImportModuleError"),
    ({"app.py": "def handler(e, c) return 1\n"}, "app.handler", "Runtime.UserCodeSyntaxError"),
    ({"app.py": "def other(e, c): return 1\n"}, "app.handler", "Runtime.HandlerNotFound"),
    ({"app.py": "raise RuntimeError('boom at import')\n"}, "app.handler", "RuntimeError"),
])
def test_python_init_errors_go_to_the_invoke(lam, make_managed, files, handler, error_type):
    name = make_managed(PY, handler, files, prefix="py-init")
    status, _, body, ferr = invoke(lam, name, {})
    assert (status, ferr) == (200, "Unhandled"), body
    assert json.loads(body)["errorType"] == error_type, body


def test_python_timeout(lam, make_managed):
    name = make_managed(PY, "pkg.sub.app.handler", PY_PKG, prefix="py-timeout", timeout=1)
    status, headers, body, ferr = invoke(lam, name, {"sleep": 3})
    assert (status, ferr) == (200, "Unhandled")
    err = json.loads(body)
    assert err["errorType"] == "Sandbox.Timedout"
    assert err["errorMessage"] == (f"RequestId: {headers['x-amzn-requestid']} Error: Task timed "
                                   "out after 1.00 seconds")
    # the next invocation starts a fresh environment (init again)
    assert json.loads(invoke(lam, name, {})[2])["inits"] == 1


def test_node_esm_handler_with_its_context(lam, logs_client, make_managed):
    name = make_managed(NODE, "src/index.handler", NODE_ESM, prefix="node-ctx", timeout=4)
    status, headers, body, ferr = invoke(lam, name, {})
    assert (status, ferr) == (200, None), body
    got = json.loads(body)
    assert got["name"] == name and got["version"] == "$LATEST" and got["memory"] == "128"
    assert got["requestId"] == headers["x-amzn-requestid"]
    assert 0 < got["remaining"] <= 4000
    assert got["group"] == f"/aws/lambda/{name}"
    rid = got["requestId"]
    msgs = logs_of(logs_client, name, f"logged by the handler {rid}")
    line = next(m for m in msgs if f"logged by the handler {rid}" in m)
    assert re.match(r"^\d{4}-\d{2}-\d{2}T[\d:.]+Z\t" + rid + r"\tINFO\tlogged by the handler", line)
    assert json.loads(invoke(lam, name, {})[2])["inits"] == 1


def test_node_errors_init_and_timeout(lam, make_managed):
    name = make_managed(NODE, "src/index.handler", NODE_ESM, prefix="node-err", timeout=1)
    status, headers, body, ferr = invoke(lam, name, {"throw": "y"})
    assert ferr == "Unhandled"
    err = json.loads(body)
    assert err["errorType"] == "TypeError" and err["errorMessage"] == "bad input: y"
    assert isinstance(err["trace"], list)
    status, headers, body, ferr = invoke(lam, name, {"sleep": 3})
    assert ferr == "Unhandled" and json.loads(body)["errorType"] == "Sandbox.Timedout"
    broken = make_managed(NODE, "index.handler", {"index.js": "exports.other = () => 1;\n"},
                          prefix="node-init")
    status, _, body, ferr = invoke(lam, broken, {})
    assert ferr == "Unhandled" and json.loads(body)["errorType"] == "Runtime.HandlerNotFound"
    missing = make_managed(NODE, "index.handler",
                           {"index.js": "require('no-such-package');\nexports.handler = () => 1;\n"},
                           prefix="node-init")
    status, _, body, ferr = invoke(lam, missing, {})
    assert ferr == "Unhandled" and json.loads(body)["errorType"] == "Runtime.ImportModuleError"


def test_node_commonjs_callback_handler(lam, make_managed):
    name = make_managed(NODE, "handler.run", NODE_CJS_CALLBACK, prefix="node-cb")
    assert json.loads(invoke(lam, name, {"n": 7})[2]) == {"via": "callback", "got": 7}


@pytest.fixture
def shared_layer(lam):
    """A layer with a Python module (python/) and a Node.js package (nodejs/node_modules/)."""
    name = unique_name("layer-shared")
    v = lam.publish_layer_version(
        LayerName=name, CompatibleRuntimes=[PY, NODE],
        Content={"ZipFile": zip_files({
            "python/greeting.py": "def hello(who):\n    return 'hello ' + who + ' from a layer'\n",
            "nodejs/node_modules/greeting/index.js":
                "exports.hello = (who) => 'hello ' + who + ' from a layer';\n",
        })})
    yield v["LayerVersionArn"]
    lam.delete_layer_version(LayerName=name, VersionNumber=v["Version"])


def test_a_layer_gives_each_runtime_a_module(lam, make_managed, shared_layer):
    py = make_managed(PY, "app.handler", {
        "app.py": "import greeting\ndef handler(e, c):\n    return greeting.hello(e['who'])\n"},
        prefix="py-layer", layers=[shared_layer])
    assert json.loads(invoke(lam, py, {"who": "python"})[2]) == "hello python from a layer"
    node = make_managed(NODE, "index.handler", {
        "index.js": "const g = require('greeting');\n"
                    "exports.handler = async (e) => g.hello(e.who);\n"},
        prefix="node-layer", layers=[shared_layer])
    assert json.loads(invoke(lam, node, {"who": "node"})[2]) == "hello node from a layer"
    conf = lam.get_function_configuration(FunctionName=py)
    assert [l["Arn"] for l in conf["Layers"]] == [shared_layer]


def test_a_runtime_the_machine_lacks_runs_on_the_nearest(lam, logs_client, make_managed):
    """python3.13 on a machine with Debian's 3.11: it runs, and the client says so."""
    name = make_managed("python3.13", "app.handler",
                        {"app.py": "import sys\ndef handler(e, c):\n"
                                   "    return '%d.%d' % sys.version_info[:2]\n"},
                        prefix="py-nearest")
    status, _, body, ferr = invoke(lam, name, {})
    assert ferr is None, body
    msgs = logs_of(logs_client, name, "HAAR_WARNING")
    assert any("the function's runtime is python3.13; it runs on Python" in m for m in msgs)


def test_the_aws_cli_creates_and_invokes_a_python_function(aws, tmp_path, lam):
    name = unique_name("py-cli")
    (tmp_path / "fn.zip").write_bytes(zip_files({
        "lambda_function.py": "def lambda_handler(event, context):\n"
                              "    return {'sum': event['a'] + event['b']}\n"}))
    out = aws.json("lambda", "create-function", "--function-name", name, "--runtime", PY,
                   "--handler", "lambda_function.lambda_handler", "--role", ROLE,
                   "--zip-file", f"fileb://{tmp_path / 'fn.zip'}")
    try:
        assert out["Runtime"] == PY and out["Handler"] == "lambda_function.lambda_handler"
        p = aws.run("lambda", "invoke", "--function-name", name, "--cli-binary-format",
                    "raw-in-base64-out", "--payload", '{"a": 2, "b": 3}',
                    str(tmp_path / "out.json"))
        assert p.returncode == 0, p.stderr
        assert json.loads((tmp_path / "out.json").read_text()) == {"sum": 5}
    finally:
        lam.delete_function(FunctionName=name)


def test_unsupported_runtime_is_refused(lam):
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.create_function(FunctionName=unique_name("java"), Runtime="java17", Role=ROLE,
                            Handler="x", Code={"ZipFile": zip_files({"a": "b"})})
    assert "is not supported by this endpoint" in client_error(e)[2]


def test_strict_runtimes_refuses_what_the_machine_lacks(tmp_path_factory):
    """emulator.strict_runtimes: a runtime whose interpreter the machine lacks is refused at
    CreateFunction, with a clear message; one it has is accepted."""
    from e2e_helpers import REPO, Daemon, boto_client
    work = tmp_path_factory.mktemp("strict")
    cfg = json.loads((REPO / "infra" / "envs" / "dev" / "terraform.tfvars.json").read_text())
    cfg.setdefault("emulator", {})["strict_runtimes"] = True
    (work / "config.json").write_text(json.dumps(cfg))
    d = Daemon(work, extra_args=("--config", str(work / "config.json")))
    try:
        d.wait_ready()
        lam = boto_client("lambda", d.aws_url)
        code = {"ZipFile": zip_files({"app.py": "def handler(e, c): return 1\n"})}
        with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
            lam.create_function(FunctionName="strict", Runtime="python3.13", Role=ROLE,
                                Handler="app.handler", Code=code)
        assert "python3.13 is not available on this machine" in client_error(e)[2]
        assert "strict_runtimes" in client_error(e)[2]
        lam.create_function(FunctionName="strict", Runtime=PY, Role=ROLE, Handler="app.handler",
                            Code=code)
        assert invoke(lam, "strict", {})[2] == b"1"
    finally:
        assert d.stop() == 0
