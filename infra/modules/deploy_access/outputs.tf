output "deploy_role_arn" {
  description = "The role the apply job assumes (GitHub environment <env>: AWS_DEPLOY_ROLE_ARN)."
  value       = aws_iam_role.deploy.arn
}

output "plan_role_arn" {
  description = "The read-only role the plan jobs assume (GitHub environment <env>-plan: AWS_PLAN_ROLE_ARN)."
  value       = aws_iam_role.plan.arn
}

output "permissions_boundary_arn" {
  description = "The boundary every role of the environment must carry."
  value       = aws_iam_policy.boundary.arn
}

output "deploy_subject" {
  description = "The OIDC subject the deploy role trusts."
  value       = local.deploy_subject
}

output "plan_subjects" {
  description = "The OIDC subjects the plan role trusts."
  value       = local.plan_subjects
}
