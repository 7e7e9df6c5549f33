// The AWS SDK for JavaScript v3 (@aws-sdk/client-sqs: AWS JSON 1.0, its MD5 checks on) driving
// a live `haar up`. Run by tests/e2e/test_sqs_js.py:
//   node sqs.mjs ENDPOINT PREFIX
// Every SQS operation and its error paths; asserts with node:assert; exits 0 and prints
// "ok <n> checks" when every check passed.
import assert from "node:assert/strict";
import {
  SQSClient, CreateQueueCommand, GetQueueUrlCommand, ListQueuesCommand, DeleteQueueCommand,
  GetQueueAttributesCommand, SetQueueAttributesCommand, PurgeQueueCommand, SendMessageCommand,
  SendMessageBatchCommand, ReceiveMessageCommand, DeleteMessageCommand, DeleteMessageBatchCommand,
  ChangeMessageVisibilityCommand, ChangeMessageVisibilityBatchCommand, TagQueueCommand,
  UntagQueueCommand, ListQueueTagsCommand, ListDeadLetterSourceQueuesCommand,
  AddPermissionCommand, RemovePermissionCommand, StartMessageMoveTaskCommand,
  ListMessageMoveTasksCommand, CancelMessageMoveTaskCommand, paginateListQueues,
  QueueDoesNotExist, QueueNameExists, ReceiptHandleIsInvalid, PurgeQueueInProgress,
  TooManyEntriesInBatchRequest, BatchEntryIdsNotDistinct, EmptyBatchRequest, InvalidBatchEntryId,
  InvalidAttributeName, InvalidMessageContents, ResourceNotFoundException, SQSServiceException,
} from "@aws-sdk/client-sqs";

const [endpoint, prefix] = process.argv.slice(2);
const sqs = new SQSClient({
  endpoint, region: "eu-west-1", maxAttempts: 1, // MD5 checks are on by default
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
let checks = 0;
const check = (cond, what) => { assert.ok(cond, what); checks++; };
const eq = (a, b, what) => { assert.deepEqual(a, b, what); checks++; };

async function rejects(promise, type, what, code, message) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof type, `${what}: got ${e.name}: ${e.message}`);
    if (code) assert.equal(e.name, code, what);
    if (message) assert.equal(e.message, message, what);
    checks++;
    return e;
  }
  assert.fail(`${what}: no error`);
}

const q = `${prefix}-js`, dlq = `${prefix}-js-dlq`, fifo = `${prefix}-js.fifo`;
const { QueueUrl: dlqUrl } = await sqs.send(new CreateQueueCommand({ QueueName: dlq }));
const dlqArn = `arn:aws:sqs:eu-west-1:000000000000:${dlq}`;
const redrive = JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 });
const { QueueUrl: url } = await sqs.send(new CreateQueueCommand({
  QueueName: q, Attributes: { VisibilityTimeout: "1", RedrivePolicy: redrive },
  tags: { team: "js" },
}));
check(url.endsWith(`/000000000000/${q}`), "queue url");
// idempotent CreateQueue, and QueueNameExists with AWS's legacy code
eq((await sqs.send(new CreateQueueCommand({ QueueName: q }))).QueueUrl, url, "same url");
await rejects(sqs.send(new CreateQueueCommand({ QueueName: q, Attributes: { DelaySeconds: "9" } })),
  QueueNameExists, "different attributes", "QueueNameExists",
  "A queue already exists with the same name and a different value for attribute DelaySeconds");
eq((await sqs.send(new GetQueueUrlCommand({ QueueName: q }))).QueueUrl, url, "GetQueueUrl");
await rejects(sqs.send(new GetQueueUrlCommand({ QueueName: `${q}-nope` })), QueueDoesNotExist,
  "missing queue", "QueueDoesNotExist", "The specified queue does not exist.");

// attributes
const attrs = (await sqs.send(new GetQueueAttributesCommand({
  QueueUrl: url, AttributeNames: ["All"] }))).Attributes;
eq(attrs.VisibilityTimeout, "1", "VisibilityTimeout");
eq(JSON.parse(attrs.RedrivePolicy), { deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }, "redrive");
await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { DelaySeconds: "0" } }));
await rejects(sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["Foobar"] })),
  InvalidAttributeName, "unknown attribute", undefined, "Unknown Attribute Foobar.");

// send with attributes of every type: the SDK checks MD5OfMessageBody and MD5OfMessageAttributes
const sent = await sqs.send(new SendMessageCommand({
  QueueUrl: url, MessageBody: "héllo wörld ✓",
  MessageAttributes: {
    s: { DataType: "String", StringValue: "v" },
    n: { DataType: "Number.int", StringValue: "42" },
    b: { DataType: "Binary", BinaryValue: new Uint8Array([0, 1, 2, 255]) },
  },
  MessageSystemAttributes: { AWSTraceHeader: { DataType: "String", StringValue: "Root=1-abc" } },
}));
check(sent.MessageId && sent.MD5OfMessageAttributes && sent.MD5OfMessageSystemAttributes, "send");
const got = await sqs.send(new ReceiveMessageCommand({
  QueueUrl: url, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"],
  MessageSystemAttributeNames: ["All"], WaitTimeSeconds: 1,
}));
eq(got.Messages.length, 1, "one message");
const m = got.Messages[0];
eq(m.Body, "héllo wörld ✓", "body");
eq(m.MessageAttributes.n, { DataType: "Number.int", StringValue: "42" }, "number attribute");
eq([...m.MessageAttributes.b.BinaryValue], [0, 1, 2, 255], "binary attribute");
eq(m.Attributes.AWSTraceHeader, "Root=1-abc", "trace header");
eq(m.Attributes.ApproximateReceiveCount, "1", "receive count");
// visibility: extend, then let it lapse: the redrive policy moves it to the DLQ (maxReceiveCount 1)
await sqs.send(new ChangeMessageVisibilityCommand({
  QueueUrl: url, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 1 }));
await new Promise((r) => setTimeout(r, 1200));
const none = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
check(none.Messages === undefined, "moved on its second receive");
const dead = await sqs.send(new ReceiveMessageCommand({
  QueueUrl: dlqUrl, MessageSystemAttributeNames: ["All"], MessageAttributeNames: ["All"] }));
eq(dead.Messages[0].MessageId, sent.MessageId, "same MessageId in the DLQ");
eq(dead.Messages[0].Attributes.DeadLetterQueueSourceArn,
  `arn:aws:sqs:eu-west-1:000000000000:${q}`, "DeadLetterQueueSourceArn");
eq((await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl }))).queueUrls, [url],
  "ListDeadLetterSourceQueues");
// redrive it back with a move task
await sqs.send(new ChangeMessageVisibilityCommand({
  QueueUrl: dlqUrl, ReceiptHandle: dead.Messages[0].ReceiptHandle, VisibilityTimeout: 0 }));
const task = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
check(task.TaskHandle, "TaskHandle");
let tasks;
for (let i = 0; i < 40; i++) {
  tasks = (await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }))).Results;
  if (tasks[0].Status === "COMPLETED") break;
  await new Promise((r) => setTimeout(r, 100));
}
eq(tasks[0].Status, "COMPLETED", "move task completed");
eq(tasks[0].ApproximateNumberOfMessagesMoved, 1, "moved one");
await rejects(sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: task.TaskHandle })),
  SQSServiceException, "cancel a finished task");
await rejects(sqs.send(new StartMessageMoveTaskCommand({
  SourceArn: "arn:aws:sqs:eu-west-1:000000000000:nope" })), ResourceNotFoundException,
  "move from nowhere");

// batches with per-entry failures
const batch = await sqs.send(new SendMessageBatchCommand({
  QueueUrl: url, Entries: [
    { Id: "a", MessageBody: "one" },
    { Id: "b", MessageBody: "two", MessageAttributes: { k: { DataType: "String", StringValue: "x" } } },
    { Id: "c", MessageBody: "bad\u0000" },
  ] }));
eq(batch.Successful.map((e) => e.Id).sort(), ["a", "b"], "successful entries");
eq(batch.Failed.map((e) => [e.Id, e.Code, e.SenderFault]), [["c", "InvalidMessageContents", true]],
  "failed entry");
await rejects(sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: [] })),
  EmptyBatchRequest, "empty batch");
await rejects(sqs.send(new SendMessageBatchCommand({ QueueUrl: url,
  Entries: Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: "x" })) })),
  TooManyEntriesInBatchRequest, "11 entries", undefined,
  "Maximum number of entries per request are 10. You have sent 11.");
await rejects(sqs.send(new SendMessageBatchCommand({ QueueUrl: url,
  Entries: [{ Id: "x", MessageBody: "1" }, { Id: "x", MessageBody: "2" }] })),
  BatchEntryIdsNotDistinct, "duplicate ids");
await rejects(sqs.send(new SendMessageBatchCommand({ QueueUrl: url,
  Entries: [{ Id: "a:b", MessageBody: "1" }] })), InvalidBatchEntryId, "bad id");
await rejects(sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "\u0008" })),
  InvalidMessageContents, "invalid characters");
const two = await sqs.send(new ReceiveMessageCommand({
  QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 30, MessageAttributeNames: ["All"] }));
check(two.Messages.length >= 2, "received the batch");
const cv = await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: url, Entries: [
  { Id: "x", ReceiptHandle: two.Messages[0].ReceiptHandle, VisibilityTimeout: 60 },
  { Id: "y", ReceiptHandle: "garbage", VisibilityTimeout: 60 }] }));
eq([cv.Successful.length, cv.Failed[0].Code], [1, "ReceiptHandleIsInvalid"], "visibility batch");
const del = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url,
  Entries: two.Messages.map((x, i) => ({ Id: `d${i}`, ReceiptHandle: x.ReceiptHandle })) }));
eq(del.Failed, [], "delete batch");
await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: two.Messages[0].ReceiptHandle }));
await rejects(sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: "garbage" })),
  ReceiptHandleIsInvalid, "garbage handle", undefined,
  'The input receipt handle "garbage" is not a valid receipt handle.');

// FIFO: order, dedup, sequence numbers
const { QueueUrl: furl } = await sqs.send(new CreateQueueCommand({
  QueueName: fifo, Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" } }));
const f1 = await sqs.send(new SendMessageCommand({ QueueUrl: furl, MessageBody: "1", MessageGroupId: "g" }));
const f1b = await sqs.send(new SendMessageCommand({ QueueUrl: furl, MessageBody: "1", MessageGroupId: "g" }));
eq(f1b.MessageId, f1.MessageId, "deduplicated");
check(/^\d{20}$/.test(f1.SequenceNumber), "SequenceNumber");
await sqs.send(new SendMessageCommand({ QueueUrl: furl, MessageBody: "2", MessageGroupId: "g" }));
const fr = await sqs.send(new ReceiveMessageCommand({
  QueueUrl: furl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ["All"] }));
eq(fr.Messages.map((x) => x.Body), ["1", "2"], "FIFO order");
eq(fr.Messages[0].Attributes.MessageGroupId, "g", "MessageGroupId");

// tags, permissions, listing, purge, delete
await sqs.send(new TagQueueCommand({ QueueUrl: url, Tags: { env: "dev" } }));
await sqs.send(new UntagQueueCommand({ QueueUrl: url, TagKeys: ["team"] }));
eq((await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags, { env: "dev" }, "tags");
await sqs.send(new AddPermissionCommand({ QueueUrl: url, Label: "p", AWSAccountIds: ["123456789012"],
  Actions: ["SendMessage"] }));
check(JSON.parse((await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url,
  AttributeNames: ["Policy"] }))).Attributes.Policy).Statement[0].Sid === "p", "policy");
await sqs.send(new RemovePermissionCommand({ QueueUrl: url, Label: "p" }));
const listed = [];
for await (const page of paginateListQueues({ client: sqs, pageSize: 1 }, { QueueNamePrefix: prefix, MaxResults: 1 }))
  listed.push(...(page.QueueUrls || []));
eq(listed.length, 3, "paginated ListQueues");
eq((await sqs.send(new ListQueuesCommand({ QueueNamePrefix: `${prefix}-nothing` }))).QueueUrls,
  undefined, "no queues");
await sqs.send(new PurgeQueueCommand({ QueueUrl: furl }));
await rejects(sqs.send(new PurgeQueueCommand({ QueueUrl: furl })), PurgeQueueInProgress,
  "purge twice", undefined, `Only one PurgeQueue operation on ${fifo} is allowed every 60 seconds.`);
for (const u of [url, dlqUrl, furl]) await sqs.send(new DeleteQueueCommand({ QueueUrl: u }));
await rejects(sqs.send(new GetQueueAttributesCommand({ QueueUrl: url })), QueueDoesNotExist, "deleted");
console.log(`ok ${checks} checks`);
