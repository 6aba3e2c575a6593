"""`{"status": "ok"}`: the API is alive. Touches no AWS service."""

from functions.runtime import api


class Health(api.BaseModel):
    status: str


@api.endpoint("GET /api/v1/", budget=0)
def health() -> Health:
    return Health(status="ok")
