"""The API's uvicorn server under ``strata dev``, with or without ``--reload``.

Its own module, importing uvicorn (a dev dependency) at the top, because with
``--reload`` uvicorn runs the server in a spawned child process and pickles it
there: the class must be importable by name, and everything it holds picklable.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.supervisors import ChangeReload

from local import console

# What --reload watches: the code a request runs. The worker and moto stay in the
# parent process, so a change to them needs a restart of `strata dev`.
RELOAD_DIRS = ("core", "functions", "local")
REPO = Path(__file__).resolve().parent.parent


class DevServer(uvicorn.Server):
    """uvicorn's server, which prints ``ready_line`` once its socket accepts
    requests (the line people and the e2e tests wait for) after ``on_ready``."""

    def __init__(
        self,
        config: uvicorn.Config,
        ready_line: str,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(config)
        self.ready_line = ready_line
        self.on_ready = on_ready

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        # Under --reload this runs in a fresh process: its logs need the console's
        # formatter too.
        console.use_readable_logs()
        super().run(sockets=sockets)

    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            if self.on_ready is not None:
                self.on_ready()
            print(self.ready_line, flush=True)


def serve(
    app_socket: socket.socket,
    app_factory: str,
    ready_line: str,
    on_ready: Callable[[], None],
    *,
    reload: bool = False,
) -> None:
    """Serve ``app_factory`` on ``app_socket`` until a signal; with ``reload``,
    in a child process that restarts whenever a watched ``.py`` file changes."""
    host, port = app_socket.getsockname()[:2]
    config = uvicorn.Config(
        app_factory,
        factory=True,
        host=host,
        port=port,
        log_level="info",
        reload=reload,
        reload_dirs=[str(REPO / d) for d in RELOAD_DIRS] if reload else None,
    )
    if not reload:
        # uvicorn re-raises the signal it stopped for once it has shut down.
        DevServer(config, ready_line, on_ready).run(sockets=[app_socket])
        return
    # The child cannot call back into this process: the record is written now,
    # while moto, the worker and the emulator (all in this process) already run.
    on_ready()
    ChangeReload(
        config, target=DevServer(config, ready_line).run, sockets=[app_socket]
    ).run()
