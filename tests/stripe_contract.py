"""Stripe's contract as stripe-python states it: the fields a resource class annotates
without ``None`` are the ones the SDK's pinned API version always returns, and a
``Literal`` names the values that version may return.

``contract_errors(cls, value)`` walks ``value`` (a response, parsed or not) against
the annotations of ``cls`` and its nested classes, with ``typing.get_type_hints``,
and answers one line per breach, by path: a required field missing, a field of the
wrong type, a value outside its ``Literal``. Nothing here lists fields by hand, so
a newer SDK (a newer pinned version) tightens the contract by itself.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, TypeVar, Union

import stripe
from stripe import StripeObject
from stripe._list_object import ListObject
from stripe._object_classes import get_object_class


class _StripeNames(dict[str, Any]):
    """Names the SDK's annotations use but import only for type checkers: its
    public classes, sometimes imported under an alias ending in ``Resource``;
    one still unknown is ``Any`` (checked for presence, not shape)."""

    def __missing__(self, name: str) -> Any:
        for candidate in (name, name.removesuffix("Resource")):
            found = getattr(stripe, candidate, None)
            if isinstance(found, type):
                return found
        return Any


_HINTS: dict[str, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    key = f"{cls.__module__}.{cls.__qualname__}"
    if key not in _HINTS:
        _HINTS[key] = _read_hints(cls)
    return _HINTS[key]


def _read_hints(cls: type) -> dict[str, Any]:
    module = vars(sys.modules[cls.__module__])
    hints = typing.get_type_hints(cls, globalns=module, localns=_StripeNames())
    return {
        name: hint
        for name, hint in hints.items()
        if not name.startswith("_") and typing.get_origin(hint) is not ClassVar
    }


def class_of(object_name: str) -> type[StripeObject]:
    """The SDK's class for an ``object`` value (``subscription``,
    ``checkout.session``, ...)."""
    return get_object_class("V1", object_name)


def contract_errors(cls: type, value: Any, path: str = "") -> list[str]:
    """Every breach of ``cls``'s contract in ``value``; none: it holds."""
    errors: list[str] = []
    if isinstance(value, StripeObject):
        value = value.to_dict()
    _check(cls, value, path or getattr(cls, "OBJECT_NAME", cls.__name__), errors)
    return errors


def _nullable(hint: Any) -> bool:
    return hint is type(None) or (
        _is_union(hint) and type(None) in typing.get_args(hint)
    )


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (Union, types.UnionType)


def _check(hint: Any, value: Any, path: str, errors: list[str]) -> None:
    if hint is Any or isinstance(hint, TypeVar):
        return
    if value is None:
        if not _nullable(hint):
            errors.append(f"{path}: null, but the field is not nullable")
        return
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if _is_union(hint):
        _check_union(args, value, path, errors)
    elif origin is Literal:
        if value not in args:
            errors.append(f"{path}: {value!r} is not one of {sorted(args)}")
    elif hint in (str, int, float, bool):
        _check_scalar(hint, value, path, errors)
    elif origin in (list, typing.List):  # noqa: UP006 (the SDK's own spelling)
        if not isinstance(value, list):
            errors.append(f"{path}: {type(value).__name__}, not a list")
            return
        for index, element in enumerate(value):
            _check(args[0] if args else Any, element, f"{path}[{index}]", errors)
    elif origin is ListObject or hint is ListObject:
        _check_list_object(args[0] if args else Any, value, path, errors)
    elif origin in (dict, typing.Dict, Mapping) or (  # noqa: UP006
        isinstance(origin, type) and issubclass(origin, StripeObject)
    ):
        # A free-form hash (metadata: UntypedStripeObject[str]) or a plain dict.
        if not isinstance(value, Mapping):
            errors.append(f"{path}: {type(value).__name__}, not a hash")
    elif isinstance(hint, type) and issubclass(hint, StripeObject):
        _check_object(hint, value, path, errors)


def _check_union(
    args: tuple[Any, ...], value: Any, path: str, errors: list[str]
) -> None:
    literals = [a for a in args if typing.get_origin(a) is Literal]
    if literals and isinstance(value, str):
        # ``Literal[...] | str``: the ``str`` is the SDK's leeway for values of
        # newer versions; the emulator speaks the pinned one, so only its values.
        allowed = {v for literal in literals for v in typing.get_args(literal)}
        if value not in allowed:
            errors.append(f"{path}: {value!r} is not one of {sorted(allowed)}")
        return
    candidates = [a for a in args if a is not type(None)]
    # Of an expandable field's candidates (the id, the object) only the one of
    # the value's own kind is worth reporting on when none fits.
    scalar = [a for a in candidates if a in (str, int, float, bool)]
    kind = [a for a in candidates if (a in scalar) != isinstance(value, Mapping)]
    attempts: list[list[str]] = []
    for candidate in kind or candidates:
        found: list[str] = []
        _check(candidate, value, path, found)
        if not found:
            return
        attempts.append(found)
    fewest: list[str] = attempts[0] if attempts else []
    for found in attempts:
        if len(found) < len(fewest):
            fewest = found
    errors.extend(fewest)


def _check_scalar(hint: type, value: Any, path: str, errors: list[str]) -> None:
    if hint is float:
        fits = isinstance(value, int | float) and not isinstance(value, bool)
    elif hint is int:
        fits = isinstance(value, int) and not isinstance(value, bool)
    else:
        fits = isinstance(value, hint)
    if not fits:
        errors.append(f"{path}: {value!r} is not a {hint.__name__}")


def _check_list_object(element: Any, value: Any, path: str, errors: list[str]) -> None:
    if not isinstance(value, Mapping):
        errors.append(f"{path}: {type(value).__name__}, not a list object")
        return
    _check_object(ListObject, value, path, errors)
    for index, row in enumerate(value.get("data") or []):
        _check(element, row, f"{path}.data[{index}]", errors)


def _check_object(
    cls: type[StripeObject], value: Any, path: str, errors: list[str]
) -> None:
    if not isinstance(value, Mapping):
        errors.append(f"{path}: {type(value).__name__}, not a {cls.__name__}")
        return
    remapped: dict[str, str] = getattr(cls, "_field_remappings", {})
    for name, hint in _hints(cls).items():
        key = remapped.get(name, name)
        if key not in value:
            if not _nullable(hint):
                errors.append(f"{path}.{key}: missing")
            continue
        if cls is ListObject and name == "data":
            continue  # the elements are checked against the list's own type
        _check(hint, value[key], f"{path}.{key}", errors)
