# One least-privilege role per function: exact actions on exact ARNs, under the
# environment's permissions boundary (infra/bootstrap), without which the deploy role may
# create no role. The statements that need a wildcard (log streams, X-Ray, VPC network
# interfaces) are listed with their reason in tests/infra/test_hcl.py
# (IAM_WILDCARD_ALLOWLIST).

locals {
  index_arn = "${var.table_arn}/index/${var.status_index_name}"
  # The key is used through these services only: SQS and DynamoDB for the data, Lambda
  # for the functions' environment variables.
  key_services = [for s in ["sqs", "dynamodb", "lambda"] : "${s}.${var.aws_region}.amazonaws.com"]
  function_policies = {
    api      = data.aws_iam_policy_document.api.json
    worker   = data.aws_iam_policy_document.worker.json
    producer = data.aws_iam_policy_document.producer.json
  }
}

data "aws_iam_policy_document" "assume" {
  for_each = local.names
  statement {
    sid     = "LambdaAssumesForThisFunction"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

resource "aws_iam_role" "fn" {
  for_each             = local.names
  name                 = "${var.name_prefix}-${each.key}-role"
  description          = "Execution role of ${var.name_prefix}-${each.key}"
  assume_role_policy   = data.aws_iam_policy_document.assume[each.key].json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "fn" {
  for_each = local.names
  name     = "${var.name_prefix}-${each.key}"
  role     = aws_iam_role.fn[each.key].id
  policy   = local.function_policies[each.key]
}

data "aws_iam_policy_document" "api" {
  statement {
    sid       = "WriteOwnLogStreams"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.fn["api"].arn}:log-stream:*"]
  }
  statement {
    sid       = "TasksTable"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [var.table_arn]
  }
  statement {
    sid       = "ListTasksByStatus"
    actions   = ["dynamodb:Query"]
    resources = [local.index_arn]
  }
  statement {
    sid       = "EnqueueTasks"
    actions   = ["sqs:SendMessage"]
    resources = [var.queue_arn]
  }
  dynamic "statement" {
    for_each = local.kms ? [var.kms_key_arn] : []
    content {
      sid       = "UseEnvironmentKeyThroughItsServices"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = local.key_services
      }
    }
  }
  dynamic "statement" {
    for_each = var.tracing_enabled ? [1] : []
    content {
      sid       = "SendTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
  dynamic "statement" {
    for_each = var.network.vpc_enabled ? [1] : []
    content {
      sid       = "VpcNetworkInterfaces"
      actions   = ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
      resources = ["*"]
    }
  }
}

data "aws_iam_policy_document" "worker" {
  statement {
    sid       = "WriteOwnLogStreams"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.fn["worker"].arn}:log-stream:*"]
  }
  statement {
    sid       = "ConsumeTaskQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
    resources = [var.queue_arn]
  }
  statement {
    sid       = "TasksTable"
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [var.table_arn]
  }
  statement {
    sid       = "CountTasksByStatus"
    actions   = ["dynamodb:Query"]
    resources = [local.index_arn]
  }
  dynamic "statement" {
    for_each = local.kms ? [var.kms_key_arn] : []
    content {
      sid       = "UseEnvironmentKeyThroughItsServices"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = local.key_services
      }
    }
  }
  dynamic "statement" {
    for_each = var.tracing_enabled ? [1] : []
    content {
      sid       = "SendTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
  dynamic "statement" {
    for_each = var.network.vpc_enabled ? [1] : []
    content {
      sid       = "VpcNetworkInterfaces"
      actions   = ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
      resources = ["*"]
    }
  }
}

data "aws_iam_policy_document" "producer" {
  statement {
    sid       = "WriteOwnLogStreams"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.fn["producer"].arn}:log-stream:*"]
  }
  statement {
    sid       = "RecordScheduledTasks"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [var.table_arn]
  }
  statement {
    sid       = "SweepStuckTasksByStatus"
    actions   = ["dynamodb:Query"]
    resources = [local.index_arn]
  }
  statement {
    sid       = "EnqueueTasks"
    actions   = ["sqs:SendMessage"]
    resources = [var.queue_arn]
  }
  statement {
    sid       = "ReportFailedInvocationsToTheScheduleDlq"
    actions   = ["sqs:SendMessage"]
    resources = [var.schedule_dlq_arn]
  }
  dynamic "statement" {
    for_each = local.kms ? [var.kms_key_arn] : []
    content {
      sid       = "UseEnvironmentKeyThroughItsServices"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = local.key_services
      }
    }
  }
  dynamic "statement" {
    for_each = var.tracing_enabled ? [1] : []
    content {
      sid       = "SendTraces"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
  dynamic "statement" {
    for_each = var.network.vpc_enabled ? [1] : []
    content {
      sid       = "VpcNetworkInterfaces"
      actions   = ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
      resources = ["*"]
    }
  }
}
