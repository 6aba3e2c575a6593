"""Structured logs and business metrics, as an operator reads them in CloudWatch.

Logs: every record of the ``strata`` loggers (``logging.getLogger("strata...")``
anywhere in the code) is one JSON line, through Powertools' Logger, at the level
``POWERTOOLS_LOG_LEVEL`` sets per stage (INFO by default). Each line carries the
service, the stage, the Lambda function and its request id, and, inside an
invocation, API Gateway's request id, a correlation id (the client's well-formed
``X-Correlation-Id``, else API Gateway's request id; carried in the task message to
the worker's lines) and the user id once the session is known. Nothing here logs a
request's body, headers or cookies; the ``extra=`` fields the code passes are ids
and outcomes, never a password, token, secret or email body.

Metrics: counts in CloudWatch's embedded metric format through Powertools' Metrics
(namespace ``POWERTOOLS_METRICS_NAMESPACE``, dimensions service and stage), written
to stdout with the invocation's last line, so no API call and no extra latency.

Cost: importing Powertools' logging and metrics modules adds about 10 ms to a cold
start that already imports FastAPI (``python -X importtime``); ``make bench``
measures the functions with it.

Traces: on a stage with ``tracing`` (``STRATA_TRACING=true``, X-Ray active on the
function), when this module is imported (the function's init) Powertools' Tracer
patches botocore, so every DynamoDB, SQS, SES, S3 and Secrets Manager call is a
subsegment, and urllib3's ``PoolManager.urlopen`` is wrapped, so every Stripe call
(the Stripe adapter's client sits on a ``PoolManager``) is one too: the X-Ray SDK's
own ``httplib`` patch no longer sees urllib3 2, which does not go through
``http.client``'s request path. The invocation is a ``## <function>`` subsegment
annotated with the correlation id and the cold start. In Lambda the path
functions and dependencies run on the invocation's own thread
(``functions.runtime.startup.on_event_loop``), so their calls nest in that
subsegment; a call made in a worker thread (``run_in_threadpool``) hangs off the
invocation's segment (Lambda's) instead: X-Ray's Lambda context is per thread.
Elsewhere neither Tracer nor the X-Ray SDK is imported. The cost:
``python -m tools.tracing_cost``.
"""

from __future__ import annotations

import contextvars
import functools
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from functions.resources import METRICS_NAMESPACE

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "strata")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", METRICS_NAMESPACE)
STAGE = os.environ.get("STRATA_STAGE", "local")
CORRELATION_HEADER = "x-correlation-id"

# A client's correlation id is accepted only if it cannot forge a log line or blow
# up a log's size: a short token of safe characters.
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


class _Stdout:
    """``sys.stdout`` as it is at each write (Lambda reads stdout; a test swaps it)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


# The Powertools Logger named after the service *is* the ``strata`` logger, so the
# modules' ``logging.getLogger("strata.x")`` records reach its JSON handler.
logger = Logger(
    service=SERVICE,
    stream=_Stdout(),  # type: ignore[arg-type]
    utc=True,
    stage=STAGE,
)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
metrics.set_default_dimensions(stage=STAGE)

TRACING_ENV = "STRATA_TRACING"
# What the X-Ray SDK patches: botocore, every AWS call. (Stripe's calls: urllib3,
# below.)
TRACED_MODULES = ("botocore",)
_tracer: Any = None


def tracing_enabled() -> bool:
    return os.environ.get(TRACING_ENV, "").strip().lower() in ("1", "true", "yes")


def tracer() -> Any:
    """Powertools' Tracer, built once, when tracing is on; else None, and then
    neither it nor the X-Ray SDK is ever imported."""
    global _tracer
    if _tracer is None and tracing_enabled():
        from aws_lambda_powertools import Tracer

        _tracer = Tracer(service=SERVICE, patch_modules=TRACED_MODULES)
        _trace_pool_managers()
    return _tracer


def _trace_pool_managers() -> None:
    """Each request through a urllib3 ``PoolManager`` (the Stripe adapter's) a
    ``remote`` subsegment named by its host, with its method, its URL without the
    query, and its status. botocore's requests take its own pools, not this path,
    and are already the botocore patch's subsegments."""
    import urllib3
    from aws_xray_sdk.core import xray_recorder

    original = urllib3.PoolManager.urlopen
    if getattr(original, "_strata_traced", False):
        return

    @functools.wraps(original)
    def urlopen(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        with xray_recorder.in_subsegment(
            parts.hostname or "remote", namespace="remote"
        ) as subsegment:
            subsegment.put_http_meta("method", method)
            subsegment.put_http_meta(
                "url", f"{parts.scheme}://{parts.netloc}{parts.path}"
            )
            response = original(self, method, url, *args, **kwargs)
            subsegment.put_http_meta("status", response.status)
            return response

    urlopen._strata_traced = True  # type: ignore[attr-defined]
    urllib3.PoolManager.urlopen = urlopen  # type: ignore[method-assign]


# At import, which is the function's init: the patching is paid there, once.
tracer()


@contextmanager
def _traced(name: str | None, correlation: str) -> Iterator[None]:
    """The invocation as one subsegment (its AWS and Stripe calls nest in it), when
    tracing is on."""
    active = tracer()
    if active is None:
        yield
        return
    with active.provider.in_subsegment(f"## {name or 'invocation'}") as subsegment:
        subsegment.put_annotation("correlation_id", correlation)
        subsegment.put_annotation("cold_start", _cold)
        subsegment.put_annotation("service", SERVICE)
        yield


_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "strata_correlation_id", default=None
)
_cold = True


def mark_cold() -> None:
    """The next invocation is a cold start again (an instance restored from a
    SnapStart snapshot taken after init: ``functions.runtime.startup``)."""
    global _cold
    _cold = True


def correlation_id() -> str | None:
    """The correlation id of the invocation under way, if any (the task queue puts it
    in the messages it sends)."""
    return _correlation.get()


def identify(user_id: str) -> None:
    """Put the user's id on the invocation's remaining log lines. Outside an
    invocation (the local app serving many requests at once) it does nothing: the
    logger's keys are process-wide."""
    if _correlation.get() is not None:
        logger.append_keys(user_id=user_id)


def count(name: str, value: int = 1) -> None:
    """Add ``value`` to the count ``name``, written when the invocation ends."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_with(name: str, dimensions: Mapping[str, str]) -> None:
    """Count one ``name`` under ``dimensions`` of its own (a bounded set of values,
    such as a webhook's event type and outcome), written at once."""
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE, "stage": STAGE},
    ) as metric:
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=value)


def client_correlation(headers: Mapping[str, str] | None) -> str | None:
    """The client's ``X-Correlation-Id`` if well formed, else None."""
    for key, value in (headers or {}).items():
        if key.lower() == CORRELATION_HEADER and _WELL_FORMED.match(value or ""):
            return value
    return None


@contextmanager
def invocation(
    context: Any, correlation: str | None, **keys: str | None
) -> Iterator[str]:
    """The scope of one Lambda invocation: fresh log keys (the function, its request
    id, the correlation id, ``keys``), the metrics written at the end. Yields the
    correlation id (``correlation``, or the Lambda request id, or a time-based one
    when there is no context)."""
    global _cold
    request_id = getattr(context, "aws_request_id", None)
    chosen = correlation or request_id or f"local-{time.time_ns()}"
    function_name = getattr(context, "function_name", None) or os.environ.get(
        "AWS_LAMBDA_FUNCTION_NAME"
    )
    logger.clear_state()
    logger.append_keys(
        function_name=function_name,
        function_request_id=request_id,
        cold_start=_cold,
        correlation_id=chosen,
        **{key: value for key, value in keys.items() if value},
    )
    token = _correlation.set(chosen)
    try:
        with _traced(function_name, chosen):
            _cold = False
            yield chosen
    finally:
        _correlation.reset(token)
        if metrics.metric_set:
            metrics.flush_metrics()
        logger.clear_state()


class HttpHandler:
    """A Lambda entry point: ``inner`` (Mangum) inside an invocation scope: API
    Gateway's request id and the correlation id on every line, one ``request`` line
    per request, ``X-Correlation-Id`` on the answer, and the count ``counts`` names
    for the answer's status."""

    def __init__(
        self,
        inner: Callable[[dict[str, Any], Any], dict[str, Any]],
        counts: Mapping[int, str],
    ) -> None:
        self.inner = inner
        self.counts = dict(counts)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        request = event.get("requestContext") if isinstance(event, dict) else None
        api_request_id = request.get("requestId") if isinstance(request, dict) else None
        headers = event.get("headers") if isinstance(event, dict) else None
        correlation = client_correlation(headers) or api_request_id
        with invocation(context, correlation, api_request_id=api_request_id) as cid:
            started = time.perf_counter()
            response = self.inner(event, context)
            status = response.get("statusCode")
            # One line per request: what an operator filters and graphs by.
            logger.info(
                "request",
                extra={
                    "route": event.get("routeKey"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            if isinstance(status, int) and status in self.counts:
                count(self.counts[status])
            response_headers = response.setdefault("headers", {})
            if isinstance(response_headers, dict):
                response_headers["x-correlation-id"] = cid
            return response
