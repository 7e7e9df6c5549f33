output "name_prefix" {
  description = "<project>-<environment>, the first part of every resource name."
  value       = local.name_prefix
}

output "tags" {
  description = "Tags every resource of the environment carries."
  value       = local.tags
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

output "deploy_role_arn" {
  description = "Role GitHub Actions assumes (role-to-assume) to deploy this environment."
  value       = aws_iam_role.deploy.arn
}
