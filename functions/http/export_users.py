"""POST /api/v1/users/export : an admin asks for a CSV file of every user, made in
the background; the answer names the task to poll."""

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth
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
        **problems(401, (403, "Not an admin"), 413, 415, 503),
    },
)
def export_users(
    response: Response, container: ContainerDep, auth: CurrentAuth
) -> TaskAccepted:
    task = container.request_export().execute(auth.user)
    response.headers["Location"] = f"/api/v1/tasks/{task.id}"
    return TaskAccepted(task_id=task.id, status="queued")


handler = lambda_handler(router)
