terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Partial configuration: bucket and region come from infra/bootstrap's output
  # (terraform init -backend-config=../../bootstrap/backend.hcl). S3-native locking.
  backend "s3" {
    key          = "haar/prod/terraform.tfstate"
    use_lockfile = true
    encrypt      = true
  }
}
