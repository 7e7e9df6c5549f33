output "function_names" {
  description = "Function names by short name."
  value       = { for k, f in aws_lambda_function.fn : k => f.function_name }
}

output "function_arns" {
  description = "Function ARNs by short name."
  value       = { for k, f in aws_lambda_function.fn : k => f.arn }
}

output "role_arns" {
  description = "Execution role ARNs by short name."
  value       = { for k, r in aws_iam_role.fn : k => r.arn }
}

output "log_group_names" {
  description = "Function log groups by short name."
  value       = { for k, g in aws_cloudwatch_log_group.fn : k => g.name }
}

output "layer_arn" {
  description = "The shared layer version (Zip package type), else null."
  value       = local.zip ? aws_lambda_layer_version.shared[0].arn : null
}

output "event_source_mapping_uuid" {
  description = "The worker's SQS event source mapping."
  value       = aws_lambda_event_source_mapping.worker.uuid
}
