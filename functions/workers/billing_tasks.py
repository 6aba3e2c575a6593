"""The billing family's task worker: it reconciles subscriptions with Stripe, the
one worker holding the Stripe key (and the stripe SDK's layer); no SES, no export
bucket, no deleting users (its permissions: ``functions.catalog.WORKERS``)."""

from __future__ import annotations

from core.application.tasks import BILLING
from functions.runtime.startup import prepare_worker
from functions.workers.tasks import handler_for

handler = handler_for(BILLING)
prepare_worker(__name__, (("run_task", BILLING),))
