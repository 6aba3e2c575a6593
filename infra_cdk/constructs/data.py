"""The DynamoDB tables, built from the pynamodb models, and the grants on them.

``users:read`` allows GetItem, BatchGetItem and Query on the table itself;
``users:write`` allows PutItem, UpdateItem, DeleteItem, BatchWriteItem and
ConditionCheckItem on the table (TransactWriteItems is authorized per item action, so
it needs nothing more). Querying a secondary index takes the permission that names it
(``functions.permissions.INDEX_PERMISSIONS``: ``users:list``, ``sessions:by-user``,
...), which allows Query on those indexes alone, so a function reaches only the
indexes it queries. No Scan, no table-level admin actions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from core.adapters.dynamodb.models import PREVIOUS_INDEX_NAMES
from functions.permissions import INDEX_PERMISSIONS
from infra_cdk.constructs import StatementFactory
from infra_cdk.index_rollout import IndexRollout, rollout
from infra_cdk.stages import StageConfig
from infra_cdk.tables_from_models import IndexSpec, TableSpec, build_table, table_specs

READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")
QUERY_ACTION = "dynamodb:Query"
WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)


def index_arn(table: dynamodb.ITable, index_name: str) -> str:
    return f"{table.table_arn}/index/{index_name}"


def indexes_during(spec: TableSpec, state: IndexRollout) -> list[IndexSpec]:
    """The table's indexes at a rollout's step (``infra_cdk.index_rollout``): the
    new ones created so far, and the previous ones (whole items projected, as they
    were) not yet deleted, in the order the template has always listed them."""
    indexes = [
        index
        for index in spec.indexes
        if index.name in state.new or index.name not in PREVIOUS_INDEX_NAMES
    ]
    for index in spec.indexes:
        previous = PREVIOUS_INDEX_NAMES.get(index.name)
        if previous in state.previous:
            indexes.append(
                replace(index, name=previous, projection="ALL", non_key_attributes=())
            )
    return sorted(indexes, key=lambda index: index.name)


class Data(Construct):
    """One table per table-owning model; ``grants`` maps ``<table>:read|write``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, stage: StageConfig
    ) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if stage.retain_data else RemovalPolicy.DESTROY
        self.specs: dict[str, TableSpec] = {spec.key: spec for spec in table_specs()}
        self.tables: dict[str, dynamodb.Table] = {}
        self.grants: dict[str, StatementFactory] = {}
        self.env: dict[str, str] = {}
        self.rollout = rollout(stage.index_rollout_step)
        if self.rollout.query_previous:
            self.env["STRATA_PREVIOUS_USER_INDEXES"] = "true"
        for key, spec in self.specs.items():
            table = build_table(
                self,
                f"{key.capitalize()}Table",
                spec,
                table_name=spec.physical_name(stage.prefix),
                removal_policy=removal,
                point_in_time_recovery=stage.point_in_time_recovery,
                deletion_protection=stage.deletion_protection,
                indexes=indexes_during(spec, self.rollout),
            )
            if not stage.point_in_time_recovery:
                Validations.of(table).acknowledge(
                    Acknowledgment(
                        id="AwsSolutions-DDB3",
                        reason=(
                            f"The {stage.name} stage holds disposable test data and is "
                            "destroyed with its stack; staging and prod enable PITR."
                        ),
                    )
                )
            self.tables[key] = table
            self.env[spec.env_var] = table.table_name
            self.grants[f"{key}:read"] = self._read(table)
            self.grants[f"{key}:write"] = self._write(table)
        for permission, (key, index_names) in INDEX_PERMISSIONS.items():
            known = {index.name for index in self.specs[key].indexes}
            unknown = sorted(set(index_names) - known)
            if unknown:
                raise ValueError(f"{permission} names no index of {key}: {unknown}")
            physical = [n for name in index_names for n in self.rollout.names_of(name)]
            self.grants[permission] = self._query(self.tables[key], physical)

    @staticmethod
    def _read(table: dynamodb.Table) -> StatementFactory:
        def statement() -> iam.PolicyStatement:
            return iam.PolicyStatement(
                actions=list(READ_ACTIONS), resources=[table.table_arn]
            )

        return statement

    @staticmethod
    def _query(table: dynamodb.Table, index_names: Sequence[str]) -> StatementFactory:
        resources = [index_arn(table, name) for name in index_names]

        def statement() -> iam.PolicyStatement:
            return iam.PolicyStatement(actions=[QUERY_ACTION], resources=resources)

        return statement

    @staticmethod
    def _write(table: dynamodb.Table) -> StatementFactory:
        def statement() -> iam.PolicyStatement:
            return iam.PolicyStatement(
                actions=list(WRITE_ACTIONS), resources=[table.table_arn]
            )

        return statement
