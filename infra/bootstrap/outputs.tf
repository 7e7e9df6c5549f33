output "state_bucket" {
  description = "The state bucket."
  value       = aws_s3_bucket.state.id
}

output "lock_table" {
  description = "DynamoDB lock table, for OpenTofu and Terraform < 1.11 (dynamodb_table = ...)."
  value       = aws_dynamodb_table.lock.name
}

output "github_oidc_provider_arn" {
  description = "The GitHub Actions OIDC provider the deploy roles trust."
  value       = var.create_github_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : "arn:aws:iam::${local.account_id}:oidc-provider/token.actions.githubusercontent.com"
}

output "backend_hcl" {
  description = "Backend settings every environment uses: terraform output -raw backend_hcl > backend.hcl, then terraform init -backend-config=../../bootstrap/backend.hcl (the key is in each environment's versions.tf)."
  value       = <<-EOT
    bucket       = "${aws_s3_bucket.state.id}"
    region       = "${var.aws_region}"
    use_lockfile = true
    encrypt      = true
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
  EOT
}
