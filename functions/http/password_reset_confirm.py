"""Anyone with the `token` of a password reset email sets a new password; every
session of the account ends."""

from pydantic import Field

from functions.permissions import (
    PASSWORDS,
    SESSIONS_BY_USER,
    SESSIONS_READ,
    SESSIONS_WRITE,
    USERS,
)
from functions.runtime.endpoint import ContainerDep, endpoint
from functions.runtime.problems import BAD_LINK, LINK_USER_CHANGED, answer
from functions.runtime.schemas import Body

REFUSED = "Invalid input, or a password the policy refuses (the token stays usable)"


class PasswordResetConfirmIn(Body):
    token: str = Field(min_length=1, max_length=256)
    password: str = Field(max_length=1024)


# Use the token, read and save the user, find (an index) and delete their sessions,
# and clear the username's failed log-ins (a reset frees a locked-out owner).
@endpoint(
    "POST /api/v1/account/password-reset/confirm",
    (*USERS, SESSIONS_READ, SESSIONS_WRITE, SESSIONS_BY_USER, PASSWORDS),
    budget=6,
    sample={"body": {"token": "PASTE_THE_TOKEN", "password": "a-new-correct-horse"}},
    problems={
        400: BAD_LINK,
        403: answer("The account is deactivated", "account_inactive"),
        409: LINK_USER_CHANGED,
        422: answer(REFUSED, "invalid_password"),
    },
)
def password_reset_confirm(
    body: PasswordResetConfirmIn, container: ContainerDep
) -> None:
    container.reset_password().execute(body.token, body.password)
