"""Anyone asks for a password reset link by email (`{email}`): the same answer
whether or not the email exists.

The answer is the same in status, body and the work behind it whether or not an
account has that email: it cannot be used to find out who is registered.
"""

from pydantic import BaseModel, Field

from functions.permissions import QUEUE_SEND, TASKS_WRITE
from functions.runtime.endpoint import ContainerDep, endpoint
from functions.runtime.schemas import Body

ACCEPTED = (
    "If an active account has this email, a link to reset its password is on its way."
)


class PasswordResetIn(Body):
    email: str = Field(max_length=320)


class PasswordResetAccepted(BaseModel):
    detail: str


# Only the task record: the worker looks the address up.
@endpoint(
    "POST /api/v1/account/password-reset",
    (TASKS_WRITE, QUEUE_SEND),
    status=202,
    budget=1,
    sample={"body": {"email": "jane.doe@example.com"}},
)
def password_reset(
    body: PasswordResetIn, container: ContainerDep
) -> PasswordResetAccepted:
    container.request_password_reset().execute(body.email)
    return PasswordResetAccepted(detail=ACCEPTED)
