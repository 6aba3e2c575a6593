"""The local stack's AWS resources besides the tables, created in moto from
``functions.resources``, the definitions the CDK app deploys.

A task queue per job family, each with its dead letter queue (redrive after
``max_receives``), the export bucket, and the SES sender identity (the local sender
domain, verified) with the configuration set. Creating them again is harmless:
SQS's and S3's create calls are idempotent for their owner, and what SES already has
is not created again.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from functions.resources import (
    EMAIL,
    EXPORTS_BUCKET,
    LOCAL_PREFIX,
    TASK_MAX_RECEIVES,
    TASK_QUEUES,
    TASK_WORKER_TIMEOUT_SECONDS,
    BucketSpec,
    EmailSpec,
    QueueSpec,
)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTBOX = REPO / ".local" / "outbox"
_DAY = 24 * 3600


def queue_url_variable(family: str) -> str:
    """The setting that holds ``family``'s task queue URL (as the CDK app's)."""
    return f"STRATA_{family.upper()}_TASK_QUEUE_URL"


@dataclass(frozen=True, slots=True)
class FamilyQueue:
    """One job family's task queue and its dead letter queue."""

    family: str
    url: str
    arn: str
    dead_letter_url: str


@dataclass(frozen=True, slots=True)
class LocalResources:
    queues: tuple[FamilyQueue, ...]
    bucket: str
    sender: str
    configuration_set: str

    def queue(self, family: str) -> FamilyQueue:
        (found,) = [q for q in self.queues if q.family == family]
        return found

    def environment(self) -> dict[str, str]:
        """The settings that point the app and the workers at these resources
        (the local app serves every endpoint, so it gets every family's queue)."""
        return {
            **{queue_url_variable(q.family): q.url for q in self.queues},
            "STRATA_EXPORTS_BUCKET": self.bucket,
            "STRATA_EMAIL_FROM": self.sender,
            "STRATA_SES_CONFIGURATION_SET": self.configuration_set,
            "STRATA_TASK_MAX_RECEIVES": str(TASK_MAX_RECEIVES),
            "STRATA_TASK_LEASE_SECONDS": str(TASK_WORKER_TIMEOUT_SECONDS),
        }


def client(service: str, region: str) -> Any:
    """A botocore client; its endpoint comes from ``AWS_ENDPOINT_URL`` (moto)."""
    import botocore.session

    return botocore.session.get_session().create_client(service, region_name=region)


def create_queues(
    region: str, spec: QueueSpec, prefix: str = LOCAL_PREFIX
) -> tuple[str, str, str]:
    """The dead letter queue, then the task queue redriving to it: (queue URL,
    queue ARN, dead letter queue URL)."""
    sqs = client("sqs", region)
    dead_letter_url = sqs.create_queue(
        QueueName=spec.dead_letter_name(prefix),
        Attributes={
            "MessageRetentionPeriod": str(spec.dead_letter_retention_days * _DAY),
            "SqsManagedSseEnabled": "true",
        },
    )["QueueUrl"]
    dead_letter_arn = sqs.get_queue_attributes(
        QueueUrl=dead_letter_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=spec.name(prefix),
        Attributes={
            "VisibilityTimeout": str(spec.visibility_timeout_seconds),
            "MessageRetentionPeriod": str(spec.retention_days * _DAY),
            "SqsManagedSseEnabled": "true",
            "RedrivePolicy": json.dumps(
                {
                    "deadLetterTargetArn": dead_letter_arn,
                    "maxReceiveCount": spec.max_receives,
                }
            ),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    return queue_url, queue_arn, dead_letter_url


def create_bucket(
    region: str, spec: BucketSpec = EXPORTS_BUCKET, prefix: str = LOCAL_PREFIX
) -> str:
    """The export bucket, private, with its objects expiring as in AWS."""
    s3 = client("s3", region)
    name = spec.name(prefix)
    create: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(**create)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "expire",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "Expiration": {"Days": spec.expire_days},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                }
            ]
        },
    )
    return name


def create_email_identity(
    region: str,
    spec: EmailSpec = EMAIL,
    prefix: str = LOCAL_PREFIX,
    sender: str | None = None,
) -> tuple[str, str]:
    """The local sender domain as a (moto: at once verified) SES identity, and the
    configuration set: (sender, configuration set name). A ``sender`` of another
    domain (a developer's own ``STRATA_EMAIL_FROM``) gets its address verified too."""
    ses = client("sesv2", region)
    configuration_set = spec.configuration_set_name(prefix)
    identities = [spec.local_domain]
    chosen = sender or spec.sender(spec.local_domain)
    address = parseaddr(chosen)[1]
    if address and address.rpartition("@")[2] != spec.local_domain:
        identities.append(address)
    # Listed first rather than caught: moto and SES name "already exists" apart.
    if configuration_set not in ses.list_configuration_sets().get(
        "ConfigurationSets", []
    ):
        ses.create_configuration_set(ConfigurationSetName=configuration_set)
    existing = {
        identity["IdentityName"]
        for identity in ses.list_email_identities().get("EmailIdentities", [])
    }
    for identity in identities:
        if identity not in existing:
            ses.create_email_identity(
                EmailIdentity=identity, ConfigurationSetName=configuration_set
            )
    return chosen, configuration_set


def create_resources(region: str, sender: str | None = None) -> LocalResources:
    queues = tuple(
        FamilyQueue(family, *create_queues(region, spec))
        for family, spec in TASK_QUEUES.items()
    )
    bucket = create_bucket(region)
    chosen, configuration_set = create_email_identity(region, sender=sender)
    return LocalResources(
        queues=queues,
        bucket=bucket,
        sender=chosen,
        configuration_set=configuration_set,
    )


def existing_environment(region: str, prefix: str = LOCAL_PREFIX) -> dict[str, str]:
    """The settings of the resources a running ``strata dev`` created, for a command
    that runs a handler beside it (``strata invoke``); empty if there are none."""
    sqs = client("sqs", region)
    urls = {}
    try:
        for family, spec in TASK_QUEUES.items():
            found = sqs.get_queue_url(QueueName=spec.name(prefix))["QueueUrl"]
            urls[queue_url_variable(family)] = found
    except sqs.exceptions.QueueDoesNotExist:
        return {}
    return {
        **urls,
        "STRATA_EXPORTS_BUCKET": EXPORTS_BUCKET.name(prefix),
        "STRATA_SES_CONFIGURATION_SET": EMAIL.configuration_set_name(prefix),
    }


def use_outbox(environ: MutableMapping[str, str] | None = None) -> Path:
    """``STRATA_OUTBOX_DIR``, by default ``<repo>/.local/outbox``; created."""
    env = os.environ if environ is None else environ
    outbox = Path(env.get("STRATA_OUTBOX_DIR") or DEFAULT_OUTBOX).resolve()
    outbox.mkdir(parents=True, exist_ok=True)
    env["STRATA_OUTBOX_DIR"] = str(outbox)
    return outbox
