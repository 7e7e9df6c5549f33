# 10_core inputs. The environment root validates the whole configuration; the checks
# here guard the layer's own contract when it is composed elsewhere.

variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9-]{1,32}$", var.project))
    error_message = "project must be 1..32 characters of [a-z0-9-]."
  }
}

variable "environment" {
  description = "Environment name (dev, stage, prod, ...)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9-]{1,16}$", var.environment))
    error_message = "environment must be 1..16 characters of [a-z0-9-]."
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
    error_message = "account_id must be 12 digits."
  }
}

variable "partition" {
  description = "The AWS partition (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"
}

variable "tags" {
  description = "Tags added to every resource (merged over the project's own tags)."
  type        = map(string)
  default     = {}
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention for every log group of the environment."
  type        = number
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch Logs' allowed values."
  }
}

variable "kms_enabled" {
  description = "Create a customer managed KMS key for logs, the queues and the table."
  type        = bool
  default     = false
}

variable "function_names" {
  description = "Short names of the functions (api, worker, producer): their log groups may use the key."
  type        = list(string)
  default     = ["api", "worker", "producer"]
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose workflows may assume the deploy role."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name."
  }
}

variable "github_branch" {
  description = "Branch whose workflow runs may deploy this environment."
  type        = string
}

variable "github_oidc_provider_arn" {
  description = "ARN of the account's GitHub OIDC provider (infra/bootstrap creates it); empty = the conventional ARN in this account."
  type        = string
  default     = ""
}

variable "state_bucket_name" {
  description = "The Terraform state bucket (infra/bootstrap output); the deploy role may read and write this environment's state key only."
  type        = string
}

variable "state_key" {
  description = "The environment's state object key in the state bucket."
  type        = string
}

variable "domain_zone_id" {
  description = "Route53 hosted zone of the custom domain; empty = no custom domain, and the deploy role gets no DNS rights."
  type        = string
  default     = ""
}

variable "deploy_trust_branch" {
  description = "Also trust workflow runs on github_branch outside a GitHub environment (false for an environment behind approval)."
  type        = bool
  default     = true
}
