# Optional traffic shifting (deploy.traffic_shifting other than AllAtOnce): CodeDeploy
# moves each function's live alias from the version it serves to the one this apply
# published, in the configured canary or linear steps, and rolls back by itself when an
# error alarm of the function fires. infra/scripts/shift-traffic starts the deployments
# after apply (.github/workflows/apply-env.yml).

locals {
  codedeploy_role_name = "${var.name_prefix}-codedeploy-role"
}

data "aws_iam_policy_document" "codedeploy_trust" {
  statement {
    sid     = "CodeDeployOfThisAccount"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["codedeploy.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

data "aws_iam_policy_document" "codedeploy" {
  statement {
    sid       = "ShiftTheLiveAliases"
    actions   = ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig", "lambda:GetFunction"]
    resources = concat([for f in local.names : aws_lambda_function.fn[f].arn], [for f in local.names : "${aws_lambda_function.fn[f].arn}:*"])
  }
  statement {
    sid       = "WatchTheAlarms"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = ["arn:${var.partition}:cloudwatch:${var.aws_region}:${var.account_id}:alarm:${var.name_prefix}.*"]
  }
}

resource "aws_iam_role" "codedeploy" {
  count                = local.shifted ? 1 : 0
  name                 = local.codedeploy_role_name
  description          = "CodeDeploy shifts ${var.name_prefix}'s live aliases"
  assume_role_policy   = data.aws_iam_policy_document.codedeploy_trust.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "codedeploy" {
  count  = local.shifted ? 1 : 0
  name   = local.codedeploy_role_name
  role   = aws_iam_role.codedeploy[0].id
  policy = data.aws_iam_policy_document.codedeploy.json
}

resource "aws_codedeploy_app" "main" {
  count            = local.shifted ? 1 : 0
  name             = var.name_prefix
  compute_platform = "Lambda"
  tags             = var.tags
}

resource "aws_codedeploy_deployment_group" "live" {
  count                  = local.shifted ? 1 : 0
  app_name               = aws_codedeploy_app.main[0].name
  deployment_group_name  = "live"
  service_role_arn       = aws_iam_role.codedeploy[0].arn
  deployment_config_name = "CodeDeployDefault.Lambda${var.traffic_shifting}"
  tags                   = var.tags

  deployment_style {
    deployment_type   = "BLUE_GREEN"
    deployment_option = "WITH_TRAFFIC_CONTROL"
  }

  auto_rollback_configuration {
    enabled = true
    events  = local.alarms_on ? ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"] : ["DEPLOYMENT_FAILURE"]
  }

  alarm_configuration {
    enabled = local.alarms_on
    alarms  = local.alarms_on ? [for k, a in aws_cloudwatch_metric_alarm.function : a.alarm_name if endswith(k, "-errors")] : []
  }

  depends_on = [aws_iam_role_policy.codedeploy]
}
