"""A logged-in user with an unverified email gets a new verification email."""

from functions.runtime import api

UNLESS_VERIFIED = "Whether a new email was queued: false when the email is verified"


class ResendOut(api.BaseModel):
    queued: bool = api.Field(description=UNLESS_VERIFIED)


# Authenticate, count the email per address and per client (two conditional
# writes), record the task.
@api.endpoint(
    "POST /api/v1/account/verify-email/resend", api.p.QUEUE_MAIL, status=202, budget=4
)
@api.problems({429: ""})
def resend_verification(ctx: api.LoggedIn) -> ResendOut:
    queued = ctx.container.resend_verification().execute(ctx.user, ctx.client)
    return ResendOut(queued=queued)
