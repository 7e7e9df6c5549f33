/**
 * Unit tests of haar's Node.js runtime client (src/runtimes/node/bootstrap.mjs): handler
 * strings, module-type detection, error documents, log lines, NODE_PATH, context fields.
 * The end-to-end tests are in test_node_integration.py (against the fake Runtime API).
 * Run: node --test tests/runtimes/test_node_runtime.mjs
 */

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const rt = await import(path.join(here, '..', '..', 'src', 'runtimes', 'node', 'bootstrap.mjs'));

const PARSE_CASES = [
  // handler, {moduleRoot, module, handlerPath}
  ['index.handler', ['', 'index', 'handler']],
  ['app.lambdaHandler', ['', 'app', 'lambdaHandler']],
  ['src/handlers/user.create', ['src/handlers/', 'user', 'create']],
  ['index.handlers.nested.fn', ['', 'index', 'handlers.nested.fn']],
  ['dir/file.export', ['dir/', 'file', 'export']],
  ['/abs/dir/file.h', ['/abs/dir/', 'file', 'h']],
  ['file.', ['', 'file', '']],
];

for (const [handler, [moduleRoot, module, handlerPath]] of PARSE_CASES) {
  test(`parseHandler(${handler})`, () => {
    assert.deepEqual(rt.parseHandler(handler), { moduleRoot, module, handlerPath });
  });
}

const PARSE_ERRORS = [
  ['index', 'Bad handler'],
  ['dir/index', 'Bad handler'],
  ['', 'Bad handler'],
  ['../index.handler', "'../index.handler' is not a valid handler name. Use absolute paths " +
    'when specifying root directories in handler names.'],
];

for (const [handler, message] of PARSE_ERRORS) {
  test(`parseHandler(${JSON.stringify(handler)}) throws Runtime.MalformedHandlerName`, () => {
    assert.throws(() => rt.parseHandler(handler),
      (e) => e.name === 'Runtime.MalformedHandlerName' && e.message === message &&
        e.stack.startsWith(`Runtime.MalformedHandlerName: ${message}`));
  });
}

test('resolveHandler follows dotted export paths', () => {
  const fn = () => 1;
  assert.equal(rt.resolveHandler({ a: { b: fn } }, 'a.b'), fn);
  assert.equal(rt.resolveHandler({ a: {} }, 'a.b.c'), undefined);
  assert.equal(rt.resolveHandler({ handler: fn }, 'handler'), fn);
});

test('runtime error classes carry AWS names', () => {
  const cases = [
    [rt.ImportModuleError, 'Runtime.ImportModuleError'],
    [rt.HandlerNotFound, 'Runtime.HandlerNotFound'],
    [rt.MalformedHandlerName, 'Runtime.MalformedHandlerName'],
    [rt.UserCodeSyntaxError, 'Runtime.UserCodeSyntaxError'],
    [rt.NodeJsExit, 'Runtime.NodeJsExit'],
    [rt.UnhandledPromiseRejection, 'Runtime.UnhandledPromiseRejection'],
  ];
  for (const [E, name] of cases) assert.equal(new E('x').name, name);
  const wrapped = new rt.ImportModuleError(new Error("Cannot find module 'index'"));
  assert.equal(wrapped.message, "Error: Cannot find module 'index'");
});

test('toRapidResponse: errors, strings and odd values', () => {
  const e = new TypeError('bad\nthing');
  assert.deepEqual(rt.toRapidResponse(e), {
    errorType: 'TypeError', errorMessage: 'bad\nthing', trace: e.stack.split('\n') });
  assert.deepEqual(rt.toRapidResponse('plain'), {
    errorType: 'string', errorMessage: 'plain', trace: [] });
  assert.deepEqual(rt.toRapidResponse(42), { errorType: 'number', errorMessage: '42', trace: [] });
  const like = { name: 'Custom', message: 'm', stack: 'Custom: m\n    at x' };
  assert.deepEqual(rt.toRapidResponse(like), {
    errorType: 'Custom', errorMessage: 'm', trace: ['Custom: m', '    at x'] });
  assert.deepEqual(rt.toRapidResponse(null), {
    errorType: 'handled',
    errorMessage: 'callback called with Error argument, but there was a problem while ' +
      'retrieving one or more of its message, name, and stack' });
  const del = new Error('a\x7Fb');
  assert.equal(rt.toRapidResponse(del).errorMessage, 'a%7Fb');
});

test('toFormatted: a tab, then the error with its enumerable properties', () => {
  const e = new Error('boom');
  e.code = 'E_BOOM';
  e.extra = 1;
  const doc = JSON.parse(rt.toFormatted(e).slice(1));
  assert.equal(rt.toFormatted(e)[0], '\t');
  assert.deepEqual(Object.keys(doc), ['errorType', 'errorMessage', 'code', 'extra', 'stack']);
  assert.equal(doc.errorType, 'Error');
  assert.deepEqual(doc.stack, e.stack.split('\n'));
});

test('text log lines: time, request id, level, formatted message; LF → CR', () => {
  assert.equal(rt.formatTextLine('2024-01-01T00:00:00.000Z', 'rid', 'INFO', 'a %s\nb', 'x', 3),
    '2024-01-01T00:00:00.000Z\trid\tINFO\ta x\rb 3\n');
  assert.equal(rt.formatTextLine('t', undefined, 'WARN', { k: 1 }), 't\tundefined\tWARN\t{ k: 1 }\n');
});

test('JSON log lines', () => {
  const one = JSON.parse(rt.formatJsonLine('t', 'rid', 'INFO', { a: 1 }));
  assert.deepEqual(one, { timestamp: 't', level: 'INFO', requestId: 'rid', message: { a: 1 } });
  const err = new Error('e');
  const two = JSON.parse(rt.formatJsonLine('t', 'rid', 'ERROR', 'failed', err));
  assert.equal(two.message.split('\n')[0], 'failed Error: e');
  assert.equal(two.errorType, 'Error');
  assert.equal(two.errorMessage, 'e');
  const three = JSON.parse(rt.formatJsonLine('t', 'rid', 'ERROR', err));
  assert.equal(three.message.errorType, 'Error');
});

test('headerSafe percent-encodes what a header may not carry', () => {
  assert.equal(rt.headerSafe('Runtime.ImportModuleError'), 'Runtime.ImportModuleError');
  assert.equal(rt.headerSafe('Erré\n'), 'Err%C3%A9%0A');
  assert.equal(rt.headerSafe('x\u{1F600}'), 'x%F0%9F%98%80');
});

test('serializeResponse: undefined is null; what JSON refuses is AWS\'s error', () => {
  assert.equal(rt.serializeResponse(undefined), 'null');
  assert.equal(rt.serializeResponse({ a: [1] }), '{"a":[1]}');
  assert.throws(() => rt.serializeResponse({ n: 1n }), { message: 'Unable to stringify response body' });
  const loop = {};
  loop.self = loop;
  assert.throws(() => rt.serializeResponse(loop), { message: 'Unable to stringify response body' });
});

test('defaultNodePath: as AWS sets NODE_PATH, under HAAR_OPT_DIR', () => {
  assert.equal(rt.defaultNodePath({ LAMBDA_TASK_ROOT: '/var/task' }, 20),
    '/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/var/task');
  assert.equal(rt.defaultNodePath({
    HAAR_OPT_DIR: '/l', AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    LAMBDA_RUNTIME_DIR: '/var/runtime', LAMBDA_TASK_ROOT: '/var/task' }, 20),
  '/l/nodejs/node22/node_modules:/l/nodejs/node_modules:/var/runtime/node_modules:' +
    '/var/runtime:/var/task');
});

test('requestedMajor', () => {
  assert.equal(rt.requestedMajor({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs18.x' }), 18);
  assert.equal(rt.requestedMajor({ AWS_EXECUTION_ENV: 'AWS_Lambda_python3.12' }), undefined);
  assert.equal(rt.requestedMajor({}), undefined);
});

test('packageTypeIsModule: the nearest package.json, stopping at node_modules', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'haar-pj-'));
  try {
    const write = (rel, text) => {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), text);
    };
    write('esm/package.json', '{"type":"module"}');
    write('esm/sub/deeper/x.js', '');
    write('cjs/package.json', '{"name":"x"}');
    write('esm/node_modules/dep/x.js', '');
    write('bad/package.json', '{oops');
    assert.equal(rt.packageTypeIsModule(path.join(root, 'esm/sub/deeper')), true);
    assert.equal(rt.packageTypeIsModule(path.join(root, 'cjs')), false);
    assert.equal(rt.packageTypeIsModule(path.join(root, 'esm/node_modules')), false);
    const warn = console.warn;
    console.warn = () => {};
    try {
      assert.equal(rt.packageTypeIsModule(path.join(root, 'bad')), false);
    } finally {
      console.warn = warn;
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('contextData: environment and headers', () => {
  const env = {
    AWS_LAMBDA_FUNCTION_NAME: 'fn', AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512', AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/fn',
    AWS_LAMBDA_LOG_STREAM_NAME: 's' };
  const headers = {
    'lambda-runtime-aws-request-id': 'rid', 'lambda-runtime-deadline-ms': String(Date.now() + 3000),
    'lambda-runtime-invoked-function-arn': 'arn', 'lambda-runtime-client-context': '{"custom":{"a":1}}',
    'lambda-runtime-cognito-identity': '{"cognitoIdentityId":"i"}' };
  const c = rt.contextData(headers, env);
  assert.equal(c.functionName, 'fn');
  assert.equal(c.memoryLimitInMB, '512');
  assert.equal(c.awsRequestId, 'rid');
  assert.equal(c.invokedFunctionArn, 'arn');
  assert.deepEqual(c.clientContext, { custom: { a: 1 } });
  assert.deepEqual(c.identity, { cognitoIdentityId: 'i' });
  assert.ok(c.getRemainingTimeInMillis() > 2000 && c.getRemainingTimeInMillis() <= 3000);
  assert.equal(rt.contextData({}, env).clientContext, undefined);
  assert.throws(() => rt.contextData({ 'lambda-runtime-client-context': '{x' }, env),
    (e) => e.message.startsWith('Cannot parse ClientContext as json: SyntaxError'));
});
