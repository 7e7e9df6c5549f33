# The per-environment deploy role: GitHub Actions assumes it through OIDC to run
# terraform plan/apply for this environment and push the image. Its rights reach only
# what carries this environment's name prefix; the statements that must use a wildcard
# are listed, with their reason, in tests/infra/test_hcl.py (IAM_WILDCARD_ALLOWLIST).

locals {
  arn_base      = "arn:${var.partition}"
  region_acct   = "${var.aws_region}:${var.account_id}"
  function_arns = [for f in var.function_names : "${local.arn_base}:lambda:${local.region_acct}:function:${local.name_prefix}-${f}"]
  role_arns     = [for f in var.function_names : "${local.arn_base}:iam::${var.account_id}:role/${local.name_prefix}-${f}-role"]
  github_subjects = concat(
    ["repo:${var.github_repository}:environment:${var.environment}"],
    var.deploy_trust_branch ? ["repo:${var.github_repository}:ref:refs/heads/${var.github_branch}"] : [],
  )
}

data "aws_iam_policy_document" "deploy_trust" {
  statement {
    sid     = "GitHubActionsOidc"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = local.github_subjects
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${local.name_prefix}-deploy"
  description          = "GitHub Actions deploys ${local.name_prefix} through OIDC"
  assume_role_policy   = data.aws_iam_policy_document.deploy_trust.json
  max_session_duration = 3600
  tags                 = local.tags
}

data "aws_iam_policy_document" "deploy" {
  statement {
    sid       = "StateObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.arn_base}:s3:::${var.state_bucket_name}/${var.state_key}", "${local.arn_base}:s3:::${var.state_bucket_name}/${var.state_key}.tflock"]
  }

  statement {
    sid       = "StateBucketList"
    actions   = ["s3:ListBucket"]
    resources = ["${local.arn_base}:s3:::${var.state_bucket_name}"]
  }

  statement {
    sid       = "ArtifactsBucket"
    actions   = ["s3:*"]
    resources = ["${local.arn_base}:s3:::${local.artifacts_bucket}", "${local.arn_base}:s3:::${local.artifacts_bucket}/*"]
  }

  statement {
    sid     = "EnvironmentFunctionsAndLayer"
    actions = ["lambda:*"]
    resources = concat(local.function_arns, [
      "${local.arn_base}:lambda:${local.region_acct}:layer:${local.name_prefix}-shared",
      "${local.arn_base}:lambda:${local.region_acct}:layer:${local.name_prefix}-shared:*",
    ])
  }

  statement {
    sid       = "CreateEventSourceMappingForTheseFunctions"
    actions   = ["lambda:CreateEventSourceMapping"]
    resources = ["*"]
    condition {
      test     = "ArnEquals"
      variable = "lambda:FunctionArn"
      values   = local.function_arns
    }
  }

  statement {
    sid = "ManageEventSourceMappings"
    actions = [
      "lambda:GetEventSourceMapping",
      "lambda:UpdateEventSourceMapping",
      "lambda:DeleteEventSourceMapping",
      "lambda:TagResource",
      "lambda:UntagResource",
      "lambda:ListTags",
    ]
    resources = ["${local.arn_base}:lambda:${local.region_acct}:event-source-mapping:*"]
  }

  statement {
    sid = "HttpApiAccessLogDelivery"
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "EnvironmentQueues"
    actions   = ["sqs:*"]
    resources = ["${local.arn_base}:sqs:${local.region_acct}:${local.name_prefix}-tasks", "${local.arn_base}:sqs:${local.region_acct}:${local.name_prefix}-tasks-dlq"]
  }

  statement {
    sid     = "EnvironmentTable"
    actions = ["dynamodb:*"]
    resources = [
      "${local.arn_base}:dynamodb:${local.region_acct}:table/${local.name_prefix}-tasks",
      "${local.arn_base}:dynamodb:${local.region_acct}:table/${local.name_prefix}-tasks/index/by-status",
    ]
  }

  statement {
    sid       = "EnvironmentScheduleRule"
    actions   = ["events:*"]
    resources = ["${local.arn_base}:events:${local.region_acct}:rule/${local.name_prefix}-schedule"]
  }

  statement {
    sid       = "EnvironmentLogGroups"
    actions   = ["logs:*"]
    resources = concat(local.log_group_arns, [for a in local.log_group_arns : "${a}:*"])
  }

  statement {
    sid       = "EnvironmentImageRepository"
    actions   = ["ecr:*"]
    resources = ["${local.arn_base}:ecr:${local.region_acct}:repository/${local.name_prefix}"]
  }

  statement {
    sid = "EnvironmentRoles"
    actions = [
      "iam:CreateRole",
      "iam:DeleteRole",
      "iam:GetRole",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
      "iam:UpdateAssumeRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:ListRoleTags",
      "iam:PutRolePolicy",
      "iam:GetRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
    ]
    resources = concat(local.role_arns, ["${local.arn_base}:iam::${var.account_id}:role/${local.name_prefix}-deploy"])
  }

  statement {
    sid       = "PassFunctionRoles"
    actions   = ["iam:PassRole"]
    resources = local.role_arns
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com"]
    }
  }

  statement {
    sid       = "ReadOidcProvider"
    actions   = ["iam:GetOpenIDConnectProvider"]
    resources = [local.oidc_provider_arn]
  }

  statement {
    sid       = "HttpApi"
    actions   = ["apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE", "apigateway:TagResource", "apigateway:UntagResource"]
    resources = ["${local.arn_base}:apigateway:${var.aws_region}::/apis", "${local.arn_base}:apigateway:${var.aws_region}::/apis/*", "${local.arn_base}:apigateway:${var.aws_region}::/tags/*", "${local.arn_base}:apigateway:${var.aws_region}::/domainnames", "${local.arn_base}:apigateway:${var.aws_region}::/domainnames/*"]
  }

  statement {
    sid       = "KmsKeyOfThisEnvironment"
    actions   = ["kms:*"]
    resources = ["*"]
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
  }

  statement {
    sid       = "KmsCreateTaggedKey"
    actions   = ["kms:CreateKey", "kms:TagResource"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [var.environment]
    }
  }

  statement {
    sid       = "KmsAlias"
    actions   = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
    resources = ["${local.arn_base}:kms:${local.region_acct}:alias/${local.name_prefix}"]
  }

  statement {
    sid = "ReadOnlyDiscovery"
    actions = [
      "ecr:GetAuthorizationToken",
      "lambda:ListEventSourceMappings",
      "kms:ListAliases",
      "logs:DescribeLogGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeVpcs",
      "acm:ListCertificates",
    ]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = var.domain_zone_id != "" ? [var.domain_zone_id] : []
    content {
      sid       = "CustomDomainDnsRecords"
      actions   = ["route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets"]
      resources = ["${local.arn_base}:route53:::hostedzone/${statement.value}"]
    }
  }

  dynamic "statement" {
    for_each = var.domain_zone_id != "" ? [var.domain_zone_id] : []
    content {
      sid       = "CustomDomainCertificateAndChanges"
      actions   = ["acm:RequestCertificate", "acm:DescribeCertificate", "acm:DeleteCertificate", "acm:AddTagsToCertificate", "acm:ListTagsForCertificate", "route53:GetChange"]
      resources = ["${local.arn_base}:acm:${local.region_acct}:certificate/*", "${local.arn_base}:route53:::change/*"]
    }
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "deploy-${local.name_prefix}"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}
