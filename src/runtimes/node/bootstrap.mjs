/**
 * haar's runtime client for the managed Node.js runtimes (nodejs18.x ... nodejs22.x).
 *
 * haar starts it as `node <runtimes>/node/bootstrap.mjs` inside a function's execution
 * environment. It behaves as AWS's Node.js runtime (aws-lambda-nodejs-runtime-interface-client)
 * does, on the machine's own node: it loads the handler named by _HANDLER once (CommonJS or
 * ES module, resolved as AWS resolves it), then loops on the Runtime API (GET next, call the
 * handler, POST the response or the error), with async handlers, callbacks and
 * context.callbackWaitsForEmptyEventLoop, and console output in AWS's format.
 * Node.js built-ins only; runs on Node.js 18 to 22.
 *
 * Environment it reads:
 *   AWS_LAMBDA_RUNTIME_API   host:port of the environment's Runtime API (required)
 *   _HANDLER                 the handler string, `file.export` or `dir/file.export.nested`
 *   LAMBDA_TASK_ROOT         the function's code directory (module root; also the cwd)
 *   HAAR_OPT_DIR             where the merged layers are (AWS's /opt); default /opt
 *   NODE_PATH                when unset, set as AWS sets it from HAAR_OPT_DIR
 *   LAMBDA_RUNTIME_DIR       added to NODE_PATH as AWS adds /var/runtime
 *   AWS_EXECUTION_ENV        AWS_Lambda_nodejsN.x: the runtime asked for (layer path, and a
 *                            warning when this node's major version differs)
 *   AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
 *   AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME    the context object's fields
 *   AWS_LAMBDA_LOG_FORMAT    TEXT (default) or JSON
 *   AWS_LAMBDA_LOG_LEVEL     TRACE, DEBUG, INFO, WARN, ERROR or FATAL (default TRACE: all)
 *   AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA  1 or true: no global `awslambda`
 *
 * Exit status: 129 after an init error or an uncaught exception (posted first), 128 after an
 * unhandled rejection, 1 when the Runtime API fails (a non-200 from /next, such as the 500
 * "container error", or a broken connection).
 */

import fs from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import util from 'node:util';

const require = createRequire(import.meta.url);

const API_PREFIX = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';

/* Shared with tools that instrument AWS's runtime (they look these symbols up). */
const BEFORE_EXIT = Symbol.for('aws.lambda.beforeExit');
const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';

/* ---- errors the runtime names itself ------------------------------------------------------ */

export class ImportModuleError extends Error {}
export class HandlerNotFound extends Error {}
export class MalformedHandlerName extends Error {}
export class UserCodeSyntaxError extends Error {}
export class MalformedStreamingHandler extends Error {}
export class InvalidStreamingOperation extends Error {}
export class NodeJsExit extends Error {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most ' +
        'commonly caused by a Promise that was never settled. For more information, see ' +
        'https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}
export class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
for (const E of [ImportModuleError, HandlerNotFound, MalformedHandlerName, UserCodeSyntaxError,
  MalformedStreamingHandler, InvalidStreamingOperation, NodeJsExit, UnhandledPromiseRejection]) {
  E.prototype.name = `Runtime.${E.name}`;
}

function isErrorLike(o) {
  return Boolean(o && typeof o.name === 'string' && o.name && typeof o.message === 'string' &&
    o.message && typeof o.stack === 'string' && o.stack);
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

/**
 * The error document AWS's Node.js runtime posts and returns to the caller:
 * {errorType, errorMessage, trace} (the stack split into lines), or, for a thrown value that
 * is not an error, its typeof and string with an empty trace.
 */
export function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name?.replaceAll('\x7F', '%7F'),
        errorMessage: error.message?.replaceAll('\x7F', '%7F'),
        trace: error.stack.replaceAll('\x7F', '%7F').split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while ' +
        'retrieving one or more of its message, name, and stack',
    };
  }
}

function withEnumerableProperties(v) {
  if (!(v instanceof Error)) return v;
  const ret = Object.assign({ errorType: v.name, errorMessage: v.message, code: v.code }, v);
  if (typeof v.stack === 'string') ret.stack = v.stack.split('\n');
  return ret;
}

/** An error as AWS's text logs show it: a tab, then JSON with its enumerable properties. */
export function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

/* ---- handler strings ---------------------------------------------------------------------- */

/**
 * Parses a handler string as AWS does: the directory part (up to the last `/`) is the module
 * root, the base name splits at its first dot into the module and the export path
 * (`dir/file.a.b` loads dir/file and takes exports.a.b). Returns {moduleRoot, module,
 * handlerPath}; throws Runtime.MalformedHandlerName for `..` or a base name without a dot.
 */
export function parseHandler(fullHandlerString) {
  if (fullHandlerString.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandlerString}' is not a valid handler name. Use absolute paths when ` +
        'specifying root directories in handler names.',
    );
  }
  const base = path.basename(fullHandlerString);
  const moduleRoot = fullHandlerString.substring(0, fullHandlerString.indexOf(base));
  const m = base.match(/^([^.]*)\.(.*)$/);
  if (!m) throw new MalformedHandlerName('Bad handler');
  return { moduleRoot, module: m[1], handlerPath: m[2] };
}

/** Whether the nearest package.json above `folder` (stopping at node_modules) says
 *  "type": "module". */
export function packageTypeIsModule(folder) {
  for (;;) {
    if (folder.endsWith('/node_modules')) return false;
    const pj = path.join(folder, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(pj));
        if (pkg) return pkg.type === 'module';
      } catch (e) {
        console.warn(`${pj} cannot be read, it will be ignored for ES module detection ` +
          'purposes.', e);
        return false;
      }
    }
    if (folder === '/') return false;
    folder = path.resolve(folder, '..');
  }
}

function requireIfExists(file) {
  return fs.existsSync(file) ? require(file) : undefined;
}

async function importIfExists(file) {
  return fs.existsSync(file) ? import(pathToFileURL(file).href) : undefined;
}

/**
 * Loads the user's module as AWS does: the path itself (CommonJS), then `.js` with require
 * unless the nearest package.json says "type": "module", then `.js` as an ES module in that
 * case, `.mjs`, `.cjs`, and finally Node's own resolution from the task root.
 */
async function loadModule(appRoot, moduleRoot, module) {
  const lambdaPath = path.resolve(appRoot, moduleRoot, module);
  const plain = requireIfExists(lambdaPath);
  if (plain) return plain;
  const isModule = packageTypeIsModule(path.resolve(path.dirname(lambdaPath)));
  if (!isModule) {
    const js = requireIfExists(lambdaPath + '.js');
    if (js) return js;
  }
  const loaded = (isModule && (await importIfExists(lambdaPath + '.js'))) ||
    (await importIfExists(lambdaPath + '.mjs')) ||
    requireIfExists(lambdaPath + '.cjs');
  if (loaded) return loaded;
  return require(require.resolve(module, { paths: [appRoot, moduleRoot] }));
}

/** Follows a dotted export path (`a.b`) into a module. */
export function resolveHandler(object, handlerPath) {
  return handlerPath.split('.').reduce((nested, key) => nested && nested[key], object);
}

/**
 * Loads and returns the handler function, or throws AWS's errors:
 * Runtime.MalformedHandlerName, Runtime.UserCodeSyntaxError, Runtime.ImportModuleError
 * (a CommonJS module not found) and Runtime.HandlerNotFound; any other error of the user's
 * module (an ES import that fails, an exception at load) is thrown as it is.
 */
export async function loadHandler(appRoot, fullHandlerString) {
  const { moduleRoot, module, handlerPath } = parseHandler(fullHandlerString);
  let app;
  try {
    app = await loadModule(appRoot, moduleRoot, module);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e && e.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(e);
    throw e;
  }
  const fn = resolveHandler(app, handlerPath);
  if (!fn) throw new HandlerNotFound(`${fullHandlerString} is undefined or not exported`);
  if (typeof fn !== 'function') throw new HandlerNotFound(`${fullHandlerString} is not a function`);
  return fn;
}

/* ---- where code is found ------------------------------------------------------------------ */

/** The major version of the runtime asked for through AWS_EXECUTION_ENV, or undefined. */
export function requestedMajor(env) {
  const m = /^AWS_Lambda_nodejs(\d+)\.x$/.exec(env.AWS_EXECUTION_ENV || '');
  return m ? Number(m[1]) : undefined;
}

/** NODE_PATH as AWS sets it, with the layers under HAAR_OPT_DIR (default /opt). */
export function defaultNodePath(env, runningMajor) {
  const opt = env.HAAR_OPT_DIR || '/opt';
  const major = requestedMajor(env) ?? runningMajor;
  const dirs = [`${opt}/nodejs/node${major}/node_modules`, `${opt}/nodejs/node_modules`];
  if (env.LAMBDA_RUNTIME_DIR) dirs.push(`${env.LAMBDA_RUNTIME_DIR}/node_modules`, env.LAMBDA_RUNTIME_DIR);
  if (env.LAMBDA_TASK_ROOT) dirs.push(env.LAMBDA_TASK_ROOT);
  return dirs.join(':');
}

function configurePaths(env) {
  if (env.NODE_PATH) return;
  env.NODE_PATH = defaultNodePath(env, Number(process.versions.node.split('.')[0]));
  const Module = require('node:module');
  if (typeof Module._initPaths === 'function') Module._initPaths(); // NODE_PATH is read at start
}

/* ---- logs --------------------------------------------------------------------------------- */

const LEVELS = Object.freeze({
  TRACE: { name: 'TRACE', priority: 1 },
  DEBUG: { name: 'DEBUG', priority: 2 },
  INFO: { name: 'INFO', priority: 3 },
  WARN: { name: 'WARN', priority: 4 },
  ERROR: { name: 'ERROR', priority: 5 },
  FATAL: { name: 'FATAL', priority: 6 },
});

function currentRequestId() {
  return globalThis[REQUEST_ID];
}

function setRequestId(id) {
  globalThis[REQUEST_ID] = id;
}

/** One text log line as AWS prints it: time, request id, level, message; LF inside → CR. */
export function formatTextLine(time, requestId, level, message, ...params) {
  const line = `${time}\t${requestId}\t${level}\t${util.format(message, ...params)}`;
  return line.replace(/\n/g, '\r') + '\n';
}

function jsonErrorReplacer(_k, value) {
  if (value instanceof Error) {
    return Object.assign({
      errorType: value?.constructor?.name ?? 'UnknownError',
      errorMessage: value.message,
      stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
    }, value);
  }
  return value;
}

/** One JSON log line as AWS prints it (AWS_LAMBDA_LOG_FORMAT=JSON). */
export function formatJsonLine(time, requestId, level, ...params) {
  const doc = { timestamp: time, level, requestId };
  let line;
  if (params.length === 1) {
    doc.message = params[0];
    try {
      line = JSON.stringify(doc, jsonErrorReplacer);
    } catch {
      doc.message = util.format(doc.message);
      line = JSON.stringify(doc);
    }
  } else {
    doc.message = util.format(...params);
    for (const p of params) {
      if (p instanceof Error) {
        doc.errorType = p?.constructor?.name ?? 'UnknownError';
        doc.errorMessage = p.message;
        doc.stackTrace = typeof p.stack === 'string' ? p.stack.split('\n') : [];
        break;
      }
    }
    line = JSON.stringify(doc);
  }
  return line.replace(/\n/g, '\r') + '\n';
}

/**
 * Replaces console.trace/debug/info/log/warn/error (and adds console.fatal) with writers of
 * AWS's log lines on stdout, filtered by AWS_LAMBDA_LOG_LEVEL. Returns logError(label, err),
 * the way the runtime logs an uncaught error.
 */
function patchConsole(env) {
  const json = env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';
  const format = json ? formatJsonLine : formatTextLine;
  const log = (level, message, ...params) => {
    process.stdout.write(format(new Date().toISOString(), currentRequestId(), level.name,
      message, ...params));
  };
  const min = LEVELS[env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase()] ?? LEVELS.TRACE;
  const nop = () => {};
  const writer = (level) => (level.priority >= min.priority
    ? (msg, ...params) => log(level, msg, ...params) : nop);
  console.trace = writer(LEVELS.TRACE);
  console.debug = writer(LEVELS.DEBUG);
  console.info = writer(LEVELS.INFO);
  console.log = console.info;
  console.warn = writer(LEVELS.WARN);
  console.error = writer(LEVELS.ERROR);
  console.fatal = (msg, ...params) => log(LEVELS.FATAL, msg, ...params);
  return json
    ? (_label, err) => console.error(intoError(err))
    : (label, err) => console.error(label, toFormatted(intoError(err)));
}

/* ---- the Runtime API ---------------------------------------------------------------------- */

class RuntimeApiError extends Error {}

/** A header value with characters HTTP does not allow percent-encoded. */
export function headerSafe(value) {
  return String(value).replace(/[^\x20-\x7E]/gu,
    (c) => Array.from(Buffer.from(c), (b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''));
}

/** Serialises a result as AWS does (undefined → null). */
export function serializeResponse(body) {
  try {
    return JSON.stringify(body === undefined ? null : body);
  } catch {
    throw new Error('Unable to stringify response body');
  }
}

const HEAD_MAX = 64 * 1024;

/** A complete chunked body in buf from pos: {body, end}, or null while bytes are missing. */
function parseChunked(buf, pos) {
  const parts = [];
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol < 0) return null;
    const size = parseInt(buf.toString('latin1', pos, eol).split(';')[0].trim(), 16);
    if (!Number.isInteger(size) || size < 0) throw new Error('bad chunk size');
    pos = eol + 2;
    if (size === 0) {
      for (;;) { // trailers, up to an empty line
        const e = buf.indexOf('\r\n', pos);
        if (e < 0) return null;
        const empty = e === pos;
        pos = e + 2;
        if (empty) return { body: Buffer.concat(parts), end: pos };
      }
    }
    if (buf.length < pos + size + 2) return null;
    parts.push(buf.subarray(pos, pos + size));
    pos += size + 2;
  }
}

/**
 * The Runtime API over one kept-alive HTTP/1.1 connection with a few lines of HTTP of its own
 * (node:http's client cost more per invocation than the rest of the runtime). A result whose
 * callback goes on to the next invocation goes out with GET /next pipelined behind it in the
 * same write; answers come in request order. The socket keeps the process alive only while an
 * answer is awaited (as an Agent's free socket does not), so an emptied event loop is still
 * seen. A request that finds the kept-alive connection closed before any byte of its answer
 * is sent once more on a new one.
 */
class RuntimeClient {
  constructor(hostPort) {
    const i = hostPort.lastIndexOf(':');
    const host = hostPort.slice(0, i);
    this.hostPort = hostPort;
    this.host = host.startsWith('[') ? host.slice(1, -1) : host;
    this.port = Number(hostPort.slice(i + 1));
    this.sock = null;
    this.buf = Buffer.alloc(0);
    this.waiting = []; // {resolve, reject}, in request order
    this.pendingNext = null; // the answer to a GET /next sent behind a result
    this.nextHead = this._head('GET', `${API_PREFIX}/invocation/next`, {}, -1);
  }

  _head(method, urlPath, headers, length) {
    let h = `${method} ${urlPath} HTTP/1.1\r\nHost: ${this.hostPort}\r\n`;
    for (const [k, v] of Object.entries(headers)) h += `${k}: ${v}\r\n`;
    if (length >= 0) h += `Content-Length: ${length}\r\n`;
    return Buffer.from(h + '\r\n', 'latin1');
  }

  _connect() {
    const sock = net.connect({ host: this.host, port: this.port });
    sock.setNoDelay(true);
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    sock.on('data', (d) => this._onData(sock, d));
    sock.on('error', (e) => this._onGone(sock, e));
    sock.on('close', () => this._onGone(sock, null));
  }

  /* The connection ended (err null: closed): every waiter fails; the first one learns whether
   * any byte of its answer had come (broken: an answer that could not be parsed). */
  _onGone(sock, err, broken = false) {
    if (sock !== this.sock) return;
    this.sock = null;
    const partial = broken || this.buf.length > 0;
    const waiting = this.waiting;
    this.waiting = [];
    waiting.forEach((w, i) => {
      const e = new Error(err ? err.message : 'the server closed the connection');
      e.beforeAnswer = i > 0 || !partial;
      w.reject(e);
    });
  }

  _onData(sock, d) {
    if (sock !== this.sock) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    try {
      while (this.waiting.length) {
        const answer = this._parse();
        if (answer === null) break;
        this.waiting.shift().resolve(answer);
        if (answer.close) {
          sock.destroy();
          this._onGone(sock, null);
          return;
        }
      }
      if (!this.waiting.length) sock.unref();
    } catch (e) {
      sock.destroy();
      this._onGone(sock, e, true);
    }
  }

  /** One complete answer from the buffer, or null while bytes are missing. */
  _parse() {
    const buf = this.buf;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buf.length > HEAD_MAX) throw new Error('answer head too long');
      return null;
    }
    const lines = buf.toString('latin1', 0, end).split('\r\n');
    const m = /^HTTP\/1\.(\d) (\d{3})/.exec(lines[0]);
    if (!m) throw new Error(`not an HTTP/1.x answer: ${lines[0].slice(0, 80)}`);
    const headers = {};
    for (const line of lines.slice(1)) {
      const c = line.indexOf(':');
      if (c <= 0) throw new Error(`malformed header line: ${line.slice(0, 80)}`);
      const name = line.slice(0, c).trim().toLowerCase();
      const value = line.slice(c + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const status = Number(m[2]);
    const start = end + 4;
    if (status < 200) { // an interim answer: the real one follows
      this.buf = buf.subarray(start);
      return this._parse();
    }
    let body;
    let next;
    if ((headers['transfer-encoding'] ?? '').toLowerCase() === 'chunked') {
      const c = parseChunked(buf, start);
      if (c === null) return null;
      ({ body, end: next } = c);
    } else if ('transfer-encoding' in headers) {
      throw new Error('unsupported transfer coding');
    } else {
      const length = headers['content-length'];
      if (length === undefined || !/^\d+$/.test(length)) {
        throw new Error('an answer without a usable Content-Length');
      }
      next = start + Number(length);
      if (buf.length < next) return null;
      body = Buffer.from(buf.subarray(start, next));
    }
    this.buf = buf.subarray(next);
    const conn = (headers.connection ?? '').toLowerCase();
    const close = conn.includes('close') || (m[1] === '0' && !conn.includes('keep-alive'));
    return { status, headers, body, close };
  }

  /* Sends the bytes; resolves with the answer (and, with thenNext, leaves the GET's in
   * pendingNext). One more try on a new connection when a reused one was already closed. */
  async _send(label, bytes, thenNext, retried = false) {
    const reused = this.sock !== null;
    if (!reused) this._connect();
    const sock = this.sock;
    const answer = new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (thenNext) {
      this.pendingNext = new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
      this.pendingNext.catch(() => {}); // awaited by next(), or dropped with the connection
    }
    sock.ref();
    sock.write(bytes);
    try {
      return await answer;
    } catch (e) {
      if (thenNext) this.pendingNext = null;
      if (e.beforeAnswer && reused && !retried) return this._send(label, bytes, thenNext, true);
      throw new RuntimeApiError(`${label}: ${e.message}`);
    }
  }

  _request(method, urlPath, body, headers, thenNext) {
    if (this.pendingNext !== null) { // an answer nobody read would be taken for this one's
      this.pendingNext = null;
      if (this.sock) this.sock.destroy();
      this._onGone(this.sock, null);
    }
    const head = this._head(method, urlPath, headers ?? {}, body ? body.length : -1);
    const parts = body ? [head, body] : [head];
    if (thenNext) parts.push(this.nextHead);
    return this._send(`${method} ${urlPath}`, Buffer.concat(parts), thenNext);
  }

  /** The next event: {body (string), headers (lowercase names)}; rejects unless 200. */
  async next() {
    let r = null;
    if (this.pendingNext !== null) {
      const pending = this.pendingNext;
      this.pendingNext = null;
      try {
        r = await pending;
      } catch (e) {
        if (!e.beforeAnswer) {
          throw new RuntimeApiError(`GET /runtime/invocation/next: ${e.message}`);
        }
      }
    }
    if (r === null) r = await this._request('GET', `${API_PREFIX}/invocation/next`);
    if (r.status !== 200) {
      throw new RuntimeApiError(`GET /runtime/invocation/next: ${r.status} ` +
        r.body.toString('utf8', 0, 200));
    }
    if (!r.headers['lambda-runtime-aws-request-id']) {
      throw new RuntimeApiError('GET /runtime/invocation/next: no request id');
    }
    return { body: r.body.toString('utf8'), headers: r.headers };
  }

  /* A POST whose answer (202, or 413 past the 6 MB limit, which ends the invocation with its
   * own error) is not ours to act on; a broken connection ends the environment. thenNext: the
   * callback goes on to the next invocation, so GET /next rides behind the POST. */
  _post(urlPath, body, headers, callback, thenNext) {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    this._request('POST', urlPath, buf, headers, thenNext === true).then(() => callback(), fatal);
  }

  postInvocationResponse(result, id, callback, thenNext) {
    this._post(`${API_PREFIX}/invocation/${encodeURIComponent(id)}/response`,
      serializeResponse(result), { 'Content-Type': 'application/json' }, callback, thenNext);
  }

  postStreamedResponse(body, contentType, id, callback, thenNext) {
    this._post(`${API_PREFIX}/invocation/${encodeURIComponent(id)}/response`, body,
      { 'Content-Type': contentType }, callback, thenNext);
  }

  _postError(urlPath, error, callback, thenNext) {
    const doc = toRapidResponse(error);
    this._post(urlPath, serializeResponse(doc), {
      'Content-Type': 'application/json',
      [ERROR_TYPE_HEADER]: headerSafe(doc.errorType ?? 'Runtime.Unknown'),
    }, callback, thenNext);
  }

  postInvocationError(error, id, callback, thenNext) {
    this._postError(`${API_PREFIX}/invocation/${encodeURIComponent(id)}/error`, error, callback,
      thenNext);
  }

  postInitError(error, callback) {
    this._postError(`${API_PREFIX}/init/error`, error, callback, false);
  }
}

function fatal(err) {
  process.stderr.write(`haar runtime: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
}

/* ---- the event loop's end ----------------------------------------------------------------- */

const beforeExit = {
  invoke: () => globalThis[BEFORE_EXIT](),
  reset: () => { globalThis[BEFORE_EXIT] = () => {}; },
  set: (listener) => { globalThis[BEFORE_EXIT] = listener; },
};

/* ---- the context object and callbacks ----------------------------------------------------- */

function parseJsonHeader(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

/** The context fields AWS's runtime takes from the environment and the event's headers. */
export function contextData(headers, env = process.env) {
  const deadline = headers['lambda-runtime-deadline-ms'];
  return {
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parseJsonHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
    identity: parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    tenantId: headers['lambda-runtime-aws-tenant-id'],
    getRemainingTimeInMillis: function () {
      return deadline - Date.now();
    },
  };
}

function forwardTraceId(headers) {
  const t = headers['lambda-runtime-trace-id'];
  if (t) process.env._X_AMZN_TRACE_ID = t;
  else delete process.env._X_AMZN_TRACE_ID;
}

/**
 * The handler's callback and the context's callback part (callbackWaitsForEmptyEventLoop,
 * succeed, fail, done), as AWS builds them: only the first call counts; callback(null, r)
 * waits for the event loop to empty unless callbackWaitsForEmptyEventLoop is false.
 * Returns [callback, callbackContext, markCompleted].
 */
function buildCallbackContext(client, id, scheduleNext, logError) {
  const postError = (err, cb) => {
    logError('Invoke Error', err);
    client.postInvocationError(err, id, cb, true);
  };
  let completed = false;
  const complete = (result, cb) => {
    if (completed) {
      console.error('Invocation has already been reported as done. Cannot call complete ' +
        'more than once per invocation.');
      return;
    }
    completed = true;
    client.postInvocationResponse(result, id, cb, true);
  };
  let waitForEmptyEventLoop = true;
  const callback = (err, result) => {
    beforeExit.reset();
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else if (!waitForEmptyEventLoop) {
      complete(result, scheduleNext);
    } else {
      beforeExit.set(() => setImmediate(() => complete(result, scheduleNext)));
    }
  };
  const done = (err, result) => {
    beforeExit.reset();
    if (err !== undefined && err !== null) postError(err, scheduleNext);
    else complete(result, scheduleNext);
  };
  const succeed = (result) => done(null, result);
  const fail = (err) => (err === undefined || err === null ? done('handled') : done(err, null));

  let finished = false;
  const once = (fn) => function () {
    if (!finished) {
      fn.apply(null, arguments);
      finished = true;
    }
  };
  const callbackContext = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed: once(succeed),
    fail: once(fail),
    done: once(done),
  };
  return [once(callback), callbackContext, () => { completed = true; }];
}

function isPromise(o) {
  return Boolean(o && o.then && typeof o.then === 'function');
}

/* ---- streaming handlers (awslambda.streamifyResponse), buffered -------------------------- */

const PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';

class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(PRELUDE_CONTENT_TYPE);
    const metadata = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(new Uint8Array(8));
    };
    return underlyingStream;
  }
}

function installGlobalAwsLambda(env) {
  const off = env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (off === '1' || off === 'true') return;
  globalThis.awslambda = {
    streamifyResponse: (handler, options) => {
      handler[HANDLER_STREAMING] = STREAM_RESPONSE;
      if (typeof options?.highWaterMark === 'number') {
        handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark);
      }
      return handler;
    },
    HttpResponseStream,
  };
}

function isStreaming(handler) {
  const mode = handler[HANDLER_STREAMING];
  if (mode === undefined || mode === null || mode === false) return false;
  if (mode === STREAM_RESPONSE) return true;
  throw new MalformedStreamingHandler('Only response streaming is supported.');
}

/** A response stream that keeps what is written; haar's Runtime API takes whole bodies. */
function bufferedResponseStream() {
  const chunks = [];
  let contentType = 'application/octet-stream';
  const stream = new Writable({
    write(chunk, encoding, cb) {
      if (stream._onBeforeFirstWrite) {
        const hook = stream._onBeforeFirstWrite;
        stream._onBeforeFirstWrite = undefined;
        hook((c) => chunks.push(Buffer.from(c)));
      }
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding));
      cb();
    },
  });
  stream.setContentType = (t) => { contentType = t; };
  return { stream, body: () => Buffer.concat(chunks), contentType: () => contentType };
}

/* ---- the loop ----------------------------------------------------------------------------- */

class Runtime {
  constructor(client, handler, logError, errorCallbacks) {
    this.client = client;
    this.handler = handler; // called as this.handler(): stacks show `Runtime.handler`, as on AWS
    this.logError = logError;
    this.errorCallbacks = errorCallbacks;
    this.isAsync = handler.constructor?.name === 'AsyncFunction';
    this.handleOnce = isStreaming(handler) ? this.handleOnceStreaming : this.handleOnceNonStreaming;
  }

  scheduleIteration() {
    setImmediate(() => {
      this.handleOnce().then(() => {}, (err) => {
        console.log(`Unexpected Top Level Error: ${err.toString()}`);
        this.errorCallbacks.uncaughtException(err);
      });
    });
  }

  async nextInvocation() {
    try {
      return await this.client.next();
    } catch (e) {
      return fatal(e);
    }
  }

  async handleOnceNonStreaming() {
    const { body, headers } = await this.nextInvocation();
    const id = headers['lambda-runtime-aws-request-id'];
    setRequestId(id);
    const [callback, callbackContext, markCompleted] =
      buildCallbackContext(this.client, id, () => this.scheduleIteration(), this.logError);
    try {
      this.setErrorCallbacks(id);
      this.setDefaultExitListener(id, markCompleted);
      const event = JSON.parse(body);
      forwardTraceId(headers);
      const context = Object.assign(callbackContext, contextData(headers));
      const result = this.handler(event, context, callback);
      if (isPromise(result)) {
        result.then(context.succeed, context.fail).catch(context.fail);
      }
    } catch (err) {
      callback(err);
    }
  }

  async handleOnceStreaming() {
    const { body, headers } = await this.nextInvocation();
    const id = headers['lambda-runtime-aws-request-id'];
    setRequestId(id);
    this.setErrorCallbacks(id);
    beforeExit.set(() => this.scheduleIteration());
    const out = bufferedResponseStream();
    const fail = (err) => {
      beforeExit.reset();
      this.logError('Invoke Error', err);
      this.client.postInvocationError(err, id, () => this.scheduleIteration(), true);
    };
    try {
      const event = JSON.parse(body);
      forwardTraceId(headers);
      const result = this.handler(event, out.stream, contextData(headers));
      if (!isPromise(result)) {
        fail(new InvalidStreamingOperation('Streaming does not support non-async handlers.'));
        return;
      }
      if ((await result) !== undefined) console.warn('Streaming handlers ignore return values.');
      if (!out.stream.writableEnded) {
        fail(new InvalidStreamingOperation('Response stream is not finished.'));
        return;
      }
      if (!out.stream.writableFinished) await new Promise((r) => out.stream.once('finish', r));
      beforeExit.reset();
      this.client.postStreamedResponse(out.body(), out.contentType(), id,
        () => this.scheduleIteration(), true);
    } catch (err) {
      fail(err);
    }
  }

  setErrorCallbacks(id) {
    this.errorCallbacks.uncaughtException = (error) => {
      this.client.postInvocationError(error, id, () => process.exit(129));
    };
    this.errorCallbacks.unhandledRejection = (error) => {
      this.client.postInvocationError(error, id, () => process.exit(128));
    };
  }

  /* The event loop emptied before the handler answered: a callback or sync handler succeeds
   * with null, an async one fails with Runtime.NodeJsExit (AWS's rule). */
  setDefaultExitListener(id, markCompleted) {
    beforeExit.set(() => {
      markCompleted();
      if (this.isAsync) {
        const err = new NodeJsExit();
        this.logError('Invoke Error', err);
        this.client.postInvocationError(err, id, () => this.scheduleIteration(), true);
      } else {
        this.client.postInvocationResponse(null, id, () => this.scheduleIteration(), true);
      }
    });
  }
}

function warnIfOtherNode(env) {
  const want = requestedMajor(env);
  const have = Number(process.versions.node.split('.')[0]);
  if (want !== undefined && want !== have) {
    process.stdout.write(`HAAR_WARNING: the function's runtime is nodejs${want}.x; it runs on ` +
      `Node.js ${process.version} (${process.execPath}), the nearest on this machine\n`);
  }
}

export async function main(env = process.env) {
  const logError = patchConsole(env);
  if (!env.AWS_LAMBDA_RUNTIME_API) fatal('AWS_LAMBDA_RUNTIME_API is not set');
  const appRoot = env.LAMBDA_TASK_ROOT || process.cwd();
  try {
    process.chdir(appRoot);
  } catch {
    /* AWS's task root always exists; keep the cwd haar gave */
  }
  configurePaths(env);
  warnIfOtherNode(env);
  const client = new RuntimeClient(env.AWS_LAMBDA_RUNTIME_API);

  const errorCallbacks = {
    uncaughtException: (error) => client.postInitError(error, () => process.exit(129)),
    unhandledRejection: (error) => client.postInitError(error, () => process.exit(128)),
  };
  process.on('uncaughtException', (error) => {
    logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    logError('Unhandled Promise Rejection', error);
    errorCallbacks.unhandledRejection(error);
  });
  beforeExit.reset();
  process.on('beforeExit', beforeExit.invoke);

  installGlobalAwsLambda(env);
  let handler;
  try {
    handler = await loadHandler(appRoot, env._HANDLER ?? '');
    new Runtime(client, handler, logError, errorCallbacks).scheduleIteration();
  } catch (e) {
    // AWS's runtime lets this escape its top-level await: it arrives as an uncaught exception
    logError('Uncaught Exception', e);
    errorCallbacks.uncaughtException(e);
  }
}

function isEntryPoint() {
  try {
    return fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) main();
