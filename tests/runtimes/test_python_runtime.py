"""haar's Python runtime client (src/runtimes/python/bootstrap.py, haar_lambda_runtime.py).

Unit tests of its parts (handler strings, marshalling, errors, logs, search path, context),
then end-to-end tests against the fake Runtime API: a real `python3 bootstrap.py` per test.
Run: /usr/bin/python3 -m pytest -q tests/runtimes/test_python_runtime.py
"""

import base64
import datetime
import decimal
import importlib.util
import json
import logging
import re
import time

import subprocess

import pytest

from fake_runtime_api import (PYTHON, PYTHON_RUNTIME, FakeRuntimeAPI, PipeliningRuntimeAPI,
                              start_python)

spec = importlib.util.spec_from_file_location("haar_lambda_runtime", PYTHON_RUNTIME)
bs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bs)



def on_runtime_python(code):
    """What `code` prints on the interpreter the runtime runs on (HAAR_TEST_PYTHON)."""
    return subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True,
                          timeout=30).stdout.strip()


RUNNING = on_runtime_python("import sys; print('python%d.%d' % sys.version_info[:2])")
NBSP = "\u00a0"
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


# ---- handler strings ---------------------------------------------------------------------------

PARSE_CASES = [
    # handler, (module as written, import name, function)
    ("lambda_function.lambda_handler", ("lambda_function", "lambda_function", "lambda_handler")),
    ("pkg/sub/mod.fn", ("pkg/sub/mod", "pkg.sub.mod", "fn")),
    ("pkg.sub.mod.fn", ("pkg.sub.mod", "pkg.sub.mod", "fn")),
    ("src/app.handler", ("src/app", "src.app", "handler")),
    ("a.b", ("a", "a", "b")),
    (".fn", ("", "", "fn")),
]


@pytest.mark.parametrize("handler,want", PARSE_CASES)
def test_parse_handler(handler, want):
    assert bs.parse_handler(handler) == bs.HandlerSpec(*want)


def unpack_error_text():
    """What Python says for `modname, fname = "x".rsplit(".", 1)`: AWS's message quotes it."""
    try:
        modname, fname = "x".rsplit(".", 1)
    except ValueError as e:
        return str(e)
    raise AssertionError


PARSE_ERRORS = [
    ("handler", "Runtime.MalformedHandlerName", "Bad handler 'handler': " + unpack_error_text()),
    ("", "Runtime.MalformedHandlerName", "Bad handler '': " + unpack_error_text()),
    ("sys.fn", "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys as a handler module"),
    ("builtins.x.fn", "Runtime.BuiltInModuleConflict",
     "Cannot use built-in module builtins.x as a handler module"),
]


@pytest.mark.parametrize("handler,error_type,message", PARSE_ERRORS)
def test_parse_handler_errors(handler, error_type, message):
    with pytest.raises(bs.FaultError) as e:
        bs.parse_handler(handler)
    assert (e.value.error_type, e.value.message) == (error_type, message)


# ---- events and results ------------------------------------------------------------------------

MARSHAL_CASES = [
    # runtime, result, body, content type
    ("python3.11", {"a": 1, "b": [True, None]}, b'{"a": 1, "b": [true, null]}', "application/json"),
    ("python3.11", None, b"null", "application/json"),
    ("python3.11", "hi", b'"hi"', "application/json"),
    ("python3.11", decimal.Decimal("1.5"), b"1.5", "application/json"),
    ("python3.11", {"pi": decimal.Decimal("3.14159")}, b'{"pi": 3.14159}', "application/json"),
    ("python3.11", {"n": decimal.Decimal("NaN")}, b'{"n": NaN}', "application/json"),
    ("python3.11", {"n": decimal.Decimal("-NaN")}, b'{"n": NaN}', "application/json"),
    ("python3.11", {"n": decimal.Decimal("7")}, b'{"n": 7.0}', "application/json"),
    ("python3.11", float("inf"), b"Infinity", "application/json"),
    ("python3.11", b"\x00raw", b"\x00raw", "application/unknown"),
    ("python3.11", {"price": "\u00a31.00"}, b'{"price": "\\u00a31.00"}', "application/json"),
    ("python3.12", {"price": "\u00a31.00"}, '{"price": "\u00a31.00"}'.encode(), "application/json"),
    ("python3.13", {"price": "\u00a31.00"}, '{"price": "\u00a31.00"}'.encode(), "application/json"),
    ("python3.9", {"price": "\u00a31.00"}, b'{"price": "\\u00a31.00"}', "application/json"),
]


@pytest.mark.parametrize("runtime,result,body,ctype", MARSHAL_CASES)
def test_marshal_response(runtime, result, body, ctype):
    enc = bs.make_encoder({"AWS_EXECUTION_ENV": "AWS_Lambda_" + runtime})
    assert bs.marshal_response(result, enc) == (body, ctype)


MARSHAL_ERRORS = [
    (datetime.datetime(2024, 1, 1), "Object of type datetime is not JSON serializable"),
    ({"when": datetime.date(2024, 1, 1)}, "Object of type date is not JSON serializable"),
    ({"b": b"bytes inside"}, "Object of type bytes is not JSON serializable"),
    ({1, 2}, "Object of type set is not JSON serializable"),
]


@pytest.mark.parametrize("result,why", MARSHAL_ERRORS)
def test_marshal_errors(result, why):
    with pytest.raises(bs.FaultError) as e:
        bs.marshal_response(result, bs.make_encoder({}))
    assert e.value.error_type == "Runtime.MarshalError"
    assert e.value.message == "Unable to marshal response: " + why
    assert e.value.trace is None


def test_unmarshal_event():
    assert bs.unmarshal_event(b'{"a": [1]}', "application/json") == {"a": [1]}
    assert bs.unmarshal_event(b"raw", "application/octet-stream") == b"raw"
    assert bs.unmarshal_event(b"raw", None) == b"raw"
    with pytest.raises(bs.FaultError) as e:
        bs.unmarshal_event(b"not json", "application/json")
    assert e.value.error_type == "Runtime.UnmarshalError"
    assert e.value.message == "Unable to unmarshal input: Expecting value: line 1 column 1 (char 0)"


def test_make_error_shape():
    assert bs.make_error("m", "T", None, "rid") == {
        "errorMessage": "m", "errorType": "T", "requestId": "rid", "stackTrace": []}
    assert bs.make_error(None, None, [], None) == {
        "errorMessage": "", "errorType": "", "requestId": "", "stackTrace": []}


def _raise_user_error():
    raise KeyError("missing")


def test_exception_error_formats_frames_without_column_markers():
    try:
        _raise_user_error()
    except KeyError as e:
        err = bs.exception_error(e, "rid-1")
    assert err["errorType"] == "KeyError"
    assert err["errorMessage"] == "'missing'"
    assert err["requestId"] == "rid-1"
    last = err["stackTrace"][-1]
    assert re.fullmatch(r'  File ".*test_python_runtime\.py", line \d+, in _raise_user_error\n'
                        r'    raise KeyError\("missing"\)\n', last)
    assert all("^" not in line for line in err["stackTrace"])


def test_error_log_text_format():
    err = bs.make_error("boom", "Exception",
                        ['  File "/var/task/f.py", line 3, in h\n    raise Exception("boom")\n'],
                        "rid")
    assert bs.format_error_log(err) == (
        "[ERROR] Exception: boom\rTraceback (most recent call last):\r"
        + NBSP * 2 + 'File "/var/task/f.py", line 3, in h\r'
        + NBSP * 4 + 'raise Exception("boom")\n')
    init = bs.make_error("Unable to import module 'x': No module named 'x'",
                         "Runtime.ImportModuleError", None)
    assert bs.format_error_log(init) == (
        "[ERROR] Runtime.ImportModuleError: Unable to import module 'x': No module named 'x'"
        "\rTraceback (most recent call last):\n")


def test_error_log_json_format():
    doc = json.loads(bs.format_error_log(bs.make_error("m", "T", [], "rid"), "JSON"))
    assert doc["level"] == "ERROR" and doc["errorType"] == "T" and doc["requestId"] == "rid"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", doc["timestamp"])


def test_text_log_record_format():
    logging.Formatter.converter = time.gmtime
    f = logging.Formatter(bs.TEXT_FORMAT, bs.DATE_FORMAT)
    r = logging.LogRecord("root", logging.WARNING, __file__, 1, "hello %s", ("x",), None)
    r.aws_request_id = "rid"
    assert re.fullmatch(r"\[WARNING\]\t" + ISO + r"\trid\thello x\n", f.format(r))


def test_write_log_keeps_a_record_on_one_line(capsys):
    bs.write_log("[INFO]\tt\trid\ta\nb\n")
    bs.write_log("no newline\nhere")
    assert capsys.readouterr().out == "[INFO]\tt\trid\ta\rb\nno newline\rhere\n"


def test_header_safe():
    assert bs.header_safe("Runtime.ImportModuleError") == "Runtime.ImportModuleError"
    assert bs.header_safe("Err\u00e9\r\n") == "Err%C3%A9%0D%0A"


def test_log_level_mapping():
    assert bs.log_level({}) == ""
    assert bs.log_level({"AWS_LAMBDA_LOG_LEVEL": "TRACE"}) == "DEBUG"
    assert bs.log_level({"AWS_LAMBDA_LOG_LEVEL": "info"}) == "INFO"


# ---- search path -----------------------------------------------------------------------------

SEARCH_PATH_CASES = [
    ({"LAMBDA_TASK_ROOT": "/var/task"}, (3, 11),
     ["/var/task", "/opt/python/lib/python3.11/site-packages", "/opt/python"]),
    ({"LAMBDA_TASK_ROOT": "/t", "HAAR_OPT_DIR": "/layers", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"},
     (3, 11),
     ["/t", "/layers/python/lib/python3.12/site-packages",
      "/layers/python/lib/python3.11/site-packages", "/layers/python"]),
    ({"LAMBDA_TASK_ROOT": "/t", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11"}, (3, 11),
     ["/t", "/opt/python/lib/python3.11/site-packages", "/opt/python"]),
    ({"LAMBDA_TASK_ROOT": "/t", "PYTHONPATH": "/mine"}, (3, 11), ["/t"]),
]


@pytest.mark.parametrize("env,running,want", SEARCH_PATH_CASES)
def test_search_path(env, running, want):
    assert bs.search_path(env, running) == want


def test_requested_version():
    assert bs.requested_version({"AWS_EXECUTION_ENV": "AWS_Lambda_python3.13"}) == (3, 13)
    assert bs.requested_version({"AWS_EXECUTION_ENV": "AWS_Lambda_nodejs20.x"}) is None
    assert bs.requested_version({}) is None


# ---- the context object ------------------------------------------------------------------------

ENV = {"AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
       "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
       "AWS_LAMBDA_LOG_STREAM_NAME": "s"}


def test_context_fields():
    cc = json.dumps({"custom": {"k": "v"}, "env": {"platform": "x"},
                     "client": {"installation_id": "i", "app_title": "t"}})
    ident = json.dumps({"cognitoIdentityId": "id", "cognitoIdentityPoolId": "pool"})
    deadline = int(time.time() * 1000) + 5000
    c = bs.LambdaContext("rid", cc, ident, deadline, "arn:x", None, ENV)
    assert (c.aws_request_id, c.function_name, c.memory_limit_in_mb, c.function_version,
            c.log_group_name, c.log_stream_name, c.invoked_function_arn) == (
        "rid", "fn", "256", "$LATEST", "/aws/lambda/fn", "s", "arn:x")
    assert c.client_context.custom == {"k": "v"} and c.client_context.env == {"platform": "x"}
    assert c.client_context.client.installation_id == "i"
    assert c.client_context.client.app_package_name is None
    assert (c.identity.cognito_identity_id, c.identity.cognito_identity_pool_id) == ("id", "pool")
    assert 4000 < c.get_remaining_time_in_millis() <= 5000


def test_context_without_client_context_and_past_deadline():
    c = bs.LambdaContext("rid", None, None, int(time.time() * 1000) - 10, "arn", None, ENV)
    assert c.client_context is None
    assert c.identity.cognito_identity_id is None and c.identity.cognito_identity_pool_id is None
    assert c.get_remaining_time_in_millis() == 0


def test_context_bad_client_context():
    with pytest.raises(bs.FaultError) as e:
        bs.LambdaContext("rid", "{not json", None, 0, "arn", None, ENV)
    assert e.value.error_type == "Runtime.LambdaContextUnmarshalError"
    assert e.value.message.startswith("Unable to parse Client Context JSON: Expecting property name")


# ---- end to end ----------------------------------------------------------------------------------

HELLO = """
import logging, os, sys
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    return {"event": event, "count": COUNT}
"""


def start(running, api, task, handler, runtime=RUNNING, extra=None):
    return running(start_python(api, task, handler, runtime, extra))


def test_hello_init_once(api, function, running):
    p = start(running, api, function({"lambda_function.py": HELLO}), "lambda_function.handler")
    for i in range(1, 4):
        r = api.invoke({"i": i})
        assert r.kind == "response", (r, p.stderr)
        assert r.json == {"event": {"i": i}, "count": i}
        assert r.headers["content-type"] == "application/json"
    assert not p.stderr


@pytest.mark.parametrize("handler", ["pkg/sub/mod.handler", "pkg.sub.mod.handler"])
def test_handler_in_package(api, function, running, handler):
    task = function({"pkg/__init__.py": "", "pkg/sub/__init__.py": "",
                     "pkg/sub/mod.py": "from pkg import helper\n"
                                       "def handler(e, c): return helper.NAME\n",
                     "pkg/helper.py": "NAME = 'helped'\n"})
    start(running, api, task, handler)
    assert api.invoke({}).json == "helped"


def test_handler_in_namespace_directory(api, function, running):
    start(running, api, function({"src/app.py": "def h(e, c): return 'ns'\n"}), "src/app.h")
    assert api.invoke({}).json == "ns"


def expect_init_error(api, p, error_type, message, stack_trace=None):
    r = api.wait_init_error()
    assert r is not None, (p.output(), p.stderr)
    assert p.wait() == 1
    body = r.json
    assert body["errorType"] == error_type
    assert body["errorMessage"] == message
    assert body["requestId"] == ""
    if stack_trace is not None:
        assert body["stackTrace"] == stack_trace
    assert r.error_type_header == error_type
    out = p.output()
    assert "[WARNING]\t" in out and "LAMBDA_WARNING: Unhandled exception." in out
    assert "[ERROR] %s: %s\rTraceback (most recent call last):" % (error_type, message) in out
    return body


def test_init_error_missing_module(api, function, running):
    p = start(running, api, function({"other.py": ""}), "nope.handler")
    expect_init_error(api, p, "Runtime.ImportModuleError",
                      "Unable to import module 'nope': No module named 'nope'", [])


def test_init_error_missing_dependency(api, function, running):
    p = start(running, api, function({"lambda_function.py": "import requests_haar_absent\n"}),
              "lambda_function.handler")
    expect_init_error(api, p, "Runtime.ImportModuleError",
                      "Unable to import module 'lambda_function': "
                      "No module named 'requests_haar_absent'", [])


def test_init_error_missing_function(api, function, running):
    p = start(running, api, function({"lambda_function.py": HELLO}), "lambda_function.nothere")
    expect_init_error(api, p, "Runtime.HandlerNotFound",
                      "Handler 'nothere' missing on module 'lambda_function'", [])


def test_init_error_syntax(api, function, running):
    task = function({"lambda_function.py": "def handler(e, c):\n    return (\n"})
    p = start(running, api, task, "lambda_function.handler")
    r = api.wait_init_error()
    assert r is not None and p.wait() == 1
    body = r.json
    assert body["errorType"] == "Runtime.UserCodeSyntaxError"
    why = on_runtime_python("try:\n"
                            "    compile('def handler(e, c):\\n    return (\\n', "
                            "'lambda_function.py', 'exec')\n"
                            "except SyntaxError as e:\n"
                            "    print(e)\n")
    assert body["errorMessage"] == "Syntax error in module 'lambda_function': " + why
    assert len(body["stackTrace"]) == 1
    assert body["stackTrace"][0].startswith('  File "%s/lambda_function.py" Line ' % task)


def test_init_error_malformed_handler(api, function, running):
    p = start(running, api, function({"lambda_function.py": HELLO}), "lambda_function")
    expect_init_error(api, p, "Runtime.MalformedHandlerName",
                      "Bad handler 'lambda_function': " + unpack_error_text(), [])


def test_init_error_exception_at_import(api, function, running):
    task = function({"lambda_function.py": "raise ValueError('bad config')\n"})
    p = start(running, api, task, "lambda_function.handler")
    body = expect_init_error(api, p, "ValueError", "bad config")
    assert body["stackTrace"][-1] == (
        '  File "%s/lambda_function.py", line 1, in <module>\n'
        "    raise ValueError('bad config')\n" % task)
    assert not any(f in t for f in bs.RUNTIME_FILES for t in body["stackTrace"])


def test_handler_error(api, function, running):
    task = function({"lambda_function.py": "def handler(e, c):\n    raise Exception('boom')\n"})
    p = start(running, api, task, "lambda_function.handler")
    rid = api.submit({})
    r = api.result(rid)
    assert r.kind == "error"
    assert r.json == {
        "errorMessage": "boom", "errorType": "Exception", "requestId": rid,
        "stackTrace": ['  File "%s/lambda_function.py", line 2, in handler\n'
                       "    raise Exception('boom')\n" % task]}
    assert r.error_type_header == "Exception"
    assert api.invoke({}).kind == "error"  # the environment goes on
    assert ("[ERROR] Exception: boom\rTraceback (most recent call last):\r"
            + NBSP * 2 + 'File "%s/lambda_function.py", line 2, in handler\r' % task
            + NBSP * 4 + "raise Exception('boom')\n") in p.output()


def test_handler_error_custom_class(api, function, running):
    task = function({"lambda_function.py": "class PaymentDeclined(Exception): pass\n"
                                           "def handler(e, c): raise PaymentDeclined()\n"})
    start(running, api, task, "lambda_function.handler")
    r = api.invoke({})
    assert (r.json["errorType"], r.json["errorMessage"]) == ("PaymentDeclined", "")
    assert r.error_type_header == "PaymentDeclined"


CONTEXT_FN = """
import json, os
def handler(event, context):
    cc = context.client_context
    return {
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "group": context.log_group_name,
        "stream": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "custom": cc.custom if cc else None,
        "cc_env": cc.env if cc else None,
        "installation": cc.client.installation_id if cc and cc.client else None,
        "identity": [context.identity.cognito_identity_id,
                     context.identity.cognito_identity_pool_id],
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "cwd": os.getcwd(),
        "path0": __import__("sys").path[0],
    }
"""


def test_context_values(api, function, running):
    task = function({"lambda_function.py": CONTEXT_FN})
    start(running, api, task, "lambda_function.handler")
    cc = {"custom": {"tenant": "t1"}, "env": {"locale": "en"}, "client": {"installation_id": "inst"}}
    deadline = int(time.time() * 1000) + 7000
    rid = api.submit({}, deadline_ms=deadline, client_context=json.dumps(cc),
                     identity=json.dumps({"cognitoIdentityId": "cid",
                                          "cognitoIdentityPoolId": "pool"}),
                     arn="arn:aws:lambda:us-east-1:000000000000:function:fn:live",
                     trace_id="Root=1-abc;Parent=def;Sampled=1")
    got = api.result(rid).json
    assert 5000 < got.pop("remaining") <= 7000
    assert got == {
        "request_id": rid, "function_name": "fn", "function_version": "$LATEST",
        "arn": "arn:aws:lambda:us-east-1:000000000000:function:fn:live", "memory": "128",
        "group": "/aws/lambda/fn",
        "stream": "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
        "custom": {"tenant": "t1"}, "cc_env": {"locale": "en"}, "installation": "inst",
        "identity": ["cid", "pool"], "trace": "Root=1-abc;Parent=def;Sampled=1",
        "cwd": str(task), "path0": str(task)}
    second = api.invoke({}, trace_id="Root=1-second")
    assert second.json["trace"] == "Root=1-second" and second.json["custom"] is None


def test_bad_client_context_fails_the_invocation(api, function, running):
    start(running, api, function({"lambda_function.py": HELLO}), "lambda_function.handler")
    rid = api.submit({}, client_context="{oops")
    body = api.result(rid).json
    assert body["errorType"] == "Runtime.LambdaContextUnmarshalError"
    assert body["requestId"] == rid and body["stackTrace"] == []


LOGGING_FN = """
import logging
logger = logging.getLogger()
def handler(event, context):
    print("plain print")
    logger.info("info hidden unless the level says so")
    logger.warning("warned %s", event["n"])
    logger.error("two\\nlines")
    try:
        {}["k"]
    except KeyError:
        logger.exception("caught")
    print("after")
    return "ok"
"""


def test_logging_format(api, function, running):
    p = start(running, api, function({"lambda_function.py": LOGGING_FN}), "lambda_function.handler")
    rid = api.submit({"n": 7})
    assert api.result(rid).json == "ok"
    api.wait_next(2)
    lines = p.wait_stdout(lambda lines: "after\n" in lines)  # the handler's last line
    assert "plain print\n" in lines
    assert not any("info hidden" in line for line in lines)
    assert any(re.fullmatch(r"\[WARNING\]\t" + ISO + r"\t" + rid + r"\twarned 7\n", line)
               for line in lines), lines
    assert any(re.fullmatch(r"\[ERROR\]\t" + ISO + r"\t" + rid + r"\ttwo\rlines\n", line)
               for line in lines), lines
    # logger.exception: the message, then the traceback, all in one line (one event)
    assert any(re.fullmatch(r"\[ERROR\]\t" + ISO + r"\t" + rid + r"\tcaught\rTraceback "
                            r"\(most recent call last\):\r.*\rKeyError: 'k'\n", line)
               for line in lines), lines
    assert "after\n" in lines


def test_logging_level_from_env(api, function, running):
    p = start(running, api, function({"lambda_function.py": LOGGING_FN}), "lambda_function.handler",
              extra={"AWS_LAMBDA_LOG_LEVEL": "INFO"})
    api.invoke({"n": 1})
    api.wait_next(2)
    assert any("[INFO]\t" in line and "info hidden" in line
               for line in p.wait_stdout(lambda lines: any("info hidden" in x for x in lines)))


def test_logging_json_format(api, function, running):
    p = start(running, api, function({"lambda_function.py": LOGGING_FN}), "lambda_function.handler",
              extra={"AWS_LAMBDA_LOG_FORMAT": "JSON"})
    rid = api.submit({"n": 2})
    api.result(rid)
    api.wait_next(2)
    lines = p.wait_stdout(lambda lines: any("warned 2" in x for x in lines))
    docs = [json.loads(line) for line in lines if line.startswith("{")]
    warned = [d for d in docs if d["message"] == "warned 2"][0]
    assert warned["level"] == "WARNING" and warned["requestId"] == rid
    assert warned["logger"] == "root" and re.fullmatch(ISO, warned["timestamp"])


def test_logging_loaded_only_when_used(api, function, running):
    """The root logger is set up at the first `import logging`: a function that never logs
    does not pay for it; one that imports a submodule first still gets AWS's format."""
    task = function({
        "quiet.py": "import sys\ndef handler(e, c): return 'logging' in sys.modules\n",
        "loud.py": "import logging.handlers\n"
                   "def handler(e, c):\n"
                   "    logging.getLogger('lib').warning('from a library logger')\n"
                   "    return [type(h).__name__ for h in logging.getLogger().handlers]\n"})
    start(running, api, task, "quiet.handler")
    assert api.invoke({}).json is False
    with FakeRuntimeAPI() as api2:
        p = start(running, api2, task, "loud.handler")
        rid = api2.submit({})
        assert api2.result(rid).json == ["LambdaHandler"]
        api2.wait_next(2)
        p.stop()
    assert any(re.fullmatch(r"\[WARNING\]\t" + ISO + r"\t" + rid + r"\tfrom a library logger\n",
                            line) for line in p.stdout), p.stdout


MARSHAL_FN = """
import datetime, decimal
def handler(event, context):
    kind = event["kind"]
    if kind == "decimal":
        return {"price": decimal.Decimal("19.99"), "qty": decimal.Decimal("3")}
    if kind == "bytes":
        return b"\\x01\\x02raw"
    if kind == "date":
        return {"when": datetime.datetime(2024, 1, 1)}
    if kind == "big":
        return "x" * 6291556
    if kind == "unicode":
        return {"price": "\\u00a31.00"}
    return None
"""


def test_marshalling_end_to_end(api, function, running):
    start(running, api, function({"lambda_function.py": MARSHAL_FN}), "lambda_function.handler",
          runtime="python3.11")  # escapes non-ASCII characters, as AWS before python3.12
    assert api.invoke({"kind": "decimal"}).body == b'{"price": 19.99, "qty": 3.0}'
    r = api.invoke({"kind": "bytes"})
    assert (r.body, r.headers["content-type"]) == (b"\x01\x02raw", "application/unknown")
    rid = api.submit({"kind": "date"})
    assert api.result(rid).json == {
        "errorMessage": "Unable to marshal response: Object of type datetime is not JSON "
                        "serializable",
        "errorType": "Runtime.MarshalError", "requestId": rid, "stackTrace": []}
    assert api.invoke({"kind": "none"}).body == b"null"
    assert api.invoke({"kind": "unicode"}).body == b'{"price": "\\u00a31.00"}'
    # over 6 MB: the server refuses it (413) and ends the invocation; the client goes on
    big = api.invoke({"kind": "big"})
    assert big.json["errorType"] == "Function.ResponseSizeTooLarge"
    assert api.invoke({"kind": "none"}).body == b"null"


def test_python312_writes_unicode(api, function, running):
    start(running, api, function({"lambda_function.py": MARSHAL_FN}), "lambda_function.handler",
          runtime="python3.12")
    assert api.invoke({"kind": "unicode"}).body == '{"price": "\u00a31.00"}'.encode()


def test_event_that_is_not_json(api, function, running):
    start(running, api, function({"lambda_function.py": HELLO}), "lambda_function.handler")
    rid = api.submit(b"not json")
    body = api.result(rid).json
    assert body["errorType"] == "Runtime.UnmarshalError"
    assert body["errorMessage"] == "Unable to unmarshal input: Expecting value: line 1 column 1 " \
                                   "(char 0)"


def test_layer_modules_from_opt_dir(api, function, running):
    v = RUNNING[len("python"):]
    task = function({"lambda_function.py": "import layermod, sitemod\n"
                                           "def handler(e, c): return [layermod.X, sitemod.Y]\n"},
                    opt={"python/layermod.py": "X = 'from /opt/python'\n",
                         "python/lib/python%s/site-packages/sitemod.py" % v: "Y = 'site'\n"})
    start(running, api, task, "lambda_function.handler")
    assert api.invoke({}).json == ["from /opt/python", "site"]


def test_task_root_shadows_layers(api, function, running):
    task = function({"lambda_function.py": "import dup\ndef handler(e, c): return dup.WHO\n",
                     "dup.py": "WHO = 'task'\n"}, opt={"python/dup.py": "WHO = 'layer'\n"})
    start(running, api, task, "lambda_function.handler")
    assert api.invoke({}).json == "task"


def test_container_error_exits_nonzero(api, function, running):
    p = start(running, api, function({"lambda_function.py": HELLO}), "lambda_function.handler")
    assert api.invoke({}).kind == "response"
    api.fail_next(500)
    assert p.wait() == 1
    assert "500" in "".join(p.stderr)


def test_timeout_is_left_to_the_server(api, function, running):
    task = function({"lambda_function.py": "import time\n"
                                           "def handler(e, c):\n"
                                           "    time.sleep(0.3)\n"
                                           "    return c.get_remaining_time_in_millis()\n"})
    p = start(running, api, task, "lambda_function.handler")
    r = api.invoke({}, deadline_ms=int(time.time() * 1000) + 100)
    assert r.kind == "response" and r.json == 0  # past its deadline, still answered
    assert p.proc.poll() is None


def test_sys_exit_in_handler_ends_the_process(api, function, running):
    task = function({"lambda_function.py": "import sys\ndef handler(e, c): sys.exit(3)\n"})
    p = start(running, api, task, "lambda_function.handler")
    rid = api.submit({})
    assert p.wait() == 3
    assert api.result(rid, wait=0.5) is None  # the server reports Runtime.ExitError


def test_warning_when_interpreter_differs(api, function, running):
    other = "python3.13" if RUNNING != "python3.13" else "python3.12"
    p = start(running, api, function({"lambda_function.py": HELLO}), "lambda_function.handler",
              runtime=other)
    api.invoke({})
    assert any(line.startswith("HAAR_WARNING: the function's runtime is %s; it runs on Python "
                               % other)
               for line in p.wait_stdout(lambda lines: any("HAAR_WARNING" in x for x in lines)))


def test_no_warning_when_interpreter_matches(api, function, running):
    p = start(running, api, function({"lambda_function.py": HELLO}), "lambda_function.handler")
    api.invoke({})
    assert not any("HAAR_WARNING" in line for line in p.stdout)


def test_one_connection_kept_alive(api, function, running):
    start(running, api, function({"lambda_function.py": HELLO}), "lambda_function.handler")
    for _ in range(3):
        api.invoke({})
    api.wait_next(4)
    assert all(h.get("connection", "").lower() != "close" for _, _, h in api.requests)


def test_client_pipelines_next_behind_the_result():
    """GET /next goes out in the same write as the result; the 202 is read with the next
    event (a late one too), a shorter answer then a hang-up leads to a new connection."""
    server = PipeliningRuntimeAPI()
    client = bs.RuntimeClient(server.address)
    try:
        assert client.next().request_id == "p-1"
        client.post_response("p-1", b'{"n":1}', "application/json")
        assert client._mark == len(PipeliningRuntimeAPI.ACCEPTED)
        assert client.next().request_id == "p-2"
        client.post_response("p-2", b"{}", "application/json")
        assert client.next().request_id == "p-3"
        # the learned mark set for the read after p-2's result (its short 202), then back to
        # 1 for the pending GET's read that found the hang-up; the new connection starts at 1
        assert client.lowat_sets == 2
        client._request("POST", bs.API_PREFIX + "/invocation/p-3/response", b"{}")
        assert client.lowat_sets == 2
    finally:
        client.close()
        got = server.finish()
    assert len(got) == 5, got
    assert got[1].startswith(b"POST /2018-06-01/runtime/invocation/p-1/response HTTP/1.1\r\n")
    assert b'\r\n\r\n{"n":1}GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n' in got[1]
    assert got[3].startswith(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n")


def test_client_context_from_base64_invoke_header(api, function, running):
    """Invoke's X-Amz-Client-Context is base64; the runtime gets it decoded."""
    raw = base64.b64encode(json.dumps({"custom": {"a": 1}}).encode()).decode()
    start(running, api, function({"lambda_function.py": CONTEXT_FN}), "lambda_function.handler")
    got = api.invoke({}, client_context=base64.b64decode(raw).decode()).json
    assert got["custom"] == {"a": 1}
