"""Infra checks that need only node: every .tf parses and is formatted, and the
structure the design relies on holds (layers composed, one role per function, IAM
wildcards only where listed, log retention, DLQ and event source mapping wired, the
names Terraform gives resources equal the names haar provisions)."""

import json
import re

import pytest

from conftest import (ENVS, INFRA, LAYERS, ROOT, Module, env_module, haar_describe, load_tfvars,
                      module_doc, parsed, run_hcl_tool, tf_files)

CORE, INFRA_L, APP = (INFRA / "layers" / name for name in LAYERS)
ACCESS = INFRA / "modules" / "deploy_access"
IAM_FOLDERS = [INFRA / "bootstrap", ACCESS, *[INFRA / "layers" / layer for layer in LAYERS]]
FUNCTIONS = ("api", "worker", "producer")

# Every IAM statement (or resource policy) that allows something with a "*" — in an
# action, a resource, a principal or a condition value — must be listed here with the
# reason it cannot be narrower. (module folder, policy document, statement sid) -> reason.
# Deny statements are not listed: a wildcard there widens a restriction, never a right.
QUALIFIED = ("the exact function ARNs and their qualified forms (function:<name>:<version or "
             "alias>): versions are numbered by Lambda, and the live alias is one of them")
KEY_POLICY = 'A key policy\'s Resource is always "*" (it means this key); '
DISCOVERY = ('List/Describe calls and ecr:GetAuthorizationToken accept only Resource "*" (AWS '
             "defines no resource type for them); read-only.")
XRAY = 'xray:PutTraceSegments and PutTelemetryRecords accept only Resource "*" (no X-Ray resource type).'
VPC = ('EC2 network interface actions Lambda needs for VPC placement; Describe* accepts only '
       'Resource "*" (as in AWSLambdaVPCAccessExecutionRole). Only present when network.vpc_enabled.')
IAM_WILDCARD_ALLOWLIST = {
    # --- the environment's key (10_core) ---
    ("10_core", "kms", "AccountAdministersKey"):
        KEY_POLICY + "the account root keeps the administrative actions (never Encrypt, Decrypt "
        "or GenerateDataKey) so that the key stays manageable; the wildcards are action "
        "families of administration (Describe*, Get*, List*, Put*, ...).",
    ("10_core", "kms", "CloudWatchLogsUsesKeyForTheEnvironmentsLogGroups"):
        KEY_POLICY + "the service is limited to the exact log group ARNs by the "
        "kms:EncryptionContext:aws:logs:arn condition.",
    ("10_core", "kms", "AccountPrincipalsUseKeyThroughSqsDynamoDBAndLambda"):
        KEY_POLICY + "limited by kms:ViaService (SQS, DynamoDB, Lambda) and kms:CallerAccount.",
    ("10_core", "kms", "DeployRoleAdministersKey"):
        KEY_POLICY + "the principal is the environment's own deploy role, by exact ARN.",
    ("10_core", "kms", "DeployRoleUsesKeyThroughTheServicesItDeploys"):
        KEY_POLICY + "the deploy role by exact ARN, through the services it deploys only "
        "(kms:ViaService); ReEncrypt*/GenerateDataKey* name action families S3, ECR and Lambda use.",
    ("10_core", "kms", "PlanRoleReadsKey"):
        KEY_POLICY + "the plan role by exact ARN, read-only actions.",
    ("10_core", "kms", "EventBridgeSendsUndeliveredScheduleEventsToTheEncryptedDlq"):
        KEY_POLICY + "EventBridge, only for the environment's schedule rule (aws:SourceArn).",
    ("10_core", "kms", "CloudWatchAlarmsPublishToTheEncryptedTopic"):
        KEY_POLICY + "CloudWatch, only for the environment's alarms (aws:SourceArn "
        "alarm:<prefix>.*; \".\" cannot occur in an environment name); GenerateDataKey* is "
        "the family SNS uses.",
    ("10_core", "alarm_topic", "TheEnvironmentsAlarmsPublish"):
        "CloudWatch may publish to the topic only for the environment's alarms: "
        "alarm:<prefix>.* (alarm names are generated per function and queue; \".\" cannot "
        "occur in an environment name, so no other environment's alarm matches).",
    # --- 20_infra ---
    ("20_infra", "ecr_lambda_pull", "LambdaPullsForThisEnvironmentsFunctions"):
        "Lambda may name a qualified function in aws:SourceArn: " + QUALIFIED + ".",
    # --- 30_app: the function and CodeDeploy roles ---
    ("30_app", "api", "WriteOwnLogStreams"):
        "Log stream names are generated per execution environment: "
        "log-group:<own group>:log-stream:* is the narrowest ARN.",
    ("30_app", "worker", "WriteOwnLogStreams"): "As for the api: the function's own log group, any of its streams.",
    ("30_app", "producer", "WriteOwnLogStreams"): "As for the api: the function's own log group, any of its streams.",
    ("30_app", "api", "SendTraces"): XRAY + " Only present when tracing_enabled.",
    ("30_app", "worker", "SendTraces"): XRAY + " Only present when tracing_enabled.",
    ("30_app", "producer", "SendTraces"): XRAY + " Only present when tracing_enabled.",
    ("30_app", "api", "VpcNetworkInterfaces"): VPC,
    ("30_app", "worker", "VpcNetworkInterfaces"): "As for the api (VPC placement only).",
    ("30_app", "producer", "VpcNetworkInterfaces"): "As for the api (VPC placement only).",
    ("30_app", "codedeploy", "ShiftTheLiveAliases"):
        "CodeDeploy moves the live alias between versions: " + QUALIFIED + ".",
    ("30_app", "codedeploy", "WatchTheAlarms"):
        "The environment's alarms, alarm:<prefix>.* (generated names; \".\" ends the prefix).",
    ("30_app", "aws_lambda_permission.api", "source_arn"):
        "API Gateway's source ARN is <execution arn>/<stage>/<method>/<path>; the $default "
        "route forwards any method and path, so stage and route are wildcards.",
    # --- bootstrap ---
    ("bootstrap", "state_key", "AccountAdministersAndDelegatesToIam"):
        KEY_POLICY + "the state key is the administrator's: the account root holds kms:* and "
        "IAM policies grant each role its use (the deploy and plan roles: through S3, for "
        "their own state object only, kms:EncryptionContext:aws:s3:arn).",
    ("bootstrap", "logs_bucket", "S3WritesTheStateBucketsAccessLogs"):
        "S3 server access logging writes objects with generated names under the state "
        "bucket's prefix; limited to that bucket by aws:SourceArn and aws:SourceAccount.",
    ("bootstrap", "api_access_log_delivery", "DeliverTheEnvironmentsApiAccessLogs"):
        "Log delivery creates streams with generated names in the environments' exact API "
        "access log groups (log-group:<name>:log-stream:*), for this account only.",
    # --- deploy_access: the permissions boundary ---
    ("deploy_access", "boundary", "WriteTheEnvironmentsFunctionLogs"):
        "The functions' own log groups, any of their (generated) streams.",
    ("deploy_access", "boundary", "UseTheEnvironmentsKeyThroughItsServices"):
        "Key ids are generated (key/*): limited to keys tagged with this project and "
        "environment, and to use through SQS, DynamoDB and Lambda (kms:ViaService). Tags "
        "cannot be moved: the deploy roles may not retag another environment's key.",
    ("deploy_access", "boundary", "SendTraces"): XRAY,
    ("deploy_access", "boundary", "VpcNetworkInterfaces"): VPC,
    ("deploy_access", "boundary", "CodeDeployShiftsTheLiveAliases"): QUALIFIED + ".",
    ("deploy_access", "boundary", "CodeDeployWatchesAlarms"):
        "The environment's alarms, alarm:<prefix>.* (\".\" ends the prefix).",
    # --- deploy_access: the deploy role ---
    ("deploy_access", "deploy_state_artifacts", "StateKeyForThisEnvironmentsStateOnly"):
        "The state key's id is generated (key/*): limited to the key carrying the state "
        "alias (kms:ResourceAliases), through S3, and to the environment's own state and "
        "lock objects (kms:EncryptionContext:aws:s3:arn).",
    ("deploy_access", "deploy_state_artifacts", "ArtifactsObjects"):
        "Function zips and the layer are uploaded under content-addressed keys: every "
        "object of the environment's own artifacts bucket (<bucket>/*).",
    ("deploy_access", "deploy_state_artifacts", "ReadOnlyDiscovery"): DISCOVERY,
    ("deploy_access", "deploy_functions", "EnvironmentFunctions"):
        "Every action listed; the resources are " + QUALIFIED + ".",
    ("deploy_access", "deploy_functions", "InvokePermissionsForTheApiAndTheSchedule"):
        "AddPermission/RemovePermission on " + QUALIFIED + ", only for API Gateway and "
        "EventBridge principals (lambda:Principal).",
    ("deploy_access", "deploy_functions", "SharedLayer"):
        "Layer versions are numbered by Lambda: layer:<prefix>-shared and its versions.",
    ("deploy_access", "deploy_functions", "EventSourceMappingsOfTheseFunctions"):
        'Create/Update/DeleteEventSourceMapping take no resource ARN at creation (AWS requires '
        '"*"); limited to these functions by the lambda:FunctionArn condition.',
    ("deploy_access", "deploy_functions", "ReadAndTagEventSourceMappings"):
        "Event source mappings are named by generated UUIDs; Get and tags only (tags grant "
        "nothing on mappings: no policy conditions on them).",
    ("deploy_access", "deploy_functions", "CodeDeployShiftsTraffic"):
        "The environment's CodeDeploy application, its deployment groups "
        "(deploymentgroup:<prefix>/*) and the predefined deployment configurations "
        "(deploymentconfig:*, read-only GetDeploymentConfig). Only with traffic shifting.",
    ("deploy_access", "deploy_platform", "HttpApiAndItsChildren"):
        "API Gateway ids are generated (/apis/<id>/...), and routes, integrations and "
        "authorizers of an HTTP API carry no tags: the API's children can only be matched "
        "by path. Creating an API needs this environment's tags, and a Deny protects APIs and "
        "stages tagged for another environment; docs/aws.md explains the residual reach and "
        "recommends an account per environment for prod.",
    ("deploy_access", "deploy_platform", "EnvironmentLogGroups"):
        "The exact log groups; ARNs ending in :* are the form CloudWatch Logs authorizes "
        "some group actions against.",
    ("deploy_access", "deploy_platform", "HttpApiAccessLogDelivery"):
        'HTTP API access logging goes through CloudWatch Logs log deliveries, whose actions '
        'accept only Resource "*"; logs:PutResourcePolicy is not among them (denied: the '
        "bootstrap grants log delivery once).",
    ("deploy_access", "deploy_platform", "AlarmTopic"):
        "The environment's topic and its subscriptions (topic:<generated id>).",
    ("deploy_access", "deploy_platform", "EnvironmentAlarms"):
        "The environment's alarms, alarm:<prefix>.* (\".\" ends the prefix).",
    ("deploy_access", "deploy_platform", "CreateTheEnvironmentKeyTaggedForIt"):
        'kms:CreateKey, and TagResource at creation, take no key ARN (AWS requires "*"): '
        "limited to keys tagged with this project and environment, and to its tag keys "
        "(aws:TagKeys); a Deny stops retagging another environment's key.",
    ("deploy_access", "deploy_platform", "ScheduleTargetsOnlyTheProducer"):
        "PutTargets on the exact rule, the target limited to the producer's qualified ARNs "
        "(events:TargetArn function:<producer>:*, the live alias).",
    ("deploy_access", "deploy_domain", "RequestTheDomainsCertificate"):
        'acm:RequestCertificate has no resource-level permission (AWS requires "*"): '
        "limited to the configured domain name (acm:DomainNames) and DNS validation.",
    ("deploy_access", "deploy_domain", "ManageCertificatesAndDnsChanges"):
        "Certificate ids and Route53 change ids are generated (certificate/*, change/*); a "
        "Deny stops tagging or deleting another environment's certificate.",
    ("deploy_access", "deploy_domain", "TheDomainsDnsRecords"):
        "The exact hosted zone; record names limited to the domain and its validation "
        "records (_<token>.<domain>) by route53:ChangeResourceRecordSetsNormalizedRecordNames.",
    ("deploy_access", "deploy_domain", "TheDomainNameAndItsMapping"):
        "The API mapping's id is generated: /domainnames/<exact name>/*.",
    # --- deploy_access: the plan role (read-only) ---
    ("deploy_access", "plan_state", "StateKeyForThisEnvironmentsStateOnly"):
        "As for the deploy role: the state key by alias, through S3, for the environment's "
        "own state and lock objects only.",
    ("deploy_access", "plan_state", "ReadArtifactObjectsMetadata"):
        "Refreshing the content-addressed artifact objects (HEAD, tags) of the environment's bucket.",
    ("deploy_access", "plan_services", "ReadFunctions"): "Read-only, on " + QUALIFIED + " and the layer's versions.",
    ("deploy_access", "plan_services", "ReadEventSourceMappings"): "Read-only; mapping ids are generated UUIDs.",
    ("deploy_access", "plan_services", "ReadHttpApi"): "apigateway:GET only; API ids are generated.",
    ("deploy_access", "plan_services", "ReadLogGroups"): "Read-only tags of the exact log groups (and their :* form).",
    ("deploy_access", "plan_services", "ReadAlarmTopic"): "Read-only, the topic and its subscriptions.",
    ("deploy_access", "plan_services", "ReadAlarmsAndDashboard"): "Read-only, alarm:<prefix>.* and the dashboard.",
    ("deploy_access", "plan_services", "ReadCodeDeploy"): "Read-only, the application, its groups, the predefined configurations.",
    ("deploy_access", "plan_services", "ReadCertificatesAndDns"): "Read-only; certificate and change ids are generated.",
    ("deploy_access", "plan_services", "ReadOnlyDiscovery"): DISCOVERY,
    ("deploy_access", "plan_trust", "GitHubPlanEnvironmentPlanWorkflow"):
        "Pull requests run as refs/pull/<number>/merge: the plan role's subject allows any PR "
        "number, in the <env>-plan environment and the plan-env.yml workflow only.",
}
# An entry whose statement no longer holds a wildcard is stale: the test rejects it.


def test_every_tf_file_parses():
    files = tf_files()
    assert len(files) >= 20, "infra/ should hold bootstrap, three layers and three envs"
    docs = parsed()
    for path in files:
        assert path in docs, f"{path} did not parse"
        assert docs[path], f"{path} parsed to an empty document"


def test_every_tf_file_is_formatted():
    formatted = run_hcl_tool("format", tf_files())
    bad = [str(p.relative_to(ROOT)) for p, text in formatted.items() if text != p.read_text()]
    assert not bad, f"not formatted (run terraform fmt -recursive infra): {bad}"


def test_each_environment_composes_the_three_layers():
    for env in ENVS:
        doc = module_doc(INFRA / "envs" / env)
        sources = {name: blocks[0]["source"] for name, blocks in doc["module"].items()}
        assert sorted(sources.values()) == [f"../../layers/{layer}" for layer in LAYERS], env
        for name in sources:
            assert (INFRA / "envs" / env / sources[name]).resolve().is_dir()


def test_environments_differ_only_in_their_backend_key():
    for name in ("main.tf", "variables.tf", "outputs.tf"):
        texts = {env: (INFRA / "envs" / env / name).read_text() for env in ENVS}
        assert len(set(texts.values())) == 1, f"envs/*/{name} must be identical"
    for env in ENVS:
        text = (INFRA / "envs" / env / "versions.tf").read_text()
        assert text == (INFRA / "envs" / "dev" / "versions.tf").read_text().replace(
            "haar/dev/", f"haar/{env}/"), env
        assert sorted(p.name for p in (INFRA / "envs" / env).iterdir() if p.suffix == ".tf") == \
            ["main.tf", "outputs.tf", "variables.tf", "versions.tf"], env


def test_versions_and_backend():
    for path, doc in parsed().items():
        for block in doc.get("terraform", []):
            assert block.get("required_version") == ">= 1.11", path
            aws = block["required_providers"][0]["aws"]
            # the major version the tests run (the mirror holds 5.100)
            assert aws == {"source": "hashicorp/aws", "version": "~> 5.100"}, path
    for env in ENVS:
        tfvars = load_tfvars(env)
        doc = module_doc(INFRA / "envs" / env)
        backend = [b["backend"] for b in doc["terraform"] if "backend" in b]
        assert len(backend) == 1, env
        s3 = backend[0]["s3"][0]
        assert s3["use_lockfile"] is True and s3["encrypt"] is True, env
        assert "dynamodb_table" not in s3, "environments lock with S3 lock files"
        assert s3["key"] == f"{tfvars['project']}/{tfvars['environment']}/terraform.tfstate"
        # the roles the bootstrap gives the environment read and write exactly this key
        assert module_doc(ACCESS)["locals"]["state_key"] == "${var.project}/${var.environment}/terraform.tfstate"
        assert tfvars["environment"] == env, f"{env}/terraform.tfvars.json names another environment"
    boot = module_doc(INFRA / "bootstrap")
    assert not any("backend" in b for b in boot["terraform"]), "bootstrap keeps local state"


def test_lock_files_are_committed_and_agree():
    """Item 11: every root module commits its .terraform.lock.hcl, all on the provider
    version the tests run, with its hashes (linux_amd64's h1: from the mirror)."""
    roots = [INFRA / "bootstrap", *[INFRA / "envs" / e for e in ENVS]]
    texts = {r: (r / ".terraform.lock.hcl").read_text() for r in roots}
    assert len(set(texts.values())) == 1, "the lock files differ"
    text = next(iter(texts.values()))
    assert re.search(r'provider "registry.terraform.io/hashicorp/aws" \{\s+version\s+= "5\.100\.0"', text)
    assert re.search(r'"h1:[A-Za-z0-9+/=]{44}"', text)


def test_fixed_tags_win_and_are_the_providers_default_tags():
    """Item 6: conditions rely on Project and Environment, so the file cannot override
    them; the provider tags everything with them (item 8)."""
    core = module_doc(CORE)
    assert core["locals"]["tags"] == "${merge(var.tags, local.fixed_tags)}"
    assert set(core["locals"]["fixed_tags"]) == {"Project", "Environment", "ManagedBy"}
    provider = module_doc(INFRA / "envs" / "dev")["provider"]["aws"][0]
    assert set(provider["default_tags"][0]["tags"]) == {"Project", "Environment", "ManagedBy"}
    app = module_doc(APP)["resource"]
    for name in ("zip", "layer"):
        assert "tags" not in app["aws_s3_object"][name][0], "S3 objects: 10 tags at most"


def test_every_role_an_environment_creates_carries_the_boundary():
    """Item 1: the layers create roles only with the bootstrap's boundary (the deploy
    role could create no other), and none of them is a deploy or plan role."""
    count = 0
    for layer in LAYERS:
        doc = module_doc(INFRA / "layers" / layer)
        for name, bodies in doc["resource"].get("aws_iam_role", {}).items():
            assert bodies[0].get("permissions_boundary") == "${var.permissions_boundary_arn}", f"{layer}/{name}"
            role_name = bodies[0]["name"]
            m = re.fullmatch(r"\$\{local\.([a-z_]+)\}", role_name)
            if m:
                role_name = doc["locals"][m.group(1)]
            assert role_name.endswith("-role"), role_name
            count += 1
    assert count >= 2
    assert not (CORE / "deploy_role.tf").exists()
    roles = module_doc(ACCESS)["resource"]["aws_iam_role"]
    assert sorted(roles) == ["deploy", "plan"]
    assert module_doc(ACCESS)["locals"]["boundary_arn"].endswith(':policy/${local.name_prefix}-boundary"') or \
        module_doc(ACCESS)["locals"]["boundary_arn"].endswith(":policy/${local.name_prefix}-boundary")
    assert module_doc(CORE)["locals"]["boundary_arn"].endswith(":policy/${local.name_prefix}-boundary")


def test_bootstrap_reads_each_environments_own_file():
    boot = module_doc(INFRA / "bootstrap")
    assert 'terraform.tfvars.json' in boot["locals"]["env_config"]
    mod = boot["module"]["environment"][0]
    assert mod["source"] == "../modules/deploy_access" and mod["for_each"] == "${local.env_config}"


def _type_keys(type_expr):
    return set(re.findall(r"([A-Za-z0-9_]+)\s*=", type_expr))


def test_every_tfvars_key_is_declared_typed_and_validated():
    variables = module_doc(INFRA / "envs" / "dev")["variable"]
    for env in ENVS:
        for key, value in load_tfvars(env).items():
            assert key in variables, f"{env}: {key} is not a declared variable"
            decl = variables[key][0]
            assert "type" in decl, f"variable {key} has no type"
            if not isinstance(value, bool):
                assert decl.get("validation"), f"variable {key} has no validation block"
            if isinstance(value, dict) and key != "tags":
                declared = _type_keys(decl["type"])
                for sub, subval in value.items():
                    assert sub in declared, f"{env}: {key}.{sub} is not in variable {key}'s type"
                    if isinstance(subval, dict) and key == "functions":
                        for leaf in subval:
                            assert leaf in declared, f"{env}: {key}.{sub}.{leaf} undeclared"


def test_visibility_timeout_rule_is_validated():
    queue = module_doc(INFRA / "envs" / "dev")["variable"]["queue"][0]
    conditions = [v["condition"] for v in queue["validation"]]
    assert any("6 * var.functions.worker.timeout_seconds" in c for c in conditions)
    for env in ENVS:
        cfg = load_tfvars(env)
        assert cfg["queue"]["visibility_timeout_seconds"] >= 6 * cfg["functions"]["worker"]["timeout_seconds"]


def test_each_function_has_its_own_role():
    app = module_doc(APP)
    env_root = Module(INFRA / "envs" / "dev", load_tfvars("dev"))
    app_mod = env_root.child("app")
    fn = app["resource"]["aws_lambda_function"]["fn"][0]
    role = app["resource"]["aws_iam_role"]["fn"][0]
    policy = app["resource"]["aws_iam_role_policy"]["fn"][0]
    assert app_mod.for_each_keys(fn) == app_mod.for_each_keys(role) == app_mod.for_each_keys(policy)
    assert sorted(app_mod.for_each_keys(fn)) == sorted(FUNCTIONS)
    assert fn["role"] == "${aws_iam_role.fn[each.key].arn}"
    assert policy["role"] == "${aws_iam_role.fn[each.key].id}"
    assert policy["policy"] == "${local.function_policies[each.key]}"
    pol = app["locals"]["function_policies"]
    assert isinstance(pol, dict) and sorted(pol) == sorted(FUNCTIONS)
    for fname, ref in pol.items():
        assert ref == f"${{data.aws_iam_policy_document.{fname}.json}}", "one policy document per function"
    names = {k: app_mod.eval(role["name"], k) for k in FUNCTIONS}
    assert len(set(names.values())) == 3
    # No managed policies: a role's rights are exactly its own document.
    assert "aws_iam_role_policy_attachment" not in app["resource"]


def _statements(doc_body):
    for st in doc_body.get("statement", []):
        yield st
    dynamic = doc_body.get("dynamic", {})
    for dyn in (dynamic if isinstance(dynamic, list) else [dynamic]):
        for block in dyn.get("statement", []):
            for content in block.get("content", []):
                yield content


def _has_star(value):
    if isinstance(value, str):
        return "*" in value
    if isinstance(value, list):
        return any(_has_star(v) for v in value)
    if isinstance(value, dict):
        return any(_has_star(v) for v in value.values())
    return False


def test_iam_wildcards_only_where_listed():
    found = set()
    for folder in IAM_FOLDERS:
        doc = module_doc(folder)
        for name, bodies in doc["data"].get("aws_iam_policy_document", {}).items():
            for st in _statements(bodies[0]):
                sid = st.get("sid")
                assert sid, f"{folder.name}/{name}: every statement needs a sid"
                if st.get("effect") == "Deny":
                    continue
                fields = {k: st.get(k) for k in ("actions", "not_actions", "resources",
                                                  "not_resources", "principals", "condition")}
                # Follow local.X references: a wildcard must not hide in a local.
                refs = re.findall(r"local\.([A-Za-z0-9_]+)", json.dumps(fields))
                fields["locals"] = [doc["locals"].get(r, "") for r in refs]
                if _has_star(fields):
                    key = (folder.name if folder.name != "bootstrap" else "bootstrap", name, sid)
                    found.add(key)
        for rname, bodies in doc["resource"].get("aws_lambda_permission", {}).items():
            if _has_star(bodies[0].get("source_arn", "")):
                found.add((folder.name, f"aws_lambda_permission.{rname}", "source_arn"))
    allowed = set(IAM_WILDCARD_ALLOWLIST)
    unlisted = found - allowed
    assert not unlisted, f"IAM wildcards not in IAM_WILDCARD_ALLOWLIST: {sorted(unlisted)}"
    stale = allowed - found
    assert not stale, f"allowlist entries with no wildcard left (remove them): {sorted(stale)}"
    assert all(len(reason) > 20 for reason in IAM_WILDCARD_ALLOWLIST.values())


def test_policies_are_written_as_policy_documents():
    # Inline JSON policies would escape the wildcard check above.
    for path in tf_files():
        text = path.read_text()
        assert not re.search(r'\bAction\s*=', text), f"{path}: use aws_iam_policy_document"
        assert not re.search(r'"Statement"|\bStatement\s*=', text), f"{path}: use aws_iam_policy_document"


def test_function_roles_use_exact_actions():
    app = module_doc(APP)
    for fn in FUNCTIONS:
        body = app["data"]["aws_iam_policy_document"][fn][0]
        for st in _statements(body):
            for action in st.get("actions", []):
                assert re.fullmatch(r"[a-z0-9]+:[A-Za-z]+", action), f"{fn}/{st['sid']}: {action}"
            for res in st.get("resources", []):
                if st["sid"] not in ("WriteOwnLogStreams", "VpcNetworkInterfaces", "SendTraces"):
                    assert "*" not in res, f"{fn}/{st['sid']}: {res}"
            if any(a.startswith("kms:") for a in st.get("actions", [])):
                assert [c["variable"] for c in st["condition"]] == ["kms:ViaService"], f"{fn}/{st['sid']}"


# What each function's code calls (src/functions/<fn> and the task layer in
# src/functions/common it uses), by resource: a role grants exactly these.
FUNCTION_DATA_ACTIONS = {
    "api": {"table": {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"},
            "index": {"dynamodb:Query"}, "queue": {"sqs:SendMessage"}},
    "worker": {"table": {"dynamodb:GetItem", "dynamodb:UpdateItem"}, "index": {"dynamodb:Query"},
               "queue": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                         "sqs:ChangeMessageVisibility"}},
    # the producer flags a task whose send failed (UpdateItem) and sweeps stuck ones (Query)
    "producer": {"table": {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"},
                 "index": {"dynamodb:Query"}, "queue": {"sqs:SendMessage"},
                 "dlq": {"sqs:SendMessage"}},
}
RESOURCE_OF = {"${var.table_arn}": "table", "${local.index_arn}": "index",
               "${var.queue_arn}": "queue", "${var.schedule_dlq_arn}": "dlq"}


def test_function_roles_grant_what_the_code_calls():
    app = module_doc(APP)
    for fn in FUNCTIONS:
        got = {}
        for st in _statements(app["data"]["aws_iam_policy_document"][fn][0]):
            for res in st.get("resources", []):
                if res in RESOURCE_OF:
                    got.setdefault(RESOURCE_OF[res], set()).update(st["actions"])
        assert got == FUNCTION_DATA_ACTIONS[fn], fn


def test_log_groups_have_retention():
    count = 0
    for folder in [INFRA / "layers" / layer for layer in LAYERS]:
        for name, bodies in module_doc(folder)["resource"].get("aws_cloudwatch_log_group", {}).items():
            assert bodies[0].get("retention_in_days") == "${var.log_retention_days}", f"{folder.name}/{name}"
            assert bodies[0].get("kms_key_id") == "${var.kms_key_arn}", f"{folder.name}/{name}"
            count += 1
    assert count >= 2
    fn = module_doc(APP)["resource"]["aws_lambda_function"]["fn"][0]
    assert fn["logging_config"][0]["log_group"] == "${aws_cloudwatch_log_group.fn[each.key].name}"
    for env in ENVS:
        assert load_tfvars(env)["log_retention_days"] > 0


def test_dlq_redrive_and_event_source_mapping_are_wired():
    infra = module_doc(INFRA_L)["resource"]
    tasks = infra["aws_sqs_queue"]["tasks"][0]
    redrive = tasks["redrive_policy"]
    assert "deadLetterTargetArn = aws_sqs_queue.dlq.arn" in redrive
    assert "maxReceiveCount     = var.queue.max_receive_count" in redrive
    allow = infra["aws_sqs_queue_redrive_allow_policy"]["dlq"][0]
    assert allow["queue_url"] == "${aws_sqs_queue.dlq.id}"
    assert 'redrivePermission = "byQueue"' in allow["redrive_allow_policy"]
    assert "sourceQueueArns   = [aws_sqs_queue.tasks.arn]" in allow["redrive_allow_policy"]

    app = module_doc(APP)["resource"]
    esm = app["aws_lambda_event_source_mapping"]["worker"][0]
    assert esm["event_source_arn"] == "${var.queue_arn}"
    assert esm["function_name"] == '${local.alias["worker"].arn}'
    assert esm["function_response_types"] == ["ReportBatchItemFailures"]
    assert esm["scaling_config"][0]["maximum_concurrency"] == "${var.functions.worker.max_concurrency}"
    assert esm["batch_size"] == "${var.functions.worker.batch_size}"
    env = module_doc(INFRA / "envs" / "dev")["module"]["app"][0]
    assert env["queue_arn"] == "${module.infra.queue_arn}"
    assert module_doc(INFRA_L)["output"]["queue_arn"][0]["value"] == "${aws_sqs_queue.tasks.arn}"

    integ = app["aws_apigatewayv2_integration"]["api"][0]
    assert integ["payload_format_version"] == "2.0" and integ["integration_type"] == "AWS_PROXY"
    target = app["aws_cloudwatch_event_target"]["producer"][0]
    assert target["arn"] == '${local.alias["producer"].arn}'
    assert target["dead_letter_config"][0]["arn"] == "${var.schedule_dlq_arn}"
    perms = app["aws_lambda_permission"]
    assert perms["producer"][0]["source_arn"] == "${var.rule_arn}"
    assert perms["producer"][0]["principal"] == "events.amazonaws.com"
    assert perms["api"][0]["principal"] == "apigateway.amazonaws.com"


# --- names --------------------------------------------------------------------------

NAME_ATTR = {
    "aws_lambda_function": "function_name",
    "aws_cloudwatch_log_group": "name",
    "aws_sqs_queue": "name",
    "aws_dynamodb_table": "name",
    "aws_cloudwatch_event_rule": "name",
    "aws_apigatewayv2_api": "name",
    "aws_iam_role": "name",
}


def terraform_names(env):
    """{terraform type: {evaluated name, ...}} over the environment's three layers."""
    root = env_module(env)
    names = {}
    for mod_name in ("core", "infra", "app"):
        mod = root.child(mod_name)
        for rtype, attr in NAME_ATTR.items():
            for _, bodies in mod.doc["resource"].get(rtype, {}).items():
                for key in mod.for_each_keys(bodies[0]):
                    names.setdefault(rtype, set()).add(mod.eval(bodies[0][attr], key))
    return names


def gsi_names():
    table = module_doc(INFRA_L)["resource"]["aws_dynamodb_table"]["tasks"][0]
    mod = env_module("dev").child("infra")
    return {mod.eval(g["name"]) for g in table["global_secondary_index"]}


@pytest.mark.parametrize("env", ENVS)
def test_names_follow_the_design(env):
    cfg = load_tfvars(env)
    p = f"{cfg['project']}-{cfg['environment']}"
    names = terraform_names(env)
    assert names["aws_lambda_function"] == {f"{p}-api", f"{p}-worker", f"{p}-producer"}
    assert names["aws_sqs_queue"] == {f"{p}-tasks", f"{p}-tasks-dlq", f"{p}-schedule-dlq"}
    assert names["aws_dynamodb_table"] == {f"{p}-tasks"}
    assert names["aws_cloudwatch_event_rule"] == {f"{p}-schedule"}
    assert names["aws_apigatewayv2_api"] == {f"{p}-api"}
    assert {f"{p}-api-role", f"{p}-worker-role", f"{p}-producer-role"} <= names["aws_iam_role"]
    assert {f"/aws/lambda/{p}-{f}" for f in FUNCTIONS} <= names["aws_cloudwatch_log_group"]
    assert gsi_names() == {"by-status"}


@pytest.mark.parametrize("env", ENVS)
def test_names_match_what_haar_provisions(env):
    described = haar_describe(env)
    cfg = load_tfvars(env)
    assert described["project"] == cfg["project"] and described["environment"] == env
    assert described["region"] == cfg["aws_region"]
    names = terraform_names(env)
    by_type = {}
    for res in described["resources"]:
        ttype = res["terraform_type"]
        by_type.setdefault(ttype, set()).add(res["name"])
        if ttype in NAME_ATTR:
            assert res["name"] in names.get(ttype, set()), \
                f"haar provisions {ttype} {res['name']!r}; Terraform has {sorted(names.get(ttype, []))}"
        else:
            assert ttype in ("aws_lambda_event_source_mapping",) or ttype.startswith("aws_"), ttype
        if res["kind"] == "table":
            text = json.dumps(res)
            if "by-status" in text or "index" in text.lower():
                assert "by-status" in text, f"haar's table index differs: {res}"
    # What both must have exactly: the functions, queues, table and rule.
    for ttype in ("aws_lambda_function", "aws_sqs_queue", "aws_dynamodb_table",
                  "aws_cloudwatch_event_rule"):
        assert by_type.get(ttype, set()) == names[ttype], ttype
    kinds = {r["kind"] for r in described["resources"]}
    assert {"function", "queue", "table", "rule", "event_source_mapping"} <= kinds
