# Alarms and the dashboard (alarms.enabled): every alarm notifies the environment's topic
# (10_core) when it fires and when it clears. Alarm names are "<prefix>.<what>" (the deploy
# role's rights on alarms end at that "."). Thresholds: anything in a dead-letter queue, a
# task waiting longer than alarms.queue_oldest_message_age_seconds, any function error or
# throttle, any API 5xx, an API p99 above alarms.api_p99_latency_ms, any schedule event
# EventBridge could not deliver, any failed event Lambda could not hand to its destination.

locals {
  alarms_on = var.alarms.enabled
  actions   = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  # The application's own metrics: the functions write CloudWatch Embedded Metric Format
  # into this namespace, dimensions Environment and Kind (docs/aws.md).
  metrics_namespace = var.project

  fn_metric_alarms = {
    for pair in setproduct(tolist(local.names), ["Errors", "Throttles"]) :
    "${pair[0]}-${lower(pair[1])}" => { function = pair[0], metric = pair[1] }
  }
  queue_alarms = {
    "tasks-dlq-not-empty"    = { queue = var.dlq_name, metric = "ApproximateNumberOfMessagesVisible", threshold = 1, what = "messages in the task dead-letter queue" }
    "schedule-dlq-not-empty" = { queue = var.schedule_dlq_name, metric = "ApproximateNumberOfMessagesVisible", threshold = 1, what = "schedule events or producer failures in the schedule dead-letter queue" }
    "tasks-oldest-message"   = { queue = var.queue_name, metric = "ApproximateAgeOfOldestMessage", threshold = var.alarms.queue_oldest_message_age_seconds, what = "seconds the oldest task has waited" }
  }
}

resource "aws_cloudwatch_metric_alarm" "function" {
  for_each            = local.alarms_on ? local.fn_metric_alarms : {}
  alarm_name          = "${var.name_prefix}.${each.key}"
  alarm_description   = "${var.name_prefix}-${each.value.function}: ${lower(each.value.metric)} through the live alias"
  namespace           = "AWS/Lambda"
  metric_name         = each.value.metric
  dimensions          = { FunctionName = aws_lambda_function.fn[each.value.function].function_name, Resource = "${aws_lambda_function.fn[each.value.function].function_name}:live" }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "queue" {
  for_each            = local.alarms_on ? local.queue_alarms : {}
  alarm_name          = "${var.name_prefix}.${each.key}"
  alarm_description   = "${var.name_prefix}: ${each.value.what} reached ${each.value.threshold}"
  namespace           = "AWS/SQS"
  metric_name         = each.value.metric
  dimensions          = { QueueName = each.value.queue }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  count               = local.alarms_on ? 1 : 0
  alarm_name          = "${var.name_prefix}.api-5xx"
  alarm_description   = "${var.name_prefix}: the HTTP API answered 5xx"
  namespace           = "AWS/ApiGateway"
  metric_name         = "5xx"
  dimensions          = { ApiId = var.api_id }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "api_p99_latency" {
  count               = local.alarms_on ? 1 : 0
  alarm_name          = "${var.name_prefix}.api-p99-latency"
  alarm_description   = "${var.name_prefix}: the HTTP API's p99 latency above ${var.alarms.api_p99_latency_ms} ms for 5 minutes"
  namespace           = "AWS/ApiGateway"
  metric_name         = "Latency"
  dimensions          = { ApiId = var.api_id }
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  threshold           = var.alarms.api_p99_latency_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "schedule_failed" {
  count               = local.alarms_on ? 1 : 0
  alarm_name          = "${var.name_prefix}.schedule-failed-invocations"
  alarm_description   = "${var.name_prefix}: EventBridge could not invoke the producer"
  namespace           = "AWS/Events"
  metric_name         = "FailedInvocations"
  dimensions          = { RuleName = var.rule_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "producer_dropped" {
  count               = local.alarms_on ? 1 : 0
  alarm_name          = "${var.name_prefix}.producer-events-lost"
  alarm_description   = "${var.name_prefix}-producer: failed events Lambda could not deliver to the schedule dead-letter queue, or dropped"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = 1
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  metric_query {
    id          = "lost"
    expression  = "delivery + dropped"
    label       = "events lost"
    return_data = true
  }
  metric_query {
    id = "delivery"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "DestinationDeliveryFailures"
      dimensions  = { FunctionName = aws_lambda_function.fn["producer"].function_name }
      stat        = "Sum"
      period      = 300
    }
  }
  metric_query {
    id = "dropped"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "AsyncEventsDropped"
      dimensions  = { FunctionName = aws_lambda_function.fn["producer"].function_name }
      stat        = "Sum"
      period      = 300
    }
  }
}

# The dashboard: the flow from left to right — API, queue, worker, DLQs, schedule,
# producer — then the functions side by side and the tasks' own metrics (EMF).
locals {
  region  = var.aws_region
  fn_name = { for f in local.names : f => aws_lambda_function.fn[f].function_name }
  dashboard_widgets = [
    { type = "metric", x = 0, y = 0, width = 8, height = 6, properties = {
      title   = "API requests and errors", region = local.region, stat = "Sum", period = 60,
      metrics = [["AWS/ApiGateway", "Count", "ApiId", var.api_id], [".", "4xx", ".", "."], [".", "5xx", ".", "."]]
    } },
    { type = "metric", x = 8, y = 0, width = 8, height = 6, properties = {
      title   = "API latency (p50, p99)", region = local.region, period = 60,
      metrics = [["AWS/ApiGateway", "Latency", "ApiId", var.api_id, { stat = "p50" }], ["...", { stat = "p99" }]]
    } },
    { type = "metric", x = 16, y = 0, width = 8, height = 6, properties = {
      title   = "Task queue", region = local.region, stat = "Maximum", period = 60,
      metrics = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.queue_name], [".", "ApproximateNumberOfMessagesNotVisible", ".", "."], [".", "ApproximateAgeOfOldestMessage", ".", ".", { yAxis = "right" }]]
    } },
    { type = "metric", x = 0, y = 6, width = 8, height = 6, properties = {
      title   = "Dead-letter queues", region = local.region, stat = "Maximum", period = 300,
      metrics = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.dlq_name], ["...", var.schedule_dlq_name]]
    } },
    { type = "metric", x = 8, y = 6, width = 8, height = 6, properties = {
      title   = "Schedule", region = local.region, stat = "Sum", period = 300,
      metrics = [["AWS/Events", "Invocations", "RuleName", var.rule_name], [".", "FailedInvocations", ".", "."]]
    } },
    { type = "metric", x = 16, y = 6, width = 8, height = 6, properties = {
      title = "Function errors and throttles", region = local.region, stat = "Sum", period = 60,
      metrics = concat(
        [for f in sort(tolist(local.names)) : ["AWS/Lambda", "Errors", "FunctionName", local.fn_name[f]]],
        [for f in sort(tolist(local.names)) : ["AWS/Lambda", "Throttles", "FunctionName", local.fn_name[f]]],
      )
    } },
    { type = "metric", x = 0, y = 12, width = 12, height = 6, properties = {
      title = "Function invocations and concurrency", region = local.region, stat = "Sum", period = 60,
      metrics = concat(
        [for f in sort(tolist(local.names)) : ["AWS/Lambda", "Invocations", "FunctionName", local.fn_name[f]]],
        [for f in sort(tolist(local.names)) : ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", local.fn_name[f], { stat = "Maximum", yAxis = "right" }]],
      )
    } },
    { type = "metric", x = 12, y = 12, width = 12, height = 6, properties = {
      title   = "Function duration (p99)", region = local.region, stat = "p99", period = 60,
      metrics = [for f in sort(tolist(local.names)) : ["AWS/Lambda", "Duration", "FunctionName", local.fn_name[f]]]
    } },
    { type = "metric", x = 0, y = 18, width = 24, height = 6, properties = {
      title   = "Tasks (the functions' own metrics, EMF)", region = local.region, period = 300,
      metrics = [[{ expression = "SEARCH('{${local.metrics_namespace},Environment,Kind} Environment=\"${var.environment}\"', 'Sum', 300)", id = "tasks", label = "" }]]
    } },
  ]
}

resource "aws_cloudwatch_dashboard" "main" {
  count          = local.alarms_on ? 1 : 0
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
