"""Stripe's request encoding: ``application/x-www-form-urlencoded`` with nested keys.

``metadata[user_id]=u1`` is ``{"metadata": {"user_id": "u1"}}``;
``line_items[0][price]=p`` is ``{"line_items": [{"price": "p"}]}``; ``expand[]=x``
appends to a list. Values stay strings, as Stripe receives them: each endpoint
reads its own types (``as_int``, ``as_bool``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    """A body or query string that does not decode; ``param`` names the key."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def parse_form(text: str) -> dict[str, Any]:
    """Decode a form body or query string into nested dicts and lists."""
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False)
    except ValueError as exc:
        raise FormError(f"Invalid request body: {exc}") from None
    return parse_pairs(pairs)


def parse_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            raise FormError(f"Invalid parameter name: {key}", key)
        parts = [match.group(1), *_PART.findall(match.group(2))]
        _assign(root, parts, value, key)
    return _listify(root)


def _assign(node: dict[str, Any], parts: list[str], value: str, key: str) -> None:
    head, rest = parts[0], parts[1:]
    if head == "":
        # ``a[]``: the next free index of the list being built.
        head = str(sum(1 for k in node if k.isdigit()))
    if not rest:
        if isinstance(node.get(head), dict):
            raise FormError(f"Invalid value for {key}: it is also a hash", key)
        node[head] = value
        return
    child = node.setdefault(head, {})
    if not isinstance(child, dict):
        raise FormError(f"Invalid value for {key}: it is also a string", key)
    _assign(child, rest, value, key)


def _listify(node: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in node.items():
        out[key] = _to_value(value)
    return out


def _to_value(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if value and all(k.isdigit() for k in value):
        return [_to_value(value[k]) for k in sorted(value, key=int)]
    return _listify(value)


def encode_form(params: Mapping[str, Any]) -> str:
    """The inverse of ``parse_form``, as Stripe's client libraries encode:
    booleans as ``true``/``false``, ``None`` dropped, lists indexed."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        _flatten(key, value, pairs)
    return urlencode(pairs)


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}[{key}]", item, out)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _flatten(f"{prefix}[{index}]", item, out)
    elif isinstance(value, bool):
        out.append((prefix, "true" if value else "false"))
    else:
        out.append((prefix, str(value)))
