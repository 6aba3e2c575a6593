"""``Mailer`` on Amazon SES (v2), through a botocore client.

The client is made on the first send, not at construction, so a function that
never sends pays nothing for it (``core.adapters.aws.LazyClient``). Its endpoint
comes from the environment (``AWS_ENDPOINT_URL``), so the same code sends to moto
locally and to SES in AWS.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from core.adapters.aws import LazyClient, aws_errors
from core.application.errors import PermanentFailure

if TYPE_CHECKING:
    from core.adapters.email.outbox import Outbox
    from core.adapters.email.render import TemplateRenderer

CHARSET = "UTF-8"

# SES's answers that no retry changes: the message or the address refused.
PERMANENT_ERRORS = frozenset(
    {
        "MessageRejected",
        "InvalidParameterValue",
        "BadRequestException",
        "AccountSuppressedException",
        "SuppressedDestinationException",
    }
)


def is_permanent(error: ClientError) -> bool:
    code = str(error.response.get("Error", {}).get("Code", ""))
    return code in PERMANENT_ERRORS or "suppress" in code.lower()


class SesMailer:
    """Sends each message as SES "Simple" content: subject, HTML and text parts.

    With an ``outbox`` (the local stack), every message sent is also written there.
    """

    def __init__(
        self,
        sender: str,
        configuration_set: str = "",
        outbox: Outbox | None = None,
        *,
        region: str,
        renderer: TemplateRenderer | None = None,
    ) -> None:
        self.sender = sender
        self.configuration_set = configuration_set
        self.outbox = outbox
        self._renderer = renderer
        self._client = LazyClient("sesv2", region, connect_timeout=5, read_timeout=10)

    @property
    def renderer(self) -> TemplateRenderer:
        # Jinja2 is imported by the first send: only the worker ever sends.
        if self._renderer is None:
            from core.adapters.email.render import TemplateRenderer

            self._renderer = TemplateRenderer()
        return self._renderer

    def send(self, to: str, template: str, context: Mapping[str, str]) -> None:
        email = self.renderer.render(template, context)
        request: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": [to]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": email.subject, "Charset": CHARSET},
                    "Body": {
                        "Html": {"Data": email.html, "Charset": CHARSET},
                        "Text": {"Data": email.text, "Charset": CHARSET},
                    },
                }
            },
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        with aws_errors():
            try:
                self._client.get().send_email(**request)
            except ClientError as exc:
                if is_permanent(exc):
                    code = exc.response.get("Error", {}).get("Code", "")
                    raise PermanentFailure(
                        f"the email service refused the message ({code})"
                    ) from exc
                raise
        if self.outbox is not None:
            self.outbox.write(self.sender, to, template, email)
