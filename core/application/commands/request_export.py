from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import is_admin, require
from core.application.ports import IdGenerator
from core.application.tasks import EXPORT_USERS, TaskSubmitter
from core.domain.task import Task
from core.domain.user import User


def export_key(file_id: str) -> str:
    """Where an export of the users is stored, under a fresh unguessable name."""
    return f"users/{file_id}.csv"


@dataclass(frozen=True, slots=True)
class RequestExport:
    """An admin asks for a CSV file of every user. The file is made in the
    background: this records and queues the task and returns it, still ``queued``;
    its result will hold the download link. ``PermissionDenied`` for anyone but an
    admin, who owns the task."""

    submitter: TaskSubmitter
    ids: IdGenerator

    def execute(self, actor: User) -> Task:
        require(is_admin(actor))
        return self.submitter.submit(
            EXPORT_USERS, {"key": export_key(self.ids.new_id())}, owner_id=actor.id
        )
