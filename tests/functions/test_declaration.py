"""An endpoint's declaration reads the same whether its parts are keywords of
``@api.endpoint`` or decorators of their own under it, to the catalog (from the
source) and to the route (at run time)."""

from __future__ import annotations

import sys
import textwrap
import types
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from functions.catalog import DeclarationError, read_endpoint
from functions.runtime.app import create_app

AS_KEYWORDS = '''
"""Cancel something: what it was."""

from functions.runtime import api


@api.endpoint(
    "POST /api/v1/things/{username}/cancel",
    (*api.p.MANAGE_USERS, api.p.STRIPE_API),
    budget=2,
    stripe=1,
    who="an admin over the user",
    counts={200: "ThingsCancelled"},
    sample={"query": {"now": "true"}},
    problems={409: ("Nothing to cancel", "no_thing"), 403: "Not an admin"},
    responses={200: {"description": "Cancelled"}},
    openapi_extra={"x-thing": True},
    tag="things",
)
def cancel(username: api.Segment, ctx: api.LoggedIn) -> dict[str, str]:
    return {"cancelled": username}
'''

AS_DECORATORS = '''
"""Cancel something: what it was."""

from functions.runtime import api

GRANTS = (*api.p.MANAGE_USERS, api.p.STRIPE_API)


@api.endpoint("POST /api/v1/things/{username}/cancel", GRANTS, budget=2)
@api.who("an admin over the user")
@api.counts({200: "ThingsCancelled"})
@api.sample(query={"now": "true"})
@api.problems({409: ("Nothing to cancel", "no_thing")})
@api.problems({403: "Not an admin"})
@api.responses({200: {"description": "Cancelled"}})
@api.openapi_extra({"x-thing": True}, tag="things")
def cancel(username: api.Segment, ctx: api.LoggedIn) -> dict[str, str]:
    return {"cancelled": username}
'''


def _written(directory: Path, name: str, source: str) -> Path:
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return path


@pytest.fixture
def modules() -> Iterator[dict[str, types.ModuleType]]:
    """Each source run as a module of its own, removed afterwards."""
    made: dict[str, types.ModuleType] = {}
    for name, source in (
        ("as_keywords", AS_KEYWORDS),
        ("as_decorators", AS_DECORATORS),
    ):
        module = types.ModuleType(f"declared_{name}")
        sys.modules[module.__name__] = module
        code = compile(textwrap.dedent(source), module.__name__, "exec")
        exec(code, vars(module))  # noqa: S102
        made[name] = module
    yield made
    for module in made.values():
        del sys.modules[module.__name__]


def _without_name(found: Any) -> dict[str, Any]:
    entry = asdict(found)
    return {k: v for k, v in entry.items() if k not in {"name", "module"}}


def test_the_catalog_reads_decorators_under_endpoint_as_its_keywords(
    tmp_path: Path,
) -> None:
    keywords = read_endpoint(_written(tmp_path, "as_keywords", AS_KEYWORDS))
    decorators = read_endpoint(_written(tmp_path, "as_decorators", AS_DECORATORS))

    assert keywords is not None
    assert decorators is not None
    assert _without_name(decorators) == _without_name(keywords)
    assert decorators.who == "an admin over the user"
    assert decorators.counts == {200: "ThingsCancelled"}
    assert decorators.sample["query"] == {"now": "true"}
    assert decorators.permissions[-1] == "stripe:api"
    assert decorators.requires_session is True


def test_the_route_documents_decorators_under_endpoint_as_its_keywords(
    modules: dict[str, types.ModuleType],
) -> None:
    documents = {
        name: create_app(module.router).openapi()["paths"]
        for name, module in modules.items()
    }
    counts = {name: module.handler.counts for name, module in modules.items()}

    assert documents["as_decorators"] == documents["as_keywords"]
    operation = documents["as_decorators"]["/api/v1/things/{username}/cancel"]["post"]
    assert sorted(operation["responses"]) == [
        "200",
        "401",
        "403",
        "409",
        "413",
        "415",
        "422",
        "503",
    ]
    assert operation["tags"] == ["things"]
    assert operation["x-thing"] is True
    assert counts["as_decorators"] == counts["as_keywords"] == {200: "ThingsCancelled"}


def test_a_route_that_reaches_stripe_makes_one_request_unless_it_says(
    tmp_path: Path,
) -> None:
    source = AS_DECORATORS.replace("budget=2)", "budget=2, stripe=2)")
    said = read_endpoint(_written(tmp_path, "said", source))
    unsaid = read_endpoint(_written(tmp_path, "unsaid", AS_DECORATORS))
    no_stripe = AS_DECORATORS.replace("api.p.STRIPE_API", "api.p.PASSWORDS")
    none = read_endpoint(_written(tmp_path, "none", no_stripe))

    assert (said and said.stripe, unsaid and unsaid.stripe, none and none.stripe) == (
        2,
        1,
        0,
    )


def test_a_part_said_both_as_keyword_and_decorator_is_refused(tmp_path: Path) -> None:
    source = AS_KEYWORDS.replace(
        "def cancel", '@api.sample(query={"now": "false"})\ndef cancel'
    )

    with pytest.raises(DeclarationError, match="say one"):
        read_endpoint(_written(tmp_path, "twice", source))


def test_a_permission_the_permissions_module_lacks_is_refused(tmp_path: Path) -> None:
    source = AS_KEYWORDS.replace("api.p.STRIPE_API", "api.p.STRIPE_ANYTHING")

    with pytest.raises(DeclarationError, match="STRIPE_ANYTHING"):
        read_endpoint(_written(tmp_path, "unknown", source))


def test_a_part_decorated_above_endpoint_is_refused_not_dropped() -> None:
    source = AS_DECORATORS.replace(
        '@api.problems({403: "Not an admin"})\n', ""
    ).replace(
        '@api.endpoint("POST',
        '@api.problems({403: "Not an admin"})\n@api.endpoint("POST',
    )
    module = types.ModuleType("declared_above")
    sys.modules[module.__name__] = module
    try:
        code = compile(textwrap.dedent(source), module.__name__, "exec")
        with pytest.raises(TypeError, match="below @endpoint"):
            exec(code, vars(module))  # noqa: S102
    finally:
        del sys.modules[module.__name__]
