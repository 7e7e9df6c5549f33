# 20_infra inputs: the platform services. Settings come from the environment's
# terraform.tfvars.json through the environment root, which validates them.

variable "name_prefix" {
  description = "<project>-<environment> (10_core output)."
  type        = string
}

variable "tags" {
  description = "Tags for every resource (10_core output)."
  type        = map(string)
}

variable "aws_region" {
  description = "Region of the environment."
  type        = string
}

variable "account_id" {
  description = "AWS account id."
  type        = string
}

variable "partition" {
  description = "AWS partition."
  type        = string
  default     = "aws"
}

variable "log_retention_days" {
  description = "Retention of the API access log group."
  type        = number
}

variable "kms_key_arn" {
  description = "Customer managed key for logs, queues, table and repository; null = AWS managed encryption."
  type        = string
  default     = null
}

variable "function_names" {
  description = "Short function names; the ECR repository policy lets exactly these functions pull."
  type        = list(string)
  default     = ["api", "worker", "producer"]
}

variable "api" {
  description = "HTTP API settings (terraform.tfvars.json: api)."
  type = object({
    throttling_rate_limit  = number
    throttling_burst_limit = number
    cors_allow_origins     = list(string)
    access_log_enabled     = bool
    jwt_authorizer = object({
      enabled  = bool
      issuer   = string
      audience = list(string)
    })
  })
}

variable "queue" {
  description = "Task queue and DLQ settings (terraform.tfvars.json: queue)."
  type = object({
    visibility_timeout_seconds    = number
    message_retention_seconds     = number
    receive_wait_time_seconds     = number
    max_receive_count             = number
    dlq_message_retention_seconds = number
  })
}

variable "table" {
  description = "Tasks table settings (terraform.tfvars.json: table)."
  type = object({
    point_in_time_recovery = bool
    ttl_attribute          = string
    deletion_protection    = bool
  })
}

variable "schedule" {
  description = "The producer's schedule (terraform.tfvars.json: schedule); tasks are the producer's input."
  type = object({
    expression = string
    enabled    = bool
  })
}

variable "ecr_keep_images" {
  description = "How many tagged images the repository keeps."
  type        = number
}

variable "domain" {
  description = "Optional custom domain of the API (terraform.tfvars.json: domain)."
  type = object({
    enabled = bool
    name    = string
    zone_id = string
  })
}
