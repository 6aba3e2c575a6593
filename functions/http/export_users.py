"""An admin on a plan with `users_export` (Pro, Business) asks for a CSV file of
every user, written to S3 in the background: `{task_id}`, the task to poll; 402
`plan_required` on Free."""

from typing import Annotated, Literal

from fastapi import Response
from pydantic import BaseModel

from core.application.commands.authenticate import Authenticated
from core.domain.billing import USERS_EXPORT
from functions.permissions import QUEUE_USERS_TASK
from functions.runtime.auth import require_feature
from functions.runtime.endpoint import ContainerDep, endpoint


class TaskAccepted(BaseModel):
    task_id: str
    status: Literal["queued"]


LOCATION = {
    "description": "The task: /api/v1/tasks/{task_id}",
    "required": True,
    "schema": {"type": "string"},
}
ACCEPTED = "Accepted: GET the task in Location until it has succeeded, then its url"


# Authenticate, record the task (the queue message is not a DynamoDB call).
@endpoint(
    "POST /api/v1/users/export",
    QUEUE_USERS_TASK,
    who="an admin on Pro or Business",
    status=202,
    budget=2,
    problems={402: "", 403: "Not an admin"},
    responses={202: {"description": ACCEPTED, "headers": {"Location": LOCATION}}},
)
def export_users(
    response: Response,
    container: ContainerDep,
    auth: Annotated[Authenticated, require_feature(USERS_EXPORT)],
) -> TaskAccepted:
    task = container.request_export().execute(auth.user)
    response.headers["Location"] = f"/api/v1/tasks/{task.id}"
    return TaskAccepted(task_id=task.id, status="queued")
