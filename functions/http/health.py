"""GET /api/v1/ : the API is alive. Touches no AWS service."""

from fastapi import APIRouter
from pydantic import BaseModel

from functions.runtime.app import lambda_handler
from functions.runtime.problems import problems

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/api/v1/", response_model=Health, responses=problems(413))
def health() -> Health:
    return Health(status="ok")


handler = lambda_handler(router)
