"""POST /api/v1/users/export : an admin asks for a CSV file of every user, made in
the background; the answer names the task to poll. Behind a plan: only plans with
the ``users_export`` feature may (402 otherwise)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel

from core.application.commands.authenticate import Authenticated
from core.domain.billing import USERS_EXPORT
from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, require_feature
from functions.runtime.problems import problems

router = APIRouter(tags=["users"])


class TaskAccepted(BaseModel):
    task_id: str
    status: Literal["queued"]


@router.post(
    "/api/v1/users/export",
    status_code=202,
    response_model=TaskAccepted,
    responses={
        202: {
            "description": "Accepted: the export is queued; GET the task in "
            "Location until it has succeeded, then download its result's url",
            "headers": {
                "Location": {
                    "description": "The task: /api/v1/tasks/{task_id}",
                    "required": True,
                    "schema": {"type": "string"},
                }
            },
        },
        **problems(401, 402, (403, "Not an admin"), 413, 415, 503),
    },
)
def export_users(
    response: Response,
    container: ContainerDep,
    auth: Annotated[Authenticated, require_feature(USERS_EXPORT)],
) -> TaskAccepted:
    task = container.request_export().execute(auth.user)
    response.headers["Location"] = f"/api/v1/tasks/{task.id}"
    return TaskAccepted(task_id=task.id, status="queued")


handler = lambda_handler(router)
