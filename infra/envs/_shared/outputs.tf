output "api_url" {
  description = "Base URL of the task API."
  value       = module.infra.api_url
}

output "queue_url" {
  description = "Task queue URL."
  value       = module.infra.queue_url
}

output "dlq_url" {
  description = "Dead-letter queue URL."
  value       = module.infra.dlq_url
}

output "table_name" {
  description = "Tasks table."
  value       = module.infra.table_name
}

output "function_names" {
  description = "The functions by short name."
  value       = module.app.function_names
}

output "deploy_role_arn" {
  description = "Role the deploy workflow assumes for this environment (set it as the GitHub environment's AWS_DEPLOY_ROLE_ARN variable)."
  value       = module.core.deploy_role_arn
}

output "repository_url" {
  description = "ECR repository the image is pushed to."
  value       = module.infra.repository_url
}

output "artifacts_bucket" {
  description = "Bucket the zips are uploaded to."
  value       = module.core.artifacts_bucket
}
