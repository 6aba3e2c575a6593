"""Init: in Lambda, a function's first request finds everything it needs built.

Lambda runs a handler module's import (its init phase) before the first event,
with the full CPU of a burst, and SnapStart snapshots what init left in memory.
So when ``AWS_LAMBDA_FUNCTION_NAME`` is set, importing a handler module calls
``prepare``: the composition root is built (settings, the secrets read from
Secrets Manager, the adapters, the DynamoDB client), the AWS clients of the
function's permissions are made (SQS for ``queue:send``, SES for ``email:send``,
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
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from typing import Any

from functions.permissions import (
    EMAIL_SEND,
    EXPORTS_READ,
    EXPORTS_WRITE,
    QUEUE_SEND,
    STRIPE_API,
    STRIPE_WEBHOOK,
)

logger = logging.getLogger("strata.init")

# The container's port each permission uses, whose AWS client (or Stripe
# adapter) init makes. The DynamoDB client is made by the build itself
# (``bind_tables`` shares one client across the models).
_PORT_OF = {
    QUEUE_SEND: "queue",
    EMAIL_SEND: "mailer",
    EXPORTS_READ: "exports",
    EXPORTS_WRITE: "exports",
    STRIPE_API: "payments",
    STRIPE_WEBHOOK: "webhooks",
}


def in_lambda() -> bool:
    """Whether this process is a Lambda function's (its runtime sets the name)."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def prepare(permissions: Iterable[str], use_cases: Iterable[str] = ()) -> bool:
    """In Lambda, build the container and what the first request uses (see the
    module's docstring); elsewhere, nothing. ``use_cases``: names the controller
    may call on the container (those that are no use case are skipped). True once
    it is all built; False outside Lambda or after a logged failure (the first
    request retries)."""
    if not in_lambda():
        return False
    from functions.runtime.container import get_container, use_case

    try:
        container = get_container()
        ports = sorted({_PORT_OF[p] for p in permissions if p in _PORT_OF})
        for port in ports:
            warm(getattr(container, port))
        # Built once and dropped: what stays is the imported module (each request
        # builds its own interactor, which is cheap once the module is loaded).
        for name in use_cases:
            if use_case(name) is not None:
                getattr(container, name)()
    except Exception:
        # Never raised: an import that fails makes Lambda repeat init on every
        # event without ever answering; a request answers 503 and says why.
        logger.exception(
            "init could not build the function's dependencies; each request will "
            "try again, and answers 503 until it can"
        )
        return False
    return True


def prepare_worker(module: str, use_cases: Iterable[str] = ()) -> bool:
    """``prepare`` for the worker whose module is ``module``, with the permissions
    the catalog declares for it (read only in Lambda: the catalog parses the
    endpoint modules' source, which a test or the local stack need not pay for)."""
    if not in_lambda():
        return False
    from functions.catalog import WORKERS

    declared = next((w.permissions for w in WORKERS if w.module == module), ())
    return prepare(declared, use_cases)


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
