"""The task queues (one per job family), the workers' triggers, the export bucket
and SES in every stage's template, against ``functions.resources`` (the definitions
the local stack uses too) and the catalog's workers."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("aws_cdk", reason="needs the infra extras: make test")

from functions.catalog import WORKERS, Worker
from functions.resources import (
    EMAIL,
    EXPORTS_BUCKET,
    SCHEDULES,
    TASK_FAMILIES,
    TASK_QUEUES,
)
from functions.runtime.settings import Settings
from tests.infra.conftest import Synth, invoked_function

DAY = 24 * 3600


def _one(synth: Synth, kind: str, **properties: Any) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (k, v)
        for k, v in synth.of_type(kind).items()
        if all(v["Properties"].get(p) == value for p, value in properties.items())
    ]
    return found


def _worker(synth: Synth, worker: Worker) -> tuple[str, dict[str, Any]]:
    return _one(synth, "AWS::Lambda::Function", Handler=f"{worker.module}.handler")


def _workers(trigger: str) -> list[Worker]:
    return [w for w in WORKERS if w.trigger == trigger]


def _queues(synth: Synth, family: str) -> tuple[tuple[str, Any], tuple[str, Any]]:
    prefix = synth.stage.prefix
    spec = TASK_QUEUES[family]
    queue = _one(synth, "AWS::SQS::Queue", QueueName=spec.name(prefix))
    dead = _one(synth, "AWS::SQS::Queue", QueueName=spec.dead_letter_name(prefix))
    return queue, dead


def _family_worker(family: str) -> Worker:
    (worker,) = [w for w in _workers("queue") if w.family == family]
    return worker


def _denies_plain_http(synth: Synth, kind: str, target: str, ref_key: str) -> bool:
    for policy in synth.of_type(kind).values():
        props = policy["Properties"]
        value = props.get(ref_key)
        if {"Ref": target} not in (value if isinstance(value, list) else [value]):
            continue
        for statement in props["PolicyDocument"]["Statement"]:
            if (
                statement["Effect"] == "Deny"
                and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                and statement["Principal"] == {"AWS": "*"}
            ):
                return True
    return False


# --- the queue ----------------------------------------------------------------------


def test_catalog_has_one_queue_worker_per_job_family_and_the_scheduler() -> None:
    from core.application.tasks import FAMILIES, JOB_FAMILIES

    assert sorted(w.family or "" for w in _workers("queue")) == sorted(FAMILIES)
    assert set(TASK_FAMILIES) == set(FAMILIES) == set(JOB_FAMILIES.values())
    assert len(_workers("schedule")) == 1
    assert {w.trigger for w in WORKERS} <= {"queue", "schedule"}
    # One lease and one receive count serve every worker (the settings' own).
    assert len({(q.max_receives, q.lease_seconds) for q in TASK_QUEUES.values()}) == 1


@pytest.mark.parametrize("family", TASK_FAMILIES)
def test_each_task_queue_redrives_to_its_own_encrypted_dead_letter_queue(
    synth: Synth, family: str
) -> None:
    (queue_id, queue), (dead_id, dead) = _queues(synth, family)
    props, dead_props = queue["Properties"], dead["Properties"]
    spec = TASK_QUEUES[family]

    assert props["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dead_id, "Arn"]},
        "maxReceiveCount": spec.max_receives,
    }
    # The worker counts receives against the same number (its last marks the task
    # failed for good), and the local stack redrives with it too.
    assert spec.max_receives == Settings().task_max_receives
    assert "RedrivePolicy" not in dead_props
    for queue_props in (props, dead_props):
        assert queue_props.get("SqsManagedSseEnabled") is True or (
            "KmsMasterKeyId" in queue_props
        )
    assert dead_props["MessageRetentionPeriod"] == (
        spec.dead_letter_retention_days * DAY
    )
    assert dead_props["MessageRetentionPeriod"] > props["MessageRetentionPeriod"]
    assert dead_props["MessageRetentionPeriod"] == 14 * DAY  # SQS's maximum
    for logical_id in (queue_id, dead_id):
        assert _denies_plain_http(synth, "AWS::SQS::QueuePolicy", logical_id, "Queues")


@pytest.mark.parametrize("family", TASK_FAMILIES)
def test_visibility_timeout_is_six_times_the_workers_timeout_and_covers_the_lease(
    synth: Synth, family: str
) -> None:
    (_, queue), _ = _queues(synth, family)
    worker = _family_worker(family)
    _, function = _worker(synth, worker)
    timeout = function["Properties"]["Timeout"]
    visibility = queue["Properties"]["VisibilityTimeout"]
    lease = int(
        function["Properties"]["Environment"]["Variables"]["STRATA_TASK_LEASE_SECONDS"]
    )

    assert visibility >= 6 * timeout
    # A live attempt keeps its lease for as long as the function may run, and a
    # redelivery (after the visibility timeout) finds the lease of a dead one over.
    assert timeout <= lease < visibility
    assert timeout <= 900  # Lambda's maximum


@pytest.mark.parametrize("family", TASK_FAMILIES)
def test_each_family_worker_consumes_its_queue_alone_reporting_partial_failures(
    synth: Synth, family: str
) -> None:
    (queue_id, _), _ = _queues(synth, family)
    worker = _family_worker(family)
    worker_id, _ = _worker(synth, worker)
    mappings = synth.of_type("AWS::Lambda::EventSourceMapping").values()
    assert len(mappings) == len(TASK_FAMILIES)
    (props,) = [
        m["Properties"]
        for m in mappings
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    ]
    spec = TASK_QUEUES[family]

    assert invoked_function(synth, props["FunctionName"]) == worker_id
    # Its reserved concurrency caps the pollers too, so they are never throttled.
    reserved = dict(synth.stage.reserved_concurrency).get(worker.name)
    if reserved is None:
        assert "ScalingConfig" not in props
    else:
        assert props["ScalingConfig"] == {"MaximumConcurrency": max(reserved, 2)}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BatchSize"] == spec.batch_size
    assert 1 <= props["BatchSize"] <= 10
    assert props["MaximumBatchingWindowInSeconds"] == (spec.max_batching_window_seconds)


def test_nothing_but_the_scheduler_is_on_a_timetable(synth: Synth) -> None:
    (scheduler,) = _workers("schedule")
    scheduler_id, _ = _worker(synth, scheduler)
    rules = synth.of_type("AWS::Events::Rule")

    assert len(rules) == len(SCHEDULES)
    for schedule in SCHEDULES:
        (rule,) = [
            r["Properties"]
            for r in rules.values()
            if r["Properties"]["ScheduleExpression"] == schedule.expression
            and json.loads(r["Properties"]["Targets"][0]["Input"])
            == {"job": schedule.job}
        ]
        assert rule["State"] == "ENABLED"
        (target,) = rule["Targets"]
        assert invoked_function(synth, target["Arn"]) == scheduler_id
    # The brief's schedule: unverified accounts are purged daily.
    assert any(
        s.job == "purge_unverified" and s.expression == "rate(1 day)" for s in SCHEDULES
    )


def test_two_daily_rules_purge_unverified_accounts_and_reconcile_subscriptions(
    synth: Synth,
) -> None:
    """The billing brief: subscriptions are re-read from Stripe once a day, beside
    the purge; each rule hands the scheduler its job's name and nothing else."""
    (scheduler,) = _workers("schedule")
    scheduler_id, _ = _worker(synth, scheduler)
    rules = [r["Properties"] for r in synth.of_type("AWS::Events::Rule").values()]
    by_job = {json.loads(r["Targets"][0]["Input"])["job"]: r for r in rules}
    assert len(rules) == 2
    assert set(by_job) == {"purge_unverified", "reconcile_subscriptions"}
    for job, rule in by_job.items():
        assert rule["ScheduleExpression"] == "rate(1 day)"
        assert rule["Name"] == f"{synth.stage.prefix}-{job.replace('_', '-')}"
        (target,) = rule["Targets"]
        assert json.loads(target["Input"]) == {"job": job}
        assert invoked_function(synth, target["Arn"]) == scheduler_id
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2


def test_the_scheduler_accepts_every_job_a_rule_names() -> None:
    """A rule naming a job the scheduler refuses would fail every day, silently
    but for the Errors alarm."""
    from functions.workers.scheduled import job_of

    for schedule in SCHEDULES:
        assert job_of(schedule.event) == schedule.job


# --- the export bucket ------------------------------------------------------------


def _private_encrypted_tls_only(synth: Synth, bucket_id: str) -> dict[str, Any]:
    props: dict[str, Any] = synth.resources[bucket_id]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    algorithm = rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
    assert algorithm in ("AES256", "aws:kms")
    assert _denies_plain_http(synth, "AWS::S3::BucketPolicy", bucket_id, "Bucket")
    return props


def test_export_bucket_is_private_encrypted_tls_only_and_expires_exports(
    synth: Synth,
) -> None:
    buckets = synth.of_type("AWS::S3::Bucket")
    (bucket_id,) = [
        k
        for k, v in buckets.items()
        if str(v["Properties"].get("BucketName", "")).startswith(
            EXPORTS_BUCKET.name(synth.stage.prefix) + "-"
        )
    ]
    props = _private_encrypted_tls_only(synth, bucket_id)
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == EXPORTS_BUCKET.expire_days
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    # Only the exports bucket and its server access log bucket.
    assert len(buckets) == 2
    logging = props["LoggingConfiguration"]
    (logs_id,) = set(buckets) - {bucket_id}
    assert logging["DestinationBucketName"] == {"Ref": logs_id}
    _private_encrypted_tls_only(synth, logs_id)
    assert "LoggingConfiguration" not in buckets[logs_id]["Properties"]


def test_buckets_stay_in_retaining_stages_and_are_emptied_and_go_in_others(
    synth: Synth,
) -> None:
    buckets = synth.of_type("AWS::S3::Bucket")
    emptied = {
        c["Properties"]["BucketName"]["Ref"]
        for c in synth.of_type("Custom::S3AutoDeleteObjects").values()
    }
    for bucket in buckets.values():
        if synth.stage.retain_data:
            assert bucket["DeletionPolicy"] == "Retain"
        else:
            assert bucket["DeletionPolicy"] == "Delete"
    assert emptied == (set() if synth.stage.retain_data else set(buckets))


# --- email --------------------------------------------------------------------------


def test_the_stage_sends_from_its_domain_through_its_configuration_set(
    synth: Synth,
) -> None:
    configuration_set_id, configuration_set = _one(
        synth,
        "AWS::SES::ConfigurationSet",
        Name=EMAIL.configuration_set_name(synth.stage.prefix),
    )
    (identity,) = synth.of_type("AWS::SES::EmailIdentity").values()
    props = identity["Properties"]

    assert props["EmailIdentity"] == synth.stage.email_domain
    assert props["ConfigurationSetAttributes"] == {
        "ConfigurationSetName": {"Ref": configuration_set_id}
    }
    assert configuration_set["Properties"]["DeliveryOptions"] == {
        "TlsPolicy": "REQUIRE"
    }
    assert set(
        configuration_set["Properties"]["SuppressionOptions"]["SuppressedReasons"]
    ) == {"BOUNCE", "COMPLAINT"}
    outputs = synth.template["Outputs"]
    dkim = [v for k, v in outputs.items() if k.startswith("EmailDkimRecord")]
    assert len(dkim) == 3
