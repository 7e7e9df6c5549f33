"""Terraform as a client of haar: SQS queues (standard, FIFO, a redrive policy, a redrive
allow policy, a queue policy) and an event source mapping. The provider waits on its own
between steps (queue attributes to settle, a deleted queue to stay gone), so this is the
slowest Terraform check. Skipped with a notice when terraform or its mirror is absent."""
import json

from e2e_helpers import boto_client, unique_name
from terraform_helpers import terraform


SQS_TF = """
variable "visibility" { type = number }
variable "batch" { type = number }
resource "aws_sqs_queue" "dlq" {
  name                      = "%(name)s-dlq"
  message_retention_seconds = 1209600
}
resource "aws_sqs_queue" "q" {
  name                       = "%(name)s"
  visibility_timeout_seconds = var.visibility
  receive_wait_time_seconds  = 2
  tags                       = { tier = "e2e" }
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = 4
  })
}
resource "aws_sqs_queue" "fifo" {
  name                        = "%(name)s.fifo"
  fifo_queue                  = true
  content_based_deduplication = true
  deduplication_scope         = "messageGroup"
  fifo_throughput_limit       = "perMessageGroupId"
}
resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.q.arn]
  })
}
resource "aws_sqs_queue_policy" "q" {
  queue_url = aws_sqs_queue.q.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "self"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::000000000000:root" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.q.arn
    }]
  })
}
resource "aws_lambda_function" "fn" {
  function_name    = "%(name)s"
  role             = "arn:aws:iam::000000000000:role/e2e-terraform"
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  filename         = "fn.zip"
  source_code_hash = filebase64sha256("fn.zip")
  timeout          = 5
}
resource "aws_lambda_event_source_mapping" "m" {
  event_source_arn                   = aws_sqs_queue.q.arn
  function_name                      = aws_lambda_function.fn.arn
  batch_size                         = var.batch
  maximum_batching_window_in_seconds = 1
  function_response_types            = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = 3
  }
}
output "uuid" { value = aws_lambda_event_source_mapping.m.uuid }
"""


def test_terraform_manages_sqs_queues_and_an_event_source_mapping(haar, lam, tmp_path):
    """aws_sqs_queue (standard with a redrive policy, FIFO), aws_sqs_queue_redrive_allow_policy,
    aws_sqs_queue_policy and aws_lambda_event_source_mapping: apply, a clean plan, an update
    in place, destroy."""
    sqs = boto_client("sqs", haar.aws_url)
    name = unique_name("tfq")
    run = terraform(tmp_path, SQS_TF, haar, name, ["lambda", "sqs"], zip_kind="echo")
    try:
        run("apply", "-auto-approve", "-var=visibility=30", "-var=batch=10")
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert a["VisibilityTimeout"] == "30" and a["ReceiveMessageWaitTimeSeconds"] == "2"
        assert json.loads(a["RedrivePolicy"])["maxReceiveCount"] == 4
        assert json.loads(a["Policy"])["Statement"][0]["Sid"] == "self"
        assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"tier": "e2e"}
        dlq = sqs.get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"]
        allow = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["RedriveAllowPolicy"])
        assert json.loads(allow["Attributes"]["RedriveAllowPolicy"])["redrivePermission"] == "byQueue"
        f = sqs.get_queue_url(QueueName=f"{name}.fifo")["QueueUrl"]
        fa = sqs.get_queue_attributes(QueueUrl=f, AttributeNames=["All"])["Attributes"]
        assert (fa["FifoQueue"], fa["DeduplicationScope"]) == ("true", "messageGroup")
        uuid = run("output", "-raw", "uuid").stdout.strip()
        m = lam.get_event_source_mapping(UUID=uuid)
        assert (m["BatchSize"], m["State"]) == (10, "Enabled")
        # what was applied reads back the same: nothing to change
        plan = run("plan", "-detailed-exitcode", "-var=visibility=30", "-var=batch=10", check=False)
        assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-2000:]
        run("apply", "-auto-approve", "-var=visibility=60", "-var=batch=20")
        a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
        assert a["VisibilityTimeout"] == "60"
        assert lam.get_event_source_mapping(UUID=uuid)["BatchSize"] == 20  # updated in place
        assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
        plan = run("plan", "-detailed-exitcode", "-var=visibility=60", "-var=batch=20", check=False)
        assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-2000:]
    finally:
        run("destroy", "-auto-approve", "-var=visibility=60", "-var=batch=20")
    assert not any(name in u for u in sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", []))
    assert lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"] == []
