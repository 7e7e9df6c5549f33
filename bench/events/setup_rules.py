"""Puts the benchmark's 100 rules (event patterns, no targets) on an EventBridge endpoint,
then checks one PutEvents batch: `setup_rules.py ENDPOINT_URL`. Rule i matches sources
bench.s<i%10> and detail-types type<i//10> with a numeric and a prefix condition on the
detail, so each of putevents.c's 10 entries is tried against 10 rules and matches one."""
import json
import sys

import boto3
from botocore.config import Config

endpoint = sys.argv[1]
ev = boto3.session.Session().client(
    "events", endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="test",
    aws_secret_access_key="test", config=Config(retries={"max_attempts": 0}))
for i in range(100):
    pattern = {"source": [f"bench.s{i % 10}"], "detail-type": [f"type{i // 10}"],
               "detail": {"n": [{"numeric": [">=", i % 50]}], "region": [{"prefix": "eu-"}]}}
    ev.put_rule(Name=f"bench-{i:03d}", EventPattern=json.dumps(pattern))
rules = ev.list_rules(NamePrefix="bench-", Limit=100)["Rules"]
assert len(rules) == 100, len(rules)
r = ev.put_events(Entries=[{"Source": "bench.s1", "DetailType": "type1",
                            "Detail": json.dumps({"n": 11, "region": "eu-west-1"})}])
assert r["FailedEntryCount"] == 0, r
print("100 rules")
