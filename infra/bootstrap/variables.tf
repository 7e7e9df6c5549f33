variable "project" {
  description = "Project name; the state bucket is <project>-tfstate-<account>. Every environment listed must use it."
  type        = string
  default     = "haar"
  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", var.project))
    error_message = "project: must be 1..32 characters of a-z, 0-9 and \"-\", not beginning or ending with \"-\"."
  }
}

variable "aws_region" {
  description = "Region of the state bucket, its key and the lock table."
  type        = string
  default     = "eu-west-1"
  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.aws_region))
    error_message = "aws_region: must look like eu-west-1."
  }
}

variable "aws_account_id" {
  description = "Account to bootstrap; empty = the caller's account (an STS call). Also pins the provider to it."
  type        = string
  default     = ""
  validation {
    condition     = var.aws_account_id == "" || can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id: must be 12 digits or empty."
  }
}

variable "partition" {
  description = "The AWS partition (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub Actions OIDC provider (false when the account already has one: there can be only one per URL)."
  type        = bool
  default     = true
}

variable "environments" {
  description = "The environments deployed into this account: each gets its deploy role, plan role and permissions boundary, built from infra/envs/<name>/terraform.tfvars.json."
  type        = list(string)
  default     = ["dev", "stage", "prod"]
  validation {
    condition     = alltrue([for e in var.environments : can(regex("^[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$", e))])
    error_message = "environments: each must be an environment name (1..16 characters of a-z, 0-9 and \"-\")."
  }
}

variable "state_noncurrent_days" {
  description = "Days a superseded state version is kept."
  type        = number
  default     = 90
  validation {
    condition     = var.state_noncurrent_days >= 1
    error_message = "state_noncurrent_days: must be at least 1."
  }
}

variable "access_log_days" {
  description = "Days the state bucket's access logs are kept."
  type        = number
  default     = 365
  validation {
    condition     = var.access_log_days >= 1
    error_message = "access_log_days: must be at least 1."
  }
}

variable "block_account_public_s3" {
  description = "Turn on S3 Block Public Access for the whole account, so that no deploy role can make a bucket public by removing its bucket-level block (set false in an account whose other workloads need public buckets)."
  type        = bool
  default     = true
}
