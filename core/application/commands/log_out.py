from __future__ import annotations

from dataclasses import dataclass

from core.application.ports import SessionStore
from core.domain.session import Session


@dataclass(frozen=True, slots=True)
class LogOut:
    """Ends the current session; its token is useless from then on."""

    sessions: SessionStore

    def execute(self, session: Session) -> None:
        self.sessions.delete(session.id)
