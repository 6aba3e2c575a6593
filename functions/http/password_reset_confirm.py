"""Anyone with the `token` of a password reset email sets a new password; every
session of the account ends."""

from pydantic import Field

from functions.permissions import SESSIONS_READ, SESSIONS_WRITE, USERS_READ, USERS_WRITE
from functions.runtime.endpoint import ContainerDep, endpoint
from functions.runtime.schemas import Body


class PasswordResetConfirmIn(Body):
    token: str = Field(min_length=1, max_length=256)
    password: str = Field(max_length=1024)


# Use the token, read and save the user, find (sessions:read, an index) and delete
# their sessions.
@endpoint(
    "POST /api/v1/account/password-reset/confirm",
    (USERS_READ, USERS_WRITE, SESSIONS_READ, SESSIONS_WRITE),
    status=204,
    budget=5,
    sample={"body": {"token": "PASTE_THE_TOKEN", "password": "a-new-correct-horse"}},
    problems=(
        (400, "The token is unknown, used or expired: `invalid_token`"),
        (403, "The account is deactivated"),
        (409, "The account changed meanwhile; ask for a new link"),
        (422, "Invalid input, or a password the policy refuses (the token stays)"),
    ),
)
def password_reset_confirm(
    body: PasswordResetConfirmIn, container: ContainerDep
) -> None:
    container.reset_password().execute(body.token, body.password)
