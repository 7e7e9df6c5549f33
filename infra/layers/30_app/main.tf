# 30_app: the three C functions as provided.al2023 custom-runtime Lambdas — each with
# its own log group and role — packaged as zip + shared layer, or as one container
# image (built once per commit, run by digest) whose command selects the function. Every
# change publishes a version; triggers reach the functions through their "live" alias,
# so a rollback is one alias update (infra/scripts/rollback) and a canary is CodeDeploy
# moving the alias (delivery.tf).

locals {
  zip     = var.package_type == "Zip"
  kms     = var.kms_key_arn != null
  names   = toset(["api", "worker", "producer"])
  shifted = var.traffic_shifting != "AllAtOnce"

  settings = {
    api      = var.functions.api
    worker   = var.functions.worker
    producer = var.functions.producer
  }

  # What every function is told (DESIGN.md: the same names haar gives them locally).
  common_env = {
    HAAR_PROJECT       = var.project
    HAAR_ENVIRONMENT   = var.environment
    TASKS_TABLE        = var.table_name
    TASKS_STATUS_INDEX = var.status_index_name
    TASKS_QUEUE_URL    = var.queue_url
  }
  function_env = {
    api    = local.common_env
    worker = merge(local.common_env, { MAX_RECEIVE_COUNT = tostring(var.max_receive_count) })
    producer = merge(local.common_env, {
      SCHEDULE_RULE  = var.rule_name
      SCHEDULE_TASKS = jsonencode(var.scheduled_tasks)
    })
  }

  zip_path   = { for f in local.names : f => "${var.artifacts_dir}/${f}.zip" }
  layer_path = "${var.artifacts_dir}/layer.zip"
}

resource "aws_cloudwatch_log_group" "fn" {
  for_each          = local.names
  name              = "/aws/lambda/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# ---------------------------------------------------------------------------------
# Zip packaging: content-addressed objects in the artifacts bucket.

resource "aws_s3_object" "zip" {
  for_each    = local.zip ? local.names : toset([])
  bucket      = var.artifacts_bucket
  key         = "functions/${each.key}/${filesha256(local.zip_path[each.key])}.zip"
  source      = local.zip_path[each.key]
  source_hash = filemd5(local.zip_path[each.key])
  # Only the provider's default tags (Project, Environment, ManagedBy): S3 allows 10 tags
  # on an object, the file up to 47.
}

resource "aws_s3_object" "layer" {
  count       = local.zip ? 1 : 0
  bucket      = var.artifacts_bucket
  key         = "layers/shared/${filesha256(local.layer_path)}.zip"
  source      = local.layer_path
  source_hash = filemd5(local.layer_path)
}

resource "aws_lambda_layer_version" "shared" {
  count                    = local.zip ? 1 : 0
  layer_name               = "${var.name_prefix}-shared"
  description              = "Shared libraries the functions need that provided.al2023 lacks"
  s3_bucket                = aws_s3_object.layer[0].bucket
  s3_key                   = aws_s3_object.layer[0].key
  source_code_hash         = filebase64sha256(local.layer_path)
  compatible_runtimes      = ["provided.al2023"]
  compatible_architectures = [var.architecture]
}

# ---------------------------------------------------------------------------------
# The functions.

# ---------------------------------------------------------------------------------
# Image packaging: apply pushes the image built for this commit (its OCI archive) to the
# environment's repository before any function needs it, so the first apply of an
# Image environment works too (the repository is created by this same apply, 20_infra).

resource "terraform_data" "image" {
  count            = !local.zip && var.image_archive != "" ? 1 : 0
  triggers_replace = [var.repository_url, var.image_digest]

  provisioner "local-exec" {
    command = "${path.module}/../../../packaging/push-image"
    environment = {
      IMAGE_ARCHIVE    = var.image_archive
      IMAGE_REPOSITORY = var.repository_url
      IMAGE_DIGEST     = var.image_digest
      IMAGE_TAG        = var.image_tag
      AWS_REGION       = var.aws_region
    }
  }
}

resource "aws_lambda_function" "fn" {
  for_each      = local.names
  function_name = "${var.name_prefix}-${each.key}"
  description   = "${var.name_prefix} ${each.key} (C, provided.al2023)"
  role          = aws_iam_role.fn[each.key].arn
  architectures = [var.architecture]
  memory_size   = local.settings[each.key].memory_mb
  timeout       = local.settings[each.key].timeout_seconds
  tags          = var.tags
  publish       = true
  kms_key_arn   = var.kms_key_arn

  reserved_concurrent_executions = local.settings[each.key].reserved_concurrency

  package_type     = var.package_type
  runtime          = local.zip ? "provided.al2023" : null
  handler          = local.zip ? "bootstrap" : null
  s3_bucket        = local.zip ? aws_s3_object.zip[each.key].bucket : null
  s3_key           = local.zip ? aws_s3_object.zip[each.key].key : null
  source_code_hash = local.zip ? filebase64sha256(local.zip_path[each.key]) : null
  layers           = local.zip ? [aws_lambda_layer_version.shared[0].arn] : null
  image_uri        = local.zip ? null : "${var.repository_url}@${var.image_digest}"

  dynamic "image_config" {
    for_each = local.zip ? [] : [1]
    content {
      command = [each.key]
    }
  }

  environment {
    variables = local.function_env[each.key]
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.fn[each.key].name
  }

  tracing_config {
    mode = var.tracing_enabled ? "Active" : "PassThrough"
  }

  dynamic "vpc_config" {
    for_each = var.network.vpc_enabled ? [1] : []
    content {
      subnet_ids         = var.network.subnet_ids
      security_group_ids = var.network.security_group_ids
    }
  }

  depends_on = [aws_iam_role_policy.fn, terraform_data.image]
}

# ---------------------------------------------------------------------------------
# The live aliases: every trigger (API integration, queue mapping, schedule target)
# invokes <function>:live. With AllAtOnce, Terraform points the alias at the version this
# apply published; otherwise CodeDeploy moves it (delivery.tf, infra/scripts/shift-traffic)
# and Terraform leaves its version alone. Switching between the two replaces the alias.

resource "aws_lambda_alias" "live" {
  for_each         = local.shifted ? toset([]) : local.names
  name             = "live"
  description      = "What the triggers invoke"
  function_name    = aws_lambda_function.fn[each.key].function_name
  function_version = aws_lambda_function.fn[each.key].version
}

resource "aws_lambda_alias" "live_shifted" {
  for_each         = local.shifted ? local.names : toset([])
  name             = "live"
  description      = "What the triggers invoke; CodeDeploy shifts it to new versions"
  function_name    = aws_lambda_function.fn[each.key].function_name
  function_version = aws_lambda_function.fn[each.key].version

  lifecycle {
    ignore_changes = [function_version, routing_config]
  }
}

locals {
  alias = local.shifted ? aws_lambda_alias.live_shifted : aws_lambda_alias.live
}
