output "name_prefix" {
  description = "<project>-<environment>, the first part of every resource name."
  value       = local.name_prefix
}

output "tags" {
  description = "Tags every resource of the environment carries (the file's, with the fixed ones winning)."
  value       = local.tags
}

output "fixed_tags" {
  description = "Project, Environment and ManagedBy: the provider's default_tags."
  value       = local.fixed_tags
}

output "log_retention_days" {
  description = "Retention for every log group of the environment."
  value       = var.log_retention_days
}

output "kms_key_arn" {
  description = "The customer managed key, or null when kms_enabled is false."
  value       = var.kms_enabled ? aws_kms_key.main[0].arn : null
}

output "artifacts_bucket" {
  description = "Bucket holding the function zips and the shared layer."
  value       = aws_s3_bucket.artifacts.id
}

output "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket."
  value       = aws_s3_bucket.artifacts.arn
}

output "alarm_topic_arn" {
  description = "The topic every alarm notifies, or null when alarms are off."
  value       = var.alarms_enabled ? aws_sns_topic.alarms[0].arn : null
}

output "permissions_boundary_arn" {
  description = "The boundary (infra/bootstrap) every role the environment creates must carry."
  value       = local.boundary_arn
}

output "deploy_role_arn" {
  description = "The role GitHub Actions applies with (created by infra/bootstrap)."
  value       = local.deploy_role_arn
}
