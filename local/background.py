"""A daemon thread that runs a loop until asked to stop: the local stack's task
worker poller and its scheduler both are one."""

from __future__ import annotations

import threading


class Background:
    """Runs ``_run`` in a daemon thread named ``name`` from ``start`` until
    ``stop``; ``_run`` returns once ``_stop`` is set."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask the thread to stop and wait for it; True when it has."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        raise NotImplementedError
