"""Terraform (hashicorp/aws from the local provider mirror) as a client of haar: the working
directory the test_terraform_*.py files share. Their checks skip with a notice when terraform or
the mirror is absent."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from e2e_helpers import make_zip


def mirror():
    if not Path("/opt").is_dir():
        return None
    for d in sorted(Path("/opt").iterdir()):
        if (d / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return d
    return None


PROVIDER = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true%s
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
%s
  }
}
"""


def terraform(tmp_path, template, haar, name, services, zip_kind=None):
    """A Terraform working directory holding the provider (pointed at haar for services) and
    template % {endpoint, name} (and fn.zip of zip_kind), initialised from the mirror; returns
    run(*args, check=True). Skips with a notice when terraform or the mirror is absent."""
    tf, plugins = shutil.which("terraform"), mirror()
    if tf is None or plugins is None:
        pytest.skip("terraform or its provider mirror (/opt/*/registry.terraform.io) is absent: "
                    "Terraform-as-a-client check skipped")
    work = tmp_path / "tf"
    work.mkdir()
    endpoints = "\n".join(f'    {s} = "{haar.aws_url}"' for s in services)
    # with STS served, the provider asks haar's GetCallerIdentity for the account id
    skip = "" if "sts" in services else "\n  skip_requesting_account_id  = true"
    (work / "main.tf").write_text(PROVIDER % (skip, endpoints) +
                                  template % {"endpoint": haar.aws_url, "name": name})
    if zip_kind:
        (work / "fn.zip").write_bytes(make_zip(zip_kind))
    (tmp_path / "terraformrc").write_text("")
    env = dict(os.environ, HOME=str(tmp_path), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1",
               TF_CLI_CONFIG_FILE=str(tmp_path / "terraformrc"), TF_INPUT="0")

    def run(*args, check=True):
        p = subprocess.run([tf, *args], cwd=work, env=env, capture_output=True, text=True,
                           timeout=300)
        if check:
            assert p.returncode == 0, \
                f"terraform {' '.join(args)}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
        return p

    run("init", "-input=false", f"-plugin-dir={plugins}")
    return run
