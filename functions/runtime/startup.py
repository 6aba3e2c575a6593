"""Init: in Lambda, a function's first request finds everything it needs built.

Lambda runs a handler module's import (its init phase) before the first event,
with the full CPU of a burst, and SnapStart snapshots what init left in memory.
So when ``AWS_LAMBDA_FUNCTION_NAME`` is set, importing a handler module calls
``prepare``: the composition root is built (settings, the secrets read from
Secrets Manager, the adapters, the DynamoDB client), the AWS clients of the
function's permissions are made (SQS for ``queue:<family>``, SES for ``email:send``,
S3 for ``exports:*``, the Stripe adapter for ``stripe:*``), and the interactors its
controller calls are built once, which imports their modules.

Outside Lambda (tests, the local stack that mounts every route in one process,
``strata invoke``) nothing is built at import: the container is made by the first
request, as before, and tests still install their own with ``use_container``.

A failure in init (the secrets unreadable, say) must not fail the import: Lambda
would report an init error and start the whole init again on every event, with no
answer for the caller. ``prepare`` logs the failure once, with its cause, and leaves
the container unbuilt; each request then tries the build again (``get_container``)
and answers a 503 problem while it keeps failing.

With SnapStart (a stage setting, ``infra_cdk.stages``), Lambda runs init once per
published version and snapshots it; ``before_snapshot`` and ``after_restore`` are
registered with its ``snapshot_restore_py`` hooks (see their docstrings).
"""

from __future__ import annotations

import functools
import gc
import inspect
import logging
import os
import random
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from functions.permissions import (
    EMAIL_SEND,
    EXPORTS_READ,
    EXPORTS_WRITE,
    QUEUE_PERMISSIONS,
    STRIPE_API,
    STRIPE_WEBHOOK,
)

if TYPE_CHECKING:
    from functions.runtime.container import Container
    from functions.runtime.settings import Settings

logger = logging.getLogger("strata.init")

# The container's port each permission uses, whose AWS client (or Stripe
# adapter) init makes. The DynamoDB client is made by the build itself
# (``bind_tables`` shares one client across the models).
_PORT_OF = {
    **dict.fromkeys(QUEUE_PERMISSIONS, "queue"),
    EMAIL_SEND: "mailer",
    EXPORTS_READ: "exports",
    EXPORTS_WRITE: "exports",
    STRIPE_API: "payments",
    STRIPE_WEBHOOK: "webhooks",
}


def in_lambda() -> bool:
    """Whether this process is a Lambda function's (its runtime sets the name)."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


_F = TypeVar("_F", bound=Callable[..., Any])


def on_event_loop(function: _F) -> _F:
    """In Lambda, a plain path function or dependency as a coroutine function that
    runs it on the event loop's own thread; elsewhere, ``function`` unchanged.

    FastAPI runs a plain function in a worker thread, so that a slow one does not
    hold up the other requests the loop serves. A Lambda process serves one event
    at a time: there is nothing to hold up, and each hop costs CPU; worse, Mangum
    runs every event in a task of its own and anyio ties its worker threads to that
    task, so every warm invocation started and stopped a thread (about 0.5 ms of
    CPU, most of the FastAPI floor's whole call). The local stack, which serves
    many requests in one process, keeps the worker threads."""
    if (
        not in_lambda()
        or inspect.iscoroutinefunction(function)
        or inspect.isgeneratorfunction(function)
    ):
        return function

    @functools.wraps(function)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    return run  # type: ignore[return-value]


# A use case the controller calls on the container: its name, or its name and the
# arguments its container method takes (a worker's ``("run_task", family)``).
UseCase = str | tuple[str, ...]


def prepare(permissions: Iterable[str], use_cases: Iterable[UseCase] = ()) -> bool:
    """In Lambda, build the container and what the first request uses (see the
    module's docstring), and register the SnapStart hooks; elsewhere, nothing.
    ``use_cases``: what the controller may call on the container (names that are
    no use case are skipped). True once it is all built; False outside Lambda or
    after a logged failure (the first request retries)."""
    if not in_lambda():
        return False
    permissions, use_cases = tuple(permissions), tuple(use_cases)
    register_hooks(permissions, use_cases)
    return _build(permissions, use_cases)


def _build(
    permissions: tuple[str, ...],
    use_cases: tuple[UseCase, ...],
    container: Container | None = None,
) -> bool:
    from functions.runtime.container import get_container

    try:
        _warm_all(container or get_container(), permissions, use_cases)
    except Exception:
        # Never raised: an import that fails makes Lambda repeat init on every
        # event without ever answering; a request answers 503 and says why.
        logger.exception(
            "init could not build the function's dependencies; each request will "
            "try again, and answers 503 until it can"
        )
        return False
    return True


def prepare_worker(module: str, use_cases: Iterable[UseCase] = ()) -> bool:
    """``prepare`` for the worker whose module is ``module``, with the permissions
    the catalog declares for it (read only in Lambda: the catalog parses the
    endpoint modules' source, which a test or the local stack need not pay for)."""
    if not in_lambda():
        return False
    from functions.catalog import WORKERS

    declared = next((w.permissions for w in WORKERS if w.module == module), ())
    return prepare(declared, use_cases)


def _warm_all(
    container: Container, permissions: tuple[str, ...], use_cases: tuple[UseCase, ...]
) -> None:
    from functions.runtime.container import use_case

    ports = sorted({_PORT_OF[p] for p in permissions if p in _PORT_OF})
    for port in ports:
        warm(getattr(container, port))
    # Built once and dropped: what stays is the imported module (each request
    # builds its own interactor, which is cheap once the module is loaded).
    for entry in use_cases:
        name, *args = (entry,) if isinstance(entry, str) else entry
        if use_case(name) is not None:
            getattr(container, name)(*args)


# -- SnapStart -------------------------------------------------------------------------


def register_hooks(
    permissions: tuple[str, ...], use_cases: tuple[UseCase, ...]
) -> bool:
    """Register ``before_snapshot`` and ``after_restore`` with Lambda's
    ``snapshot_restore_py`` (in Lambda's Python runtimes only: elsewhere, and in a
    function without SnapStart where they never run, registering is harmless)."""
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found]
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:
        return False
    register_before_snapshot(before_snapshot, permissions, use_cases)
    register_after_restore(after_restore, permissions, use_cases)
    return True


def before_snapshot(
    permissions: tuple[str, ...], use_cases: tuple[UseCase, ...]
) -> None:
    """Before the snapshot: what init could not build (a failed init) is tried
    again, so the snapshot holds it; then the garbage of init is collected, so
    every restored copy does not carry it."""
    from functions.runtime import container as root

    if root.current() is None:
        _build(permissions, use_cases)
    gc.collect()


def after_restore(permissions: tuple[str, ...], use_cases: tuple[UseCase, ...]) -> None:
    """After a restore: many instances now share one memory image. What must be
    unique per instance, or may be stale, is made again before the first request:

    - the AWS clients (their credentials were resolved at snapshot time, their
      connections are dead) and the Stripe adapter with its urllib3 pool: the
      container is rebuilt from the settings it holds, secrets included, so no
      secret is read again;
    - ``random``'s state (the rate limiter's jitter, botocore's and Stripe's retry
      backoff), which every copy would otherwise replay alike;
    - the log keys and the cold-start flag, so the first invocation of each copy
      logs as the cold start it is.

    A failure leaves no container: the first request builds one (or answers 503)."""
    from functions.runtime import container as root
    from functions.runtime import observability

    random.seed()
    observability.logger.clear_state()
    observability.mark_cold()
    built = root.current()
    if built is None:
        return
    try:
        from core.adapters.dynamodb.models import reconnect

        # The models cache their connection (and client) across builds.
        reconnect()
        fresh = root.build_container(known_secrets(built.settings))
        _warm_all(fresh, permissions, use_cases)
    except Exception:
        logger.exception(
            "after restore, the function's dependencies could not be rebuilt; the "
            "first request will build them"
        )
        root.use_container(None)
        return
    root.use_container(fresh)


def known_secrets(settings: Settings) -> Settings:
    """``settings`` whose secrets were read, with their ARNs dropped: building a
    container from them reads no secret again."""
    from functions.runtime.settings import SECRET_FIELDS, STRIPE_SECRET_FIELDS

    return settings.model_copy(
        update={f"{n}_arn": "" for n in (*SECRET_FIELDS, *STRIPE_SECRET_FIELDS)}
    )


def warm(adapter: Any) -> None:
    """Make the clients ``adapter`` would make on its first call: a deferred
    adapter is made, and each lazy AWS client it holds is built."""
    from core.adapters.aws import LazyClient
    from functions.runtime.container import Deferred

    target = adapter.made() if isinstance(adapter, Deferred) else adapter
    for value in _attributes(target):
        if isinstance(value, LazyClient):
            value.get()


def _attributes(target: Any) -> Iterator[Any]:
    try:
        return iter(list(vars(target).values()))
    except TypeError:  # no __dict__ (slots): nothing lazy to find
        return iter(())
