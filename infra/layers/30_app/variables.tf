# 30_app inputs: the three functions and the wiring from 20_infra's services to them.

variable "project" {
  description = "Project name (passed to the functions)."
  type        = string
}

variable "environment" {
  description = "Environment name (passed to the functions)."
  type        = string
}

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
  description = "Retention of the functions' log groups."
  type        = number
}

variable "kms_key_arn" {
  description = "Customer managed key (log groups; the functions may use it for the queue and table); null = none."
  type        = string
  default     = null
}

variable "functions" {
  description = "Per-function settings (terraform.tfvars.json: functions)."
  type = object({
    api = object({
      memory_mb            = number
      timeout_seconds      = number
      reserved_concurrency = number
    })
    worker = object({
      memory_mb                   = number
      timeout_seconds             = number
      reserved_concurrency        = number
      batch_size                  = number
      max_batching_window_seconds = number
      max_concurrency             = number
    })
    producer = object({
      memory_mb             = number
      timeout_seconds       = number
      reserved_concurrency  = number
      max_retry_attempts    = number
      max_event_age_seconds = number
    })
  })
}

variable "scheduled_tasks" {
  description = "The tasks the producer enqueues on each schedule (schedule.tasks)."
  type        = any
}

variable "max_receive_count" {
  description = "queue.max_receive_count: the worker marks a task FAILED on the last allowed receive."
  type        = number
}

variable "architecture" {
  description = "arm64 or x86_64."
  type        = string
}

variable "package_type" {
  description = "Zip (function zips + the shared layer from the artifacts bucket) or Image (one ECR image tagged by commit SHA)."
  type        = string
}

variable "artifacts_bucket" {
  description = "Bucket the zips are uploaded to (10_core output)."
  type        = string
}

variable "artifacts_dir" {
  description = "Folder holding <name>.zip and layer.zip (packaging/build's dist/)."
  type        = string
}

variable "repository_url" {
  description = "ECR repository URL (20_infra output)."
  type        = string
}

variable "image_digest" {
  description = "The image's digest, sha256:<hex> (Image package type): the functions run exactly this image."
  type        = string
}

variable "image_archive" {
  description = "OCI archive of the image; when set, apply pushes it (packaging/push-image) before the functions need it. Empty = the image is in the repository already."
  type        = string
}

variable "image_tag" {
  description = "Tag the pushed image gets (the commit SHA; the repository's tags are immutable)."
  type        = string
}

variable "network" {
  description = "Optional VPC placement (terraform.tfvars.json: network)."
  type = object({
    vpc_enabled        = bool
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
}

variable "queue_url" {
  description = "Task queue URL."
  type        = string
}

variable "queue_arn" {
  description = "Task queue ARN."
  type        = string
}

variable "table_name" {
  description = "Tasks table name."
  type        = string
}

variable "table_arn" {
  description = "Tasks table ARN."
  type        = string
}

variable "status_index_name" {
  description = "The table's by-status index."
  type        = string
}

variable "api_id" {
  description = "HTTP API id."
  type        = string
}

variable "api_execution_arn" {
  description = "HTTP API execution ARN."
  type        = string
}

variable "rule_name" {
  description = "Schedule rule name."
  type        = string
}

variable "rule_arn" {
  description = "Schedule rule ARN."
  type        = string
}

variable "permissions_boundary_arn" {
  description = "The boundary (infra/bootstrap) every role created here must carry: the deploy role may create no other."
  type        = string
}

variable "tracing_enabled" {
  description = "X-Ray active tracing of the functions."
  type        = bool
}

variable "traffic_shifting" {
  description = "deploy.traffic_shifting: AllAtOnce (Terraform moves the live aliases) or a CodeDeploy Lambda configuration name (CodeDeploy shifts them, watching the error alarms)."
  type        = string
}

variable "alarms" {
  description = "Alarm settings (terraform.tfvars.json: alarms)."
  type = object({
    enabled                          = bool
    api_p99_latency_ms               = number
    queue_oldest_message_age_seconds = number
  })
}

variable "alarm_topic_arn" {
  description = "The topic the alarms notify (10_core); null when alarms are off."
  type        = string
  default     = null
}

variable "queue_name" {
  description = "Task queue name."
  type        = string
}

variable "dlq_name" {
  description = "Dead-letter queue name."
  type        = string
}

variable "schedule_dlq_name" {
  description = "The schedule's dead-letter queue name."
  type        = string
}

variable "schedule_dlq_arn" {
  description = "The schedule's dead-letter queue: the rule target's DLQ and the producer's on-failure destination."
  type        = string
}

variable "jwt_authorizer_id" {
  description = "The HTTP API's JWT authorizer; null = every route is open."
  type        = string
  default     = null
}

variable "jwt_enabled" {
  description = "api.jwt_authorizer.enabled: every route but GET /health uses the JWT authorizer."
  type        = bool
}
