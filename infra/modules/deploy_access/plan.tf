# The plan role: reads what Terraform refreshes, and nothing else — no data (items,
# messages, objects other than the environment's own state and artifacts), and the only
# write is the state's lock file.

data "aws_iam_policy_document" "plan_state" {
  statement {
    sid       = "ReadTheState"
    actions   = ["s3:GetObject"]
    resources = [local.state_objects[0]]
  }
  statement {
    sid       = "LockTheState"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [local.state_objects[1]]
  }
  statement {
    sid       = "StateListingOfThisEnvironment"
    actions   = ["s3:ListBucket"]
    resources = [var.state_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [local.state_key, "${local.state_key}.tflock"]
    }
  }
  statement {
    sid       = "StateKeyForThisEnvironmentsStateOnly"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = ["${local.arn_base}:kms:${var.state_region}:${var.account_id}:key/*"]
    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "kms:ResourceAliases"
      values   = [var.state_key_alias]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.state_region}.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = local.state_objects
    }
  }
  statement {
    sid = "ReadArtifacts"
    actions = [
      "s3:ListBucket", "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketWebsite",
      "s3:GetBucketVersioning", "s3:GetBucketLogging", "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketTagging", "s3:GetBucketPolicy", "s3:GetBucketOwnershipControls",
      "s3:GetBucketPublicAccessBlock", "s3:GetBucketRequestPayment", "s3:GetBucketLocation",
      "s3:GetAccelerateConfiguration", "s3:GetLifecycleConfiguration",
      "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration",
    ]
    resources = [local.artifacts_bucket]
  }
  statement {
    sid       = "ReadArtifactObjectsMetadata"
    actions   = ["s3:GetObject", "s3:GetObjectTagging"]
    resources = ["${local.artifacts_bucket}/*"]
  }
}

data "aws_iam_policy_document" "plan_services" {
  statement {
    sid = "ReadFunctions"
    actions = [
      "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:ListVersionsByFunction",
      "lambda:GetFunctionCodeSigningConfig", "lambda:GetFunctionConcurrency", "lambda:ListTags",
      "lambda:GetPolicy", "lambda:GetAlias", "lambda:GetFunctionEventInvokeConfig",
      "lambda:GetRuntimeManagementConfig", "lambda:GetLayerVersion", "lambda:ListLayerVersions",
    ]
    resources = concat(local.function_forms, local.layer_arns)
  }
  statement {
    sid       = "ReadEventSourceMappings"
    actions   = ["lambda:GetEventSourceMapping", "lambda:ListTags"]
    resources = ["${local.arn_base}:lambda:${local.region_acct}:event-source-mapping:*"]
  }
  statement {
    sid       = "ReadRoles"
    actions   = ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListRoleTags"]
    resources = local.created_role_arns
  }
  statement {
    sid       = "ReadHttpApi"
    actions   = ["apigateway:GET"]
    resources = concat(["${local.apigw}/apis", "${local.apigw}/apis/*", "${local.apigw}/tags/*"], var.domain.enabled ? ["${local.apigw}/domainnames/${var.domain.name}", "${local.apigw}/domainnames/${var.domain.name}/*"] : [])
  }
  statement {
    sid       = "ReadQueues"
    actions   = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"]
    resources = local.queue_arns
  }
  statement {
    sid       = "ReadTable"
    actions   = ["dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource", "dynamodb:DescribeKinesisStreamingDestination"]
    resources = local.table_arns
  }
  statement {
    sid       = "ReadRule"
    actions   = ["events:DescribeRule", "events:ListTargetsByRule", "events:ListTagsForResource"]
    resources = [local.rule_arn]
  }
  statement {
    sid       = "ReadLogGroups"
    actions   = ["logs:ListTagsForResource", "logs:ListTagsLogGroup"]
    resources = local.log_group_arns
  }
  statement {
    sid       = "ReadRepository"
    actions   = ["ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource", "ecr:DescribeImages"]
    resources = [local.repository_arn]
  }
  statement {
    sid       = "ReadAlarmTopic"
    actions   = ["sns:GetTopicAttributes", "sns:GetSubscriptionAttributes", "sns:ListSubscriptionsByTopic", "sns:ListTagsForResource"]
    resources = [local.topic_arn, "${local.topic_arn}:*"]
  }
  statement {
    sid       = "ReadAlarmsAndDashboard"
    actions   = ["cloudwatch:ListTagsForResource", "cloudwatch:GetDashboard"]
    resources = [local.alarm_arns, local.dashboard_arn]
  }
  dynamic "statement" {
    for_each = local.canary ? [1] : []
    content {
      sid       = "ReadCodeDeploy"
      actions   = ["codedeploy:GetApplication", "codedeploy:GetDeploymentGroup", "codedeploy:ListTagsForResource", "codedeploy:GetDeploymentConfig"]
      resources = [local.codedeploy_app, local.codedeploy_group, local.codedeploy_cfg]
    }
  }
  dynamic "statement" {
    for_each = var.domain.enabled ? [1] : []
    content {
      sid       = "ReadCertificatesAndDns"
      actions   = ["acm:DescribeCertificate", "acm:ListTagsForCertificate", "route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:GetChange"]
      resources = ["${local.arn_base}:acm:${local.region_acct}:certificate/*", "${local.arn_base}:route53:::hostedzone/${var.domain.zone_id}", "${local.arn_base}:route53:::change/*"]
    }
  }
  statement {
    sid = "ReadOnlyDiscovery"
    actions = concat(
      ["lambda:ListEventSourceMappings", "kms:ListAliases", "logs:DescribeLogGroups", "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:DescribeResourcePolicies", "cloudwatch:DescribeAlarms"],
      var.vpc_enabled ? ["ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"] : [],
      var.domain.enabled ? ["acm:ListCertificates"] : [],
    )
    resources = ["*"]
  }
}

locals {
  plan_policies = {
    state    = data.aws_iam_policy_document.plan_state.json
    services = data.aws_iam_policy_document.plan_services.json
  }
}

resource "aws_iam_policy" "plan" {
  for_each    = local.plan_policies
  name        = "${local.name_prefix}-plan-${each.key}"
  description = "${local.name_prefix} plan role, read-only: ${each.key} (managed by infra/bootstrap)"
  policy      = each.value
}

resource "aws_iam_role_policy_attachment" "plan" {
  for_each   = local.plan_policies
  role       = aws_iam_role.plan.name
  policy_arn = aws_iam_policy.plan[each.key].arn
}

# The deploy role's guardrails hold for the plan role too.
resource "aws_iam_role_policy_attachment" "plan_guardrails" {
  role       = aws_iam_role.plan.name
  policy_arn = aws_iam_policy.deploy["guardrails"].arn
}
