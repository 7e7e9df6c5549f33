variable "project" {
  description = "Project name; the state bucket is <project>-tfstate-<account>."
  type        = string
  default     = "haar"
  validation {
    condition     = can(regex("^[a-z0-9-]{1,32}$", var.project))
    error_message = "project must be 1..32 characters of [a-z0-9-]."
  }
}

variable "aws_region" {
  description = "Region of the state bucket and lock table."
  type        = string
  default     = "eu-west-1"
  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.aws_region))
    error_message = "aws_region must look like eu-west-1."
  }
}

variable "aws_account_id" {
  description = "Account to bootstrap; empty = the caller's account (an STS call). Also pins the provider to it."
  type        = string
  default     = ""
  validation {
    condition     = var.aws_account_id == "" || can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be 12 digits or empty."
  }
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub Actions OIDC provider (false when the account already has one: there can be only one per URL)."
  type        = bool
  default     = true
}

variable "environments" {
  description = "Environments whose backend settings are printed."
  type        = list(string)
  default     = ["dev", "stage", "prod"]
}

variable "state_noncurrent_days" {
  description = "Days a superseded state version is kept."
  type        = number
  default     = 90
  validation {
    condition     = var.state_noncurrent_days >= 1
    error_message = "state_noncurrent_days must be at least 1."
  }
}
