"""DynamoDB tables built from the pynamodb models, the one source of table shapes.

``table_specs()`` reads each table-owning model (``TABLE_MODELS``): key schema,
attribute types, global secondary indexes with their keys and projection, and the TTL
attribute. It reads them from the model classes' public declarations (attributes,
``Index`` members and their ``Meta``), which are what pynamodb's ``create_table`` sends
for the local stack, so both ends create the same tables.
``build_table`` turns a spec into a CDK table.

Each table-owning model's key is named here, in ``TABLE_KEYS``: it is what the
catalog's permissions (``users:read``) and the functions' variables
(``STRATA_USERS_TABLE``) call the table. It is not parsed out of ``Meta.table_name``,
which ``bind_tables`` rewrites at run time to the stage's names. The other models
(``UniqueMarker``, ``RateCounterItem``, ...) live in the table whose owner has the same
``Meta.table_name``, and must agree with it on the primary key and TTL attribute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from inspect import getmembers
from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct
from pynamodb.attributes import Attribute, TTLAttribute
from pynamodb.indexes import Index, LocalSecondaryIndex
from pynamodb.models import Model

from core.adapters.dynamodb.models import (
    ALL_MODELS,
    TABLE_MODELS,
    SessionItem,
    TaskItem,
    UserItem,
)
from core.adapters.dynamodb.org_models import OrgItem

# The key of each table-owning model (TABLE_MODELS).
TABLE_KEYS: dict[type[Model], str] = {
    UserItem: "users",
    SessionItem: "sessions",
    TaskItem: "tasks",
    OrgItem: "orgs",
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
    attributes: Iterable[Attribute[Any]], where: str
) -> tuple[KeyAttribute, KeyAttribute | None]:
    hash_keys = [a for a in attributes if a.is_hash_key]
    range_keys = [a for a in attributes if a.is_range_key]
    if len(hash_keys) != 1 or len(range_keys) > 1:
        raise ValueError(f"{where}: needs one hash key and at most one range key")
    (hash_key,) = hash_keys
    range_key = range_keys[0] if range_keys else None
    return (
        KeyAttribute(hash_key.attr_name, hash_key.attr_type),
        KeyAttribute(range_key.attr_name, range_key.attr_type) if range_key else None,
    )


def _declared_attributes(owner: type[Any]) -> list[Attribute[Any]]:
    return [a for _, a in getmembers(owner, lambda o: isinstance(o, Attribute))]


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
    """The table as the model class declares it (its attributes, its ``Index``
    members and their ``Meta``): what pynamodb's ``create_table`` sends, read through
    pynamodb's public declarations."""
    partition_key, sort_key = _keys(model.get_attributes().values(), model.__name__)
    indexes = []
    for _, index in getmembers(model, lambda o: isinstance(o, Index)):
        meta = index.Meta
        where = f"{model.__name__}.{meta.index_name}"
        if isinstance(index, LocalSecondaryIndex):
            raise ValueError(f"{where}: local secondary indexes are not supported")
        index_hash, index_range = _keys(_declared_attributes(type(index)), where)
        projection = meta.projection
        indexes.append(
            IndexSpec(
                name=meta.index_name,
                partition_key=index_hash,
                sort_key=index_range,
                projection=projection.projection_type,
                non_key_attributes=tuple(projection.non_key_attributes or ()),
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
    indexes: Sequence[IndexSpec] | None = None,
) -> dynamodb.Table:
    """An on-demand table with the spec's keys, indexes (or ``indexes``, during an
    index rollout) and TTL attribute."""
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
    for index in spec.indexes if indexes is None else indexes:
        table.add_global_secondary_index(
            index_name=index.name,
            partition_key=_attribute(index.partition_key),
            sort_key=_attribute(index.sort_key) if index.sort_key else None,
            projection_type=_PROJECTIONS[index.projection],
            non_key_attributes=list(index.non_key_attributes) or None,
        )
    return table
