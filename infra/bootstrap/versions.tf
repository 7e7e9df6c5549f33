# Run by an administrator, once per account and again whenever an environment's access
# changes: it starts with local state (it creates what the remote state needs), which is
# then moved into the state bucket (docs/aws.md, "The bootstrap's own state").
terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
