"""Stripe's reading conventions: ``expand[]`` and paginated list objects."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from stripe_emulator.params import Obj, StripeError

MAX_EXPAND_DEPTH = 4
# An object by its id, or None (the state's ``lookup``).
Lookup = Callable[[str], Obj | None]


def expand(obj: Obj, paths: list[str], lookup: Lookup) -> Obj:
    """Replace each id at ``paths`` (``a.b``, ``data.x`` through lists) by a copy of
    the object it names, as Stripe's ``expand[]`` does."""
    for path in paths:
        parts = path.split(".")
        if len(parts) > MAX_EXPAND_DEPTH:
            raise StripeError(
                400,
                f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a "
                f"property. Property: {path}",
                param="expand",
            )
        _expand_path(obj, parts, path, lookup)
    return obj


def _expand_path(node: Any, parts: list[str], path: str, lookup: Lookup) -> None:
    if not parts:
        return
    if isinstance(node, dict) and node.get("object") == "list" and parts[0] == "data":
        for item in node["data"]:
            _expand_path(item, parts[1:], path, lookup)
        return
    key = parts[0]
    if not isinstance(node, dict) or key not in node:
        raise StripeError(
            400, f"This property cannot be expanded ({path}).", param="expand"
        )
    value = node[key]
    if isinstance(value, str):
        target = lookup(value)
        if target is None:
            raise StripeError(
                400, f"This property cannot be expanded ({path}).", param="expand"
            )
        value = node[key] = copy.deepcopy(target)
    if value is not None:
        _expand_path(value, parts[1:], path, lookup)


def page(items: list[Obj], params: Mapping[str, Any], url: str, kind: str) -> Obj:
    """One page of ``items`` as Stripe lists them: ``limit``, ``starting_after``,
    ``ending_before``."""
    raw = params.get("limit")
    try:
        limit = 10 if raw in (None, "") else int(raw)
    except (TypeError, ValueError):
        raise StripeError(
            400,
            f"Invalid integer: {raw}",
            code="parameter_invalid_integer",
            param="limit",
        ) from None
    if not 1 <= limit <= 100:
        raise StripeError(
            400,
            "This value must be greater than or equal to 1 and less than or "
            "equal to 100.",
            param="limit",
        )
    ids = [item["id"] for item in items]
    after, before = params.get("starting_after"), params.get("ending_before")
    if after:
        if after not in ids:
            raise StripeError(
                400,
                f"No such {kind}: '{after}'",
                code="resource_missing",
                param="starting_after",
            )
        window = items[ids.index(after) + 1 :]
        data, has_more = window[:limit], len(window) > limit
    elif before:
        if before not in ids:
            raise StripeError(
                400,
                f"No such {kind}: '{before}'",
                code="resource_missing",
                param="ending_before",
            )
        window = items[: ids.index(before)]
        data, has_more = window[-limit:], len(window) > limit
    else:
        data, has_more = items[:limit], len(items) > limit
    return {"object": "list", "data": data, "has_more": has_more, "url": url}
