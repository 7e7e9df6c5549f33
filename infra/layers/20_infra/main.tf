# 20_infra: platform services — the HTTP API, its stage and optional JWT authorizer, the
# task queue with its dead-letter queue, the schedule rule and its dead-letter queue, the
# image repository and the tasks table. The functions and the wiring between these and the
# functions live in 30_app.

locals {
  kms             = var.kms_key_arn != null
  api_name        = "${var.name_prefix}-api"
  queue_name      = "${var.name_prefix}-tasks"
  dlq_name        = "${var.name_prefix}-tasks-dlq"
  schedule_dlq    = "${var.name_prefix}-schedule-dlq"
  table_name      = "${var.name_prefix}-tasks"
  status_index    = "by-status"
  rule_name       = "${var.name_prefix}-schedule"
  repository_name = var.name_prefix
  function_arns   = [for f in var.function_names : "arn:${var.partition}:lambda:${var.aws_region}:${var.account_id}:function:${var.name_prefix}-${f}"]
}

# ---------------------------------------------------------------------------------
# HTTP API: one $default stage, auto-deployed, throttled and access-logged per config.

resource "aws_cloudwatch_log_group" "api_access" {
  count             = var.api.access_log_enabled ? 1 : 0
  name              = "/aws/apigateway/${local.api_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_api" "http" {
  name          = local.api_name
  protocol_type = "HTTP"
  description   = "${var.name_prefix} task API"
  tags          = var.tags

  dynamic "cors_configuration" {
    for_each = length(var.api.cors_allow_origins) > 0 ? [1] : []
    content {
      allow_origins  = var.api.cors_allow_origins
      allow_methods  = ["GET", "POST", "OPTIONS"]
      allow_headers  = ["content-type", "idempotency-key", "authorization"]
      expose_headers = ["location"]
      max_age        = 3600
    }
  }
}

# Optional JWT authorizer (api.jwt_authorizer): 30_app puts every route but GET /health
# behind it. HTTP APIs validate the token's signature, issuer, audience and expiry.
resource "aws_apigatewayv2_authorizer" "jwt" {
  count            = var.api.jwt_authorizer.enabled ? 1 : 0
  api_id           = aws_apigatewayv2_api.http.id
  name             = "${var.name_prefix}-jwt"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = var.api.jwt_authorizer.issuer
    audience = var.api.jwt_authorizer.audience
  }
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "$default"
  auto_deploy = true
  tags        = var.tags

  default_route_settings {
    throttling_rate_limit  = var.api.throttling_rate_limit
    throttling_burst_limit = var.api.throttling_burst_limit
  }

  dynamic "access_log_settings" {
    for_each = var.api.access_log_enabled ? [1] : []
    content {
      destination_arn = aws_cloudwatch_log_group.api_access[0].arn
      format = jsonencode({
        requestId          = "$context.requestId"
        ip                 = "$context.identity.sourceIp"
        requestTime        = "$context.requestTime"
        httpMethod         = "$context.httpMethod"
        routeKey           = "$context.routeKey"
        path               = "$context.path"
        status             = "$context.status"
        protocol           = "$context.protocol"
        responseLength     = "$context.responseLength"
        latency            = "$context.responseLatency"
        integrationStatus  = "$context.integration.status"
        integrationLatency = "$context.integration.latency"
        integrationError   = "$context.integration.error"
        integrationReqId   = "$context.integration.requestId"
        errorMessage       = "$context.error.message"
        errorResponseType  = "$context.error.responseType"
        authorizerError    = "$context.authorizer.error"
        jwtSubject         = "$context.authorizer.claims.sub"
      })
    }
  }
}

# ---------------------------------------------------------------------------------
# Queues: the task queue redrives to the DLQ after max_receive_count receives; the DLQ
# accepts redrives from that queue only.

resource "aws_sqs_queue" "dlq" {
  name                              = local.dlq_name
  message_retention_seconds         = var.queue.dlq_message_retention_seconds
  sqs_managed_sse_enabled           = local.kms ? null : true
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = local.kms ? 300 : null
  tags                              = var.tags
}

resource "aws_sqs_queue" "tasks" {
  name                              = local.queue_name
  visibility_timeout_seconds        = var.queue.visibility_timeout_seconds
  message_retention_seconds         = var.queue.message_retention_seconds
  receive_wait_time_seconds         = var.queue.receive_wait_time_seconds
  sqs_managed_sse_enabled           = local.kms ? null : true
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = local.kms ? 300 : null
  tags                              = var.tags

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.queue.max_receive_count
  })
}

# Where the schedule's undeliverable events (the rule target's dead-letter queue) and the
# producer's failed asynchronous invocations (its on-failure destination) go: nothing the
# schedule starts is dropped silently.
resource "aws_sqs_queue" "schedule_dlq" {
  name                              = local.schedule_dlq
  message_retention_seconds         = var.queue.dlq_message_retention_seconds
  sqs_managed_sse_enabled           = local.kms ? null : true
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = local.kms ? 300 : null
  tags                              = var.tags
}

data "aws_iam_policy_document" "schedule_dlq" {
  statement {
    sid       = "TheScheduleRuleDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.schedule_dlq.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.schedule.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "schedule_dlq" {
  queue_url = aws_sqs_queue.schedule_dlq.id
  policy    = data.aws_iam_policy_document.schedule_dlq.json
}

resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.tasks.arn]
  })
}

# ---------------------------------------------------------------------------------
# The producer's schedule (its target is wired in 30_app).

resource "aws_cloudwatch_event_rule" "schedule" {
  name                = local.rule_name
  description         = "${var.name_prefix}: enqueue the scheduled tasks"
  schedule_expression = var.schedule.expression
  state               = var.schedule.enabled ? "ENABLED" : "DISABLED"
  tags                = var.tags
}

# ---------------------------------------------------------------------------------
# Image repository: immutable commit-SHA tags, scanned on push, pruned by lifecycle.

resource "aws_ecr_repository" "functions" {
  name                 = local.repository_name
  image_tag_mutability = "IMMUTABLE"
  tags                 = var.tags

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = local.kms ? "KMS" : "AES256"
    kms_key         = var.kms_key_arn
  }
}

resource "aws_ecr_lifecycle_policy" "functions" {
  repository = aws_ecr_repository.functions.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "drop untagged images after a day"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = 1
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "keep the newest ${var.ecr_keep_images} images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.ecr_keep_images
        }
        action = { type = "expire" }
      },
    ]
  })
}

data "aws_iam_policy_document" "ecr_lambda_pull" {
  statement {
    sid     = "LambdaPullsForThisEnvironmentsFunctions"
    actions = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    # Lambda names the pulling function in aws:SourceArn, possibly qualified
    # (function:<name>:<version>): the exact ARNs and their qualified forms.
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = concat(local.function_arns, [for a in local.function_arns : "${a}:*"])
    }
  }
}

resource "aws_ecr_repository_policy" "functions" {
  repository = aws_ecr_repository.functions.name
  policy     = data.aws_iam_policy_document.ecr_lambda_pull.json
}

# ---------------------------------------------------------------------------------
# Tasks table: id key, a by-status index for listing, TTL, optional PITR, encrypted.

resource "aws_dynamodb_table" "tasks" {
  name                        = local.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.table.deletion_protection
  tags                        = var.tags

  attribute {
    name = "id"
    type = "S"
  }

  attribute {
    name = "status"
    type = "S"
  }

  attribute {
    name = "created_at"
    type = "S"
  }

  global_secondary_index {
    name            = local.status_index
    hash_key        = "status"
    range_key       = "created_at"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = var.table.ttl_attribute
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.table.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}
