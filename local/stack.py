"""The local stack's building blocks: environment, moto server, tables.

``strata dev`` and the other ``strata`` commands compose these; tests use them too.
Nothing here knows an endpoint beyond loopback: every AWS client finds moto through
``AWS_ENDPOINT_URL``, exactly as the adapters expect (they carry no endpoint plumbing).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from pynamodb.attributes import TTLAttribute
from pynamodb.models import Model

from core.adapters.dynamodb.models import TABLE_MODELS, bind_tables, table_connection
from functions.runtime.settings import LOCAL_STAGE, Settings, get_settings

LOOPBACK = "127.0.0.1"
DEFAULT_APP_PORT = 8000
DEFAULT_AWS_PORT = 4566
# moto accepts any credentials; these only keep botocore from looking for real ones.
DUMMY_ACCESS_KEY_ID = "local"
DUMMY_SECRET_ACCESS_KEY = "local"  # noqa: S105 (not a secret: moto ignores it)
DEFAULT_REGION = "us-east-1"


class StackError(Exception):
    """The local stack cannot start or be reached; the message is for a human."""


class PortInUse(StackError):
    def __init__(self, port: int, what: str) -> None:
        super().__init__(f"port {port} on {LOOPBACK} is already in use ({what})")
        self.port = port


class MotoServer(Protocol):
    """A started moto server, as ``start_moto`` returns it."""

    startup_error: BaseException | None

    def start(self) -> None: ...

    def stop(self) -> None: ...


def local_endpoint(port: int) -> str:
    """The URL of a moto server on loopback."""
    return f"http://{LOOPBACK}:{port}"


def use_local_aws(port: int, environ: MutableMapping[str, str] | None = None) -> str:
    """Point AWS clients at a moto server on loopback ``port``, the local stage.

    Only variables the caller left unset are filled in: an ``AWS_ENDPOINT_URL``,
    credentials or a region already in the environment win. Call before any AWS
    client or the settings are built. Returns the endpoint clients will use.
    """
    env = os.environ if environ is None else environ
    env.setdefault("AWS_ENDPOINT_URL", local_endpoint(port))
    # Keys go as a pair: half of a caller's own pair is not ours to complete.
    if "AWS_ACCESS_KEY_ID" not in env and "AWS_SECRET_ACCESS_KEY" not in env:
        env["AWS_ACCESS_KEY_ID"] = DUMMY_ACCESS_KEY_ID
        env["AWS_SECRET_ACCESS_KEY"] = DUMMY_SECRET_ACCESS_KEY
    if "AWS_REGION" not in env:
        env.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)
    env.setdefault("STRATA_STAGE", LOCAL_STAGE)
    return env["AWS_ENDPOINT_URL"]


def _listener(port: int) -> socket.socket:
    # SO_REUSEADDR as uvicorn and werkzeug set it: a port in TIME_WAIT is free to
    # them, so it must be free to this check too; a live listener still refuses.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError:
        sock.close()
        raise
    return sock


def ensure_port_free(port: int, what: str) -> None:
    """Raise ``PortInUse`` unless ``port`` on loopback can be bound right now."""
    try:
        _listener(port).close()
    except OSError:
        raise PortInUse(port, what) from None


def bind_port(port: int, what: str) -> socket.socket:
    """A socket bound to loopback ``port``, to hand to a server.

    Binding here rather than inside the server closes the gap between "the port is
    free" and "the server has it", and turns a clash into ``PortInUse``.
    """
    try:
        return _listener(port)
    except OSError:
        raise PortInUse(port, what) from None


_WRITES = ("transact_write_items", "put_item", "update_item", "delete_item")
_write_lock = threading.RLock()


def isolate_dynamodb_writes() -> None:
    """Make the in-process moto honour what DynamoDB guarantees of transactions:
    each is all-or-nothing and serialised with every other write to its items.

    moto 5.2 checks a transaction's conditions and applies its writes one by one,
    and undoes a failed one by restoring a copy of each table taken before it
    began, so under concurrency two transactions can both pass their conditions,
    and a rollback can erase another request's write. One lock around moto's
    DynamoDB writes (reads still run beside them) rules both out. Idempotent.
    """
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        method = getattr(DynamoDBBackend, name)
        if getattr(method, "_strata_isolated", False):
            continue

        def isolated(self: Any, *args: Any, _write: Any = method, **kwargs: Any) -> Any:
            with _write_lock:
                return _write(self, *args, **kwargs)

        isolated._strata_isolated = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, isolated)


def start_moto(port: int) -> MotoServer:
    """Start moto's server on loopback ``port`` in a daemon thread, its DynamoDB
    writes isolated as DynamoDB's are; stop it with ``.stop()``. Raises
    ``PortInUse`` if the port is taken."""
    ensure_port_free(port, "wanted for moto")
    isolate_dynamodb_writes()
    server = _reporting_moto_server(port)
    server.start()
    error = server.startup_error
    if error is not None:
        if isinstance(error, OSError):
            raise PortInUse(port, "wanted for moto") from error
        raise StackError(f"moto could not start on port {port}: {error}") from error
    return server


def _reporting_moto_server(port: int) -> MotoServer:
    # moto is a dev dependency: imported here so that `strata create-superadmin`
    # against a deployed stage works where only the runtime dependencies are.
    from moto.server import ThreadedMotoServer

    class ReportingMotoServer(ThreadedMotoServer):
        """moto binds inside its thread, and ``start`` waits for a ready event that
        a failed bind never sets; this records the failure and releases the wait."""

        startup_error: BaseException | None = None

        def _server_entry(self) -> None:
            try:
                super()._server_entry()
            except BaseException as exc:  # the thread's only way to report back
                self.startup_error = exc
                self._server_ready_event.set()

    return ReportingMotoServer(ip_address=LOOPBACK, port=port, verbose=False)


def is_reachable(endpoint_url: str, timeout: float = 1.0) -> bool:
    """True when something accepts TCP connections at the URL's host and port."""
    parts = urlsplit(endpoint_url)
    if parts.hostname is None:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass(frozen=True, slots=True)
class TableStatus:
    name: str
    created: bool
    ttl_attribute: str | None


def create_tables(settings: Settings) -> list[TableStatus]:
    """Create the stage's tables from the pynamodb models, skipping those that exist.

    Tables get the key schemas, indexes and TTL attributes the models declare, the
    same ones the CDK app deploys. Safe to run again: nothing is recreated, and TTL
    is only switched on where it is still off.
    """
    bind_tables(
        settings.users_table,
        settings.sessions_table,
        settings.region,
        tasks_table=settings.tasks_table,
        orgs_table=settings.orgs_table,
    )
    statuses = []
    for model in TABLE_MODELS:
        created = not model.exists()
        if created:
            # create_table switches TTL on as well; a table that already existed
            # (made by an older run or by hand) gets it from _ensure_ttl below.
            model.create_table(wait=True)
        ttl_name = _ttl_attribute_name(model)
        if ttl_name is not None:
            _ensure_ttl(model, ttl_name)
        statuses.append(TableStatus(model.Meta.table_name, created, ttl_name))
    return statuses


def provision() -> Settings:
    """Create, in the moto the environment points at, all a request or a worker may
    touch: the tables from the models, then the task queue, the export bucket and
    the email sender from ``functions/resources.py``. Their settings go into the
    process environment; returns the settings as they now read."""
    from local.resources import create_resources

    get_settings.cache_clear()
    settings = get_settings()
    create_tables(settings)
    os.environ.update(create_resources(settings.region).environment())
    get_settings.cache_clear()
    return get_settings()


def _ttl_attribute_name(model: type[Model]) -> str | None:
    for attribute in model.get_attributes().values():
        if isinstance(attribute, TTLAttribute):
            return attribute.attr_name
    return None


def _ensure_ttl(model: type[Model], attribute: str) -> None:
    table = model.Meta.table_name
    # The models' own botocore client: same endpoint, region and credentials.
    client = table_connection(model).connection.client
    described = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if described.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        if described.get("AttributeName") == attribute:
            return
        raise StackError(
            f"table {table} has TTL on {described.get('AttributeName')!r}, "
            f"but the model says {attribute!r}"
        )
    client.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
    )
