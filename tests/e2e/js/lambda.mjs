// The AWS SDK for JavaScript v3 (JSON-REST Lambda client, CloudWatch Logs JSON client) driving
// a live `haar up`. Run by tests/e2e/test_js_sdk.py:
//   node lambda.mjs ENDPOINT NAME ECHO_ZIP ERROR_ZIP ENV_ZIP
// Asserts with node:assert; exits 0 and prints "ok <n> checks" when every check passed.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  LambdaClient, CreateFunctionCommand, GetFunctionCommand, ListFunctionsCommand,
  InvokeCommand, UpdateFunctionConfigurationCommand, UpdateFunctionCodeCommand,
  DeleteFunctionCommand, PutFunctionConcurrencyCommand, GetFunctionConcurrencyCommand,
  ResourceNotFoundException, ResourceConflictException, InvalidParameterValueException,
  InvalidRequestContentException, waitUntilFunctionActiveV2, waitUntilFunctionUpdatedV2,
  paginateListFunctions, LambdaServiceException,
} from "@aws-sdk/client-lambda";
import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";

const [endpoint, name, echoZip, errorZip, envZip] = process.argv.slice(2);
const config = {
  endpoint, region: "eu-west-1", maxAttempts: 1,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
};
const lambda = new LambdaClient(config);
const logs = new CloudWatchLogsClient(config);
const role = "arn:aws:iam::000000000000:role/e2e-js";
const text = (bytes) => new TextDecoder().decode(bytes);
const waiter = { client: lambda, maxWaitTime: 20, minDelay: 1, maxDelay: 1 };
let checks = 0;
const check = (cond, what) => { assert.ok(cond, what); checks++; };

async function rejects(promise, type, what) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof type, `${what}: got ${e.name}: ${e.message}`);
    checks++;
    return e;
  }
  assert.fail(`${what}: no error`);
}

try {
  // Create, then the SDK's own waiter polls GetFunction until Active.
  const created = await lambda.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: "provided.al2023", Role: role, Handler: "bootstrap",
    Code: { ZipFile: readFileSync(echoZip) }, Timeout: 5, MemorySize: 256,
    Architectures: ["arm64"], Environment: { Variables: { STAGE: "js" } },
  }));
  check(created.$metadata.httpStatusCode === 201, "CreateFunction answers 201");
  check(created.FunctionArn === `arn:aws:lambda:eu-west-1:000000000000:function:${name}`,
        `FunctionArn ${created.FunctionArn}`);
  check(created.MemorySize === 256 && created.Timeout === 5, "memory and timeout kept");
  check(created.Architectures[0] === "arm64", "architecture kept");
  await waitUntilFunctionActiveV2(waiter, { FunctionName: name });
  checks++;

  await rejects(lambda.send(new CreateFunctionCommand({
    FunctionName: name, Runtime: "provided.al2023", Role: role, Handler: "bootstrap",
    Code: { ZipFile: readFileSync(echoZip) },
  })), ResourceConflictException, "creating it twice");
  // A model constraint: AWS answers ValidationException, which the SDK has no class for.
  const small = await rejects(lambda.send(new CreateFunctionCommand({
    FunctionName: `${name}-bad`, Runtime: "provided.al2023", Role: role, Handler: "bootstrap",
    Code: { ZipFile: readFileSync(echoZip) }, MemorySize: 64,
  })), LambdaServiceException, "MemorySize 64");
  check(small.name === "ValidationException" && small.$metadata.httpStatusCode === 400 &&
        small.message.includes("Value '64' at 'memorySize'"), `MemorySize 64: ${small.message}`);
  await rejects(lambda.send(new CreateFunctionCommand({
    FunctionName: `${name}-bad`, Runtime: "java17", Role: role, Handler: "bootstrap",
    Code: { ZipFile: readFileSync(echoZip) },
  })), InvalidParameterValueException, "a runtime haar cannot run");

  const got = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
  check(got.Configuration.State === "Active", "GetFunction: Active");
  check(got.Configuration.Environment.Variables.STAGE === "js", "GetFunction: env vars");
  check(got.Code.RepositoryType === "S3" && got.Code.Location.startsWith("http"),
        "GetFunction: code location");

  let listed = false;
  for await (const page of paginateListFunctions({ client: lambda, pageSize: 2 }, {})) {
    if (page.Functions.some((f) => f.FunctionName === name)) listed = true;
  }
  check(listed, "ListFunctions (paginated with MaxItems 2) includes the function");

  // RequestResponse: the event comes back byte for byte; Tail carries the REPORT line.
  const payload = JSON.stringify({ hello: "from js", n: [1, 2, 3], u: "é✓" });
  const inv = await lambda.send(new InvokeCommand({
    FunctionName: name, Payload: new TextEncoder().encode(payload), LogType: "Tail",
  }));
  check(inv.StatusCode === 200 && inv.FunctionError === undefined, "Invoke 200, no error");
  check(text(inv.Payload) === payload, `echoed payload ${text(inv.Payload)}`);
  check(inv.ExecutedVersion === "$LATEST", "ExecutedVersion");
  const tail = Buffer.from(inv.LogResult, "base64").toString();
  check(/REPORT RequestId: [0-9a-f-]{36}\tDuration: /.test(tail), `tail: ${tail}`);

  const dry = await lambda.send(new InvokeCommand({ FunctionName: name, InvocationType: "DryRun" }));
  check(dry.StatusCode === 204, "DryRun answers 204");
  const ev = await lambda.send(new InvokeCommand({
    FunctionName: name, InvocationType: "Event", Payload: new TextEncoder().encode("{}"),
  }));
  check(ev.StatusCode === 202, "Event answers 202");

  await rejects(lambda.send(new InvokeCommand({
    FunctionName: name, Payload: new TextEncoder().encode("{not json"),
  })), InvalidRequestContentException, "a payload that is not JSON");
  await rejects(lambda.send(new InvokeCommand({ FunctionName: `${name}-missing` })),
                ResourceNotFoundException, "invoking a missing function");

  // Configuration update: the SDK waits for LastUpdateStatus, the next invoke sees new env.
  await lambda.send(new UpdateFunctionConfigurationCommand({
    FunctionName: name, Environment: { Variables: { STAGE: "updated", MORE: "1" } },
  }));
  await waitUntilFunctionUpdatedV2(waiter, { FunctionName: name });
  checks++;
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: readFileSync(envZip) }));
  await waitUntilFunctionUpdatedV2(waiter, { FunctionName: name });
  const seen = JSON.parse(text((await lambda.send(new InvokeCommand({ FunctionName: name }))).Payload));
  check(seen.env.STAGE === "updated" && seen.env.MORE === "1", "new env vars reach the code");
  check(seen.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE === "256", "memory size in the environment");

  // Concurrency.
  await lambda.send(new PutFunctionConcurrencyCommand({
    FunctionName: name, ReservedConcurrentExecutions: 3,
  }));
  const conc = await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name }));
  check(conc.ReservedConcurrentExecutions === 3, "reserved concurrency read back");

  // A handler error: 200 with X-Amz-Function-Error and the error document.
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: readFileSync(errorZip) }));
  await waitUntilFunctionUpdatedV2(waiter, { FunctionName: name });
  const bad = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: new TextEncoder().encode("{}") }));
  check(bad.StatusCode === 200 && bad.FunctionError === "Unhandled", `FunctionError ${bad.FunctionError}`);
  const doc = JSON.parse(text(bad.Payload));
  check(doc.errorType === "HandlerError.E2E" && doc.errorMessage === "handler failed on purpose",
        `error document ${text(bad.Payload)}`);

  // The function's log group has the REPORT lines, found through CloudWatch Logs.
  let reports = 0;
  for (let i = 0; i < 50 && reports < 3; i++) {
    const page = await logs.send(new FilterLogEventsCommand({
      logGroupName: `/aws/lambda/${name}`, filterPattern: "REPORT",
    }));
    reports = page.events.length;
    if (reports < 3) await new Promise((r) => setTimeout(r, 100));
  }
  check(reports >= 3, `REPORT lines in /aws/lambda/${name}: ${reports}`);

  const del = await lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
  check(del.$metadata.httpStatusCode === 204, "DeleteFunction answers 204");
  await rejects(lambda.send(new GetFunctionCommand({ FunctionName: name })),
                ResourceNotFoundException, "GetFunction after delete");
  console.log(`ok ${checks} checks`);
} catch (e) {
  console.error(`FAILED after ${checks} checks: ${e.name}: ${e.message}`);
  if (e.$metadata) console.error(JSON.stringify(e.$metadata));
  process.exitCode = 1;
}
