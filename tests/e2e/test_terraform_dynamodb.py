"""Terraform as a client of haar: a DynamoDB table (keys, indexes, TTL, PITR, tags) applied,
planned clean, updated and destroyed. Skipped with a notice when terraform or its mirror is
absent."""
from e2e_helpers import boto_client, unique_name
from terraform_helpers import terraform


DDB_TF = """
variable "tier" { type = string }
variable "pitr" { type = bool }
variable "second_index" { type = bool }
resource "aws_dynamodb_table" "tasks" {
  name         = "%(name)s"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  tags         = { tier = var.tier }

  attribute {
    name = "id"
    type = "S"
  }
  attribute {
    name = "status"
    type = "S"
  }
  attribute {
    name = "created_at"
    type = "S"
  }
  global_secondary_index {
    name            = "by-status"
    hash_key        = "status"
    range_key       = "created_at"
    projection_type = "ALL"
  }
  dynamic "global_secondary_index" {
    for_each = var.second_index ? [1] : []
    content {
      name               = "by-created"
      hash_key           = "created_at"
      projection_type    = "INCLUDE"
      non_key_attributes = ["status"]
    }
  }
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
  point_in_time_recovery {
    enabled = var.pitr
  }
}
output "arn" { value = aws_dynamodb_table.tasks.arn }
"""


def test_terraform_dynamodb_table_against_haar(haar, tmp_path):
    """aws_dynamodb_table with a GSI, TTL, PITR and tags: apply, plan clean, update in place
    (tags, PITR, a second GSI added by UpdateTable), plan clean, destroy."""
    ddb = boto_client("dynamodb", haar.aws_url)
    name = unique_name("tfddb")
    run = terraform(tmp_path, DDB_TF, haar, name, ["dynamodb"])
    first = ["-var=tier=1", "-var=pitr=false", "-var=second_index=false"]
    second = ["-var=tier=2", "-var=pitr=true", "-var=second_index=true"]
    try:
        run("apply", "-auto-approve", *first)
        t = ddb.describe_table(TableName=name)["Table"]
        assert run("output", "-raw", "arn").stdout == t["TableArn"]
        assert [g["IndexName"] for g in t["GlobalSecondaryIndexes"]] == ["by-status"]
        assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
        assert ddb.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"] == [{"Key": "tier", "Value": "1"}]
        p = run("plan", "-detailed-exitcode", *first, check=False)
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
        ddb.put_item(TableName=name, Item={"id": {"S": "kept"}, "status": {"S": "QUEUED"},
                                           "created_at": {"S": "2026-01-01"}})
        out = run("apply", "-auto-approve", *second).stdout
        assert "0 added, 1 changed, 0 destroyed" in out, out[-2000:]
        t = ddb.describe_table(TableName=name)["Table"]
        assert sorted(g["IndexName"] for g in t["GlobalSecondaryIndexes"]) == ["by-created", "by-status"]
        assert ddb.get_item(TableName=name, Key={"id": {"S": "kept"}})["Item"]["status"] == {"S": "QUEUED"}
        pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        assert ddb.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"] == [{"Key": "tier", "Value": "2"}]
        p = run("plan", "-detailed-exitcode", *second, check=False)
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    finally:
        run("destroy", "-auto-approve", *second)
    assert name not in ddb.list_tables()["TableNames"]
