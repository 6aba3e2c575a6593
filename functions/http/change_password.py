"""Set one's own password, or a subordinate's as their admin."""

from functions.runtime import api

GRANTS = (*api.p.AUDITED, api.p.PASSWORDS, api.p.SESSIONS_BY_USER)
FORBIDDEN = "Not allowed to set this user's password, or the current one is wrong"
WRONG = ("forbidden", "wrong_password")
INVALID = ("invalid_password", "current_password_required")
LOCKED = "Too many wrong current passwords; try again later"


class ChangePasswordIn(api.Body):
    password: str = api.Field(max_length=1024)
    current_password: str | None = api.Field(default=None, max_length=1024)


# Authenticate; the current password's attempt counted before the check and the
# count cleared after (it is a log-in's guess); save the user, move this session,
# find and delete the others.
@api.endpoint("PATCH /api/v1/users/{username}/password", GRANTS, budget=8)
@api.who("the user, or an admin over them")
@api.sample(body={"password": "staple-battery-horse", "current_password": "old"})
@api.problems({403: (FORBIDDEN, *WRONG), 404: "", 409: api.USER_CHANGED, 429: LOCKED})
@api.problems({422: ("", *INVALID)})
def change_password(
    username: api.Segment, body: ChangePasswordIn, ctx: api.LoggedIn
) -> None:
    wanted = (username, body.password, body.current_password)
    ctx.container.change_password().execute(ctx.user, ctx.session, *wanted)
