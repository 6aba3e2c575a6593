"""A file of the docs pages (Swagger UI's and ReDoc's scripts and styles), served
by the API so the docs need no internet."""

from functions.runtime import api
from functions.runtime.docs import asset_response


# A coroutine: the file is read once per instance, so no worker thread (whose pool
# the first request of a cold start would import).
@api.endpoint("GET /docs/assets/{file}", budget=0, in_docs=False)
@api.sample(path={"file": "swagger-ui.css"})
@api.problems({404: ("No such file", "not_found")})
async def docs_assets(file: api.Segment, request: api.Request) -> api.Response:
    response = asset_response(file, request.headers.get("accept-encoding", ""))
    if response is None:
        raise api.HTTPException(404, "no such file")
    return response
