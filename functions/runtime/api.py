"""What an endpoint module uses, behind one import: ``from functions.runtime import
api``, then ``@api.endpoint(...)``, ``api.p.MANAGE_USERS`` (the permissions, plain
data that ``functions.catalog`` reads), ``api.LoggedIn`` and the other request
dependencies, the shared bodies and problems.

Only what most endpoints share, and nothing that costs a cold import more than the
endpoint runtime already does: the docs pages and the plan file stay where they are.
"""

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import AfterValidator, BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from functions import permissions as p
from functions.runtime.auth import (
    Caller,
    ClientAddress,
    ContainerDep,
    LoggedIn,
    MaybeLoggedIn,
    PlanCatalogDep,
    clear_session_cookie,
    logged_in_with,
    set_session_cookie,
)
from functions.runtime.endpoint import (
    EmailSegment,
    PathSegment,
    counts,
    endpoint,
    openapi_extra,
    problems,
    responses,
    sample,
    who,
)
from functions.runtime.problems import (
    BAD_LINK,
    INVITATION_REFUSED,
    LINK_USER_CHANGED,
    NO_SUBSCRIPTION,
    NOT_A_MEMBER,
    ORG_ROLE_REFUSED,
    OVER_A_SUBORDINATE,
    OVER_AN_ADMIN,
    PAGING,
    TAKEN,
    USER_CHANGED,
    header,
    raw_body,
    session_cookie_header,
)
from functions.runtime.schemas import (
    AccountDetail,
    AuditEntryOut,
    AuditPageOut,
    BillingInterval,
    Body,
    ChangePreview,
    ChangeRequest,
    FromAttributes,
    InvoiceList,
    InvoiceOut,
    IsoTime,
    MemberOut,
    OrgDetail,
    OrgOut,
    OrgSubscriptionOut,
    PlanChoice,
    RedirectUrl,
    SubscriptionOut,
    UserDetail,
    UserOut,
)

# The request dependencies, by shorter names: the container, the client's address,
# a bounded path segment, the plans (``LoggedIn`` and ``MaybeLoggedIn`` bundle the
# first two with the session).
Container = ContainerDep
Client = ClientAddress
Segment = PathSegment
Plans = PlanCatalogDep

__all__ = [
    "BAD_LINK",
    "INVITATION_REFUSED",
    "LINK_USER_CHANGED",
    "NOT_A_MEMBER",
    "NO_SUBSCRIPTION",
    "ORG_ROLE_REFUSED",
    "OVER_AN_ADMIN",
    "OVER_A_SUBORDINATE",
    "PAGING",
    "TAKEN",
    "USER_CHANGED",
    "AccountDetail",
    "AfterValidator",
    "AuditEntryOut",
    "AuditPageOut",
    "BaseModel",
    "BillingInterval",
    "Body",
    "Caller",
    "ChangePreview",
    "ChangeRequest",
    "Client",
    "Container",
    "EmailSegment",
    "Field",
    "FromAttributes",
    "HTMLResponse",
    "HTTPException",
    "InvoiceList",
    "InvoiceOut",
    "IsoTime",
    "JSONResponse",
    "LoggedIn",
    "MaybeLoggedIn",
    "MemberOut",
    "OrgDetail",
    "OrgOut",
    "OrgSubscriptionOut",
    "PlanChoice",
    "Plans",
    "Query",
    "RedirectResponse",
    "RedirectUrl",
    "Request",
    "Response",
    "Segment",
    "SubscriptionOut",
    "UserDetail",
    "UserOut",
    "clear_session_cookie",
    "counts",
    "endpoint",
    "header",
    "logged_in_with",
    "openapi_extra",
    "p",
    "problems",
    "raw_body",
    "responses",
    "run_in_threadpool",
    "sample",
    "session_cookie_header",
    "set_session_cookie",
    "who",
]
