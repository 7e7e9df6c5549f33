# Each environment's access, built from its own terraform.tfvars.json (the file the
# environment and `haar up` read): a change to who may deploy, or to what a deploy may
# touch (a custom domain, KMS, VPC placement, protection), takes an administrator's
# bootstrap apply — never the environment's own pipeline.

locals {
  # The provider's ARN is fixed by its URL; naming it (rather than reading the resource)
  # keeps the roles' trust policies known at plan time, for review.
  oidc_provider_arn = "${local.arn_base}:iam::${local.account_id}:oidc-provider/token.actions.githubusercontent.com"
  env_config        = { for e in var.environments : e => jsondecode(file("${path.module}/../envs/${e}/terraform.tfvars.json")) }
  # Environments in this region: their API access logs are delivered under the account's
  # CloudWatch Logs resource policy below (resource policies are regional).
  local_envs = [for e, c in local.env_config : e if c.aws_region == var.aws_region]
}

module "environment" {
  source   = "../modules/deploy_access"
  for_each = local.env_config

  project           = var.project
  environment       = each.key
  file_project      = each.value.project
  file_environment  = each.value.environment
  aws_region        = each.value.aws_region
  account_id        = local.account_id
  partition         = var.partition
  oidc_provider_arn = local.oidc_provider_arn
  # From the provider resource when this configuration creates it: the roles are then
  # created after it (the value itself is known when planning).
  oidc_issuer       = var.create_github_oidc_provider ? trimprefix(aws_iam_openid_connect_provider.github[0].url, "https://") : "token.actions.githubusercontent.com"
  github_repository = each.value.deploy.github_repository
  github_branch     = try(each.value.deploy.github_branch, "main")
  state_region      = var.aws_region
  state_bucket_arn  = "${local.arn_base}:s3:::${local.state_bucket}"
  state_key_alias   = aws_kms_alias.state.name
  kms_enabled       = try(each.value.kms_enabled, false)
  tracing_enabled   = try(each.value.tracing_enabled, false)
  protected         = try(each.value.deploy.protected, false)
  package_type      = try(each.value.deploy.package_type, "Zip")
  traffic_shifting  = try(each.value.deploy.traffic_shifting, "AllAtOnce")
  vpc_enabled       = try(each.value.network.vpc_enabled, false)
  tag_keys          = keys(try(each.value.tags, {}))
  domain = {
    enabled = try(each.value.domain.enabled, false)
    name    = try(each.value.domain.name, "")
    zone_id = try(each.value.domain.zone_id, "")
  }
}

# HTTP API access logs reach CloudWatch Logs through log delivery, which needs a resource
# policy that lets delivery.logs.amazonaws.com write the log group. The administrator
# grants it here, once, for exactly the environments' access-log groups, so that no deploy
# role needs logs:PutResourcePolicy (an account-wide action no condition can narrow).
data "aws_iam_policy_document" "api_access_log_delivery" {
  count = length(local.local_envs) > 0 ? 1 : 0
  statement {
    sid       = "DeliverTheEnvironmentsApiAccessLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for e in local.local_envs : "${local.arn_base}:logs:${var.aws_region}:${local.account_id}:log-group:/aws/apigateway/${var.project}-${e}-api:log-stream:*"]
    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_cloudwatch_log_resource_policy" "api_access_log_delivery" {
  count           = length(local.local_envs) > 0 ? 1 : 0
  policy_name     = "${var.project}-api-access-log-delivery"
  policy_document = data.aws_iam_policy_document.api_access_log_delivery[0].json
}
