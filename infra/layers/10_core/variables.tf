# 10_core inputs. The environment root validates the whole configuration; the checks
# here guard the layer's own contract when it is composed elsewhere.

variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9-]{1,32}$", var.project))
    error_message = "project: must be 1..32 characters of [a-z0-9-]."
  }
}

variable "environment" {
  description = "Environment name (dev, stage, prod, ...)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9-]{1,16}$", var.environment))
    error_message = "environment: must be 1..16 characters of [a-z0-9-]."
  }
}

variable "aws_region" {
  description = "Region the environment lives in."
  type        = string
}

variable "account_id" {
  description = "The AWS account id (12 digits)."
  type        = string
  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id: must be 12 digits."
  }
}

variable "partition" {
  description = "The AWS partition (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"
}

variable "tags" {
  description = "The file's tags; Project, Environment and ManagedBy are set here and win."
  type        = map(string)
  default     = {}
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention for every log group of the environment."
  type        = number
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days: must be one of CloudWatch Logs' allowed values."
  }
}

variable "kms_enabled" {
  description = "Create a customer managed KMS key for the environment."
  type        = bool
  default     = false
}

variable "function_names" {
  description = "Short names of the functions (api, worker, producer): their log groups may use the key."
  type        = list(string)
  default     = ["api", "worker", "producer"]
}

variable "alarms_enabled" {
  description = "Create the alarm topic (alarms.enabled)."
  type        = bool
  default     = true
}

variable "alarm_email_endpoints" {
  description = "E-mail addresses subscribed to the alarm topic (alarms.email_endpoints)."
  type        = list(string)
  default     = []
}
