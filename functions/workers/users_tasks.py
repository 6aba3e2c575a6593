"""The users family's task worker: it exports users (listing them, writing the file
to the export bucket) and purges the unverified ones (deleting them and their
sessions); no SES, no Stripe (its permissions: ``functions.catalog.WORKERS``)."""

from __future__ import annotations

from core.application.tasks import USERS
from functions.runtime.startup import prepare_worker
from functions.workers.tasks import handler_for

handler = handler_for(USERS)
prepare_worker(__name__, (("run_task", USERS),))
