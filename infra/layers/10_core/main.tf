# 10_core: the environment's foundation — naming, tags, log retention, the optional
# customer managed KMS key, the artifacts bucket and the alarm topic. Nothing here depends
# on the other layers. The deploy and plan roles are not here: infra/bootstrap owns them,
# so that no deploy of this environment can change its own rights.

locals {
  name_prefix = "${var.project}-${var.environment}"
  # The fixed tags win over the file's: IAM conditions (the boundary, the deploy role's
  # guardrails) rely on Project and Environment.
  fixed_tags = {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  }
  tags = merge(var.tags, local.fixed_tags)

  arn_base    = "arn:${var.partition}"
  region_acct = "${var.aws_region}:${var.account_id}"

  # Every log group of the environment, named up front so the key policy can name each
  # one exactly (30_app and 20_infra create them under these names).
  log_group_names = concat(
    [for f in var.function_names : "/aws/lambda/${local.name_prefix}-${f}"],
    ["/aws/apigateway/${local.name_prefix}-api"],
  )
  log_group_arns = [for n in local.log_group_names : "${local.arn_base}:logs:${local.region_acct}:log-group:${n}"]

  artifacts_bucket = "${local.name_prefix}-artifacts-${var.account_id}"
  # The roles infra/bootstrap keeps for this environment, and the boundary every role
  # created here must carry.
  deploy_role_arn = "${local.arn_base}:iam::${var.account_id}:role/${local.name_prefix}-deploy"
  plan_role_arn   = "${local.arn_base}:iam::${var.account_id}:role/${local.name_prefix}-plan"
  boundary_arn    = "${local.arn_base}:iam::${var.account_id}:policy/${local.name_prefix}-boundary"
  rule_arn        = "${local.arn_base}:events:${local.region_acct}:rule/${local.name_prefix}-schedule"
  alarm_arns      = "${local.arn_base}:cloudwatch:${local.region_acct}:alarm:${local.name_prefix}.*"
}

# ---------------------------------------------------------------------------------
# KMS (optional): one key for the log groups, queues, table, artifacts, image repository,
# alarm topic and the functions' environment variables. The account root may administer
# it but use it only through those services (so the ViaService statements mean something);
# the deploy role administers it and uses it through the services it deploys; the plan
# role reads its settings.

data "aws_iam_policy_document" "kms" {
  statement {
    sid = "AccountAdministersKey"
    actions = [
      "kms:CreateAlias", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
      "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
      "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
    ]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["${local.arn_base}:iam::${var.account_id}:root"]
    }
  }

  statement {
    sid = "DeployRoleAdministersKey"
    actions = [
      "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus",
      "kms:EnableKeyRotation", "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource",
      "kms:UpdateKeyDescription", "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias",
      "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
    ]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.deploy_role_arn]
    }
  }

  statement {
    sid       = "DeployRoleUsesKeyThroughTheServicesItDeploys"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.deploy_role_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [for s in ["s3", "sqs", "dynamodb", "ecr", "lambda", "sns", "logs"] : "${s}.${var.aws_region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "PlanRoleReadsKey"
    actions   = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.plan_role_arn]
    }
  }

  statement {
    sid = "CloudWatchLogsUsesKeyForTheEnvironmentsLogGroups"
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:DescribeKey",
    ]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.aws_region}.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = local.log_group_arns
    }
  }

  statement {
    sid = "AccountPrincipalsUseKeyThroughSqsDynamoDBAndLambda"
    actions = [
      "kms:Decrypt",
      "kms:GenerateDataKey",
      "kms:DescribeKey",
    ]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["${local.arn_base}:iam::${var.account_id}:root"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sqs.${var.aws_region}.amazonaws.com", "dynamodb.${var.aws_region}.amazonaws.com", "lambda.${var.aws_region}.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:CallerAccount"
      values   = [var.account_id]
    }
  }

  statement {
    sid       = "EventBridgeSendsUndeliveredScheduleEventsToTheEncryptedDlq"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [local.rule_arn]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublishToTheEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.alarm_arns]
    }
  }
}

resource "aws_kms_key" "main" {
  count                   = var.kms_enabled ? 1 : 0
  description             = "${local.name_prefix}: logs, queues, table, artifacts, images, alarms, function environments"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = local.tags
}

resource "aws_kms_alias" "main" {
  count         = var.kms_enabled ? 1 : 0
  name          = "alias/${local.name_prefix}"
  target_key_id = aws_kms_key.main[0].key_id
}

# ---------------------------------------------------------------------------------
# Artifacts bucket: function zips and the shared layer, versioned.

resource "aws_s3_bucket" "artifacts" {
  bucket = local.artifacts_bucket
  tags   = local.tags
}

resource "aws_s3_bucket_ownership_controls" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_enabled ? "aws:kms" : "AES256"
      kms_master_key_id = var.kms_enabled ? aws_kms_key.main[0].arn : null
    }
    bucket_key_enabled = var.kms_enabled
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    id     = "expire-old-artifacts"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "artifacts_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "artifacts" {
  bucket     = aws_s3_bucket.artifacts.id
  policy     = data.aws_iam_policy_document.artifacts_bucket.json
  depends_on = [aws_s3_bucket_public_access_block.artifacts]
}

# ---------------------------------------------------------------------------------
# Alarm topic: every alarm of the environment notifies it (encrypted with the key when
# there is one); the configured addresses subscribe by e-mail (each confirms once).

resource "aws_sns_topic" "alarms" {
  count             = var.alarms_enabled ? 1 : 0
  name              = "${local.name_prefix}-alarms"
  kms_master_key_id = var.kms_enabled ? aws_kms_key.main[0].arn : null
  tags              = local.tags
}

data "aws_iam_policy_document" "alarm_topic" {
  statement {
    sid       = "TheEnvironmentsAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = ["${local.arn_base}:sns:${local.region_acct}:${local.name_prefix}-alarms"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.alarm_arns]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  count  = var.alarms_enabled ? 1 : 0
  arn    = aws_sns_topic.alarms[0].arn
  policy = data.aws_iam_policy_document.alarm_topic.json
}

resource "aws_sns_topic_subscription" "alarms" {
  for_each  = var.alarms_enabled ? toset(var.alarm_email_endpoints) : toset([])
  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = each.key
}
