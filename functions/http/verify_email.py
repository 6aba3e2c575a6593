"""Anyone with the `token` of a verification email marks the address verified."""

from pydantic import Field

from functions.permissions import SESSIONS_WRITE, USERS_READ, USERS_WRITE
from functions.runtime.endpoint import ContainerDep, endpoint
from functions.runtime.schemas import Body


class VerifyEmailIn(Body):
    token: str = Field(min_length=1, max_length=256)


# Use the token (a conditional delete in the sessions table), read the user, save it.
@endpoint(
    "POST /api/v1/account/verify-email",
    (USERS_READ, USERS_WRITE, SESSIONS_WRITE),
    status=204,
    budget=3,
    sample={"body": {"token": "PASTE_THE_TOKEN_FROM_THE_EMAIL_LINK"}},
    problems=(
        (400, "The token is unknown, used or expired: `invalid_token`"),
        (409, "The account changed meanwhile; ask for a new link"),
    ),
)
def verify_email(body: VerifyEmailIn, container: ContainerDep) -> None:
    container.verify_email().execute(body.token)
