output "function_names" {
  description = "Function names by short name."
  value       = { for k, f in aws_lambda_function.fn : k => f.function_name }
}

output "function_arns" {
  description = "Function ARNs by short name."
  value       = { for k, f in aws_lambda_function.fn : k => f.arn }
}

output "function_versions" {
  description = "The version each function's latest apply published."
  value       = { for k, f in aws_lambda_function.fn : k => f.version }
}

output "live_alias_arns" {
  description = "The live aliases every trigger invokes."
  value       = { for k, a in local.alias : k => a.arn }
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

output "traffic_shifting" {
  description = "How new versions take traffic: AllAtOnce, or the CodeDeploy configuration, application and deployment group."
  value = {
    config           = var.traffic_shifting
    application      = local.shifted ? aws_codedeploy_app.main[0].name : null
    deployment_group = local.shifted ? aws_codedeploy_deployment_group.live[0].deployment_group_name : null
  }
}

output "alarm_names" {
  description = "Every alarm of the environment."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.function : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.queue : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.api_5xx : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.api_p99_latency : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.schedule_failed : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.producer_dropped : a.alarm_name],
  )
}

output "dashboard_name" {
  description = "The CloudWatch dashboard, or null when alarms are off."
  value       = local.alarms_on ? aws_cloudwatch_dashboard.main[0].dashboard_name : null
}
