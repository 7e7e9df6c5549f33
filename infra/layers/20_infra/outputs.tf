output "api_id" {
  description = "HTTP API id."
  value       = aws_apigatewayv2_api.http.id
}

output "api_execution_arn" {
  description = "Execution ARN of the HTTP API (for the invoke permission)."
  value       = aws_apigatewayv2_api.http.execution_arn
}

output "api_url" {
  description = "Invoke URL of the $default stage (the custom domain when enabled)."
  value       = var.domain.enabled ? "https://${var.domain.name}" : aws_apigatewayv2_stage.default.invoke_url
}

output "queue_url" {
  description = "Task queue URL."
  value       = aws_sqs_queue.tasks.id
}

output "queue_arn" {
  description = "Task queue ARN."
  value       = aws_sqs_queue.tasks.arn
}

output "dlq_url" {
  description = "Dead-letter queue URL."
  value       = aws_sqs_queue.dlq.id
}

output "dlq_arn" {
  description = "Dead-letter queue ARN."
  value       = aws_sqs_queue.dlq.arn
}

output "table_name" {
  description = "Tasks table name."
  value       = aws_dynamodb_table.tasks.name
}

output "table_arn" {
  description = "Tasks table ARN."
  value       = aws_dynamodb_table.tasks.arn
}

output "status_index_name" {
  description = "The by-status global secondary index."
  value       = local.status_index
}

output "rule_name" {
  description = "Schedule rule name."
  value       = aws_cloudwatch_event_rule.schedule.name
}

output "rule_arn" {
  description = "Schedule rule ARN."
  value       = aws_cloudwatch_event_rule.schedule.arn
}

output "repository_url" {
  description = "ECR repository URL (images are tagged with the commit SHA)."
  value       = aws_ecr_repository.functions.repository_url
}

output "schedule_dlq_arn" {
  description = "The schedule's dead-letter queue (the rule target's DLQ, the producer's on-failure destination)."
  value       = aws_sqs_queue.schedule_dlq.arn
}

output "schedule_dlq_url" {
  description = "The schedule's dead-letter queue URL."
  value       = aws_sqs_queue.schedule_dlq.id
}

output "dlq_name" {
  description = "Dead-letter queue name (alarms)."
  value       = aws_sqs_queue.dlq.name
}

output "schedule_dlq_name" {
  description = "The schedule's dead-letter queue name (alarms)."
  value       = aws_sqs_queue.schedule_dlq.name
}

output "queue_name" {
  description = "Task queue name (alarms)."
  value       = aws_sqs_queue.tasks.name
}

output "jwt_authorizer_id" {
  description = "The JWT authorizer, or null when api.jwt_authorizer is off."
  value       = var.api.jwt_authorizer.enabled ? aws_apigatewayv2_authorizer.jwt[0].id : null
}
