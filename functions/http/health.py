"""`{"status": "ok"}`: the API is alive. Touches no AWS service."""

from pydantic import BaseModel

from functions.runtime.endpoint import endpoint


class Health(BaseModel):
    status: str


@endpoint("GET /api/v1/", budget=0)
def health() -> Health:
    return Health(status="ok")
