"""DynamoDB tables built from the pynamodb models, the one source of table shapes.

``table_specs()`` reads each table-owning model (``TABLE_MODELS``): key schema,
attribute types, global secondary indexes with their keys and projection, and the TTL
attribute. It reads them from ``Model._get_schema()``, the very description pynamodb
sends to ``CreateTable`` for the local stack, so both ends create the same tables.
``build_table`` turns a spec into a CDK table.

Each table-owning model's key is named here, in ``TABLE_KEYS``: it is what the
catalog's permissions (``users:read``) and the functions' variables
(``STRATA_USERS_TABLE``) call the table. It is not parsed out of ``Meta.table_name``,
which ``bind_tables`` rewrites at run time to the stage's names. The other models
(``UniqueMarker``, ``RateCounterItem``, ...) live in the table whose owner has the same
``Meta.table_name``, and must agree with it on the primary key and TTL attribute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct
from pynamodb.attributes import TTLAttribute
from pynamodb.models import Model

from core.adapters.dynamodb.models import (
    ALL_MODELS,
    TABLE_MODELS,
    SessionItem,
    TaskItem,
    UserItem,
)

# The key of each table-owning model (TABLE_MODELS).
TABLE_KEYS: dict[type[Model], str] = {
    UserItem: "users",
    SessionItem: "sessions",
    TaskItem: "tasks",
}
_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_PROJECTIONS = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}


@dataclass(frozen=True, slots=True)
class KeyAttribute:
    name: str
    type: str  # "S", "N" or "B"


@dataclass(frozen=True, slots=True)
class IndexSpec:
    name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None
    projection: str  # "ALL", "KEYS_ONLY" or "INCLUDE"
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One table: ``key`` is what the catalog's permissions call it (``users``)."""

    key: str
    model_name: str
    partition_key: KeyAttribute
    sort_key: KeyAttribute | None
    indexes: tuple[IndexSpec, ...]
    ttl_attribute: str | None

    @property
    def env_var(self) -> str:
        """The variable that hands the table's name to the functions."""
        return f"STRATA_{self.key.upper()}_TABLE"

    def physical_name(self, prefix: str) -> str:
        return f"{prefix}-{self.key}"


def table_key(model: type[Model], keys: Mapping[type[Model], str] = TABLE_KEYS) -> str:
    try:
        return keys[model]
    except KeyError:
        raise ValueError(
            f"{model.__name__}: no table key; add it to "
            "infra_cdk.tables_from_models.TABLE_KEYS"
        ) from None


def _keys(
    key_schema: Sequence[Mapping[str, str]], types: Mapping[str, str], where: str
) -> tuple[KeyAttribute, KeyAttribute | None]:
    by_type = {item["KeyType"]: item["AttributeName"] for item in key_schema}
    if "HASH" not in by_type:
        raise ValueError(f"{where}: no hash key")
    hash_key = KeyAttribute(by_type["HASH"], types[by_type["HASH"]])
    range_name = by_type.get("RANGE")
    range_key = KeyAttribute(range_name, types[range_name]) if range_name else None
    return hash_key, range_key


def ttl_attribute(model: type[Model]) -> str | None:
    names = [
        attribute.attr_name
        for attribute in model.get_attributes().values()
        if isinstance(attribute, TTLAttribute)
    ]
    if len(names) > 1:
        raise ValueError(f"{model.__name__}: more than one TTL attribute: {names}")
    return names[0] if names else None


def spec_from_model(model: type[Model], key: str) -> TableSpec:
    schema: Any = model._get_schema()
    if schema.get("local_secondary_indexes"):
        raise ValueError(f"{model.__name__}: local secondary indexes are not supported")
    types = {
        item["AttributeName"]: item["AttributeType"]
        for item in schema["attribute_definitions"]
    }
    partition_key, sort_key = _keys(schema["key_schema"], types, model.__name__)
    indexes = []
    for index in schema.get("global_secondary_indexes", []):
        index_types = {
            item["AttributeName"]: item["AttributeType"]
            for item in index["attribute_definitions"]
        }
        index_hash, index_range = _keys(
            index["key_schema"], index_types, f"{model.__name__}.{index['index_name']}"
        )
        projection = index["projection"]
        indexes.append(
            IndexSpec(
                name=index["index_name"],
                partition_key=index_hash,
                sort_key=index_range,
                projection=projection["ProjectionType"],
                non_key_attributes=tuple(projection.get("NonKeyAttributes", ())),
            )
        )
    return TableSpec(
        key=key,
        model_name=model.__name__,
        partition_key=partition_key,
        sort_key=sort_key,
        indexes=tuple(sorted(indexes, key=lambda index: index.name)),
        ttl_attribute=ttl_attribute(model),
    )


def table_specs(
    table_models: Sequence[type[Model]] = TABLE_MODELS,
    all_models: Sequence[type[Model]] = ALL_MODELS,
    keys: Mapping[type[Model], str] = TABLE_KEYS,
) -> tuple[TableSpec, ...]:
    """A spec per table-owning model, checked against the models that share its
    table: same primary key, no index of their own, the same TTL attribute if any."""
    specs = tuple(spec_from_model(m, table_key(m, keys)) for m in table_models)
    if len({spec.key for spec in specs}) != len(specs):
        raise ValueError("two table-owning models claim the same table key")
    owners = {
        m.Meta.table_name: spec for m, spec in zip(table_models, specs, strict=True)
    }
    for model in all_models:
        if model in table_models:
            continue
        owner = owners.get(model.Meta.table_name)
        if owner is None:
            raise ValueError(
                f"{model.__name__}: no table-owning model has table "
                f"{model.Meta.table_name!r}"
            )
        shared = spec_from_model(model, owner.key)
        where = f"{model.__name__} shares the {owner.key} table with {owner.model_name}"
        if (shared.partition_key, shared.sort_key) != (
            owner.partition_key,
            owner.sort_key,
        ):
            raise ValueError(f"{where} but declares another primary key")
        if shared.indexes:
            raise ValueError(f"{where} but declares indexes: declare them on the owner")
        if shared.ttl_attribute not in (None, owner.ttl_attribute):
            raise ValueError(f"{where} but declares another TTL attribute")
    return specs


def _attribute(key: KeyAttribute) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])


def build_table(
    scope: Construct,
    construct_id: str,
    spec: TableSpec,
    *,
    table_name: str,
    removal_policy: RemovalPolicy,
    point_in_time_recovery: bool,
    deletion_protection: bool,
) -> dynamodb.Table:
    """An on-demand table with the spec's keys, indexes and TTL attribute."""
    table = dynamodb.Table(
        scope,
        construct_id,
        table_name=table_name,
        partition_key=_attribute(spec.partition_key),
        sort_key=_attribute(spec.sort_key) if spec.sort_key else None,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=point_in_time_recovery
        ),
        deletion_protection=deletion_protection,
        time_to_live_attribute=spec.ttl_attribute,
        removal_policy=removal_policy,
    )
    for index in spec.indexes:
        table.add_global_secondary_index(
            index_name=index.name,
            partition_key=_attribute(index.partition_key),
            sort_key=_attribute(index.sort_key) if index.sort_key else None,
            projection_type=_PROJECTIONS[index.projection],
            non_key_attributes=list(index.non_key_attributes) or None,
        )
    return table
