"""Anyone not logged in creates an account: `{id, username, email}`. A registered
email gets the same answer (and its owner an email), never a 409 that tells."""

from pydantic import Field

from functions.permissions import (
    PASSWORDS,
    QUEUE_EMAIL,
    SESSIONS_READ,
    SESSIONS_WRITE,
    TASKS_WRITE,
    USERS,
)
from functions.runtime.endpoint import (
    ClientAddress,
    ContainerDep,
    OptionalAuth,
    endpoint,
)
from functions.runtime.problems import answer
from functions.runtime.schemas import Body, UserOut

EMAIL = "jane.doe@example.com"
PASSWORD = "correct-horse-battery"  # noqa: S105 (a sample)


class SignUpIn(Body):
    username: str = Field(max_length=64)
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


# The client's email counter (sessions table), the account, and the record of the
# task that sends the welcome email.
@endpoint(
    "POST /api/v1/account/signup",
    (*USERS, SESSIONS_READ, SESSIONS_WRITE, TASKS_WRITE, QUEUE_EMAIL, PASSWORDS),
    status=201,
    counts={201: "SignUps"},
    budget=3,
    sample={"body": {"username": "jane.doe", "email": EMAIL, "password": PASSWORD}},
    problems={
        403: answer("Logged in already: log out first", "already_authenticated"),
        409: answer("The username is taken", "username_taken"),
        422: answer("", "invalid_username", "invalid_email", "invalid_password"),
        429: "",
    },
)
def sign_up(
    body: SignUpIn, container: ContainerDep, auth: OptionalAuth, client: ClientAddress
) -> UserOut:
    user = container.sign_up().execute(
        body.username, body.email, body.password, auth.user if auth else None, client
    )
    return UserOut(id=user.id, username=user.username.value, email=user.email.value)
