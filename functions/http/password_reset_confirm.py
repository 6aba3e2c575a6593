"""Anyone with the `token` of a password reset email sets a new password; every
session of the account ends."""

from functions.runtime import api

GRANTS = (*api.p.USERS, *api.p.SESSIONS, api.p.SESSIONS_BY_USER, api.p.PASSWORDS)
INACTIVE = ("The account is deactivated", "account_inactive")
REFUSED = "Invalid input, or a password the policy refuses (the token stays usable)"


class PasswordResetConfirmIn(api.Body):
    token: str = api.Field(min_length=1, max_length=256)
    password: str = api.Field(max_length=1024)


# Use the token, read and save the user, find (an index) and delete their sessions,
# and clear the username's failed log-ins (a reset frees a locked-out owner).
@api.endpoint("POST /api/v1/account/password-reset/confirm", GRANTS, budget=6)
@api.sample(body={"token": "PASTE_THE_TOKEN", "password": "a-new-correct-horse"})
@api.problems({400: api.BAD_LINK, 403: INACTIVE, 409: api.LINK_USER_CHANGED})
@api.problems({422: (REFUSED, "invalid_password")})
def password_reset_confirm(
    body: PasswordResetConfirmIn, container: api.Container
) -> None:
    container.reset_password().execute(body.token, body.password)
