"""Helpers for the email function tests: the task workers fed from the real queue
(moto's SQS), and the outbox the mailer writes every sent email to."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local.harness import FakeLambdaContext
from tests.conftest import aws_client


def sqs_record(message: dict[str, Any], queue_url: str) -> dict[str, Any]:
    """An SQS event record for a received ``message``, as Lambda hands it over."""
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": attributes.get("SenderId", "AROAEXAMPLE"),
            "ApproximateFirstReceiveTimestamp": attributes.get(
                "ApproximateFirstReceiveTimestamp", "0"
            ),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:"
        + queue_url.rsplit("/", 1)[-1],
        "awsRegion": "us-east-1",
    }


def family_of_record(record: dict[str, Any]) -> str:
    """The job family of the task a record's message names."""
    from core.application.tasks import family_of

    return family_of(json.loads(record["body"])["name"])


def deliver_by_family(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An SQS event's records, each family's to its worker's handler (as many
    calls as families); their failures, merged, as one handler's answer."""
    from functions.workers.tasks import handler_for

    by_family: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in event["Records"]:
        by_family[family_of_record(record)].append(record)
    failures: list[Any] = []
    for family, batch in by_family.items():
        answer = handler_for(family)({"Records": batch}, context)
        failures.extend(answer["batchItemFailures"])
    return {"batchItemFailures": failures}


@dataclass
class Worker:
    """Receives the queue's messages and hands each to its job family's worker
    handler (the tests queue every family on one queue), deleting those reported
    done, as the Lambda event source does."""

    queue_url: str

    def receive(self) -> list[dict[str, Any]]:
        response = aws_client("sqs").receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            WaitTimeSeconds=0,
            VisibilityTimeout=0,
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def deliver(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return deliver_by_family({"Records": records}, FakeLambdaContext())

    def drain(self) -> int:
        """Run every queued task; returns how many messages were handled."""
        handled = 0
        while messages := self.receive():
            records = [sqs_record(m, self.queue_url) for m in messages]
            answer = self.deliver(records)
            failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
            assert not failed, answer
            for message in messages:
                aws_client("sqs").delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
            handled += len(messages)
        return handled


@dataclass
class Mailbox:
    """The outbox folder the test's mailer writes each sent email to."""

    folder: Path

    def messages(self, to: str | None = None) -> list[EmailMessage]:
        found = []
        paths = sorted(self.folder.glob("*.eml")) if self.folder.exists() else []
        for path in paths:
            message = email.message_from_bytes(
                path.read_bytes(), policy=email.policy.default
            )
            assert isinstance(message, EmailMessage)
            if to is None or message["To"] == to:
                found.append(message)
        return found

    def token(self, to: str, template: str) -> str:
        """The ``token`` of the link in the last ``template`` email sent to ``to``."""
        matching = [m for m in self.messages(to) if m["X-Strata-Template"] == template]
        assert matching, f"no {template} email to {to}"
        text = matching[-1].get_body(preferencelist=("plain",))
        assert text is not None
        for word in text.get_content().split():
            if word.startswith("http"):
                (token,) = parse_qs(urlsplit(word).query)["token"]
                return token
        raise AssertionError(f"the {template} email to {to} carries no link")
