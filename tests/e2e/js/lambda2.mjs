// The AWS SDK for JavaScript v3 driving what Lambda's second pass added to a live `haar up`:
// a layer, a Node.js and a Python function from zips that import a module from it, versions,
// a weighted alias, provisioned concurrency and a function URL. Run by tests/e2e/test_js_sdk.py:
//   node lambda2.mjs ENDPOINT API_PORT NAME NODE_ZIP PY_ZIP LAYER_ZIP
// Asserts with node:assert; exits 0 and prints "ok <n> checks" when every check passed.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import http from "node:http";
import {
  LambdaClient, PublishLayerVersionCommand, GetLayerVersionCommand, DeleteLayerVersionCommand,
  CreateFunctionCommand, InvokeCommand, PublishVersionCommand, ListVersionsByFunctionCommand,
  CreateAliasCommand, UpdateAliasCommand, GetAliasCommand, DeleteFunctionCommand,
  PutProvisionedConcurrencyConfigCommand, GetProvisionedConcurrencyConfigCommand,
  CreateFunctionUrlConfigCommand, AddPermissionCommand, UpdateFunctionCodeCommand,
  ResourceConflictException, waitUntilFunctionActiveV2, waitUntilPublishedVersionActive,
} from "@aws-sdk/client-lambda";

const [endpoint, apiPort, name, nodeZip, pyZip, layerZip] = process.argv.slice(2);
const lambda = new LambdaClient({
  endpoint, region: "eu-west-1", maxAttempts: 1,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const role = "arn:aws:iam::000000000000:role/e2e-js";
const text = (bytes) => new TextDecoder().decode(bytes);
const waiter = { client: lambda, maxWaitTime: 20, minDelay: 1, maxDelay: 1 };
let checks = 0;
const check = (cond, what) => { assert.ok(cond, what); checks++; };

function get(host, path) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: Number(apiPort), path, headers: { host } },
      (res) => {
        let body = "";
        res.on("data", (c) => { body += c; });
        res.on("end", () => resolve({ status: res.statusCode, body }));
      });
    req.on("error", reject);
    req.end();
  });
}

const created = [];
let layer;
try {
  layer = await lambda.send(new PublishLayerVersionCommand({
    LayerName: `${name}-lib`, Content: { ZipFile: readFileSync(layerZip) },
    CompatibleRuntimes: ["nodejs20.x", "python3.11"],
  }));
  check(layer.Version === 1, `layer version ${layer.Version}`);
  const got = await lambda.send(new GetLayerVersionCommand({
    LayerName: `${name}-lib`, VersionNumber: 1 }));
  check(got.LayerVersionArn === layer.LayerVersionArn, "GetLayerVersion");

  for (const [fn, runtime, handler, zip] of [
    [`${name}-node`, "nodejs20.x", "index.handler", nodeZip],
    [`${name}-py`, "python3.11", "app.handler", pyZip]]) {
    await lambda.send(new CreateFunctionCommand({
      FunctionName: fn, Runtime: runtime, Role: role, Handler: handler,
      Code: { ZipFile: readFileSync(zip) }, Layers: [layer.LayerVersionArn],
    }));
    created.push(fn);
    await waitUntilFunctionActiveV2(waiter, { FunctionName: fn });
    const out = await lambda.send(new InvokeCommand({
      FunctionName: fn, Payload: JSON.stringify({ who: runtime }) }));
    check(out.FunctionError === undefined, `${fn}: ${text(out.Payload)}`);
    check(JSON.parse(text(out.Payload)).greeting === `hello ${runtime}`, text(out.Payload));
  }

  const fn = `${name}-node`;
  const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: fn }));
  check(v1.Version === "1", `PublishVersion ${v1.Version}`);
  await waitUntilPublishedVersionActive(waiter, { FunctionName: fn, Qualifier: "1" });
  await lambda.send(new UpdateFunctionCodeCommand({
    FunctionName: fn, ZipFile: readFileSync(nodeZip), Publish: true }));
  const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: fn }));
  check(versions.Versions.map((v) => v.Version).join(",") === "$LATEST,1",
        `versions ${versions.Versions.map((v) => v.Version)}`); // the same code: no version 2
  await lambda.send(new CreateAliasCommand({ FunctionName: fn, Name: "live", FunctionVersion: "1" }));
  try {
    await lambda.send(new CreateAliasCommand({ FunctionName: fn, Name: "live", FunctionVersion: "1" }));
    assert.fail("a second alias of the same name");
  } catch (e) {
    check(e instanceof ResourceConflictException, `CreateAlias again: ${e.name}`);
  }
  const inv = await lambda.send(new InvokeCommand({ FunctionName: `${fn}:live`, Payload: "{}" }));
  check(inv.ExecutedVersion === "1", `ExecutedVersion ${inv.ExecutedVersion}`);
  const upd = await lambda.send(new UpdateAliasCommand({
    FunctionName: fn, Name: "live", Description: "from the JS SDK" }));
  check(upd.FunctionVersion === "1" && upd.Description === "from the JS SDK", "UpdateAlias");
  const alias = await lambda.send(new GetAliasCommand({ FunctionName: fn, Name: "live" }));
  check(alias.RevisionId === upd.RevisionId, "GetAlias");

  const pc = await lambda.send(new PutProvisionedConcurrencyConfigCommand({
    FunctionName: fn, Qualifier: "live", ProvisionedConcurrentExecutions: 1 }));
  check(pc.RequestedProvisionedConcurrentExecutions === 1, "PutProvisionedConcurrencyConfig");
  let status = "";
  for (let i = 0; i < 100 && status !== "READY"; i++) {
    status = (await lambda.send(new GetProvisionedConcurrencyConfigCommand({
      FunctionName: fn, Qualifier: "live" }))).Status;
    if (status !== "READY") await new Promise((r) => setTimeout(r, 100));
  }
  check(status === "READY", `provisioned concurrency ${status}`);

  const url = await lambda.send(new CreateFunctionUrlConfigCommand({
    FunctionName: fn, Qualifier: "live", AuthType: "NONE" }));
  await lambda.send(new AddPermissionCommand({
    FunctionName: fn, Qualifier: "live", StatementId: "public", Action: "lambda:InvokeFunctionUrl",
    Principal: "*", FunctionUrlAuthType: "NONE" }));
  const host = new URL(url.FunctionUrl).hostname;
  const res = await get(host, "/");
  check(res.status === 200, `URL ${res.status} ${res.body}`);
  check(JSON.parse(res.body).greeting === "hello undefined", res.body);
  const byPath = await get("127.0.0.1", `/_aws/lambda-url/${host.split(".")[0]}/`);
  check(byPath.status === 200, `URL by path ${byPath.status}`);
  console.log(`ok ${checks} checks`);
} finally {
  for (const fn of created) {
    try { await lambda.send(new DeleteFunctionCommand({ FunctionName: fn })); } catch { /* gone */ }
  }
  if (layer) {
    try {
      await lambda.send(new DeleteLayerVersionCommand({
        LayerName: `${name}-lib`, VersionNumber: layer.Version }));
    } catch { /* gone */ }
  }
}
