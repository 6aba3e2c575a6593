"""The export bucket (``functions.resources.EXPORTS_BUCKET``) and the grants on it.

Private (all public access blocked, bucket-owner-enforced ownership, so no ACLs),
encrypted with S3-managed keys, TLS only, objects expiring after the spec's days.
Server access logs go to a second bucket of the same kind; the stage's data setting
decides whether both stay (RETAIN) or go with the stack, emptied first (DESTROY and
auto-delete).

``exports:write`` allows PutObject and AbortMultipartUpload (an export streams in
parts) on the bucket's objects; ``exports:read`` allows GetObject there, which is what
a presigned download link is signed with. Nothing may list or delete.
"""

from __future__ import annotations

from aws_cdk import (
    Acknowledgment,
    Duration,
    Names,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from functions.resources import EXPORTS_BUCKET, BucketSpec
from infra_cdk.constructs import StatementFactory
from infra_cdk.stages import StageConfig

WRITE_ACTIONS = ("s3:PutObject", "s3:AbortMultipartUpload")
READ_ACTIONS = ("s3:GetObject",)

_LOG_BUCKET_NOT_LOGGED = (
    "This bucket receives the export bucket's server access logs; logging it too "
    "would need a third bucket, and so on. Only S3's log delivery writes to it."
)
_OBJECT_KEYS_UNKNOWN = (
    "Export objects are named by task id (exports/<task id>.csv), unknown at deploy "
    "time, so the object actions need <bucket ARN>/*; they are put and get only, on "
    "this one bucket, never list or delete."
)


class Storage(Construct):
    """``bucket`` holds exports; ``env`` and ``grants`` hand it to the functions."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: StageConfig,
        spec: BucketSpec = EXPORTS_BUCKET,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.access_logs = self._bucket(
            "AccessLogsBucket",
            stage=stage,
            expire_days=stage.log_retention_days,
        )
        Validations.of(self.access_logs).acknowledge(
            Acknowledgment(id="AwsSolutions-S1", reason=_LOG_BUCKET_NOT_LOGGED)
        )
        # Bucket names are global: the account and region keep the stage's unique.
        self.bucket = self._bucket(
            "ExportsBucket",
            stage=stage,
            expire_days=spec.expire_days,
            bucket_name=f"{spec.name(stage.prefix)}-{stack.account}-{stack.region}",
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="exports/",
        )
        self.env: dict[str, str] = {"STRATA_EXPORTS_BUCKET": self.bucket.bucket_name}
        objects = self.bucket.arn_for_objects("*")
        self.grants: dict[str, StatementFactory] = {
            "exports:write": self._statement(WRITE_ACTIONS, objects),
            "exports:read": self._statement(READ_ACTIONS, objects),
        }
        self.objects_resource_finding = (
            "AwsSolutions-IAM5[Resource::<"
            f"{stack.get_logical_id(self._cfn(self.bucket))}.Arn>/*]"
        )

    @staticmethod
    def _cfn(bucket: s3.Bucket) -> s3.CfnBucket:
        cfn = bucket.node.default_child
        assert isinstance(cfn, s3.CfnBucket)
        return cfn

    def objects_finding_in(self, scope: IConstruct) -> str:
        """The IAM5 finding of ``<bucket ARN>/*`` as cdk-nag names it in ``scope``'s
        stack: in a nested stack (an endpoint's) the ARN is the parameter CDK makes
        for it, ``referenceto<the bucket's unique id>Arn``."""
        if Stack.of(scope) is Stack.of(self.bucket):
            return self.objects_resource_finding
        unique_id = Names.node_unique_id(self._cfn(self.bucket).node)
        return f"AwsSolutions-IAM5[Resource::<referenceto{unique_id}Arn>/*]"

    def acknowledge_object_grants(self, role: IConstruct) -> None:
        """Record on ``role`` why it holds ``<bucket ARN>/*`` (cdk-nag IAM5)."""
        Validations.of(role).acknowledge(
            Acknowledgment(
                id=self.objects_finding_in(role), reason=_OBJECT_KEYS_UNKNOWN
            )
        )

    def _bucket(
        self,
        construct_id: str,
        *,
        stage: StageConfig,
        expire_days: int,
        bucket_name: str | None = None,
        server_access_logs_bucket: s3.IBucket | None = None,
        server_access_logs_prefix: str | None = None,
    ) -> s3.Bucket:
        return s3.Bucket(
            self,
            construct_id,
            bucket_name=bucket_name,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=False,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire",
                    expiration=Duration.days(expire_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            server_access_logs_bucket=server_access_logs_bucket,
            server_access_logs_prefix=server_access_logs_prefix,
            removal_policy=(
                RemovalPolicy.RETAIN if stage.retain_data else RemovalPolicy.DESTROY
            ),
            auto_delete_objects=not stage.retain_data,
        )

    @staticmethod
    def _statement(actions: tuple[str, ...], resource: str) -> StatementFactory:
        def statement() -> iam.PolicyStatement:
            return iam.PolicyStatement(actions=list(actions), resources=[resource])

        return statement
