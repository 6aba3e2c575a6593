"""GET /api/v1/account/me : the logged-in user's own account."""

from fastapi import APIRouter

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth
from functions.runtime.problems import problems
from functions.runtime.schemas import UserDetail

router = APIRouter(tags=["account"])


@router.get(
    "/api/v1/account/me",
    response_model=UserDetail,
    responses=problems(401, 413, 503),
)
def me(container: ContainerDep, auth: CurrentAuth) -> UserDetail:
    account = container.get_account().execute(auth.user)
    return UserDetail(
        id=account.id,
        username=account.username,
        email=account.email,
        role=account.role,
        is_active=account.is_active,
        created_at=account.created_at,
        email_verified=account.email_verified,
    )


handler = lambda_handler(router)
