"""A logged-in user with an unverified email gets a new verification email."""

from pydantic import BaseModel, Field

from functions.permissions import QUEUE_EMAIL_TASK
from functions.runtime.endpoint import (
    ClientAddress,
    ContainerDep,
    CurrentAuth,
    endpoint,
)

UNLESS_VERIFIED = "Whether a new email was queued: false when the email is verified"


class ResendOut(BaseModel):
    queued: bool = Field(description=UNLESS_VERIFIED)


# Authenticate, count the email per address and per client (two conditional
# writes), record the task.
@endpoint(
    "POST /api/v1/account/verify-email/resend",
    QUEUE_EMAIL_TASK,
    status=202,
    budget=4,
    problems={429: ""},
)
def resend_verification(
    container: ContainerDep, auth: CurrentAuth, client: ClientAddress
) -> ResendOut:
    return ResendOut(queued=container.resend_verification().execute(auth.user, client))
