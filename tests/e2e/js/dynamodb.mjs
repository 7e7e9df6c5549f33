// The AWS SDK for JavaScript v3 document client (@aws-sdk/lib-dynamodb) against haar:
//   node dynamodb.mjs ENDPOINT TABLE_PREFIX
// Creates a table with a GSI, writes and reads through the document client (marshalling
// JS values, big numbers as NumberValue), pages through queries and scans, fails
// conditions, cancels a transaction, runs PartiQL and batches, checks the error paths,
// deletes the table. Prints "ok <checks>" or throws.
import { strict as assert } from "node:assert";
import {
  CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DynamoDBClient,
  waitUntilTableExists, waitUntilTableNotExists,
} from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand, BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, ExecuteStatementCommand,
  GetCommand, NumberValue, PutCommand, QueryCommand, ScanCommand, TransactGetCommand,
  TransactWriteCommand, UpdateCommand, paginateQuery, paginateScan,
} from "@aws-sdk/lib-dynamodb";

const [endpoint, prefix] = process.argv.slice(2);
const client = new DynamoDBClient({
  endpoint, region: "eu-west-1", maxAttempts: 1,
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const doc = DynamoDBDocumentClient.from(client, {
  marshallOptions: { removeUndefinedValues: true },
  unmarshallOptions: { wrapNumbers: true },
});
let checks = 0;
const check = (cond, what) => { assert.ok(cond, what); checks++; };
async function fails(promise, name, message) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    if (message !== undefined) assert.equal(e.message, message);
    checks++;
    return e;
  }
  throw new Error(`expected ${name}`);
}
const num = (v) => (v instanceof NumberValue ? v.toString() : String(v));

const table = `${prefix}-docs`;
await client.send(new CreateTableCommand({
  TableName: table, BillingMode: "PAY_PER_REQUEST",
  AttributeDefinitions: [
    { AttributeName: "user", AttributeType: "S" }, { AttributeName: "ts", AttributeType: "N" },
    { AttributeName: "state", AttributeType: "S" },
  ],
  KeySchema: [{ AttributeName: "user", KeyType: "HASH" }, { AttributeName: "ts", KeyType: "RANGE" }],
  GlobalSecondaryIndexes: [{
    IndexName: "by-state", KeySchema: [{ AttributeName: "state", KeyType: "HASH" }, { AttributeName: "ts", KeyType: "RANGE" }],
    Projection: { ProjectionType: "ALL" },
  }],
}));
await waitUntilTableExists({ client, minDelay: 1, maxDelay: 2, maxWaitTime: 30 }, { TableName: table });
const d = await client.send(new DescribeTableCommand({ TableName: table }));
check(d.Table.TableStatus === "ACTIVE", "table active");
check(d.Table.GlobalSecondaryIndexes[0].IndexStatus === "ACTIVE", "index active");

// writes through the document client: JS values marshalled, big numbers exact
for (let i = 0; i < 60; i++) {
  await doc.send(new PutCommand({
    TableName: table,
    Item: { user: "ann", ts: i, state: i % 3 === 0 ? "DONE" : "OPEN", tags: new Set(["a", `t${i % 4}`]),
            meta: { nested: [1, "two", { three: true }], none: null }, blob: new Uint8Array([i, 255]) },
  }));
}
const big = NumberValue.from("12345678901234567890123456789012345678");
await doc.send(new PutCommand({ TableName: table, Item: { user: "big", ts: 0, n: big, tiny: NumberValue.from("1E-130") } }));
const gotBig = await doc.send(new GetCommand({ TableName: table, Key: { user: "big", ts: 0 } }));
check(num(gotBig.Item.n) === "12345678901234567890123456789012345678", "big number exact");
check(num(gotBig.Item.tiny) === "0." + "0".repeat(129) + "1", "tiny number rendered plain");
const one = await doc.send(new GetCommand({ TableName: table, Key: { user: "ann", ts: 5 } }));
check(one.Item.tags instanceof Set && one.Item.tags.has("t1"), "string set");
check(one.Item.meta.nested[2].three === true && one.Item.meta.none === null, "nested document");
check(one.Item.blob instanceof Uint8Array && one.Item.blob[1] === 255, "binary");

// paginate a query through several pages, in order
let seen = [];
let pages = 0;
for await (const page of paginateQuery({ client: doc, pageSize: 7 }, {
  TableName: table, KeyConditionExpression: "#u = :u AND ts BETWEEN :a AND :b",
  ExpressionAttributeNames: { "#u": "user" }, ExpressionAttributeValues: { ":u": "ann", ":a": 10, ":b": 49 },
})) {
  pages++;
  seen = seen.concat(page.Items.map((it) => Number(num(it.ts))));
}
check(pages >= 6 && seen.length === 40 && seen[0] === 10 && seen[39] === 49, `query pages ${pages}`);
check(seen.every((v, i) => i === 0 || v > seen[i - 1]), "query order");

// the GSI, newest first, with a filter
const idx = await doc.send(new QueryCommand({
  TableName: table, IndexName: "by-state", KeyConditionExpression: "#s = :s",
  FilterExpression: "contains(tags, :t)", ExpressionAttributeNames: { "#s": "state" },
  ExpressionAttributeValues: { ":s": "DONE", ":t": "t0" }, ScanIndexForward: false,
}));
check(idx.ScannedCount === 20 && idx.Items.every((it) => it.state === "DONE" && it.tags.has("t0")), "gsi + filter");
check(Number(num(idx.Items[0].ts)) > Number(num(idx.Items[idx.Items.length - 1].ts)), "gsi descending");

// a parallel scan in 3 segments covers every item once
const all = [];
for (let seg = 0; seg < 3; seg++)
  for await (const page of paginateScan({ client: doc, pageSize: 11 }, { TableName: table, Segment: seg, TotalSegments: 3 }))
    all.push(...page.Items.map((it) => `${it.user}/${num(it.ts)}`));
check(all.length === 61 && new Set(all).size === 61, `parallel scan ${all.length}`);

// conditions
await fails(doc.send(new PutCommand({ TableName: table, Item: { user: "ann", ts: 1 }, ConditionExpression: "attribute_not_exists(#u)", ExpressionAttributeNames: { "#u": "user" } })),
  "ConditionalCheckFailedException", "The conditional request failed");
const upd = await doc.send(new UpdateCommand({
  TableName: table, Key: { user: "ann", ts: 1 }, UpdateExpression: "SET hits = if_not_exists(hits, :z) + :one, tags = :t",
  ConditionExpression: "#s = :open", ExpressionAttributeNames: { "#s": "state" },
  ExpressionAttributeValues: { ":z": 0, ":one": 1, ":open": "OPEN", ":t": new Set(["x"]) }, ReturnValues: "UPDATED_NEW",
}));
check(num(upd.Attributes.hits) === "1" && upd.Attributes.tags.has("x"), "update returns new values");
await fails(doc.send(new UpdateCommand({
  TableName: table, Key: { user: "ann", ts: 1 }, UpdateExpression: "SET hits = hits - :n", ConditionExpression: "hits >= :n",
  ExpressionAttributeValues: { ":n": 5 },
})), "ConditionalCheckFailedException");

// a transaction that cancels, reasons in order, nothing applied
const tx = await fails(doc.send(new TransactWriteCommand({ TransactItems: [
  { Put: { TableName: table, Item: { user: "tx", ts: 1 } } },
  { ConditionCheck: { TableName: table, Key: { user: "ann", ts: 2 }, ConditionExpression: "#s = :x", ExpressionAttributeNames: { "#s": "state" }, ExpressionAttributeValues: { ":x": "nope" } } },
  { Delete: { TableName: table, Key: { user: "ann", ts: 3 } } },
] })), "TransactionCanceledException",
"Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, None]");
check(tx.CancellationReasons.map((r) => r.Code).join() === "None,ConditionalCheckFailed,None", "cancellation reasons");
check(!(await doc.send(new GetCommand({ TableName: table, Key: { user: "tx", ts: 1 } }))).Item, "nothing applied");
await doc.send(new TransactWriteCommand({ TransactItems: [
  { Put: { TableName: table, Item: { user: "tx", ts: 1 } } },
  { Update: { TableName: table, Key: { user: "ann", ts: 2 }, UpdateExpression: "SET paid = :t", ExpressionAttributeValues: { ":t": true } } },
] }));
const tg = await doc.send(new TransactGetCommand({ TransactItems: [
  { Get: { TableName: table, Key: { user: "tx", ts: 1 } } }, { Get: { TableName: table, Key: { user: "ann", ts: 2 } } },
] }));
check(tg.Responses[0].Item.user === "tx" && tg.Responses[1].Item.paid === true, "transact get");

// batches
await doc.send(new BatchWriteCommand({ RequestItems: { [table]: [
  { PutRequest: { Item: { user: "b", ts: 1 } } }, { PutRequest: { Item: { user: "b", ts: 2 } } },
  { DeleteRequest: { Key: { user: "ann", ts: 59 } } },
] } }));
const bg = await doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: [{ user: "b", ts: 1 }, { user: "b", ts: 2 }, { user: "ann", ts: 59 }] } } }));
check(bg.Responses[table].length === 2, "batch get");

// PartiQL through the document client
const pq = await doc.send(new ExecuteStatementCommand({ Statement: `SELECT ts FROM "${table}" WHERE "user" = ? AND ts < ?`, Parameters: ["ann", 3] }));
check(pq.Items.length === 3, "PartiQL select");

// error paths
await fails(doc.send(new GetCommand({ TableName: `${prefix}-missing`, Key: { user: "a", ts: 1 } })),
  "ResourceNotFoundException", "Requested resource not found");
await fails(doc.send(new GetCommand({ TableName: table, Key: { user: "a" } })),
  "ValidationException", "The provided key element does not match the schema");
await fails(doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: "ts = :t", ExpressionAttributeValues: { ":t": 1 } })),
  "ValidationException", "Query condition missed key schema element: user");
await fails(doc.send(new PutCommand({ TableName: table, Item: { user: "", ts: 1 } })), "ValidationException",
  "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: user");
await fails(doc.send(new UpdateCommand({ TableName: table, Key: { user: "ann", ts: 1 }, UpdateExpression: "SET #a = :a", ExpressionAttributeNames: { "#a": "a", "#b": "b" }, ExpressionAttributeValues: { ":a": 1 } })),
  "ValidationException", "1 validation error detected: Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}");
await fails(doc.send(new DeleteCommand({ TableName: table, Key: { user: "ann", ts: 1 }, ConditionExpression: "size(tags) > :n", ExpressionAttributeValues: { ":n": 10 } })),
  "ConditionalCheckFailedException");

await client.send(new DeleteTableCommand({ TableName: table }));
await waitUntilTableNotExists({ client, minDelay: 1, maxDelay: 2, maxWaitTime: 30 }, { TableName: table });
checks++;
console.log(`ok ${checks}`);
