"""The email family's task worker: it sends the account and billing emails (SES),
reading users and issuing link tokens; it can neither delete users nor call Stripe
(its permissions: ``functions.catalog.WORKERS``)."""

from __future__ import annotations

from core.application.tasks import EMAIL
from functions.runtime.startup import prepare_worker
from functions.workers.tasks import handler_for

handler = handler_for(EMAIL)
prepare_worker(__name__, (("run_task", EMAIL),))
