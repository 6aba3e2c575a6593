"""The local stack's SQS event source: what Lambda does for a queue worker in AWS.

``strata dev`` runs one per job family. A thread long-polls that family's task
queue (short waits, so that stopping is quick), hands each batch to its worker's
handler as an SQS Lambda event, and then deletes the messages the handler did not
list in ``batchItemFailures``, as an event source mapping with
``ReportBatchItemFailures`` does. A handler that raises leaves the whole
batch on the queue: the messages come back after the visibility timeout, and go to
the dead letter queue after ``maxReceiveCount`` receives, as in AWS. The poller
logs the failure and carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from local.background import Background

logger = logging.getLogger("strata.poller")

Handler = Callable[[dict[str, Any], Any], Any]
MAX_BATCH = 10  # what one ReceiveMessage may return
_SYSTEM_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
)


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    """SQS's ``StringValue``/``DataType`` become Lambda's ``stringValue``/..."""
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": value.get("BinaryValue"),
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": value.get("BinaryListValues", []),
        "dataType": value.get("DataType", "String"),
    }


def lambda_event(
    messages: Sequence[Mapping[str, Any]], queue_arn: str, region: str
) -> dict[str, Any]:
    """ReceiveMessage's messages as the event Lambda hands an SQS-triggered
    function."""
    records = []
    for message in messages:
        attributes = message.get("Attributes", {})
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message.get("Body", ""),
                "attributes": {
                    name: str(attributes[name])
                    for name in _SYSTEM_ATTRIBUTES
                    if name in attributes
                },
                "messageAttributes": {
                    name: _message_attribute(value)
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def failed_ids(response: Any) -> set[str]:
    """The message ids a handler reported as failed (``batchItemFailures``)."""
    if not isinstance(response, Mapping):
        return set()
    failures = response.get("batchItemFailures") or []
    return {
        str(item["itemIdentifier"])
        for item in failures
        if isinstance(item, Mapping) and "itemIdentifier" in item
    }


class QueuePoller(Background):
    """Polls ``queue_url`` in a daemon thread until ``stop``.

    ``load_handler`` is called on the first batch, not before, so that the worker
    module is imported only when there is work (and a broken import is one logged
    failure per batch, not a stack that cannot start). ``make_context`` builds the
    Lambda context object for each call.
    """

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        region: str,
        load_handler: Callable[[], Handler],
        make_context: Callable[[], Any],
        *,
        wait_seconds: int = 1,
        batch_size: int = MAX_BATCH,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._queue_arn = queue_arn
        self._region = region
        self._load_handler = load_handler
        self._make_context = make_context
        self._wait_seconds = wait_seconds
        self._batch_size = min(batch_size, MAX_BATCH)
        self._handler: Handler | None = None
        super().__init__("strata-sqs-poller")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                # ReceiveMessage itself failed (moto going away at shutdown, a
                # network blip): wait a moment rather than spin.
                if not self._stop.is_set():
                    logger.exception("polling the task queue failed")
                    self._stop.wait(1.0)

    def poll_once(self) -> int:
        """One ReceiveMessage and, if it returned messages, one handler call;
        returns how many messages were deleted."""
        received = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=self._wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = received.get("Messages", [])
        if not messages:
            return 0
        return self.deliver(messages)

    def deliver(self, messages: Sequence[Mapping[str, Any]]) -> int:
        event = lambda_event(messages, self._queue_arn, self._region)
        try:
            if self._handler is None:
                self._handler = self._load_handler()
            response = self._handler(event, self._make_context())
        except Exception:
            logger.exception(
                "the task worker failed on a batch of %d message(s); they stay on "
                "the queue and come back after its visibility timeout",
                len(messages),
            )
            return 0
        failed = failed_ids(response)
        done = [m for m in messages if m["MessageId"] not in failed]
        if not done:
            return 0
        result = self._sqs.delete_message_batch(
            QueueUrl=self._queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(done)
            ],
        )
        not_deleted = result.get("Failed", [])
        for failure in not_deleted:
            logger.warning("could not delete a handled message: %s", failure)
        return len(done) - len(not_deleted)
