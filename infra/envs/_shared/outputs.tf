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

output "schedule_dlq_url" {
  description = "The schedule's dead-letter queue URL (undeliverable schedule events, failed producer runs)."
  value       = module.infra.schedule_dlq_url
}

output "table_name" {
  description = "Tasks table."
  value       = module.infra.table_name
}

output "function_names" {
  description = "The functions by short name."
  value       = module.app.function_names
}

output "function_versions" {
  description = "The version of each function this apply published (the live alias's target, or CodeDeploy's)."
  value       = module.app.function_versions
}

output "live_alias_arns" {
  description = "The live aliases the triggers invoke."
  value       = module.app.live_alias_arns
}

output "traffic_shifting" {
  description = "AllAtOnce, or the CodeDeploy configuration, application and deployment group (infra/scripts/shift-traffic)."
  value       = module.app.traffic_shifting
}

output "deploy_role_arn" {
  description = "Role the apply job assumes (created by infra/bootstrap; its output github_environments lists it too)."
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

output "alarm_topic_arn" {
  description = "The topic every alarm notifies."
  value       = module.core.alarm_topic_arn
}

output "alarm_names" {
  description = "Every alarm of the environment."
  value       = module.app.alarm_names
}

output "dashboard_name" {
  description = "The CloudWatch dashboard."
  value       = module.app.dashboard_name
}
