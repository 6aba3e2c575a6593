"""The synthesized template of every stage against the catalog, the models, the
resource definitions and the stage settings. Expectations are written from the
brief, not read from infra_cdk."""

from __future__ import annotations

import json
from inspect import getmembers
from typing import Any

import pytest
from pynamodb.attributes import Attribute
from pynamodb.indexes import Index
from pynamodb.models import Model

pytest.importorskip("aws_cdk", reason="needs the infra extras: make test")

from core.adapters.dynamodb.models import TABLE_MODELS
from functions.catalog import ENDPOINTS, WORKERS, Endpoint, Worker
from functions.permissions import INDEX_PERMISSIONS, uses_stripe
from functions.resources import EMAIL, EXPORTS_BUCKET, TASK_QUEUE
from functions.runtime.settings import Settings
from infra_cdk.tables_from_models import TABLE_KEYS
from tests.infra.conftest import Synth

Entry = Endpoint | Worker
ENTRIES: tuple[Entry, ...] = (*ENDPOINTS, *WORKERS)

READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")
WRITE = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
XRAY = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
LOGS = ("logs:CreateLogStream", "logs:PutLogEvents")
# The JWT key goes to every function with permissions; the others, each as its ARN
# and with reading it, only to the functions that hold its permission.
SECRET_ARN_VARS = ("STRATA_JWT_SECRET_ARN",)
PERMISSION_SECRET_VARS = {
    "secrets:pepper": "STRATA_PASSWORD_PEPPER_ARN",
    "stripe:api": "STRATA_STRIPE_API_KEY_ARN",
    "stripe:webhook": "STRATA_STRIPE_WEBHOOK_SECRET_ARN",
}
SECRET_OUTPUTS = {
    "STRATA_JWT_SECRET_ARN": "JwtSecretArn",
    "STRATA_PASSWORD_PEPPER_ARN": "PasswordPepperArn",
    "STRATA_STRIPE_API_KEY_ARN": "StripeApiKeyArn",
    "STRATA_STRIPE_WEBHOOK_SECRET_ARN": "StripeWebhookSecretArn",
}
# The billing settings a stage may define (None: the runtime default, no variable).
BILLING_VARS = {
    "billing_grace_days": "STRATA_BILLING_GRACE_DAYS",
    "billing_proration_behavior": "STRATA_BILLING_PRORATION_BEHAVIOR",
}
# What an SQS event source mapping needs, granted by it to the queue worker's role.
CONSUME = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
)
EXPORT_ACTIONS = {
    "exports:write": ("s3:PutObject", "s3:AbortMultipartUpload"),
    "exports:read": ("s3:GetObject",),
}
BASE_VARS = {
    "STRATA_STAGE",
    "STRATA_USERS_TABLE",
    "STRATA_SESSIONS_TABLE",
    "STRATA_TASKS_TABLE",
    "STRATA_ORGS_TABLE",
    "STRATA_SESSION_TTL_SECONDS",
    "STRATA_USER_INDEX_SHARDS",
    "STRATA_TASK_QUEUE_URL",
    "STRATA_TASK_MAX_RECEIVES",
    "STRATA_TASK_LEASE_SECONDS",
    "STRATA_EXPORTS_BUCKET",
    "STRATA_EMAIL_FROM",
    "STRATA_SES_CONFIGURATION_SET",
    "STRATA_APP_BASE_URL",
    "STRATA_ALLOWED_ORIGINS",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_METRICS_NAMESPACE",
    "STRATA_TRACING",
}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _get_att(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _model(table: str) -> type[Model]:
    # Not by Meta.table_name: bind_tables (run by other tests) rewrites it.
    (model,) = [m for m, key in TABLE_KEYS.items() if key == table]
    return model


def _table_id(synth: Synth, table: str) -> str:
    name = f"strata-{synth.stage.name}-{table}"
    (logical_id,) = [
        k
        for k, v in synth.of_type("AWS::DynamoDB::Table").items()
        if v["Properties"]["TableName"] == name
    ]
    return logical_id


def _function(synth: Synth, entry: Entry) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (k, v["Properties"])
        for k, v in synth.of_type("AWS::Lambda::Function").items()
        if v["Properties"].get("Handler") == f"{entry.module}.handler"
    ]
    return found


def _ours(synth: Synth) -> dict[str, dict[str, Any]]:
    """The functions built from the catalog (their handlers are in ``functions``)."""
    return {
        k: v
        for k, v in synth.of_type("AWS::Lambda::Function").items()
        if str(v["Properties"].get("Handler", "")).startswith("functions.")
    }


def _named(synth: Synth, kind: str, key: str, name: str) -> str:
    (logical_id,) = [
        k for k, v in synth.of_type(kind).items() if v["Properties"].get(key) == name
    ]
    return logical_id


def _queue_id(synth: Synth) -> str:
    name = TASK_QUEUE.name(synth.stage.prefix)
    return _named(synth, "AWS::SQS::Queue", "QueueName", name)


def _dead_letter_queue_id(synth: Synth) -> str:
    name = TASK_QUEUE.dead_letter_name(synth.stage.prefix)
    return _named(synth, "AWS::SQS::Queue", "QueueName", name)


def _bucket_id(synth: Synth) -> str:
    (logical_id,) = [
        k
        for k, v in synth.of_type("AWS::S3::Bucket").items()
        if str(v["Properties"].get("BucketName", "")).startswith(
            EXPORTS_BUCKET.name(synth.stage.prefix) + "-"
        )
    ]
    return logical_id


def _ses_arns(synth: Synth) -> list[dict[str, Any]]:
    """The email identity's and the configuration set's ARNs (the test account)."""
    identity = _named(
        synth, "AWS::SES::EmailIdentity", "EmailIdentity", synth.stage.email_domain
    )
    configuration_set = _named(
        synth,
        "AWS::SES::ConfigurationSet",
        "Name",
        EMAIL.configuration_set_name(synth.stage.prefix),
    )
    base = "arn:aws:ses:us-east-1:123456789012:"
    return [
        {"Fn::Join": ["", [f"{base}identity/", {"Ref": identity}]]},
        {"Fn::Join": ["", [f"{base}configuration-set/", {"Ref": configuration_set}]]},
    ]


def _objects(synth: Synth) -> dict[str, Any]:
    return {"Fn::Join": ["", [_get_att(_bucket_id(synth)), "/*"]]}


def _secret_ids(synth: Synth) -> dict[str, str]:
    """Every secret's logical id, by the variable that names it."""
    outputs = synth.template["Outputs"]
    return {
        var: outputs[output]["Value"]["Ref"] for var, output in SECRET_OUTPUTS.items()
    }


def _secret_vars(entry: Entry) -> set[str]:
    return {
        PERMISSION_SECRET_VARS[p]
        for p in entry.permissions
        if p in PERMISSION_SECRET_VARS
    }


def _billing_vars(synth: Synth) -> dict[str, str]:
    return {
        var: str(getattr(synth.stage, field))
        for field, var in BILLING_VARS.items()
        if getattr(synth.stage, field) is not None
    }


def _granted(synth: Synth, role_id: str) -> set[tuple[str, str]]:
    """Every (action, resource) pair the role's policies allow."""
    role = synth.resources[role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    assert "Policies" not in role
    pairs: set[tuple[str, str]] = set()
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"]["Roles"]:
            continue
        assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            assert not {"NotAction", "NotResource", "Condition"} & set(statement)
            for action in _list(statement["Action"]):
                for resource in _list(statement["Resource"]):
                    pairs.add((action, _key(resource)))
    return pairs


def _expected_grants(
    synth: Synth, endpoint: Entry, log_group_id: str
) -> set[tuple[str, str]]:
    pairs = {(a, _key(_get_att(log_group_id))) for a in LOGS}
    if synth.stage.tracing:
        pairs |= {(a, _key("*")) for a in XRAY}
    if isinstance(endpoint, Worker) and endpoint.trigger == "queue":
        pairs |= {(a, _key(_get_att(_queue_id(synth)))) for a in CONSUME}
    if isinstance(endpoint, Worker) and endpoint.trigger == "schedule":
        # Its on-failure destination: a run that failed its retries is kept there.
        name = f"{synth.stage.prefix}-schedule-dlq"
        dead_letters = _get_att(_named(synth, "AWS::SQS::Queue", "QueueName", name))
        pairs.add(("sqs:SendMessage", _key(dead_letters)))
    secrets = _secret_ids(synth)
    for permission in endpoint.permissions:
        table, access = permission.split(":")
        if permission in PERMISSION_SECRET_VARS:
            secret = {"Ref": secrets[PERMISSION_SECRET_VARS[permission]]}
            pairs.add(("secretsmanager:GetSecretValue", _key(secret)))
            continue
        if permission in INDEX_PERMISSIONS:
            table, names = INDEX_PERMISSIONS[permission]
            table_arn = _get_att(_table_id(synth, table))
            pairs |= {
                ("dynamodb:Query", _key({"Fn::Join": ["", [table_arn, f"/index/{n}"]]}))
                for n in names
            }
            continue
        if permission == "queue:send":
            pairs.add(("sqs:SendMessage", _key(_get_att(_queue_id(synth)))))
            continue
        if permission in EXPORT_ACTIONS:
            objects = _key(_objects(synth))
            pairs |= {(a, objects) for a in EXPORT_ACTIONS[permission]}
            continue
        if permission == "email:send":
            pairs |= {("ses:SendEmail", _key(arn)) for arn in _ses_arns(synth)}
            continue
        table_arn = _get_att(_table_id(synth, table))
        if access == "read":
            pairs |= {(a, _key(table_arn)) for a in READ}
        else:
            assert access == "write", permission
            pairs |= {(a, _key(table_arn)) for a in WRITE}
    if endpoint.permissions:
        pairs |= {
            ("secretsmanager:GetSecretValue", _key({"Ref": secrets[var]}))
            for var in SECRET_ARN_VARS
        }
    return pairs


def _route(path: str) -> str:
    return path if path == "/" else path.rstrip("/")


# --- functions and routes ---------------------------------------------------------


def test_one_function_per_catalog_entry_and_no_other(synth: Synth) -> None:
    functions = synth.of_type("AWS::Lambda::Function")
    ours = _ours(synth)
    assert sorted(f["Properties"]["Handler"] for f in ours.values()) == sorted(
        f"{e.module}.handler" for e in ENTRIES
    )
    # The one function not of ours: CDK's handler that empties the buckets of a
    # stage whose data goes with the stack (auto-delete), and only there.
    others = set(functions) - set(ours)
    if synth.stage.retain_data:
        assert others == set()
    else:
        (other,) = others
        assert other.startswith("CustomS3AutoDeleteObjectsCustomResourceProvider")
        users = synth.of_type("Custom::S3AutoDeleteObjects").values()
        assert users
        assert all(u["Properties"]["ServiceToken"] == _get_att(other) for u in users)
    layers = synth.of_type("AWS::Lambda::LayerVersion")
    (layer_id,) = [k for k in layers if k.startswith("DependenciesLayer")]
    (stripe_layer_id,) = [k for k in layers if k.startswith("StripeLayer")]
    (code,) = {_key(f["Properties"]["Code"]) for f in ours.values()}
    for entry in ENTRIES:
        _, props = _function(synth, entry)
        assert props["Runtime"] == "python3.12"
        assert props["Architectures"] == ["arm64"]
        # X-Ray where the stage traces (its code then traces too), else none.
        if synth.stage.tracing:
            assert props["TracingConfig"] == {"Mode": "Active"}
        else:
            assert "TracingConfig" not in props, entry.name
        assert props["MemorySize"] == synth.stage.memory_mb
        # The stripe SDK's layer goes to the functions that call Stripe only.
        expected = [{"Ref": layer_id}]
        if uses_stripe(entry.permissions):
            expected.append({"Ref": stripe_layer_id})
        assert props["Layers"] == expected, entry.name
        assert _key(props["Code"]) == code
        assert props[
            "FunctionName"
        ] == f"strata-{synth.stage.name}-" + entry.name.replace("_", "-")


def test_one_route_per_catalog_entry_wired_to_its_function(synth: Synth) -> None:
    synth.assertions.resource_count_is("AWS::ApiGatewayV2::Route", len(ENDPOINTS))
    routes = synth.of_type("AWS::ApiGatewayV2::Route")
    integrations = synth.of_type("AWS::ApiGatewayV2::Integration")
    functions = synth.of_type("AWS::Lambda::Function")
    by_key: dict[str, str] = {}
    for route in routes.values():
        props = route["Properties"]
        integration_id = props["Target"]["Fn::Join"][1][1]["Ref"]
        integration = integrations[integration_id]["Properties"]
        assert integration["IntegrationType"] == "AWS_PROXY"
        assert integration["PayloadFormatVersion"] == "2.0"
        function_id = integration["IntegrationUri"]["Fn::GetAtt"][0]
        by_key[props["RouteKey"]] = functions[function_id]["Properties"]["Handler"]
    # API Gateway rejects routes ending in "/" and sends "/x/" to "/x".
    expected = {
        f"{e.method} {_route(e.path)}": f"{e.module}.handler" for e in ENDPOINTS
    }
    assert by_key == expected
    assert len(routes) == len(ENDPOINTS)


def test_each_function_may_invoke_only_from_its_route_or_its_schedule(
    synth: Synth,
) -> None:
    permissions = synth.of_type("AWS::Lambda::Permission")
    rules = synth.of_type("AWS::Events::Rule")
    scheduled = [w for w in WORKERS if w.trigger == "schedule"]
    assert len(permissions) == len(ENDPOINTS) + len(rules)
    by_principal: dict[str, list[dict[str, Any]]] = {}
    for permission in permissions.values():
        props = permission["Properties"]
        assert props["Action"] == "lambda:InvokeFunction"
        assert "SourceArn" in props
        by_principal.setdefault(props["Principal"], []).append(props)
    assert set(by_principal) <= {"apigateway.amazonaws.com", "events.amazonaws.com"}
    assert len(by_principal["apigateway.amazonaws.com"]) == len(ENDPOINTS)
    # EventBridge may invoke only the scheduled workers, and only from their rules.
    scheduled_ids = {_function(synth, w)[0] for w in scheduled}
    for props in by_principal.get("events.amazonaws.com", []):
        assert props["FunctionName"]["Fn::GetAtt"][0] in scheduled_ids
        assert props["SourceArn"]["Fn::GetAtt"][0] in rules


# --- IAM --------------------------------------------------------------------------


def test_each_function_is_granted_exactly_its_catalog_permissions(synth: Synth) -> None:
    for endpoint in ENTRIES:
        _, props = _function(synth, endpoint)
        role_id = props["Role"]["Fn::GetAtt"][0]
        log_group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
        assert _granted(synth, role_id) == _expected_grants(
            synth, endpoint, log_group_id
        ), endpoint.name


def test_no_wildcard_action_and_no_wildcard_resource_but_xray_and_exports(
    synth: Synth,
) -> None:
    """Only X-Ray gets "*", and only the export object actions get the bucket's
    objects (their keys are task ids)."""
    objects = _objects(synth)
    object_actions = {a for actions in EXPORT_ACTIONS.values() for a in actions}
    for policy_id, policy in synth.of_type("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = _list(statement["Action"])
            assert not any("*" in action for action in actions), policy_id
            for resource in _list(statement["Resource"]):
                text = _key(resource)
                if resource == "*":
                    assert sorted(actions) == sorted(XRAY), policy_id
                elif resource == objects:
                    assert set(actions) <= object_actions, policy_id
                else:
                    assert "*" not in text, (policy_id, text)


def test_public_functions_get_no_secret_and_no_data_access(synth: Synth) -> None:
    public = [e for e in ENDPOINTS if not e.permissions]
    assert {e.name for e in public} >= {"root", "health"}
    for endpoint in public:
        _, props = _function(synth, endpoint)
        assert not set(SECRET_OUTPUTS) & set(props["Environment"]["Variables"])
        granted = {
            action for action, _ in _granted(synth, props["Role"]["Fn::GetAtt"][0])
        }
        xray = set(XRAY) if synth.stage.tracing else set()
        assert granted == set(LOGS) | xray, endpoint.name


# --- environment ------------------------------------------------------------------


def test_function_environment_contract(synth: Synth) -> None:
    users, sessions = _table_id(synth, "users"), _table_id(synth, "sessions")
    secrets = _secret_ids(synth)
    for endpoint in ENTRIES:
        _, props = _function(synth, endpoint)
        env = props["Environment"]["Variables"]
        expected = (
            BASE_VARS
            | set(_billing_vars(synth))
            | (set(SECRET_ARN_VARS) if endpoint.permissions else set())
            | _secret_vars(endpoint)
        )
        assert set(env) == expected, endpoint.name
        assert env["STRATA_STAGE"] == synth.stage.name
        assert env["STRATA_USERS_TABLE"] == {"Ref": users}
        assert env["STRATA_SESSIONS_TABLE"] == {"Ref": sessions}
        assert env["STRATA_TASKS_TABLE"] == {"Ref": _table_id(synth, "tasks")}
        assert env["STRATA_ORGS_TABLE"] == {"Ref": _table_id(synth, "orgs")}
        assert env["STRATA_TASK_QUEUE_URL"] == {"Ref": _queue_id(synth)}
        assert env["STRATA_TASK_MAX_RECEIVES"] == str(TASK_QUEUE.max_receives)
        assert env["STRATA_TASK_LEASE_SECONDS"] == str(TASK_QUEUE.lease_seconds)
        assert env["STRATA_EXPORTS_BUCKET"] == {"Ref": _bucket_id(synth)}
        assert env["STRATA_EMAIL_FROM"] == (
            f"Strata <no-reply@{synth.stage.email_domain}>"
        )
        assert env["STRATA_SES_CONFIGURATION_SET"] == {
            "Ref": _named(
                synth,
                "AWS::SES::ConfigurationSet",
                "Name",
                f"strata-{synth.stage.name}-email",
            )
        }
        assert env["STRATA_APP_BASE_URL"] == synth.stage.app_base_url
        # The front ends CORS lets in are the ones the origin check accepts.
        assert env["STRATA_ALLOWED_ORIGINS"] == ",".join(synth.stage.cors_origins)
        assert env["STRATA_SESSION_TTL_SECONDS"] == str(synth.stage.session_ttl_seconds)
        assert env["STRATA_USER_INDEX_SHARDS"] == str(synth.stage.user_index_shards)
        assert env["POWERTOOLS_SERVICE_NAME"] == "strata"
        assert env["POWERTOOLS_LOG_LEVEL"] == synth.stage.log_level
        assert env["POWERTOOLS_METRICS_NAMESPACE"]
        assert env["STRATA_TRACING"] == ("true" if synth.stage.tracing else "false")
        for var in SECRET_OUTPUTS:
            if var in env:
                assert env[var] == {"Ref": secrets[var]}, (endpoint.name, var)
        for var, value in _billing_vars(synth).items():
            assert env[var] == value, (endpoint.name, var)


def test_the_pepper_and_stripe_secrets_go_only_to_the_functions_with_their_permission(
    synth: Synth,
) -> None:
    """Least privilege: the pepper's ARN and reading it only where the catalog says
    secrets:pepper, the Stripe key's only where it says stripe:api, the webhook
    secret's only where it says stripe:webhook."""
    secrets = _secret_ids(synth)
    for permission, var in PERMISSION_SECRET_VARS.items():
        holders = {e.name for e in ENTRIES if permission in e.permissions}
        assert holders, permission
        secret = _key({"Ref": secrets[var]})
        for entry in ENTRIES:
            _, props = _function(synth, entry)
            has_var = var in props["Environment"]["Variables"]
            reads = (
                "secretsmanager:GetSecretValue",
                secret,
            ) in _granted(synth, props["Role"]["Fn::GetAtt"][0])
            assert has_var is reads is (entry.name in holders), (entry.name, var)
    # The catalog's word, spelled out: the reconciliation runs on the task worker,
    # and only the webhook holds the signing secret.
    assert {e.name for e in ENTRIES if "stripe:webhook" in e.permissions} == {
        "stripe_webhook"
    }
    assert "stripe:api" in {p for w in WORKERS for p in w.permissions}
    # The functions that hash or check a password, and no other.
    assert {e.name for e in ENTRIES if "secrets:pepper" in e.permissions} == {
        "signup",
        "login",
        "create_user",
        "change_password",
        "password_reset_confirm",
    }


def test_the_webhook_reads_both_stripe_secrets_and_no_sessions_or_exports(
    synth: Synth,
) -> None:
    (webhook,) = [e for e in ENDPOINTS if e.name == "stripe_webhook"]
    assert webhook.path == "/api/v1/webhooks/stripe"
    assert webhook.method == "POST"
    _, props = _function(synth, webhook)
    granted = _granted(synth, props["Role"]["Fn::GetAtt"][0])
    secrets = _secret_ids(synth)
    for var in ("STRATA_STRIPE_API_KEY_ARN", "STRATA_STRIPE_WEBHOOK_SECRET_ARN"):
        assert ("secretsmanager:GetSecretValue", _key({"Ref": secrets[var]})) in granted
    sessions = _table_id(synth, "sessions")
    touched = {resource for _, resource in granted}
    assert not any(sessions in resource for resource in touched)
    assert not any(_bucket_id(synth) in resource for resource in touched)
    assert not {action for action, _ in granted if action.startswith(("s3:", "ses:"))}
    # What it does touch: the users and tasks tables (processed event ids), the queue.
    assert ("dynamodb:PutItem", _key(_get_att(_table_id(synth, "tasks")))) in granted
    assert ("dynamodb:UpdateItem", _key(_get_att(_table_id(synth, "users")))) in granted
    assert ("sqs:SendMessage", _key(_get_att(_queue_id(synth)))) in granted


def test_no_function_is_given_the_local_clock_offset(synth: Synth) -> None:
    """STRATA_CLOCK_OFFSET_FILE moves the clock of the local stack only."""
    for function in synth.of_type("AWS::Lambda::Function").values():
        env = function["Properties"].get("Environment", {}).get("Variables", {})
        assert "STRATA_CLOCK_OFFSET_FILE" not in env
        assert "STRATA_STRIPE_API_BASE" not in env  # always api.stripe.com in AWS


def test_billing_settings_follow_the_stage_and_the_runtime_accepts_them(
    synth_by_stage: dict[str, Synth],
) -> None:
    prod = _billing_vars(synth_by_stage["prod"])
    assert prod == {
        "STRATA_BILLING_GRACE_DAYS": "7",
        "STRATA_BILLING_PRORATION_BEHAVIOR": "always_invoice",
    }
    for synth in synth_by_stage.values():
        (worker,) = [w for w in WORKERS if w.trigger == "queue"]
        _, props = _function(synth, worker)
        env = props["Environment"]["Variables"]
        literals = {k: v for k, v in env.items() if isinstance(v, str)}
        # The function's settings as the runtime reads them (the secrets' ARNs are
        # references in the template: any non-empty value stands in for them).
        refs = {
            k: "arn:aws:secretsmanager:placeholder" for k in env if k not in literals
        }
        settings = Settings.from_env(literals | refs)
        assert settings.stage == synth.stage.name
        for field, var in BILLING_VARS.items():
            if var in env:
                assert str(getattr(settings, field)) == env[var]
            else:
                assert getattr(synth.stage, field) is None


def test_no_secret_value_in_any_function_environment(synth: Synth) -> None:
    secret_ids = set(_secret_ids(synth).values())
    for function_id, function in synth.of_type("AWS::Lambda::Function").items():
        env = function["Properties"].get("Environment", {}).get("Variables", {})
        text = _key(env)
        assert "resolve:secretsmanager" not in text, function_id
        assert "SecretString" not in text, function_id
        for name, value in env.items():
            if isinstance(value, dict) and name.endswith("_ARN") and "Ref" not in value:
                # A secret a stage imports by name: its ARN, joined from literals and
                # the partition, and nothing that could assemble a value.
                (parts,) = [v[1] for k, v in value.items() if k == "Fn::Join"]
                assert all(
                    isinstance(part, str) or part == {"Ref": "AWS::Partition"}
                    for part in parts
                ), (function_id, name)
            elif isinstance(value, dict):
                # Only references: table names (Ref) and secret ARNs (Ref), no GetAtt
                # or Join that could assemble a value.
                assert set(value) == {"Ref"}, (function_id, name)
                if value["Ref"] in secret_ids:
                    assert name.endswith("_ARN"), (function_id, name)
            elif name.endswith("_ARN") and value.startswith("arn:"):
                continue  # a secret a stage imports by its complete ARN
            elif any(word in name for word in ("SECRET", "PEPPER", "PASSWORD", "KEY")):
                pytest.fail(f"{function_id}: {name} holds a literal value")


def test_each_function_logs_to_its_own_group_with_the_stage_retention(
    synth: Synth,
) -> None:
    groups = synth.of_type("AWS::Logs::LogGroup")
    used = []
    for endpoint in ENTRIES:
        _, props = _function(synth, endpoint)
        group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
        used.append(group_id)
        group = groups[group_id]
        assert group["Properties"]["RetentionInDays"] == synth.stage.log_retention_days
        assert (
            group["Properties"]["LogGroupName"]
            == f"/aws/lambda/{props['FunctionName']}"
        )
    assert len(set(used)) == len(ENTRIES)


# --- tables -----------------------------------------------------------------------


def _indexes(model: type[Model]) -> dict[str, Index[Any]]:
    """The model's secondary indexes by name, as its class declares them."""
    return {
        index.Meta.index_name: index
        for _, index in getmembers(model, lambda o: isinstance(o, Index))
    }


def _is_attribute(value: object) -> bool:
    return isinstance(value, Attribute)


def _expected_table(model: type[Model]) -> dict[str, Any]:
    attributes = model.get_attributes().values()
    keys = [
        {"AttributeName": a.attr_name, "KeyType": "HASH" if a.is_hash_key else "RANGE"}
        for a in sorted(attributes, key=lambda a: not a.is_hash_key)
        if a.is_hash_key or a.is_range_key
    ]
    types = {
        a.attr_name: a.attr_type for a in attributes if a.is_hash_key or a.is_range_key
    }
    indexes = []
    for name, index in sorted(_indexes(model).items()):
        index_attributes = [a for _, a in getmembers(type(index), _is_attribute)]
        index_keys = [
            {
                "AttributeName": a.attr_name,
                "KeyType": "HASH" if a.is_hash_key else "RANGE",
            }
            for a in sorted(index_attributes, key=lambda a: not a.is_hash_key)
            if a.is_hash_key or a.is_range_key
        ]
        types |= {a.attr_name: a.attr_type for a in index_attributes}
        projection: dict[str, Any] = {
            "ProjectionType": index.Meta.projection.projection_type
        }
        if index.Meta.projection.non_key_attributes:
            projection["NonKeyAttributes"] = index.Meta.projection.non_key_attributes
        indexes.append(
            {"IndexName": name, "KeySchema": index_keys, "Projection": projection}
        )
    ttl = [a.attr_name for a in attributes if type(a).__name__ == "TTLAttribute"]
    return {"keys": keys, "types": types, "indexes": indexes, "ttl": ttl}


def test_tables_are_built_from_the_models(synth: Synth) -> None:
    tables = synth.of_type("AWS::DynamoDB::Table")
    assert len(tables) == len(TABLE_MODELS)
    for model in TABLE_MODELS:
        props = tables[_table_id(synth, TABLE_KEYS[model])]["Properties"]
        expected = _expected_table(model)
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["KeySchema"] == expected["keys"]
        assert {
            d["AttributeName"]: d["AttributeType"]
            for d in props["AttributeDefinitions"]
        } == expected["types"]
        assert (
            sorted(
                props.get("GlobalSecondaryIndexes", []), key=lambda i: i["IndexName"]
            )
            == expected["indexes"]
        )
        if expected["ttl"]:
            assert props["TimeToLiveSpecification"] == {
                "AttributeName": expected["ttl"][0],
                "Enabled": True,
            }
        else:
            assert "TimeToLiveSpecification" not in props
    # The subscribed users' sparse index, spelled out once: the billing brief names
    # it (the daily reconciliation Queries it). It holds keys only: the job reads
    # the users whole by key.
    users = tables[_table_id(synth, "users")]["Properties"]
    (subscribed,) = [
        i
        for i in users["GlobalSecondaryIndexes"]
        if i["IndexName"] == "subscribed_users_v2"
    ]
    assert subscribed == {
        "IndexName": "subscribed_users_v2",
        "KeySchema": [
            {"AttributeName": "billing_pk", "KeyType": "HASH"},
            {"AttributeName": "created_at", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }
    # No index of any table carries a password hash (issue 14): every one
    # projects keys only, or names what it carries.
    for table in tables.values():
        for index in table["Properties"].get("GlobalSecondaryIndexes", []):
            projection = index["Projection"]
            assert projection["ProjectionType"] in ("KEYS_ONLY", "INCLUDE"), index
            assert "password_hash" not in projection.get("NonKeyAttributes", [])
    assert {"AttributeName": "billing_pk", "AttributeType": "S"} in users[
        "AttributeDefinitions"
    ]
    # The session table's shape, spelled out once: the brief names it.
    sessions = tables[_table_id(synth, "sessions")]["Properties"]
    assert sessions["TimeToLiveSpecification"]["AttributeName"] == "expires_at"
    assert sessions["GlobalSecondaryIndexes"][0]["IndexName"] == "sessions_by_user"
    assert sessions["GlobalSecondaryIndexes"][0]["Projection"] == {
        "ProjectionType": "KEYS_ONLY"
    }


def test_data_follows_the_stage_settings(synth: Synth) -> None:
    policy = "Retain" if synth.stage.retain_data else "Delete"
    stateful = (
        "AWS::DynamoDB::Table",
        "AWS::SecretsManager::Secret",
        "AWS::Logs::LogGroup",
        "AWS::KMS::Key",
        "AWS::S3::Bucket",
        "AWS::SQS::Queue",
    )
    for kind in stateful:
        for logical_id, resource in synth.of_type(kind).items():
            assert resource["DeletionPolicy"] == policy, logical_id
            assert resource["UpdateReplacePolicy"] == policy, logical_id
    for table in synth.of_type("AWS::DynamoDB::Table").values():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"] == {
            "PointInTimeRecoveryEnabled": synth.stage.point_in_time_recovery
        }
        assert props["DeletionProtectionEnabled"] is synth.stage.deletion_protection


def test_prod_retains_its_tables_with_pitr_and_dev_destroys_them(
    synth_by_stage: dict[str, Synth],
) -> None:
    for table in synth_by_stage["prod"].of_type("AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Retain"
        assert table["UpdateReplacePolicy"] == "Retain"
        assert table["Properties"]["DeletionProtectionEnabled"] is True
        assert table["Properties"]["PointInTimeRecoverySpecification"] == {
            "PointInTimeRecoveryEnabled": True
        }
    for table in synth_by_stage["dev"].of_type("AWS::DynamoDB::Table").values():
        assert table["DeletionPolicy"] == "Delete"
        assert table["Properties"]["DeletionProtectionEnabled"] is False


# --- secrets, API, monitoring, outputs --------------------------------------------


def test_secrets_are_generated_at_deploy(synth: Synth) -> None:
    secrets = synth.of_type("AWS::SecretsManager::Secret")
    ids = _secret_ids(synth)
    assert set(secrets) == set(ids.values())
    for var in ("STRATA_JWT_SECRET_ARN", "STRATA_PASSWORD_PEPPER_ARN"):
        props = secrets[ids[var]]["Properties"]
        assert "SecretString" not in props
        assert props["GenerateSecretString"] == {
            "ExcludePunctuation": True,
            "PasswordLength": 64,
        }


def test_stripe_secrets_are_created_as_placeholders_that_say_what_goes_there(
    synth: Synth,
) -> None:
    """Stripe issues these values: nothing is generated, and the placeholder (never
    a usable key) and the description say how to put the real one there."""
    secrets = synth.of_type("AWS::SecretsManager::Secret")
    ids = _secret_ids(synth)
    for var, prefix in (
        ("STRATA_STRIPE_API_KEY_ARN", "sk_"),
        ("STRATA_STRIPE_WEBHOOK_SECRET_ARN", "whsec_"),
    ):
        props = secrets[ids[var]]["Properties"]
        assert "GenerateSecretString" not in props
        placeholder = props["SecretString"]
        assert placeholder.startswith("PLACEHOLDER")
        assert not placeholder.startswith(("sk_", "rk_", "whsec_"))
        assert prefix in placeholder
        assert "put-secret-value" in props["Description"]
        assert f"{prefix}..." in props["Description"]
        assert props["Description"].startswith(f"Strata {synth.stage.name}: ")


def test_http_api_default_stage_cors_throttling_and_access_logs(synth: Synth) -> None:
    (api,) = synth.of_type("AWS::ApiGatewayV2::Api").values()
    cors = api["Properties"]["CorsConfiguration"]
    assert api["Properties"]["ProtocolType"] == "HTTP"
    assert cors["AllowOrigins"] == list(synth.stage.cors_origins)
    assert cors["AllowCredentials"] is True
    assert {e.method for e in ENDPOINTS} <= set(cors["AllowMethods"])
    synth.assertions.has_resource_properties(
        "AWS::ApiGatewayV2::Stage", {"StageName": "$default", "AutoDeploy": True}
    )
    (stage,) = synth.of_type("AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "$default"
    assert props["AutoDeploy"] is True
    assert props["DefaultRouteSettings"] == {
        # Route-level metrics: the dashboard's routes, the webhook's alarm.
        "DetailedMetricsEnabled": True,
        "ThrottlingBurstLimit": synth.stage.throttle_burst,
        "ThrottlingRateLimit": synth.stage.throttle_rate,
    }
    log_format = json.loads(props["AccessLogSettings"]["Format"])
    assert log_format["requestId"] == "$context.requestId"
    assert log_format["status"] == "$context.status"
    group_id = props["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    assert synth.resources[group_id]["Type"] == "AWS::Logs::LogGroup"


WEBHOOK_PATH = next(e.path for e in ENDPOINTS if e.name == "stripe_webhook")


def test_alarms_reach_an_encrypted_topic(synth: Synth) -> None:
    (topic_id, topic), *rest = synth.of_type("AWS::SNS::Topic").items()
    assert not rest
    assert "KmsMasterKeyId" in topic["Properties"]
    (key,) = synth.of_type("AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True
    (policy,) = synth.of_type("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny"
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )
    (subscription,) = synth.of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == synth.stage.alarm_email
    assert subscription["Properties"]["TopicArn"] == {"Ref": topic_id}

    alarms = synth.of_type("AWS::CloudWatch::Alarm").values()
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
    watched: dict[str, set[str]] = {}
    for alarm in alarms:
        props = alarm["Properties"]
        if props.get("Namespace") == "AWS/Lambda":
            (dimension,) = props["Dimensions"]
            watched.setdefault(props["MetricName"], set()).add(
                dimension["Value"]["Ref"]
            )
    function_ids = set(_ours(synth))
    endpoint_ids = {_function(synth, e)[0] for e in ENDPOINTS}
    assert watched == {
        "Errors": function_ids,
        "Throttles": function_ids,
        "Duration": endpoint_ids,
    }
    dead_letters = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]: a["Properties"]
        for a in alarms
        if a["Properties"].get("Namespace") == "AWS/SQS"
    }
    schedule_dlq = _named(
        synth, "AWS::SQS::Queue", "QueueName", f"{synth.stage.prefix}-schedule-dlq"
    )
    assert set(dead_letters) == {_dead_letter_queue_id(synth), schedule_dlq}
    for props in dead_letters.values():
        assert props["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert props["Threshold"] == 1
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    math = [a["Properties"] for a in alarms if "Metrics" in a["Properties"]]
    by_names: dict[frozenset[str], list[dict[str, Any]]] = {}
    for props in math:
        stats = [
            m["MetricStat"]["Metric"] for m in props["Metrics"] if "MetricStat" in m
        ]
        by_names.setdefault(frozenset(m["MetricName"] for m in stats), []).append(props)
        assert any(
            "Expression" in m and m.get("ReturnData", True) for m in props["Metrics"]
        )
    # The API's 5xx rate, and the Stripe webhook route's own.
    api_rates = by_names[frozenset({"5xx", "Count"})]
    assert len(api_rates) == 2
    webhook = next(p for p in api_rates if "webhook" in p["AlarmName"])
    for m in (m for m in webhook["Metrics"] if "MetricStat" in m):
        dimensions = m["MetricStat"]["Metric"]["Dimensions"]
        dims = {d["Name"]: d["Value"] for d in dimensions}
        assert dims["Method"] == "POST"
        assert dims["Resource"] == WEBHOOK_PATH
        assert dims["Stage"] == "$default"
    # Each table's throttled reads and writes.
    throttles = by_names[frozenset({"ReadThrottleEvents", "WriteThrottleEvents"})]
    table_ids = {_table_id(synth, key) for key in TABLE_KEYS.values()}
    assert {
        m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
        for props in throttles
        for m in props["Metrics"]
        if "MetricStat" in m
    } == table_ids


def test_the_webhook_and_the_workers_hold_the_stages_reserved_concurrency(
    synth: Synth,
) -> None:
    reserved = dict(synth.stage.reserved_concurrency)
    if synth.stage.name != "dev":
        assert {"stripe_webhook", "task_worker", "scheduler"} <= set(reserved)
    for entry in ENTRIES:
        _, props = _function(synth, entry)
        assert props.get("ReservedConcurrentExecutions") == reserved.get(entry.name), (
            entry.name
        )


def test_each_route_pages_when_its_p99_duration_stays_over_the_stage_target(
    synth: Synth,
) -> None:
    thresholds = {}
    for alarm in synth.of_type("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if props.get("MetricName") == "Duration":
            assert props["ExtendedStatistic"] == "p99"
            thresholds[props["Dimensions"][0]["Value"]["Ref"]] = props["Threshold"]
    for endpoint in ENDPOINTS:
        target = (
            synth.stage.stripe_latency_p99_ms
            if "stripe:api" in endpoint.permissions
            else synth.stage.latency_p99_ms
        )
        assert thresholds[_function(synth, endpoint)[0]] == target, endpoint.name


def test_the_dashboard_shows_traffic_latency_cold_starts_tables_and_queues(
    synth: Synth,
) -> None:
    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    props = dashboard["Properties"]
    assert props["DashboardName"] == synth.stage.prefix
    body = _key(props["DashboardBody"])
    for title in (
        "API requests, 4xx and 5xx",
        "API latency p50 / p99",
        "Duration p99 by function",
        "Errors and throttles by function",
        "Cold starts",
        "users table: consumed capacity",
        "sessions table: throttled requests",
        "tasks queue: age of the oldest message",
        "Dead letter queues: depth",
    ):
        assert title in body, title
    for entry in ENTRIES:
        assert _function(synth, entry)[0] in body, entry.name


def test_the_dashboard_graphs_every_business_count_of_its_stage(synth: Synth) -> None:
    from functions.resources import COUNTED_BY_CODE, WEBHOOK_EVENTS

    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    _, parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"]
    # The references (function names, table names) do not matter here.
    body = json.loads("".join(p if isinstance(p, str) else "REF" for p in parts))
    metrics = [
        metric
        for widget in body["widgets"]
        for metric in widget["properties"].get("metrics", [])
    ]
    declared = {name for e in ENDPOINTS for name in e.counts.values()}
    assert {"SignUps", "LogInsFailed", "LogInsLocked", "CheckoutsStarted"} <= declared
    stage = synth.stage.name
    for name in declared | set(COUNTED_BY_CODE):
        graphed = ["Strata", name, "service", "strata", "stage", stage]
        assert any(metric[: len(graphed)] == graphed for metric in metrics), name
    expressions = [m[0]["expression"] for m in metrics if "expression" in m[0]]
    (search,) = [e for e in expressions if e.startswith("SEARCH(")]
    assert f'MetricName="{WEBHOOK_EVENTS}" stage="{stage}"' in search


def test_outputs_name_the_url_tables_and_secret_arns(synth: Synth) -> None:
    outputs = synth.template["Outputs"]
    assert {"ApiUrl", "UsersTableName", "SessionsTableName"} <= set(outputs)
    assert set(SECRET_OUTPUTS.values()) <= set(outputs)
    (webhook,) = [e for e in ENDPOINTS if e.name == "stripe_webhook"]
    (api_id,) = synth.of_type("AWS::ApiGatewayV2::Api")
    _, parts = outputs["StripeWebhookUrl"]["Value"]["Fn::Join"]
    assert parts[:2] == ["https://", {"Ref": api_id}]
    assert parts[-2:] == [{"Ref": "AWS::URLSuffix"}, webhook.path]
    assert outputs["UsersTableName"]["Value"] == {"Ref": _table_id(synth, "users")}
    assert outputs["SessionsTableName"]["Value"] == {
        "Ref": _table_id(synth, "sessions")
    }
    assert outputs["TasksTableName"]["Value"] == {"Ref": _table_id(synth, "tasks")}
    assert outputs["TaskQueueUrl"]["Value"] == {"Ref": _queue_id(synth)}
    assert outputs["ExportsBucketName"]["Value"] == {"Ref": _bucket_id(synth)}


def test_functions_that_call_stripe_outlast_the_stripe_clients_worst_case(
    synth: Synth,
) -> None:
    from core.adapters.stripe.http import Urllib3HttpClient
    from functions.catalog import STRIPE_API
    from functions.resources import STRIPE_FUNCTION_TIMEOUT_SECONDS

    # Attempts, timeouts and backoff of one call end by the HTTP client's
    # deadline, whatever the settings; the rest of the timeout is the request's.
    settings = Settings()
    http = Urllib3HttpClient(read_timeout=settings.stripe_timeout_seconds)
    assert http.read_for("post") >= http.read_for("get")
    assert http.budget < STRIPE_FUNCTION_TIMEOUT_SECONDS < 30  # API Gateway's limit

    for endpoint in ENDPOINTS:
        _, props = _function(synth, endpoint)
        # Every Stripe call it declares at its worst, and 3 s for the rest.
        assert endpoint.stripe * http.budget + 3 <= props["Timeout"], endpoint.name
        if STRIPE_API in endpoint.permissions:
            assert props["Timeout"] == STRIPE_FUNCTION_TIMEOUT_SECONDS, endpoint.name
        else:
            assert props["Timeout"] < STRIPE_FUNCTION_TIMEOUT_SECONDS, endpoint.name
