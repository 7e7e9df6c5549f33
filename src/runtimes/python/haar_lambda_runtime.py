"""haar's runtime client for the managed Python runtimes (python3.9 ... python3.13).

haar starts it as `python3 <runtimes>/python/bootstrap.py` (which loads this file) inside a
function's execution environment. It behaves as AWS's Python runtime (awslambdaric) does, on the machine's own
interpreter: it imports the handler named by _HANDLER once, then loops on the Runtime API
(GET next, call the handler, POST the response or the error), printing logs and errors in
AWS's formats. Python standard library only; runs on Python 3.9 to 3.13.

Environment it reads:
  AWS_LAMBDA_RUNTIME_API   host:port of the environment's Runtime API (required)
  _HANDLER                 the handler string, `module.function` or `pkg/mod.function`
  LAMBDA_TASK_ROOT         the function's code directory: first on sys.path, and the cwd
  HAAR_OPT_DIR             where the merged layers are (AWS's /opt); default /opt
  PYTHONPATH               when set, the layer directories are not added (as AWS does)
  LAMBDA_RUNTIME_DIR       becomes PYTHONPATH for child processes when PYTHONPATH is unset
  AWS_EXECUTION_ENV        AWS_Lambda_python3.N: the runtime asked for (JSON escaping,
                           layer site-packages, a warning when this interpreter differs)
  AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME    the context object's fields
  AWS_LAMBDA_LOG_FORMAT    TEXT (default) or JSON
  AWS_LAMBDA_LOG_LEVEL     when set, the root logger's level (TRACE means DEBUG)

Exit status: 1 after an init error (posted to /runtime/init/error first), 1 when the Runtime
API fails (a non-200 from /next, such as the 500 "container error", or a broken connection).
"""

import json
import os
import sys
import time

API_PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
THIS_FILE = os.path.abspath(__file__)
# Frames of these files are the runtime's, not the function's: error stack traces skip them.
RUNTIME_FILES = (THIS_FILE, os.path.join(os.path.dirname(THIS_FILE), "bootstrap.py"))

# What AWS's runtime logs before an init error (awslambdaric lambda_literals.py).
UNHANDLED_EXCEPTION_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function "
    "code. However, in rare cases, a Lambda runtime update can cause unexpected function "
    "behavior. For functions using managed runtimes, runtime updates can be triggered by a "
    "function change, or can be applied automatically. To determine if the runtime has been "
    "updated, check the runtime version in the INIT_START log entry. If this error correlates "
    "with a change in the runtime version, you may be able to mitigate this error by "
    "temporarily rolling back to the previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"
)


class FaultError(Exception):
    """A failure the runtime names itself: AWS's errorType, message and stack trace."""

    MARSHAL = "Runtime.MarshalError"
    UNMARSHAL = "Runtime.UnmarshalError"
    SYNTAX = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER = "Runtime.MalformedHandlerName"
    CONTEXT_UNMARSHAL = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


class RuntimeApiError(Exception):
    """The Runtime API failed: the environment cannot go on."""


# ---- handler strings ------------------------------------------------------------------------


class HandlerSpec:
    """A parsed handler string: the module as written, the name to import, the attribute."""

    __slots__ = ("module", "import_name", "function")

    def __init__(self, module, import_name, function):
        self.module = module
        self.import_name = import_name
        self.function = function

    def __eq__(self, other):
        return isinstance(other, HandlerSpec) and (
            (self.module, self.import_name, self.function)
            == (other.module, other.import_name, other.function))

    def __repr__(self):
        return "HandlerSpec(%r, %r, %r)" % (self.module, self.import_name, self.function)


def parse_handler(handler):
    """Parses a handler string as AWS does: the text after the last dot names the function,
    the text before it the module, where `/` and `.` both separate packages
    (`pkg/sub/mod.fn` and `pkg.sub.mod.fn` import `pkg.sub.mod`). Returns a HandlerSpec;
    raises FaultError (Runtime.MalformedHandlerName without a dot,
    Runtime.BuiltInModuleConflict for a module compiled into the interpreter)."""
    module, dot, function = handler.rpartition(".")
    if not dot:
        # AWS reports the ValueError of `modname, fname = handler.rsplit(".", 1)`
        raise FaultError(FaultError.MALFORMED_HANDLER,
                         "Bad handler '%s': not enough values to unpack (expected 2, got 1)"
                         % handler)
    if module.split(".")[0] in sys.builtin_module_names:
        raise FaultError(FaultError.BUILT_IN_MODULE_CONFLICT,
                         "Cannot use built-in module %s as a handler module" % module)
    return HandlerSpec(module, module.replace("/", "."), function)


def load_handler(spec):
    """Imports the module of a HandlerSpec and returns its handler attribute. Raises
    FaultError with AWS's texts for a module that cannot be imported, a syntax error in the
    user's code and a missing attribute; other exceptions of the module's import propagate."""
    import importlib

    try:
        module = importlib.import_module(spec.import_name)
    except ImportError as e:
        raise FaultError(FaultError.IMPORT_MODULE,
                         "Unable to import module '%s': %s" % (spec.module, e)) from None
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultError(FaultError.SYNTAX,
                         "Syntax error in module '%s': %s" % (spec.module, e), trace) from None
    try:
        return getattr(module, spec.function)
    except AttributeError:
        raise FaultError(FaultError.HANDLER_NOT_FOUND,
                         "Handler '%s' missing on module '%s'" % (spec.function, spec.module)
                         ) from None


# ---- where code is found ----------------------------------------------------------------------


def requested_version(env):
    """The (major, minor) of the runtime asked for through AWS_EXECUTION_ENV, or None."""
    value = env.get("AWS_EXECUTION_ENV", "")
    prefix = "AWS_Lambda_python"
    if not value.startswith(prefix):
        return None
    major, dot, minor = value[len(prefix):].partition(".")
    if not (dot and major.isdigit() and minor.isdigit()):
        return None
    return int(major), int(minor)


def search_path(env, running):
    """The directories AWS's Python runtime puts first on sys.path, in order: the task root,
    then (unless PYTHONPATH is set) the layers' python/lib/python3.N/site-packages and
    python under HAAR_OPT_DIR (default /opt). `running` is this interpreter's (major, minor);
    the site-packages of the requested runtime come first when it differs."""
    paths = []
    task_root = env.get("LAMBDA_TASK_ROOT")
    if task_root:
        paths.append(task_root)
    if "PYTHONPATH" not in env:
        opt = env.get("HAAR_OPT_DIR") or "/opt"
        versions = [requested_version(env), running]
        for v in versions:
            if v is not None:
                p = "%s/python/lib/python%d.%d/site-packages" % (opt, v[0], v[1])
                if p not in paths:
                    paths.append(p)
        paths.append(opt + "/python")
    return paths


def configure_paths(env):
    """Puts search_path() first on sys.path (AWS: /var/task, /opt/python/lib/.../site-packages,
    /opt/python), processes their .pth files, drops this file's own directory, and gives
    child processes PYTHONPATH=LAMBDA_RUNTIME_DIR as AWS does."""
    import site

    own = os.path.dirname(THIS_FILE)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != own]
    paths = search_path(env, sys.version_info[:2])
    sys.path[0:0] = paths
    for p in paths:
        site.addsitedir(p)
    if "PYTHONPATH" not in env and env.get("LAMBDA_RUNTIME_DIR"):
        env["PYTHONPATH"] = env["LAMBDA_RUNTIME_DIR"]


# ---- the context object --------------------------------------------------------------------


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __repr__(self):
        return "CognitoIdentity([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.cognito_identity_id, self.cognito_identity_pool_id)


class Client:
    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code",
                 "app_package_name")

    def __repr__(self):
        return ("Client([installation_id=%s,app_title=%s,app_version_name=%s,"
                "app_version_code=%s,app_package_name=%s])" % tuple(
                    getattr(self, f) for f in self.__slots__))


class ClientContext:
    __slots__ = ("custom", "env", "client")

    def __repr__(self):
        return "ClientContext([custom=%s,env=%s,client=%s])" % (self.custom, self.env,
                                                                self.client)


def _from_dict(cls, d):
    """An instance of a slotted class with each slot taken from the dict (None when absent)."""
    if d is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, d.get(field) if isinstance(d, dict) else None)
    return obj


def _parse_json_header(value, name):
    try:
        return json.loads(value)
    except Exception as e:
        raise FaultError(FaultError.CONTEXT_UNMARSHAL,
                         "Unable to parse %s JSON: %s" % (name, e)) from None


class LambdaContext:
    """The handler's second argument, with the attributes AWS's Python runtime gives it
    (memory_limit_in_mb is a string there too: it is read from the environment)."""

    def __init__(self, request_id, client_context_json, identity_json, deadline_ms,
                 invoked_function_arn, tenant_id=None, env=os.environ):
        self.aws_request_id = request_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        cc = _parse_json_header(client_context_json, "Client Context") \
            if client_context_json else None
        self.client_context = _from_dict(ClientContext, cc)
        if self.client_context is not None:
            self.client_context.client = _from_dict(Client, self.client_context.client)
        self.identity = _from_dict(CognitoIdentity, {})
        if identity_json:
            ident = _parse_json_header(identity_json, "Cognito Identity")
            if isinstance(ident, dict):
                self.identity.cognito_identity_id = ident.get("cognitoIdentityId")
                self.identity.cognito_identity_pool_id = ident.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        left = self._deadline_ms - int(time.time() * 1000)
        return left if left > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return ("LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,"
                "function_name=%s,memory_limit_in_mb=%s,function_version=%s,"
                "invoked_function_arn=%s,client_context=%s,identity=%s,tenant_id=%s])" % (
                    self.aws_request_id, self.log_group_name, self.log_stream_name,
                    self.function_name, self.memory_limit_in_mb, self.function_version,
                    self.invoked_function_arn, self.client_context, self.identity,
                    self.tenant_id))


# ---- events and results ----------------------------------------------------------------------


class _Encoder(json.JSONEncoder):
    """json as AWS's runtime configures it: NaN allowed, Decimal written as a number."""

    def default(self, o):
        decimal = sys.modules.get("decimal")  # no Decimal can exist before it is imported
        if decimal is not None and isinstance(o, decimal.Decimal):
            return float("nan") if o.is_nan() else float(o)
        return super().default(o)


def make_encoder(env):
    """AWS escapes non-ASCII characters in responses except on python3.12 and later."""
    v = requested_version(env)
    return _Encoder(ensure_ascii=not (v is not None and v >= (3, 12)), allow_nan=True)


def marshal_response(result, encoder):
    """Returns (body bytes, content type) for a handler's result: bytes as they are
    (application/unknown), anything else as JSON; raises FaultError Runtime.MarshalError
    with AWS's message when the result cannot be serialised."""
    if isinstance(result, bytes):
        return result, "application/unknown"
    try:
        return encoder.encode(result).encode("utf-8"), "application/json"
    except Exception as e:
        raise FaultError(FaultError.MARSHAL, "Unable to marshal response: %s" % e) from None


def unmarshal_event(body, content_type):
    """The event a handler gets: the parsed JSON when the event is application/json, else
    the raw bytes (as AWS); raises FaultError Runtime.UnmarshalError for invalid JSON."""
    if content_type != "application/json":
        return body
    try:
        return json.loads(body)
    except Exception as e:
        raise FaultError(FaultError.UNMARSHAL, "Unable to unmarshal input: %s" % e) from None


def make_error(message, error_type, stack_trace, request_id=None):
    """The error document AWS's Python runtime posts and returns to the caller."""
    return {
        "errorMessage": message if message else "",
        "errorType": error_type if error_type else "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def exception_error(exc, request_id=None):
    """make_error() for an exception raised by user code: errorType is the class name,
    stackTrace the frames below the runtime, each formatted as traceback.format_list does
    for plain (file, line, function, text) tuples (no column markers, as on AWS)."""
    import traceback

    frames = [(f.filename, f.lineno, f.name, f.line)
              for f in traceback.extract_tb(exc.__traceback__)]
    first = 0
    while first < len(frames) and frames[first][0] in RUNTIME_FILES:
        first += 1
    if first < len(frames):
        frames = frames[first:]
    return make_error(str(exc), type(exc).__name__, traceback.format_list(frames), request_id)


def fault_error(fault, request_id=None):
    return make_error(fault.message, fault.error_type, fault.trace, request_id)


def header_safe(value):
    """A header value with characters HTTP does not allow percent-encoded."""
    if value.isascii() and value.isprintable():
        return value
    return "".join(c if " " <= c <= "~" else "".join("%%%02X" % b for b in c.encode("utf-8"))
                   for c in value)


# ---- logs ---------------------------------------------------------------------------------

TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
NBSP = "\u00a0"

# The log fields of a LogRecord that are not user extras (AWS's JSON formatter).
_RESERVED_RECORD_FIELDS = frozenset((
    "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module",
    "exc_info", "exc_text", "stack_info", "lineno", "funcName", "created", "msecs",
    "relativeCreated", "thread", "threadName", "processName", "process", "aws_request_id",
    "tenant_id", "taskName"))

_request = {"id": None, "tenant": None}


def write_log(text):
    """Writes one log record to stdout as one line: line breaks inside it become CR, as AWS's
    runtimes do on stdout, so the record stays one CloudWatch event (haar splits events at
    LF). A record without a final newline (logging appends a traceback after it) gets one."""
    if text.endswith("\n"):
        text = text[:-1]
    sys.stdout.write(text.replace("\n", "\r") + "\n")


class _Unbuffered:
    """A stream wrapper flushing after every write, as AWS's runtime wraps stdout/stderr."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, s):
        n = self._stream.write(s)
        self._stream.flush()
        return n

    def writelines(self, lines):
        self._stream.writelines(lines)
        self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def log_format(env):
    return "JSON" if env.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON" else "TEXT"


def log_level(env):
    """AWS_LAMBDA_LOG_LEVEL as AWS maps it to a logging level name ("" when unset)."""
    v = env.get("AWS_LAMBDA_LOG_LEVEL")
    return {None: "", "TRACE": "DEBUG"}.get(v, v).upper()


def json_formatter_class(logging):
    """AWS's JSON log format (AWS_LAMBDA_LOG_FORMAT=JSON) as a logging.Formatter class."""

    class JsonFormatter(logging.Formatter):
        def formatTime(self, record, datefmt=None):
            t = time.gmtime(record.created)
            return "%s.%03dZ" % (time.strftime(DATE_FORMAT, t), int(record.msecs))

        def format(self, record):
            import traceback

            level = min(50, max(0, record.levelno)) // 10 * 10
            record.levelno = level
            record.levelname = logging.getLevelName(level)
            exc = record.exc_info
            doc = {
                "timestamp": self.formatTime(record),
                "level": record.levelname,
                "message": record.getMessage(),
                "logger": record.name,
                "stackTrace": traceback.format_tb(exc[2]) if exc else None,
                "errorType": exc[0].__name__ if exc else None,
                "errorMessage": str(exc[1]) if exc else None,
                "requestId": getattr(record, "aws_request_id", None),
                "location": "%s:%s:%s" % (record.pathname, record.funcName, record.lineno)
                if exc else None,
            }
            if getattr(record, "tenant_id", None) is not None:
                doc["tenantId"] = record.tenant_id
            for k, v in record.__dict__.items():
                if k not in _RESERVED_RECORD_FIELDS and k not in doc:
                    doc[k] = v
            doc = {k: v for k, v in doc.items() if v is not None}
            return json.dumps(doc, ensure_ascii=False, default=str) + "\n"

    return JsonFormatter


def setup_logging(logging, env):
    """Sets up the root logger of the `logging` module as AWS's runtime does: one handler
    writing to stdout in AWS's format with the request id, UTC times; the level only when
    AWS_LAMBDA_LOG_LEVEL is set (otherwise Python's default, WARNING)."""

    class RequestIdFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _request["id"] or ""
            record.tenant_id = _request["tenant"]
            return True

    class LambdaHandler(logging.Handler):
        def emit(self, record):
            try:
                write_log(self.format(record))
            except Exception:
                self.handleError(record)

    logging.Formatter.converter = time.gmtime
    handler = LambdaHandler()
    if log_format(env) == "JSON":
        handler.setFormatter(json_formatter_class(logging)())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT, DATE_FORMAT))
    level = log_level(env)
    root = logging.getLogger()
    if level in logging._nameToLevel:
        root.setLevel(level)
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)


class _ConfigureAfterLoad:
    """A module loader that runs the real one, then setup_logging() on the module."""

    def __init__(self, loader, env):
        self._loader = loader
        self._env = env

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        setup_logging(module, self._env)

    def __getattr__(self, name):  # get_source, get_filename... for tracebacks and inspect
        return getattr(self._loader, name)


class LoggingOnImport:
    """A meta path finder that sets up the root logger at the first `import logging`, by the
    function, a library or the runtime's own init-error report. No code can log before it,
    so this is what AWS's runtime does (set it up before loading the function) without the
    ~9 ms that importing logging (threading, traceback...) adds to a cold start whose
    function never logs."""

    def __init__(self, env):
        self._env = env

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        sys.meta_path.remove(self)
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find else None
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _ConfigureAfterLoad(spec.loader, self._env)
                return spec
        return None


def arrange_logging(env):
    """The root logger set up now if logging is loaded, else at its first import."""
    if "logging" in sys.modules:
        setup_logging(sys.modules["logging"], env)
    else:
        sys.meta_path.insert(0, LoggingOnImport(env))


def _indent_nbsp(line):
    stripped = line.lstrip(" ")
    return NBSP * (len(line) - len(stripped)) + stripped


def format_error_log(error, fmt="TEXT"):
    """The log record AWS's runtime writes for an uncaught error: `[ERROR] Type: message`,
    then the traceback with leading spaces as NO-BREAK SPACEs, lines joined by CR; or one
    JSON document in the JSON format. Ends with a newline."""
    if fmt == "JSON":
        doc = {"timestamp": time.strftime(DATE_FORMAT, time.gmtime()), "level": "ERROR"}
        doc.update(error)
        return json.dumps(doc, cls=_Encoder) + "\n"
    head = "[ERROR]"
    if error.get("errorType"):
        head += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            head += ":"
        head += " " + error["errorMessage"]
    lines = [head]
    trace = error.get("stackTrace")
    if trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in trace:
            if element == "":
                lines.append("")
            else:
                lines.extend(_indent_nbsp(t) for t in element.splitlines())
    return "\r".join(lines) + "\n"


# ---- the Runtime API ----------------------------------------------------------------------


class Invocation:
    __slots__ = ("request_id", "deadline_ms", "function_arn", "trace_id", "client_context",
                 "identity", "tenant_id", "content_type", "body")


class _Closed(Exception):
    """The server closed the connection before the first byte of an answer."""


class _Answer:
    __slots__ = ("status", "headers", "body", "close")

    def getheader(self, name):
        return self.headers.get(name.lower())


class RuntimeClient:
    """The Runtime API over one kept-alive HTTP/1.1 connection, reopened once when the server
    has closed an idle one. Its own few lines of HTTP rather than http.client, whose header
    parsing (email.parser) cost more than the rest of the client's work per invocation and
    whose import a cold start paid for. As the C runtime does, a result goes out with GET
    /next pipelined behind it, and the answer to the result (a 202) is read together with the
    next event: the first read after a result waits (SO_RCVLOWAT) for one byte more than the
    last 2xx answer to a result took, so the process wakes once per invocation; an error's
    bigger answer and a closed connection still wake it at once. Every other read has the mark
    at 1; the mark is set only when it changes, so going from event to event it stays set.
    Not thread-safe."""

    _READ = 65536
    _HEAD_MAX = 65536

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self._host = address
        self._addr = (host[1:-1] if host.startswith("[") else host, int(port))
        self._sock = None
        self._buf = bytearray()  # bytes read past the last answer
        self._received = 0  # bytes read from this connection
        self._pending = False  # a GET /next sent behind the last request awaits its answer
        self._mark = 0  # bytes the last 2xx answer to a result took (0: none yet)
        self._lowat = 1  # the socket's receive mark as last set
        self.lowat_sets = 0  # setsockopt calls made for it (tests count them)
        self._next_head = self._head("GET", API_PREFIX + "/invocation/next", None, {})

    def close(self):
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._buf = bytearray()
        self._pending = False
        self._mark = 0

    def _connect(self):
        import socket
        self._sock = socket.create_connection(self._addr)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._received = 0
        self._lowat = 1

    def _head(self, method, path, body, headers):
        lines = ["%s %s HTTP/1.1\r\nHost: %s\r\n" % (method, path, self._host)]
        for name, value in headers.items():
            lines.append("%s: %s\r\n" % (name, value))
        if body is not None or method == "POST":
            lines.append("Content-Length: %d\r\n" % len(body or b""))
        lines.append("\r\n")
        return "".join(lines).encode("latin-1")

    def _fill(self, lowat=0):
        """Reads more bytes; lowat > 1 makes this one read wait for that many."""
        sock = self._sock
        lowat = lowat if lowat > 1 else 1
        if lowat != self._lowat:
            import socket
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, lowat)
            self._lowat = lowat
            self.lowat_sets += 1
        data = sock.recv(self._READ)
        self._received += len(data)
        self._buf += data
        return len(data)

    def _line(self):
        buf = self._buf
        while True:
            end = buf.find(b"\r\n")
            if end >= 0:
                line = bytes(buf[:end])
                del buf[:end + 2]
                return line
            if len(buf) > self._HEAD_MAX or not self._fill():
                raise OSError("broken chunked answer")

    def _exactly(self, n):
        while len(self._buf) < n:
            if not self._fill():
                raise OSError("the answer ended early")
        body = bytes(self._buf[:n])
        del self._buf[:n]
        return body

    def _answer(self, lowat=0):
        """Reads one answer. _Closed when the connection ended before its first byte."""
        buf = self._buf
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > self._HEAD_MAX:
                    raise OSError("answer head too long")
                if not self._fill(lowat):
                    if buf:
                        raise OSError("the answer ended early")
                    raise _Closed()
                lowat = 0
                continue
            lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
            del buf[:end + 4]
            version, _, rest = lines[0].partition(" ")
            code = rest[:3]
            if not version.startswith("HTTP/1.") or not code.isdigit():
                raise OSError("not an HTTP/1.x answer: %r" % lines[0][:80])
            ans = _Answer()
            ans.status = int(code)
            ans.headers = headers = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if not sep:
                    raise OSError("malformed header line: %r" % line[:80])
                name = name.strip().lower()
                value = value.strip()
                headers[name] = headers[name] + ", " + value if name in headers else value
            if ans.status >= 200:  # 1xx: an interim answer, the real one follows
                break
        conn = headers.get("connection", "").lower()
        ans.close = "close" in conn or (version == "HTTP/1.0" and "keep-alive" not in conn)
        length = headers.get("content-length")
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = self._line().split(b";", 1)[0].strip()
                n = int(size, 16)
                if n == 0:
                    while self._line():  # trailers
                        pass
                    break
                parts.append(self._exactly(n))
                self._exactly(2)
            ans.body = b"".join(parts)
        elif "transfer-encoding" in headers:
            raise OSError("unsupported transfer coding")
        elif length is not None:
            if not length.isdigit():
                raise OSError("bad Content-Length %r" % length[:40])
            ans.body = self._exactly(int(length))
        else:  # the body runs to the connection's end
            while self._fill():
                pass
            ans.body = bytes(buf)
            del buf[:]
            ans.close = True
        return ans

    def _request(self, method, path, body=None, headers=None, then_next=False):
        """Sends one request (with GET /next behind it when then_next) and reads its answer."""
        data = self._head(method, path, body, headers or {}) + (body or b"")
        if then_next:
            data += self._next_head
        if self._pending:  # an answer nobody read would be taken for this one's
            self.close()
        for attempt in (0, 1):
            reused = self._sock is not None
            try:
                if not reused:
                    self._connect()
                self._sock.sendall(data)
                at = self._received - len(self._buf)
                ans = self._answer(self._mark + 1 if then_next and self._mark else 0)
            except (OSError, ValueError, _Closed) as e:
                self.close()
                if attempt or not reused or not isinstance(e, (_Closed, ConnectionError)):
                    raise RuntimeApiError("%s %s: %s" % (
                        method, path, str(e) or "the server closed the connection")) from None
                continue
            if then_next:
                took = self._received - len(self._buf) - at
                self._mark = took if 200 <= ans.status < 300 else 0
            if ans.close:
                self.close()
            else:
                self._pending = then_next
            return ans
        raise AssertionError("unreachable")

    def _next_answer(self):
        """The answer to GET /next: the one sent behind the last result, or a new one."""
        if self._pending:
            self._pending = False
            try:
                ans = self._answer()
            except _Closed:
                self.close()
            except (OSError, ValueError) as e:
                self.close()
                raise RuntimeApiError("GET /runtime/invocation/next: %s" % e) from None
            else:
                if ans.close:
                    self.close()
                return ans
        return self._request("GET", API_PREFIX + "/invocation/next")

    def next(self):
        """Blocks for the next event; raises RuntimeApiError unless the answer is 200."""
        resp = self._next_answer()
        body = resp.body
        if resp.status != 200:
            raise RuntimeApiError("GET /runtime/invocation/next: %d %s" % (
                resp.status, body[:200].decode("utf-8", "replace")))
        inv = Invocation()
        h = resp.getheader
        inv.request_id = h("Lambda-Runtime-Aws-Request-Id")
        if not inv.request_id:
            raise RuntimeApiError("GET /runtime/invocation/next: no request id")
        try:
            inv.deadline_ms = int(h("Lambda-Runtime-Deadline-Ms") or 0)
        except ValueError:
            inv.deadline_ms = 0
        inv.function_arn = h("Lambda-Runtime-Invoked-Function-Arn")
        inv.trace_id = h("Lambda-Runtime-Trace-Id") or None
        inv.client_context = h("Lambda-Runtime-Client-Context") or None
        inv.identity = h("Lambda-Runtime-Cognito-Identity") or None
        inv.tenant_id = h("Lambda-Runtime-Aws-Tenant-Id") or None
        inv.content_type = h("Content-Type") or None
        inv.body = body
        return inv

    def post_response(self, request_id, body, content_type):
        """Posts a result; the server's answer (202, or 413 past the 6 MB limit, which ends
        the invocation with its own error) is not ours to act on."""
        self._request("POST", "%s/invocation/%s/response" % (API_PREFIX, request_id), body,
                      {"Content-Type": content_type}, then_next=True)

    def post_error(self, path, error, then_next=False):
        body = json.dumps(error, cls=_Encoder).encode("utf-8")
        self._request("POST", API_PREFIX + path, body, {
            "Content-Type": "application/json",  # as AWS's clients send errors
            ERROR_TYPE_HEADER: header_safe(error.get("errorType") or "Runtime.Unknown"),
        }, then_next)

    def post_invocation_error(self, request_id, error):
        self.post_error("/invocation/%s/error" % request_id, error, then_next=True)

    def post_init_error(self, error):
        self.post_error("/init/error", error)


# ---- the loop -------------------------------------------------------------------------------


def set_trace_id(trace_id):
    if trace_id is not None:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)


def handle(client, handler, inv, encoder, fmt):
    """One invocation: context, event, handler, result, then the one POST it needs."""
    error = None
    try:
        context = LambdaContext(inv.request_id, inv.client_context, inv.identity,
                                inv.deadline_ms, inv.function_arn, inv.tenant_id)
        event = unmarshal_event(inv.body, inv.content_type)
        body, content_type = marshal_response(handler(event, context), encoder)
    except FaultError as e:
        error = fault_error(e, inv.request_id)
    except Exception as e:
        error = exception_error(e, inv.request_id)
    if error is None:
        client.post_response(inv.request_id, body, content_type)
    else:
        write_log(format_error_log(error, fmt))
        client.post_invocation_error(inv.request_id, error)


def warn_if_other_interpreter(env):
    want = requested_version(env)
    have = sys.version_info[:2]
    if want is not None and want != have:
        write_log("HAAR_WARNING: the function's runtime is python%d.%d; it runs on Python %s "
                  "(%s), the nearest interpreter on this machine\n"
                  % (want[0], want[1], sys.version.split()[0], sys.executable))


def fail(message):
    sys.stdout.flush()
    sys.stderr.write("haar runtime: %s\n" % message)
    sys.stderr.flush()
    os._exit(1)


def main():
    env = os.environ
    address = env.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        fail("AWS_LAMBDA_RUNTIME_API is not set")
    task_root = env.get("LAMBDA_TASK_ROOT")
    if task_root and os.path.isdir(task_root):
        os.chdir(task_root)
    configure_paths(env)
    sys.stdout = _Unbuffered(sys.stdout)
    sys.stderr = _Unbuffered(sys.stderr)
    arrange_logging(env)
    fmt = log_format(env)
    warn_if_other_interpreter(env)
    client = RuntimeClient(address)

    error = None
    try:
        handler = load_handler(parse_handler(env.get("_HANDLER", "")))
    except FaultError as e:
        error = fault_error(e)
    except Exception as e:
        error = exception_error(e)
    if error is not None:
        import logging  # sets up the root logger if nothing has imported it yet

        logging.warning(UNHANDLED_EXCEPTION_WARNING)
        write_log(format_error_log(error, fmt))
        try:
            client.post_init_error(error)
        except RuntimeApiError as e:
            fail(str(e))
        sys.exit(1)  # as AWS's runtime: atexit handlers the module registered still run

    encoder = make_encoder(env)
    try:
        while True:
            inv = client.next()
            _request["id"] = inv.request_id
            _request["tenant"] = inv.tenant_id
            set_trace_id(inv.trace_id)
            handle(client, handler, inv, encoder, fmt)
    except RuntimeApiError as e:
        fail(str(e))

