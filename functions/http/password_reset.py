"""Anyone asks for a password reset link by email (`{email}`): the same answer
whether or not the email exists.

The answer is the same in status, body and the work behind it whether or not an
account has that email: it cannot be used to find out who is registered.
"""

from pydantic import BaseModel, Field

from functions.permissions import QUEUE_EMAIL, SESSIONS_WRITE, TASKS_WRITE
from functions.runtime.endpoint import ClientAddress, ContainerDep, endpoint
from functions.runtime.problems import answer
from functions.runtime.schemas import Body

ACCEPTED = (
    "If an active account has this email, a link to reset its password is on its way."
)


class PasswordResetIn(Body):
    email: str = Field(max_length=320)


class PasswordResetAccepted(BaseModel):
    detail: str


# The address's and the client's email counters (two conditional writes, sessions
# table) and the task record: the worker looks the address up.
@endpoint(
    "POST /api/v1/account/password-reset",
    (SESSIONS_WRITE, TASKS_WRITE, QUEUE_EMAIL),
    status=202,
    budget=3,
    sample={"body": {"email": "jane.doe@example.com"}},
    problems={422: answer("", "invalid_email"), 429: ""},
)
def password_reset(
    body: PasswordResetIn, container: ContainerDep, client: ClientAddress
) -> PasswordResetAccepted:
    container.request_password_reset().execute(body.email, client)
    return PasswordResetAccepted(detail=ACCEPTED)
