output "state_bucket" {
  description = "The state bucket."
  value       = aws_s3_bucket.state.id
}

output "state_kms_key_arn" {
  description = "The key state objects are encrypted with (the backends' kms_key_id)."
  value       = aws_kms_key.state.arn
}

output "lock_table" {
  description = "DynamoDB lock table, for OpenTofu and Terraform < 1.11 (dynamodb_table = ...)."
  value       = aws_dynamodb_table.lock.name
}

output "github_oidc_provider_arn" {
  description = "The GitHub Actions OIDC provider the deploy and plan roles trust."
  value       = local.oidc_provider_arn
}

output "backend_hcl" {
  description = "Backend settings every environment uses: terraform output -raw backend_hcl > backend.hcl, then terraform init -backend-config=../../bootstrap/backend.hcl (the key is in each environment's versions.tf)."
  value       = <<-EOT
    bucket       = "${aws_s3_bucket.state.id}"
    region       = "${var.aws_region}"
    use_lockfile = true
    encrypt      = true
    kms_key_id   = "${aws_kms_key.state.arn}"
  EOT
}

output "backend_hcl_bootstrap" {
  description = "The bootstrap's own backend, after its first apply: terraform output -raw backend_hcl_bootstrap > backend.hcl; cp backend.tf.example backend.tf; terraform init -migrate-state -backend-config=backend.hcl."
  value       = <<-EOT
    bucket       = "${aws_s3_bucket.state.id}"
    key          = "${var.project}/bootstrap/terraform.tfstate"
    region       = "${var.aws_region}"
    use_lockfile = true
    encrypt      = true
    kms_key_id   = "${aws_kms_key.state.arn}"
  EOT
}

output "backend_keys" {
  description = "The state key of each environment."
  value       = { for e in var.environments : e => "${var.project}/${e}/terraform.tfstate" }
}

output "backend_hcl_opentofu" {
  description = "The same settings for OpenTofu or Terraform < 1.11, which lock through DynamoDB."
  value       = <<-EOT
    bucket         = "${aws_s3_bucket.state.id}"
    region         = "${var.aws_region}"
    dynamodb_table = "${aws_dynamodb_table.lock.name}"
    encrypt        = true
    kms_key_id     = "${aws_kms_key.state.arn}"
  EOT
}

output "github_environments" {
  description = "What each GitHub environment needs (infra/scripts/github-settings apply sets them): <env> (protected, applies) and <env>-plan (plans, read-only)."
  value = {
    for e, m in module.environment : e => {
      AWS_ACCOUNT_ID       = local.account_id
      AWS_DEPLOY_ROLE_ARN  = m.deploy_role_arn
      AWS_PLAN_ROLE_ARN    = m.plan_role_arn
      TF_STATE_BUCKET      = aws_s3_bucket.state.id
      TF_STATE_KMS_KEY_ARN = aws_kms_key.state.arn
      TF_STATE_REGION      = var.aws_region
    }
  }
}

output "permissions_boundary_arns" {
  description = "The boundary each environment's roles must carry."
  value       = { for e, m in module.environment : e => m.permissions_boundary_arn }
}
