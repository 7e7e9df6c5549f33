# An environment's two GitHub Actions roles and the permissions boundary:
#   <project>-<env>-deploy  applies reviewed plans (GitHub environment <env>)
#   <project>-<env>-plan    plans, read-only (GitHub environment <env>-plan: pull requests,
#                           the deploy pipeline's plan job, drift detection)
#   <project>-<env>-boundary  the most any role a deploy creates may ever do
# Both roles trust only workflow runs in their GitHub environment and only from one
# reusable workflow file (the job_workflow_ref in the OIDC subject: the repository's
# subject claim template must include it, docs/aws.md). Every statement with a "*" is
# listed, with its reason, in tests/infra/test_hcl.py (IAM_WILDCARD_ALLOWLIST).

locals {
  arn_base    = "arn:${var.partition}"
  region_acct = "${var.aws_region}:${var.account_id}"
  name_prefix = "${var.project}-${var.environment}"
  functions   = ["api", "worker", "producer"]

  deploy_role_name = "${local.name_prefix}-deploy"
  plan_role_name   = "${local.name_prefix}-plan"
  boundary_arn     = "${local.arn_base}:iam::${var.account_id}:policy/${local.name_prefix}-boundary"

  state_key     = "${var.project}/${var.environment}/terraform.tfstate"
  state_objects = ["${var.state_bucket_arn}/${local.state_key}", "${var.state_bucket_arn}/${local.state_key}.tflock"]

  function_arns  = [for f in local.functions : "${local.arn_base}:lambda:${local.region_acct}:function:${local.name_prefix}-${f}"]
  function_forms = concat(local.function_arns, [for a in local.function_arns : "${a}:*"])
  layer_arns     = ["${local.arn_base}:lambda:${local.region_acct}:layer:${local.name_prefix}-shared", "${local.arn_base}:lambda:${local.region_acct}:layer:${local.name_prefix}-shared:*"]
  # Roles a deploy creates: the functions' execution roles and CodeDeploy's (exact names:
  # a pattern like <prefix>-*-role would also match environment "<env>-x"'s roles).
  function_role_arns  = [for f in local.functions : "${local.arn_base}:iam::${var.account_id}:role/${local.name_prefix}-${f}-role"]
  codedeploy_role_arn = "${local.arn_base}:iam::${var.account_id}:role/${local.name_prefix}-codedeploy-role"
  created_role_arns   = concat(local.function_role_arns, [local.codedeploy_role_arn])
  queue_arns          = [for q in ["tasks", "tasks-dlq", "schedule-dlq"] : "${local.arn_base}:sqs:${local.region_acct}:${local.name_prefix}-${q}"]
  table_arn           = "${local.arn_base}:dynamodb:${local.region_acct}:table/${local.name_prefix}-tasks"
  table_arns          = [local.table_arn, "${local.table_arn}/index/by-status"]
  rule_arn            = "${local.arn_base}:events:${local.region_acct}:rule/${local.name_prefix}-schedule"
  log_groups = concat(
    [for f in local.functions : "${local.arn_base}:logs:${local.region_acct}:log-group:/aws/lambda/${local.name_prefix}-${f}"],
    ["${local.arn_base}:logs:${local.region_acct}:log-group:/aws/apigateway/${local.name_prefix}-api"],
  )
  log_group_arns   = concat(local.log_groups, [for g in local.log_groups : "${g}:*"])
  repository_arn   = "${local.arn_base}:ecr:${local.region_acct}:repository/${local.name_prefix}"
  artifacts_bucket = "${local.arn_base}:s3:::${local.name_prefix}-artifacts-${var.account_id}"
  topic_arn        = "${local.arn_base}:sns:${local.region_acct}:${local.name_prefix}-alarms"
  # Alarm names are "<prefix>.<what>": "." cannot occur in an environment name, so the
  # pattern cannot reach another environment's alarms.
  alarm_arns       = "${local.arn_base}:cloudwatch:${local.region_acct}:alarm:${local.name_prefix}.*"
  dashboard_arn    = "${local.arn_base}:cloudwatch::${var.account_id}:dashboard/${local.name_prefix}"
  key_alias_arn    = "${local.arn_base}:kms:${local.region_acct}:alias/${local.name_prefix}"
  codedeploy_app   = "${local.arn_base}:codedeploy:${local.region_acct}:application:${local.name_prefix}"
  codedeploy_group = "${local.arn_base}:codedeploy:${local.region_acct}:deploymentgroup:${local.name_prefix}/*"
  codedeploy_cfg   = "${local.arn_base}:codedeploy:${local.region_acct}:deploymentconfig:*"
  apigw            = "${local.arn_base}:apigateway:${var.aws_region}::"
  canary           = var.traffic_shifting != "AllAtOnce"
  fixed_tag_keys   = ["Project", "Environment", "ManagedBy"]

  # OIDC subjects (repository subject template: repo, context, job_workflow_ref).
  workflows      = "${var.github_repository}/.github/workflows"
  deploy_subject = "repo:${var.github_repository}:environment:${var.environment}:job_workflow_ref:${local.workflows}/apply-env.yml@refs/heads/${var.github_branch}"
  plan_subjects = [
    "repo:${var.github_repository}:environment:${var.environment}-plan:job_workflow_ref:${local.workflows}/plan-env.yml@refs/heads/${var.github_branch}",
    "repo:${var.github_repository}:environment:${var.environment}-plan:job_workflow_ref:${local.workflows}/plan-env.yml@refs/pull/*/merge",
  ]
}

# ---------------------------------------------------------------------------------
# Trust.

data "aws_iam_policy_document" "deploy_trust" {
  statement {
    sid     = "GitHubEnvironmentApplyWorkflow"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:sub"
      values   = [local.deploy_subject]
    }
  }
}

data "aws_iam_policy_document" "plan_trust" {
  statement {
    sid     = "GitHubPlanEnvironmentPlanWorkflow"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "${var.oidc_issuer}:sub"
      values   = local.plan_subjects
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = local.deploy_role_name
  description          = "GitHub Actions applies reviewed plans of ${local.name_prefix} (managed by infra/bootstrap)"
  assume_role_policy   = data.aws_iam_policy_document.deploy_trust.json
  max_session_duration = 10800 # a linear traffic shift may take 100 minutes

  lifecycle {
    precondition {
      condition     = var.file_project == var.project && var.file_environment == var.environment
      error_message = "infra/envs/${var.environment}/terraform.tfvars.json names project ${var.file_project} and environment ${var.file_environment}; the bootstrap expects ${var.project} and ${var.environment}."
    }
  }
}

resource "aws_iam_role" "plan" {
  name                 = local.plan_role_name
  description          = "GitHub Actions plans ${local.name_prefix}, read-only (managed by infra/bootstrap)"
  assume_role_policy   = data.aws_iam_policy_document.plan_trust.json
  max_session_duration = 3600
}

# ---------------------------------------------------------------------------------
# The permissions boundary of every role a deploy creates: the functions' execution roles
# and CodeDeploy's. Whatever a deploy writes into such a role, it gets no more than this.

data "aws_iam_policy_document" "boundary" {
  statement {
    sid       = "WriteTheEnvironmentsFunctionLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for f in local.functions : "${local.arn_base}:logs:${local.region_acct}:log-group:/aws/lambda/${local.name_prefix}-${f}:log-stream:*"]
  }
  statement {
    sid       = "UseTheEnvironmentsTable"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"]
    resources = local.table_arns
  }
  statement {
    sid       = "UseTheEnvironmentsQueues"
    actions   = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
    resources = local.queue_arns
  }
  statement {
    sid       = "UseTheEnvironmentsKeyThroughItsServices"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["${local.arn_base}:kms:${local.region_acct}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [var.environment]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Project"
      values   = [var.project]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sqs.${var.aws_region}.amazonaws.com", "dynamodb.${var.aws_region}.amazonaws.com", "lambda.${var.aws_region}.amazonaws.com"]
    }
  }
  statement {
    sid       = "SendTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
  statement {
    sid       = "CodeDeployShiftsTheLiveAliases"
    actions   = ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig", "lambda:GetFunction"]
    resources = local.function_forms
  }
  statement {
    sid       = "CodeDeployWatchesAlarms"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = [local.alarm_arns]
  }
  dynamic "statement" {
    for_each = var.vpc_enabled ? [1] : []
    content {
      sid       = "VpcNetworkInterfaces"
      actions   = ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_policy" "boundary" {
  name        = "${local.name_prefix}-boundary"
  description = "The most any role a ${local.name_prefix} deploy creates may do (managed by infra/bootstrap)"
  policy      = data.aws_iam_policy_document.boundary.json
}
