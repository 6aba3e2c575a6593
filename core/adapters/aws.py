"""botocore clients for the adapters that are not pynamodb's: made on first use.

A client is never built at import or when an adapter is constructed: the first call
that needs it pays for it, once per process. The endpoint comes from the
environment (``AWS_ENDPOINT_URL``), so the same adapter talks to moto locally and
to AWS in a Lambda.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from core.application.errors import DependencyUnavailable


class LazyClient:
    """One botocore client of ``service`` in ``region``, built by the first ``get``.

    Thread-safe: the local dev server runs requests on a thread pool.
    """

    def __init__(self, service: str, region: str, **config: Any) -> None:
        self._service = service
        self._region = region
        self._config = config
        self._client: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build()
        return self._client

    def _build(self) -> Any:
        import botocore.config
        import botocore.session

        with aws_errors():
            return botocore.session.get_session().create_client(
                self._service,
                region_name=self._region,
                config=botocore.config.Config(**self._config),
            )


@contextmanager
def aws_errors() -> Iterator[None]:
    """Any failure to reach or use an AWS service becomes ``DependencyUnavailable``
    (a 503 on a request, a retried attempt in a worker)."""
    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise DependencyUnavailable() from exc
