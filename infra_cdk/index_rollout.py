"""The move of a deployed stage from the users indexes that projected whole items
(password hash included) to the narrow ones (``core.adapters.dynamodb.models``).

DynamoDB cannot change an index's projection, so each narrow index is a new one
(``<name>_v2``); CloudFormation refuses a table update that creates or deletes more
than one global secondary index ("Cannot perform more than one GSI creation or
deletion in a single update"). A stage that has the old indexes therefore deploys
``ROLLOUT_STEPS`` times, ``cdk deploy -c stage=NAME -c indexStep=1`` up to ``9``,
each step one index change at most:

- steps 1-4 create the new indexes one by one (DynamoDB backfills each; the
  deploy waits until it is active) while the functions still Query the old ones;
- step 5 changes no index: the functions switch to the new ones;
- steps 6-9 delete the old indexes one by one.

Without ``indexStep`` (a new stage, or one that finished) the table has the new
indexes only. While both exist, a function granted an index may Query both.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.adapters.dynamodb.models import PREVIOUS_INDEX_NAMES

ROLLOUT_STEPS = 9
# The order in which the new indexes are created and the old ones deleted.
_NEW = tuple(PREVIOUS_INDEX_NAMES)
_CREATE_STEPS = len(_NEW)
_SWITCH_STEP = _CREATE_STEPS + 1


@dataclass(frozen=True, slots=True)
class IndexRollout:
    """Which users indexes the table has at a step, and which the code Queries."""

    new: tuple[str, ...]
    previous: tuple[str, ...]
    query_previous: bool

    def names_of(self, index_name: str) -> tuple[str, ...]:
        """The indexes on the table standing for ``index_name`` (a new name): what
        a function granted Query on it may Query."""
        names = []
        if index_name in self.new or index_name not in PREVIOUS_INDEX_NAMES:
            names.append(index_name)
        previous = PREVIOUS_INDEX_NAMES.get(index_name)
        if previous is not None and previous in self.previous:
            names.append(previous)
        return tuple(names)


def rollout(step: int | None) -> IndexRollout:
    """The state at ``step`` (1 to ``ROLLOUT_STEPS``); ``None``: finished."""
    if step is None:
        return IndexRollout(new=_NEW, previous=(), query_previous=False)
    if not 1 <= step <= ROLLOUT_STEPS:
        raise ValueError(f"indexStep must be 1 to {ROLLOUT_STEPS}: {step}")
    old = tuple(PREVIOUS_INDEX_NAMES[name] for name in _NEW)
    if step <= _CREATE_STEPS:
        return IndexRollout(new=_NEW[:step], previous=old, query_previous=True)
    deleted = step - _SWITCH_STEP
    return IndexRollout(new=_NEW, previous=old[deleted:], query_previous=False)
