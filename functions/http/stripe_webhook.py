"""POST /api/v1/webhooks/stripe : Stripe's events. No session: the
``Stripe-Signature`` header, checked over the raw body exactly as it arrived
(Mangum has already undone API Gateway's base64 when the event says so)."""

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep
from functions.runtime.problems import problems

router = APIRouter(tags=["billing"])


class WebhookAck(BaseModel):
    received: bool
    # applied, duplicate (seen before: nothing done) or ignored (not an event
    # type Strata acts on, or for no user it knows).
    outcome: str


@router.post(
    "/api/v1/webhooks/stripe",
    response_model=WebhookAck,
    responses=problems(400, 413, 415, 503),
    # The body is read raw (the signature covers its exact bytes), so FastAPI
    # cannot infer it: say what Stripe sends.
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A Stripe event, exactly as Stripe signed it",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["id", "type", "created", "data"],
                        "properties": {
                            "id": {"type": "string"},
                            "type": {"type": "string"},
                            "created": {"type": "integer"},
                            "data": {"type": "object"},
                        },
                    }
                }
            },
        },
        "parameters": [
            {
                "name": "Stripe-Signature",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
            }
        ],
    },
)
async def stripe_webhook(request: Request, container: ContainerDep) -> WebhookAck:
    payload = await request.body()
    stripe_signature = request.headers.get("stripe-signature", "")
    # Blocking work (DynamoDB, maybe Stripe) goes to a worker thread, as FastAPI
    # does for plain routes, so the dev server's event loop keeps serving.
    outcome = await run_in_threadpool(
        container.handle_stripe_event().execute, payload, stripe_signature
    )
    return WebhookAck(received=True, outcome=outcome.value)


handler = lambda_handler(router)
