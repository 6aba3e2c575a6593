"""GET /api/v1/account/me : the logged-in user's own account, plan included."""

from fastapi import APIRouter

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth
from functions.runtime.problems import problems
from functions.runtime.schemas import AccountDetail, EntitlementsOut

router = APIRouter(tags=["account"])


@router.get(
    "/api/v1/account/me",
    response_model=AccountDetail,
    responses=problems(401, 413, 503),
)
def me(container: ContainerDep, auth: CurrentAuth) -> AccountDetail:
    account = container.get_account().execute(auth.user)
    return AccountDetail(
        id=account.id,
        username=account.username,
        email=account.email,
        role=account.role,
        is_active=account.is_active,
        created_at=account.created_at,
        email_verified=account.email_verified,
        plan=account.plan,
        subscription_status=account.subscription_status,
        current_period_end=account.current_period_end,
        cancel_at_period_end=account.cancel_at_period_end,
        entitlements=EntitlementsOut.of(account.entitlements),
    )


handler = lambda_handler(router)
