"""What every resource of the emulated account shares: the error Stripe answers
with, ids, and the readers of form parameters that refuse a bad value as Stripe
does (status 400, ``code`` and ``param`` set)."""

from __future__ import annotations

import copy
import secrets
import string
from collections.abc import Iterable, Mapping
from typing import Any

Obj = dict[str, Any]

_ALPHABET = string.ascii_letters + string.digits


class StripeError(Exception):
    """An error answered as Stripe does: HTTP status and ``{"error": {...}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code

    def body(self) -> Obj:
        error: Obj = {"message": self.message, "type": self.type}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code}"
        if self.param is not None:
            error["param"] = self.param
        if self.decline_code is not None:
            error["decline_code"] = self.decline_code
        return {"error": error}


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(
        404 if param == "id" else 400,
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


# --- reading parameters ---------------------------------------------------------


def param_required(
    params: Mapping[str, Any], name: str, param: str | None = None
) -> Any:
    value = params.get(name)
    name = param or name
    if value is None:
        raise StripeError(
            400,
            f"Missing required param: {name}.",
            code="parameter_missing",
            param=name,
        )
    if value == "":
        raise StripeError(
            400,
            f"You passed an empty string for '{name}'. We assume empty values are an "
            f"attempt to unset a parameter; however '{name}' cannot be unset. You "
            f"should remove '{name}' from your request or supply a non-empty value.",
            code="parameter_invalid_empty",
            param=name,
        )
    return value


def param_str(
    params: Mapping[str, Any], name: str, param: str | None = None
) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise StripeError(400, f"Invalid string: {value!r}", param=param or name)
    return value


def param_int(
    params: Mapping[str, Any], name: str, param: str | None = None, minimum: int = 0
) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise StripeError(
            400,
            f"Invalid integer: {value}",
            code="parameter_invalid_integer",
            param=param or name,
        ) from None
    if number < minimum:
        raise StripeError(
            400,
            f"This value must be greater than or equal to {minimum}.",
            code="parameter_invalid_integer",
            param=param or name,
        )
    return number


def param_bool(params: Mapping[str, Any], name: str) -> bool | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise StripeError(400, f"Invalid boolean: {value}", param=name)


def param_hash(params: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = params.get(name)
    if value is None or value == "":
        return {}
    if not isinstance(value, Mapping):
        raise StripeError(400, f"Invalid hash: {name}", param=name)
    return value


def param_list(params: Mapping[str, Any], name: str) -> list[Any]:
    value = params.get(name)
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise StripeError(400, f"Invalid array: {name}", param=name)
    return value


def param_choice(
    params: Mapping[str, Any], name: str, choices: Iterable[str], param: str
) -> str | None:
    value = param_str(params, name, param)
    options = tuple(choices)
    if value is not None and value not in options:
        raise StripeError(
            400,
            f"Invalid {name}: must be one of {', '.join(options[:-1])}, "
            f"or {options[-1]}",
            param=param,
        )
    return value


def merge_metadata(current: Mapping[str, str], update: Any, param: str) -> Obj:
    """Stripe's metadata update: keys merge, ``""`` unsets a key, and
    ``metadata=""`` clears them all."""
    if update is None:
        return dict(current)
    if update == "":
        return {}
    if not isinstance(update, Mapping):
        raise StripeError(400, "Invalid hash", param=param)
    merged = dict(current)
    for key, value in update.items():
        if not isinstance(value, str):
            raise StripeError(400, f"Invalid value for {param}[{key}]", param=param)
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def expand_list(params: Mapping[str, Any]) -> list[str]:
    value = params.get("expand")
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise StripeError(400, "Invalid array", param="expand")
    return value


def previous_attributes(before: Any, after: Any) -> Any:
    """What changed, with the old values: Stripe's ``data.previous_attributes``
    (nested hashes are compared key by key, lists as a whole)."""
    out: Obj = {}
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            out[key] = previous_attributes(old, new)
        else:
            out[key] = copy.deepcopy(old)
    return out
