"""Anyone not logged in creates an account: `{id, username, email}`. A registered
email gets the same answer (and its owner an email), never a 409 that tells."""

from functions.runtime import api

GRANTS = (*api.p.USERS, *api.p.SESSIONS, api.p.TASKS_WRITE, api.p.QUEUE_EMAIL)
EMAIL = "jane.doe@example.com"
PASSWORD = "correct-horse-battery"  # noqa: S105 (a sample)
INVALID = ("invalid_username", "invalid_email", "invalid_password")


class SignUpIn(api.Body):
    username: str = api.Field(max_length=64)
    email: str = api.Field(max_length=320)
    password: str = api.Field(max_length=1024)


# The client's email counter (sessions table), the account, and the record of the
# task that sends the welcome email.
@api.endpoint(
    "POST /api/v1/account/signup", (*GRANTS, api.p.PASSWORDS), status=201, budget=3
)
@api.counts({201: "SignUps"})
@api.sample(body={"username": "jane.doe", "email": EMAIL, "password": PASSWORD})
@api.problems({403: ("Logged in already: log out first", "already_authenticated")})
@api.problems({409: ("The username is taken", "username_taken"), 422: ("", *INVALID)})
@api.problems({429: ""})
def sign_up(body: SignUpIn, ctx: api.MaybeLoggedIn) -> api.UserOut:
    asked = (body.username, body.email, body.password, ctx.user, ctx.client)
    user = ctx.container.sign_up().execute(*asked)
    return api.UserOut(id=user.id, username=user.username.value, email=user.email.value)
