"""SnapStart's hooks, called as Lambda calls them: ``snapshot_restore_py`` exists
only in Lambda's runtimes, so a fake one stands in, recording what is registered.

Before the snapshot, what a failed init left unbuilt is built; after a restore, the
AWS clients, the Stripe adapter, ``random``'s state and the log state are made anew
(many restored copies share one memory image), and no secret is read again.
"""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from functions.runtime import container as root
from functions.runtime import observability, startup

pytestmark = pytest.mark.moto

WORKER_PERMISSIONS = ("users:read", "queue:email", "email:send", "stripe:api")
# A worker's use case takes its family.
WORKER_USE_CASES = (("run_task", "email"),)


class FakeSnapshotRestore(types.ModuleType):
    def __init__(self) -> None:
        super().__init__("snapshot_restore_py")
        self.before: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        self.after: list[tuple[Callable[..., None], tuple[Any, ...]]] = []

    def register_before_snapshot(self, func: Callable[..., None], *args: Any) -> None:
        self.before.append((func, args))

    def register_after_restore(self, func: Callable[..., None], *args: Any) -> None:
        self.after.append((func, args))

    def snapshot(self) -> None:
        # Lambda runs the before-snapshot hooks in the reverse order of registration.
        for func, args in reversed(self.before):
            func(*args)

    def restore(self) -> None:
        for func, args in self.after:
            func(*args)


@pytest.fixture
def lambda_runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSnapshotRestore]:
    fake = FakeSnapshotRestore()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "strata-test-task-worker")
    yield fake
    root.use_container(None)


def _clients(container: Any) -> dict[str, Any]:
    from core.adapters.dynamodb.models import dynamodb_client

    return {
        "dynamodb": dynamodb_client(),
        "sqs": container.queue._client.get(),
        "ses": container.mailer._client.get(),
        "stripe": container.payments.made(),
    }


def test_init_registers_both_hooks_with_the_functions_permissions(
    lambda_runtime: FakeSnapshotRestore, moto_container: Any
) -> None:
    assert startup.prepare(WORKER_PERMISSIONS, WORKER_USE_CASES) is True

    ((before, before_args),) = lambda_runtime.before
    ((after, after_args),) = lambda_runtime.after
    assert (before, after) == (startup.before_snapshot, startup.after_restore)
    assert before_args == after_args == (WORKER_PERMISSIONS, WORKER_USE_CASES)


def test_outside_lambda_no_hook_is_registered_and_nothing_is_built(
    lambda_runtime: FakeSnapshotRestore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    root.use_container(None)

    assert startup.prepare(WORKER_PERMISSIONS) is False

    assert lambda_runtime.before == lambda_runtime.after == []
    assert root.current() is None


def test_without_the_runtimes_module_init_still_builds(
    monkeypatch: pytest.MonkeyPatch, moto_container: Any
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "strata-test")
    # None in sys.modules: importing it raises ImportError, as outside Lambda.
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)

    assert startup.register_hooks(WORKER_PERMISSIONS, ()) is False
    assert startup.prepare(WORKER_PERMISSIONS) is True


def test_before_the_snapshot_a_failed_init_is_built_again(
    lambda_runtime: FakeSnapshotRestore,
    moto_container: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unavailable(settings: Any) -> Any:
        raise RuntimeError("secrets unavailable")

    root.use_container(None)
    monkeypatch.setattr(root, "build_container", unavailable)
    assert startup.prepare(WORKER_PERMISSIONS) is False
    assert root.current() is None
    monkeypatch.setattr(root, "build_container", lambda settings: moto_container)

    lambda_runtime.snapshot()

    assert root.current() is moto_container


def test_after_a_restore_clients_stripe_and_the_container_are_new_and_warm(
    lambda_runtime: FakeSnapshotRestore, task_resources: Any
) -> None:
    from functions.runtime.settings import get_settings

    settings = get_settings().model_copy(
        update={"email_task_queue_url": task_resources.queue_url}
    )
    root.use_container(root.build_container(settings))
    startup.prepare(WORKER_PERMISSIONS, WORKER_USE_CASES)
    snapshotted: Any = root.current()
    before = _clients(snapshotted)
    lambda_runtime.snapshot()

    lambda_runtime.restore()

    restored: Any = root.current()
    assert restored is not None
    assert restored is not snapshotted
    after = _clients(restored)
    for name, client in after.items():
        assert client is not before[name], name
    # Built by the hook, not by the first request: the lazy clients are made.
    assert restored.queue._client._client is not None
    assert restored.mailer._client._client is not None
    assert restored.settings == snapshotted.settings


def test_after_a_restore_no_secret_is_read_again(
    lambda_runtime: FakeSnapshotRestore, moto_container: Any
) -> None:
    deployed = moto_container.settings.model_copy(
        update={
            "stage": "dev",
            "jwt_secret": SecretStr("j" * 64),
            "jwt_secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:"
            "secret:never-read-AbCdEf",
        }
    )
    from dataclasses import replace

    root.use_container(replace(moto_container, settings=deployed))
    startup.prepare(WORKER_PERMISSIONS)

    lambda_runtime.restore()

    restored = root.current()
    assert restored is not None
    assert restored.settings.jwt_secret_value() == "j" * 64
    assert restored.settings.jwt_secret_arn == ""


def test_after_a_restore_random_is_reseeded_and_the_log_state_reset(
    lambda_runtime: FakeSnapshotRestore, moto_container: Any
) -> None:
    startup.prepare(WORKER_PERMISSIONS)
    random.seed(1234)
    replayed = random.random()
    random.seed(1234)
    with observability.invocation(None, "init-test-correlation"):
        pass
    observability.logger.append_keys(user_id="u-from-the-snapshot")

    lambda_runtime.restore()

    assert random.random() != replayed
    assert "user_id" not in observability.logger.get_current_keys()
    with observability.invocation(None, "after-restore") as _:
        assert observability.logger.get_current_keys()["cold_start"] is True


def test_a_failed_rebuild_after_restore_leaves_the_first_request_to_build(
    lambda_runtime: FakeSnapshotRestore,
    moto_container: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unavailable(settings: Any) -> Any:
        raise RuntimeError("no network yet")

    startup.prepare(WORKER_PERMISSIONS)
    assert root.current() is moto_container
    monkeypatch.setattr(root, "build_container", unavailable)

    lambda_runtime.restore()

    assert root.current() is None
