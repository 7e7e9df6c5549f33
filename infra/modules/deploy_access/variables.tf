# One environment's access (infra/bootstrap composes one per environment, from that
# environment's terraform.tfvars.json).

variable "project" {
  description = "The bootstrap's project; the environment file must name the same."
  type        = string
}

variable "environment" {
  description = "The environment (its folder name under infra/envs)."
  type        = string
}

variable "file_project" {
  description = "project as the environment's terraform.tfvars.json has it."
  type        = string
}

variable "file_environment" {
  description = "environment as the environment's terraform.tfvars.json has it."
  type        = string
}

variable "aws_region" {
  description = "The environment's region."
  type        = string
}

variable "account_id" {
  description = "The account (12 digits)."
  type        = string
}

variable "partition" {
  description = "The AWS partition."
  type        = string
  default     = "aws"
}

variable "oidc_provider_arn" {
  description = "GitHub Actions' OIDC provider in this account."
  type        = string
}

variable "oidc_issuer" {
  description = "The OIDC issuer host (token.actions.githubusercontent.com), whose claims the trust conditions name."
  type        = string
}

variable "github_repository" {
  description = "owner/name whose workflows may assume the roles (deploy.github_repository)."
  type        = string
}

variable "github_branch" {
  description = "The branch deployments run from (deploy.github_branch)."
  type        = string
}

variable "state_region" {
  description = "Region of the state bucket and its key (the bootstrap's)."
  type        = string
}

variable "state_bucket_arn" {
  description = "The state bucket."
  type        = string
}

variable "state_key_alias" {
  description = "The alias (alias/<name>) of the state objects' KMS key: the roles may use the key that carries it."
  type        = string
}

variable "kms_enabled" {
  description = "The environment has its own customer managed key (kms_enabled)."
  type        = bool
}

variable "tracing_enabled" {
  description = "The functions send X-Ray traces (tracing_enabled)."
  type        = bool
}

variable "protected" {
  description = "deploy.protected: the deploy role may not destroy stateful resources."
  type        = bool
}

variable "package_type" {
  description = "deploy.package_type: Image deployments push to the environment's repository."
  type        = string
}

variable "traffic_shifting" {
  description = "deploy.traffic_shifting: anything but AllAtOnce deploys through CodeDeploy."
  type        = string
}

variable "vpc_enabled" {
  description = "network.vpc_enabled: the functions' roles may manage network interfaces."
  type        = bool
}

variable "tag_keys" {
  description = "The keys of the environment's own tags (tags): the only keys a deploy may set besides Project, Environment and ManagedBy."
  type        = list(string)
}

variable "domain" {
  description = "The environment's custom domain (domain): DNS and certificate rights exist only when enabled."
  type = object({
    enabled = bool
    name    = string
    zone_id = string
  })
}
