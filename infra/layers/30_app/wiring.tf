# Event wiring, always through the live alias: SQS → worker (event source mapping), HTTP
# API → api (payload 2.0 integration, routes behind the optional JWT authorizer, invoke
# permission), schedule rule → producer (target with retries and a dead-letter queue;
# Lambda's own retries and an on-failure destination for what the function fails).

resource "aws_lambda_event_source_mapping" "worker" {
  event_source_arn                   = var.queue_arn
  function_name                      = local.alias["worker"].arn
  batch_size                         = var.functions.worker.batch_size
  maximum_batching_window_in_seconds = var.functions.worker.max_batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]
  enabled                            = true
  tags                               = var.tags

  scaling_config {
    maximum_concurrency = var.functions.worker.max_concurrency
  }
}

resource "aws_apigatewayv2_integration" "api" {
  api_id                 = var.api_id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = local.alias["api"].invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = min(30000, var.functions.api.timeout_seconds * 1000 + 1000)
}

locals {
  # The service's routes (DESIGN.md), plus $default so unknown paths and methods get
  # the application's own JSON 404/405 answers rather than API Gateway's. With the JWT
  # authorizer on, every route but the health check needs a token.
  api_routes  = toset(["GET /health", "POST /tasks", "GET /tasks", "GET /tasks/{id}", "POST /tasks/{id}/retry", "$default"])
  open_routes = toset(["GET /health"])
}

resource "aws_apigatewayv2_route" "api" {
  for_each           = local.api_routes
  api_id             = var.api_id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.api.id}"
  authorization_type = var.jwt_enabled && !contains(local.open_routes, each.key) ? "JWT" : "NONE"
  authorizer_id      = var.jwt_enabled && !contains(local.open_routes, each.key) ? var.jwt_authorizer_id : null
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowHttpApiInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["api"].function_name
  qualifier     = local.alias["api"].name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${var.api_execution_arn}/*/*"
}

resource "aws_cloudwatch_event_target" "producer" {
  rule      = var.rule_name
  target_id = "producer"
  arn       = local.alias["producer"].arn

  retry_policy {
    maximum_retry_attempts       = 2
    maximum_event_age_in_seconds = 3600
  }

  dead_letter_config {
    arn = var.schedule_dlq_arn
  }
}

resource "aws_lambda_permission" "producer" {
  statement_id  = "AllowScheduleInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn["producer"].function_name
  qualifier     = local.alias["producer"].name
  principal     = "events.amazonaws.com"
  source_arn    = var.rule_arn
}

# The schedule invokes the producer asynchronously: Lambda retries a failed run
# (functions.producer.max_retry_attempts, within max_event_age_seconds), then sends the
# event with its error to the schedule's dead-letter queue.
resource "aws_lambda_function_event_invoke_config" "producer" {
  function_name                = aws_lambda_function.fn["producer"].function_name
  qualifier                    = local.alias["producer"].name
  maximum_retry_attempts       = var.functions.producer.max_retry_attempts
  maximum_event_age_in_seconds = var.functions.producer.max_event_age_seconds

  destination_config {
    on_failure {
      destination = var.schedule_dlq_arn
    }
  }
}
