"""Email messages from Jinja2 templates: a subject, an HTML part and a text part.

Each message ``name`` is three files in ``templates/``: ``name.subject``,
``name.html`` and ``name.txt``. Only the HTML is autoescaped; every template is
rendered with strict undefined, so a missing value fails loudly instead of sending
an email with a hole in it. Files starting with ``_`` are shared pieces, not
messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from core.adapters.email.message import RenderedEmail

__all__ = ["RenderedEmail", "TemplateRenderer", "UnknownTemplate"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class UnknownTemplate(LookupError):
    """No message of that name."""


class TemplateRenderer:
    """Renders the messages in ``directory`` (this package's templates by default)."""

    def __init__(self, directory: Path = TEMPLATES) -> None:
        self._env = Environment(
            loader=FileSystemLoader(directory),
            autoescape=select_autoescape(
                enabled_extensions=("html",),
                disabled_extensions=("txt", "subject"),
                default_for_string=False,
                default=False,
            ),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def names(self) -> list[str]:
        """Every message name there is a subject template for."""
        return sorted(
            name.removesuffix(".subject")
            for name in self._env.list_templates(extensions=["subject"])
            if not name.startswith("_")
        )

    def render(self, name: str, context: Mapping[str, str]) -> RenderedEmail:
        if not _NAME.fullmatch(name):
            raise UnknownTemplate(f"no email template named {name!r}")
        values = dict(context)
        try:
            subject, html, text = (
                self._env.get_template(f"{name}.{part}").render(values)
                for part in ("subject", "html", "txt")
            )
        except TemplateNotFound:
            raise UnknownTemplate(f"no email template named {name!r}") from None
        # One line, whatever the values held: a subject is a mail header.
        return RenderedEmail(subject=" ".join(subject.split()), html=html, text=text)
