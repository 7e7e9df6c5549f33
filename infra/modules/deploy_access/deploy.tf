# The deploy role's rights: the actions Terraform and the pipeline need, listed one by one,
# on this environment's exact resources; then explicit denies that hold whatever else is
# ever attached. Four managed policies (6,144 characters each at most).

data "aws_iam_policy_document" "deploy_state_artifacts" {
  statement {
    sid       = "StateObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = local.state_objects
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
    sid = "ArtifactsBucket"
    actions = [
      "s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:ListBucketVersions",
      "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketWebsite", "s3:GetBucketVersioning",
      "s3:GetBucketLogging", "s3:GetBucketObjectLockConfiguration", "s3:GetBucketTagging",
      "s3:GetBucketPolicy", "s3:GetBucketOwnershipControls", "s3:GetBucketPublicAccessBlock",
      "s3:GetBucketRequestPayment", "s3:GetBucketLocation", "s3:GetAccelerateConfiguration",
      "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration",
      "s3:PutBucketTagging", "s3:PutBucketOwnershipControls", "s3:PutBucketPublicAccessBlock",
      "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
      "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
    ]
    resources = [local.artifacts_bucket]
  }
  statement {
    sid = "ArtifactsObjects"
    actions = [
      "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:PutObject",
      "s3:PutObjectTagging", "s3:DeleteObject", "s3:DeleteObjectVersion",
    ]
    resources = ["${local.artifacts_bucket}/*"]
  }
  statement {
    sid = "ImageRepository"
    actions = [
      "ecr:CreateRepository", "ecr:DeleteRepository", "ecr:DescribeRepositories",
      "ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy",
      "ecr:SetRepositoryPolicy", "ecr:GetRepositoryPolicy", "ecr:DeleteRepositoryPolicy",
      "ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability",
      "ecr:TagResource", "ecr:UntagResource", "ecr:ListTagsForResource",
      "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages",
    ]
    resources = [local.repository_arn]
  }
  statement {
    sid = "ReadOnlyDiscovery"
    actions = concat(
      ["ecr:GetAuthorizationToken", "lambda:ListEventSourceMappings", "kms:ListAliases", "logs:DescribeLogGroups", "cloudwatch:DescribeAlarms"],
      var.vpc_enabled ? ["ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs"] : [],
      var.domain.enabled ? ["acm:ListCertificates"] : [],
    )
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "deploy_functions" {
  statement {
    sid = "EnvironmentFunctions"
    actions = [
      "lambda:CreateFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration",
      "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:DeleteFunction",
      "lambda:ListVersionsByFunction", "lambda:PublishVersion", "lambda:GetFunctionCodeSigningConfig",
      "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:GetFunctionConcurrency",
      "lambda:TagResource", "lambda:UntagResource", "lambda:ListTags", "lambda:GetPolicy",
      "lambda:CreateAlias", "lambda:UpdateAlias", "lambda:DeleteAlias", "lambda:GetAlias",
      "lambda:PutFunctionEventInvokeConfig", "lambda:UpdateFunctionEventInvokeConfig",
      "lambda:GetFunctionEventInvokeConfig", "lambda:DeleteFunctionEventInvokeConfig",
      "lambda:GetRuntimeManagementConfig",
    ]
    resources = local.function_forms
  }
  statement {
    sid       = "InvokePermissionsForTheApiAndTheSchedule"
    actions   = ["lambda:AddPermission", "lambda:RemovePermission"]
    resources = local.function_forms
    condition {
      test     = "StringEquals"
      variable = "lambda:Principal"
      values   = ["apigateway.amazonaws.com", "events.amazonaws.com"]
    }
  }
  statement {
    sid       = "SharedLayer"
    actions   = ["lambda:PublishLayerVersion", "lambda:GetLayerVersion", "lambda:DeleteLayerVersion", "lambda:ListLayerVersions"]
    resources = local.layer_arns
  }
  statement {
    sid       = "EventSourceMappingsOfTheseFunctions"
    actions   = ["lambda:CreateEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"]
    resources = ["*"]
    condition {
      test     = "ArnLike"
      variable = "lambda:FunctionArn"
      values   = local.function_forms
    }
  }
  statement {
    sid       = "ReadAndTagEventSourceMappings"
    actions   = ["lambda:GetEventSourceMapping", "lambda:TagResource", "lambda:UntagResource", "lambda:ListTags"]
    resources = ["${local.arn_base}:lambda:${local.region_acct}:event-source-mapping:*"]
  }
  statement {
    sid       = "RolesOnlyWithTheBoundary"
    actions   = ["iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"]
    resources = local.created_role_arns
    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.boundary_arn]
    }
  }
  statement {
    sid = "ManageTheEnvironmentsRoles"
    actions = [
      "iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole", "iam:ListRoleTags", "iam:TagRole", "iam:UntagRole",
      "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole",
    ]
    resources = local.created_role_arns
  }
  statement {
    sid       = "PassFunctionRolesToLambda"
    actions   = ["iam:PassRole"]
    resources = local.function_role_arns
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com"]
    }
  }
  dynamic "statement" {
    for_each = local.canary ? [1] : []
    content {
      sid       = "PassTheCodeDeployRole"
      actions   = ["iam:PassRole"]
      resources = [local.codedeploy_role_arn]
      condition {
        test     = "StringEquals"
        variable = "iam:PassedToService"
        values   = ["codedeploy.amazonaws.com"]
      }
    }
  }
  dynamic "statement" {
    for_each = local.canary ? [1] : []
    content {
      sid = "CodeDeployShiftsTraffic"
      actions = [
        "codedeploy:CreateApplication", "codedeploy:GetApplication", "codedeploy:UpdateApplication",
        "codedeploy:DeleteApplication", "codedeploy:TagResource", "codedeploy:UntagResource",
        "codedeploy:ListTagsForResource", "codedeploy:RegisterApplicationRevision",
        "codedeploy:GetApplicationRevision", "codedeploy:CreateDeploymentGroup",
        "codedeploy:GetDeploymentGroup", "codedeploy:UpdateDeploymentGroup",
        "codedeploy:DeleteDeploymentGroup", "codedeploy:CreateDeployment",
        "codedeploy:GetDeployment", "codedeploy:StopDeployment", "codedeploy:ListDeployments",
        "codedeploy:GetDeploymentConfig",
      ]
      resources = [local.codedeploy_app, local.codedeploy_group, local.codedeploy_cfg]
    }
  }
}

data "aws_iam_policy_document" "deploy_platform" {
  statement {
    sid       = "CreateHttpApiTaggedForThisEnvironment"
    actions   = ["apigateway:POST"]
    resources = ["${local.apigw}/apis"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [var.environment]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Project"
      values   = [var.project]
    }
  }
  statement {
    sid       = "HttpApiAndItsChildren"
    actions   = ["apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE", "apigateway:TagResource", "apigateway:UntagResource"]
    resources = ["${local.apigw}/apis/*", "${local.apigw}/tags/*"]
  }
  statement {
    sid       = "ListHttpApis"
    actions   = ["apigateway:GET"]
    resources = ["${local.apigw}/apis"]
  }
  statement {
    sid = "EnvironmentQueues"
    actions = [
      "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes",
      "sqs:GetQueueUrl", "sqs:ListQueueTags", "sqs:TagQueue", "sqs:UntagQueue",
      "sqs:ListDeadLetterSourceQueues",
    ]
    resources = local.queue_arns
  }
  statement {
    sid = "EnvironmentTable"
    actions = [
      "dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:UpdateTable", "dynamodb:DeleteTable",
      "dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups",
      "dynamodb:DescribeTimeToLive", "dynamodb:UpdateTimeToLive", "dynamodb:TagResource",
      "dynamodb:UntagResource", "dynamodb:ListTagsOfResource",
      "dynamodb:DescribeKinesisStreamingDestination",
    ]
    resources = local.table_arns
  }
  statement {
    sid = "EnvironmentScheduleRule"
    actions = [
      "events:PutRule", "events:DescribeRule", "events:DeleteRule", "events:EnableRule",
      "events:DisableRule", "events:RemoveTargets", "events:ListTargetsByRule",
      "events:TagResource", "events:UntagResource", "events:ListTagsForResource",
    ]
    resources = [local.rule_arn]
  }
  statement {
    sid       = "ScheduleTargetsOnlyTheProducer"
    actions   = ["events:PutTargets"]
    resources = [local.rule_arn]
    condition {
      test     = "ArnLike"
      variable = "events:TargetArn"
      values   = ["${local.arn_base}:lambda:${local.region_acct}:function:${local.name_prefix}-producer:*"]
    }
  }
  statement {
    sid = "EnvironmentLogGroups"
    actions = [
      "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
      "logs:AssociateKmsKey", "logs:DisassociateKmsKey", "logs:TagResource", "logs:UntagResource",
      "logs:ListTagsForResource", "logs:TagLogGroup", "logs:UntagLogGroup", "logs:ListTagsLogGroup",
    ]
    resources = local.log_group_arns
  }
  statement {
    sid = "HttpApiAccessLogDelivery"
    actions = [
      "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:DescribeResourcePolicies",
    ]
    resources = ["*"]
  }
  statement {
    sid = "AlarmTopic"
    actions = [
      "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
      "sns:Unsubscribe", "sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes",
      "sns:ListSubscriptionsByTopic", "sns:TagResource", "sns:UntagResource", "sns:ListTagsForResource",
    ]
    resources = [local.topic_arn, "${local.topic_arn}:*"]
  }
  statement {
    sid       = "AlarmTopicEmailSubscriptions"
    actions   = ["sns:Subscribe"]
    resources = [local.topic_arn]
    condition {
      test     = "StringEquals"
      variable = "sns:Protocol"
      values   = ["email"]
    }
  }
  statement {
    sid       = "EnvironmentAlarms"
    actions   = ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource"]
    resources = [local.alarm_arns]
  }
  statement {
    sid       = "EnvironmentDashboard"
    actions   = ["cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"]
    resources = [local.dashboard_arn]
  }
  statement {
    sid       = "CreateTheEnvironmentKeyTaggedForIt"
    actions   = ["kms:CreateKey", "kms:TagResource"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [var.environment]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Project"
      values   = [var.project]
    }
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = concat(local.fixed_tag_keys, var.tag_keys)
    }
  }
  statement {
    sid       = "TheEnvironmentKeysAlias"
    actions   = ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"]
    resources = [local.key_alias_arn]
  }
}

# Only with a custom domain: its certificate, DNS records and API Gateway domain name.
data "aws_iam_policy_document" "deploy_domain" {
  statement {
    sid       = "RequestTheDomainsCertificate"
    actions   = ["acm:RequestCertificate"]
    resources = ["*"]
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "acm:DomainNames"
      values   = [var.domain.name]
    }
    condition {
      test     = "StringEquals"
      variable = "acm:ValidationMethod"
      values   = ["DNS"]
    }
  }
  statement {
    sid       = "ManageCertificatesAndDnsChanges"
    actions   = ["acm:DescribeCertificate", "acm:DeleteCertificate", "acm:AddTagsToCertificate", "acm:RemoveTagsFromCertificate", "acm:ListTagsForCertificate", "route53:GetChange"]
    resources = ["${local.arn_base}:acm:${local.region_acct}:certificate/*", "${local.arn_base}:route53:::change/*"]
  }
  statement {
    sid       = "TheDomainsDnsRecords"
    actions   = ["route53:ChangeResourceRecordSets"]
    resources = ["${local.arn_base}:route53:::hostedzone/${var.domain.zone_id}"]
    condition {
      test     = "ForAllValues:StringLike"
      variable = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
      values   = [var.domain.name, "_*.${var.domain.name}"]
    }
  }
  statement {
    sid       = "ReadTheZone"
    actions   = ["route53:GetHostedZone", "route53:ListResourceRecordSets"]
    resources = ["${local.arn_base}:route53:::hostedzone/${var.domain.zone_id}"]
  }
  statement {
    sid       = "CreateTheDomainNameTaggedForThisEnvironment"
    actions   = ["apigateway:POST"]
    resources = ["${local.apigw}/domainnames"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [var.environment]
    }
  }
  statement {
    sid       = "TheDomainNameAndItsMapping"
    actions   = ["apigateway:GET", "apigateway:POST", "apigateway:PATCH", "apigateway:DELETE"]
    resources = ["${local.apigw}/domainnames/${var.domain.name}", "${local.apigw}/domainnames/${var.domain.name}/*"]
  }
}

# Denies: whatever else is attached to the role one day, these hold.
data "aws_iam_policy_document" "deploy_guardrails" {
  statement {
    sid       = "NoChangesToAnyDeployOrPlanRole"
    effect    = "Deny"
    actions   = ["iam:*"]
    resources = ["${local.arn_base}:iam::${var.account_id}:role/${var.project}-*-deploy", "${local.arn_base}:iam::${var.account_id}:role/${var.project}-*-plan"]
  }
  statement {
    sid       = "NoChangesToBoundariesOrDeployPolicies"
    effect    = "Deny"
    actions   = ["iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:TagPolicy", "iam:UntagPolicy"]
    resources = ["${local.arn_base}:iam::${var.account_id}:policy/${var.project}-*"]
  }
  statement {
    sid       = "NoRoleWithoutTheBoundary"
    effect    = "Deny"
    actions   = ["iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"]
    resources = ["*"]
    condition {
      test     = "StringNotEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.boundary_arn]
    }
  }
  statement {
    sid       = "NoBoundaryRemovalNoManagedPolicies"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile"]
    resources = ["*"]
  }
  statement {
    sid       = "NoLogResourcePoliciesOrExports"
    effect    = "Deny"
    actions   = ["logs:PutResourcePolicy", "logs:DeleteResourcePolicy", "logs:PutSubscriptionFilter", "logs:PutDestination", "logs:PutDestinationPolicy", "logs:CreateExportTask"]
    resources = ["*"]
  }
  statement {
    sid       = "NoPublicFunctionUrlsOrSharedLayers"
    effect    = "Deny"
    actions   = ["lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig", "lambda:AddLayerVersionPermission", "s3:PutAccountPublicAccessBlock"]
    resources = ["*"]
  }
  statement {
    sid       = "NoRetaggingOtherEnvironmentsKeysOrCertificates"
    effect    = "Deny"
    actions   = ["kms:TagResource", "kms:UntagResource", "acm:AddTagsToCertificate", "acm:RemoveTagsFromCertificate", "acm:DeleteCertificate"]
    resources = ["*"]
    condition {
      test     = "Null"
      variable = "aws:ResourceTag/Environment"
      values   = ["false"]
    }
    condition {
      test     = "StringNotEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [var.environment]
    }
  }
  statement {
    sid       = "NoChangesToOtherEnvironmentsApis"
    effect    = "Deny"
    actions   = ["apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"]
    resources = ["${local.apigw}/apis/*"]
    condition {
      test     = "Null"
      variable = "aws:ResourceTag/Environment"
      values   = ["false"]
    }
    condition {
      test     = "StringNotEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [var.environment]
    }
  }
  dynamic "statement" {
    for_each = var.protected ? [1] : []
    content {
      sid    = "ProtectedNoDestroyingStatefulResources"
      effect = "Deny"
      actions = [
        "dynamodb:DeleteTable", "dynamodb:DeleteBackup", "sqs:DeleteQueue", "sqs:PurgeQueue",
        "logs:DeleteLogGroup", "logs:DeleteLogStream", "s3:DeleteBucket", "ecr:DeleteRepository",
        "ecr:BatchDeleteImage", "kms:ScheduleKeyDeletion", "kms:DisableKey", "sns:DeleteTopic",
      ]
      resources = ["*"]
    }
  }
}

locals {
  deploy_policies = merge({
    state-artifacts = data.aws_iam_policy_document.deploy_state_artifacts.json
    functions       = data.aws_iam_policy_document.deploy_functions.json
    platform        = data.aws_iam_policy_document.deploy_platform.json
    guardrails      = data.aws_iam_policy_document.deploy_guardrails.json
  }, var.domain.enabled ? { domain = data.aws_iam_policy_document.deploy_domain.json } : {})
}

resource "aws_iam_policy" "deploy" {
  for_each    = local.deploy_policies
  name        = "${local.name_prefix}-deploy-${each.key}"
  description = "${local.name_prefix} deploy role: ${each.key} (managed by infra/bootstrap)"
  policy      = each.value
}

resource "aws_iam_role_policy_attachment" "deploy" {
  for_each   = local.deploy_policies
  role       = aws_iam_role.deploy.name
  policy_arn = aws_iam_policy.deploy[each.key].arn
}
