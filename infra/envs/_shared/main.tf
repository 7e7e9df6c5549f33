# The environment: the three layers composed, configured from terraform.tfvars.json.
# Shared by every environment: envs/<env>/main.tf is a link to this file; only each
# env's versions.tf (its backend key) differs.

data "aws_caller_identity" "current" {
  count = var.aws_account_id == "" ? 1 : 0
}

locals {
  account_id     = var.aws_account_id != "" ? var.aws_account_id : data.aws_caller_identity.current[0].account_id
  state_bucket   = var.state_bucket_name != "" ? var.state_bucket_name : "${var.project}-tfstate-${local.account_id}"
  state_key      = "${var.project}/${var.environment}/terraform.tfstate"
  function_names = ["api", "worker", "producer"]
}

provider "aws" {
  region              = var.aws_region
  allowed_account_ids = var.aws_account_id != "" ? [var.aws_account_id] : null
}

module "core" {
  source = "../../layers/10_core"

  project             = var.project
  environment         = var.environment
  aws_region          = var.aws_region
  account_id          = local.account_id
  tags                = var.tags
  log_retention_days  = var.log_retention_days
  kms_enabled         = var.kms_enabled
  function_names      = local.function_names
  github_repository   = var.deploy.github_repository
  github_branch       = var.deploy.github_branch
  deploy_trust_branch = var.environment != "prod"
  state_bucket_name   = local.state_bucket
  state_key           = local.state_key
  domain_zone_id      = var.domain.enabled ? var.domain.zone_id : ""
}

module "infra" {
  source = "../../layers/20_infra"

  name_prefix        = module.core.name_prefix
  tags               = module.core.tags
  aws_region         = var.aws_region
  account_id         = local.account_id
  log_retention_days = module.core.log_retention_days
  kms_key_arn        = module.core.kms_key_arn
  function_names     = local.function_names
  api                = var.api
  queue              = var.queue
  table              = var.table
  schedule           = { expression = var.schedule.expression, enabled = var.schedule.enabled }
  ecr_keep_images    = var.deploy.ecr_keep_images
  domain             = var.domain
}

module "app" {
  source = "../../layers/30_app"

  project            = var.project
  environment        = var.environment
  name_prefix        = module.core.name_prefix
  tags               = module.core.tags
  aws_region         = var.aws_region
  account_id         = local.account_id
  log_retention_days = module.core.log_retention_days
  kms_key_arn        = module.core.kms_key_arn
  functions          = var.functions
  scheduled_tasks    = var.schedule.tasks
  max_receive_count  = var.queue.max_receive_count
  architecture       = var.deploy.architecture
  package_type       = var.deploy.package_type
  artifacts_bucket   = module.core.artifacts_bucket
  artifacts_dir      = var.artifacts_dir
  repository_url     = module.infra.repository_url
  image_tag          = var.image_tag
  network            = var.network
  queue_url          = module.infra.queue_url
  queue_arn          = module.infra.queue_arn
  table_name         = module.infra.table_name
  table_arn          = module.infra.table_arn
  status_index_name  = module.infra.status_index_name
  api_id             = module.infra.api_id
  api_execution_arn  = module.infra.api_execution_arn
  rule_name          = module.infra.rule_name
  rule_arn           = module.infra.rule_arn
}
