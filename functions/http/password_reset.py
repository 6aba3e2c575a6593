"""Anyone asks for a password reset link by email (`{email}`): the same answer
whether or not the email exists.

The answer is the same in status, body and the work behind it whether or not an
account has that email: it cannot be used to find out who is registered.
"""

from functions.runtime import api

GRANTS = (api.p.SESSIONS_WRITE, api.p.TASKS_WRITE, api.p.QUEUE_EMAIL)
ACCEPTED = (
    "If an active account has this email, a link to reset its password is on its way."
)


class PasswordResetIn(api.Body):
    email: str = api.Field(max_length=320)


class PasswordResetAccepted(api.BaseModel):
    detail: str


# The address's and the client's email counters (two conditional writes, sessions
# table) and the task record: the worker looks the address up.
@api.endpoint("POST /api/v1/account/password-reset", GRANTS, status=202, budget=3)
@api.sample(body={"email": "jane.doe@example.com"})
@api.problems({422: ("", "invalid_email"), 429: ""})
def password_reset(
    body: PasswordResetIn, container: api.Container, client: api.Client
) -> PasswordResetAccepted:
    container.request_password_reset().execute(body.email, client)
    return PasswordResetAccepted(detail=ACCEPTED)
