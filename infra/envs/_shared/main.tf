# The environment: the three layers composed, configured from terraform.tfvars.json.
# Shared by every environment: envs/<env>/main.tf is a link to this file; only each
# env's versions.tf (its backend key) differs. The roles that deploy it are not here:
# infra/bootstrap creates them (and the permissions boundary) from the same file.

data "aws_caller_identity" "current" {
  count = var.aws_account_id == "" ? 1 : 0
}

locals {
  account_id     = var.aws_account_id != "" ? var.aws_account_id : data.aws_caller_identity.current[0].account_id
  function_names = ["api", "worker", "producer"]
}

provider "aws" {
  region              = var.aws_region
  allowed_account_ids = var.aws_account_id != "" ? [var.aws_account_id] : null

  # Every resource carries these, even one a layer forgets to tag (the layers also merge
  # them over the file's tags, so they win there too). Only the fixed three: S3 objects
  # allow 10 tags, and the file's own tags (up to 47) go on each resource explicitly.
  default_tags {
    tags = {
      Project     = var.project
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}

module "core" {
  source = "../../layers/10_core"

  project               = var.project
  environment           = var.environment
  aws_region            = var.aws_region
  account_id            = local.account_id
  tags                  = var.tags
  log_retention_days    = var.log_retention_days
  kms_enabled           = var.kms_enabled
  function_names        = local.function_names
  alarms_enabled        = var.alarms.enabled
  alarm_email_endpoints = var.alarms.email_endpoints
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

  project                  = var.project
  environment              = var.environment
  name_prefix              = module.core.name_prefix
  tags                     = module.core.tags
  aws_region               = var.aws_region
  account_id               = local.account_id
  log_retention_days       = module.core.log_retention_days
  kms_key_arn              = module.core.kms_key_arn
  permissions_boundary_arn = module.core.permissions_boundary_arn
  functions                = var.functions
  scheduled_tasks          = var.schedule.tasks
  max_receive_count        = var.queue.max_receive_count
  architecture             = var.deploy.architecture
  package_type             = var.deploy.package_type
  traffic_shifting         = var.deploy.traffic_shifting
  tracing_enabled          = var.tracing_enabled
  artifacts_bucket         = module.core.artifacts_bucket
  artifacts_dir            = var.artifacts_dir
  repository_url           = module.infra.repository_url
  image_digest             = var.image_digest
  image_archive            = var.image_archive
  image_tag                = var.image_tag
  network                  = var.network
  queue_url                = module.infra.queue_url
  queue_arn                = module.infra.queue_arn
  queue_name               = module.infra.queue_name
  dlq_name                 = module.infra.dlq_name
  schedule_dlq_name        = module.infra.schedule_dlq_name
  schedule_dlq_arn         = module.infra.schedule_dlq_arn
  table_name               = module.infra.table_name
  table_arn                = module.infra.table_arn
  status_index_name        = module.infra.status_index_name
  api_id                   = module.infra.api_id
  api_execution_arn        = module.infra.api_execution_arn
  jwt_enabled              = var.api.jwt_authorizer.enabled
  jwt_authorizer_id        = module.infra.jwt_authorizer_id
  rule_name                = module.infra.rule_name
  rule_arn                 = module.infra.rule_arn
  alarms = {
    enabled                          = var.alarms.enabled
    api_p99_latency_ms               = var.alarms.api_p99_latency_ms
    queue_oldest_message_age_seconds = var.alarms.queue_oldest_message_age_seconds
  }
  alarm_topic_arn = module.core.alarm_topic_arn
}
