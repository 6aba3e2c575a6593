"""Anyone with the `token` of a verification email marks the address verified."""

from pydantic import Field

from functions.permissions import SESSIONS_WRITE, USERS
from functions.runtime.endpoint import ContainerDep, endpoint
from functions.runtime.problems import BAD_LINK, LINK_USER_CHANGED
from functions.runtime.schemas import Body


class VerifyEmailIn(Body):
    token: str = Field(min_length=1, max_length=256)


# Use the token (a conditional delete in the sessions table), read the user, save it.
@endpoint(
    "POST /api/v1/account/verify-email",
    (*USERS, SESSIONS_WRITE),
    budget=3,
    sample={"body": {"token": "PASTE_THE_TOKEN_FROM_THE_EMAIL_LINK"}},
    problems={400: BAD_LINK, 409: LINK_USER_CHANGED},
)
def verify_email(body: VerifyEmailIn, container: ContainerDep) -> None:
    container.verify_email().execute(body.token)
