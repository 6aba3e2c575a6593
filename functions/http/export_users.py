"""An admin on a plan with `users_export` (Pro, Business) asks for a CSV file of
every user, written to S3 in the background: `{task_id}`, the task to poll; 402
`plan_required` on Free."""

from typing import Annotated, Literal

from core.domain.billing import USERS_EXPORT
from functions.runtime import api

LOCATION = {"Location": api.header("The task: /api/v1/tasks/{task_id}")}
ACCEPTED = "Accepted: GET the task in Location until it has succeeded, then its url"


class TaskAccepted(api.BaseModel):
    task_id: str
    status: Literal["queued"]


# Authenticate, record the task (the queue message is not a DynamoDB call).
@api.endpoint("POST /api/v1/users/export", api.p.QUEUE_USERS_TASK, status=202, budget=2)
@api.who("an admin on Pro or Business")
@api.responses({202: {"description": ACCEPTED, "headers": LOCATION}})
@api.problems({402: "", 403: "Not an admin"})
def export_users(
    response: api.Response, ctx: Annotated[api.Caller, api.logged_in_with(USERS_EXPORT)]
) -> TaskAccepted:
    task = ctx.container.request_export().execute(ctx.user)
    response.headers["Location"] = f"/api/v1/tasks/{task.id}"
    return TaskAccepted(task_id=task.id, status="queued")
