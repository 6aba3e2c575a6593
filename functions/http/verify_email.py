"""Anyone with the `token` of a verification email marks the address verified."""

from functions.runtime import api


class VerifyEmailIn(api.Body):
    token: str = api.Field(min_length=1, max_length=256)


# Use the token (a conditional delete in the sessions table), read the user, save it.
@api.endpoint(
    "POST /api/v1/account/verify-email", (*api.p.USERS, api.p.SESSIONS_WRITE), budget=3
)
@api.sample(body={"token": "PASTE_THE_TOKEN_FROM_THE_EMAIL_LINK"})
@api.problems({400: api.BAD_LINK, 409: api.LINK_USER_CHANGED})
def verify_email(body: VerifyEmailIn, container: api.Container) -> None:
    container.verify_email().execute(body.token)
