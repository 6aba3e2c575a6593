"""A logged-in user whose verified email is the invited address accepts the
invitation (`{token}`, from the email's link) and joins with the invited role:
`{id, name, role}`."""

from functions.runtime import api

# A join on a per-seat plan queues the seat sync (tasks:write, queue:billing).
SEATS = (api.p.TASKS_WRITE, api.p.QUEUE_BILLING)
GRANTS = (*api.p.CHANGE_ORG, api.p.INVITATIONS_BY_TOKEN, *SEATS)
GONE = ("The invitation was used already, or has expired", "invitation_used")
REFUSED = (
    "The email address is not verified, or is not the invited one",
    "email_not_verified",
    "invitation_email_mismatch",
)
NO_SEAT = ("Every seat of the organization's plan is taken", "seats_exhausted")
MEMBER = ("Already a member of this organization", "already_member")


class AcceptInvitationIn(api.Body):
    token: str = api.Field(min_length=1, max_length=256)


# Authenticate, the invitation by its token (a Query of the token index, then the
# invitation and the organization by key), one transaction: the invitation marked
# accepted, the membership, the seat, the audit entry.
@api.endpoint("POST /api/v1/invitations/accept", GRANTS, budget=5)
@api.who("the invited person, logged in with the invited address verified")
@api.sample(body={"token": "Vb3kX9yq2Lr8Tn1Pc5Hd"})
@api.problems(
    {
        400: api.INVITATION_REFUSED,
        402: NO_SEAT,
        403: REFUSED,
        404: api.NOT_A_MEMBER,
        409: MEMBER,
        410: (*GONE, "invitation_expired"),
    }
)
def accept_invitation(body: AcceptInvitationIn, ctx: api.LoggedIn) -> api.OrgOut:
    joined = ctx.container.accept_invitation().execute(ctx.user, body.token)
    return api.OrgOut.of(joined)
