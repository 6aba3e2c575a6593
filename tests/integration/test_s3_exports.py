"""``S3ExportStore`` against moto: files streamed up in parts, fetched back over HTTP
through the presigned link."""

from __future__ import annotations

import hashlib
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from core.adapters.s3_exports import PART_SIZE, S3ExportStore
from core.application.errors import DependencyUnavailable
from tests.conftest import TaskResources, aws_client

MiB = 1024 * 1024


@pytest.fixture
def store(task_resources: TaskResources) -> S3ExportStore:
    return S3ExportStore(task_resources.bucket, "us-east-1")


@pytest.fixture
def s3_calls(store: S3ExportStore) -> Iterator[Counter[str]]:
    """The S3 operations the store's own client makes."""
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    client = store._client.get()
    client.meta.events.register("before-call.s3", count)
    yield calls
    client.meta.events.unregister("before-call.s3", count)


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """``total`` bytes of a repeating, position-dependent pattern."""
    sent = 0
    n = 0
    while sent < total:
        piece = hashlib.sha256(str(n).encode()).hexdigest().encode() * (size // 64)
        piece = piece[: min(size, total - sent)]
        sent += len(piece)
        n += 1
        yield piece


def fetch(url: str) -> tuple[bytes, dict[str, str]]:
    # Loopback moto only: the link points at the test's own server.
    with urllib.request.urlopen(url) as response:  # noqa: S310
        return response.read(), {k.lower(): v for k, v in response.headers.items()}


def test_a_file_over_5_mib_goes_up_in_parts_and_the_link_serves_it_whole(
    store: S3ExportStore, s3_calls: Counter[str]
) -> None:
    size = 2 * PART_SIZE + 123_456
    expected = b"".join(chunks(size))

    written = store.write("users/big.csv", chunks(size), "text/csv; charset=utf-8")

    assert written == size
    assert s3_calls["CreateMultipartUpload"] == 1
    assert s3_calls["UploadPart"] == 3
    assert s3_calls["CompleteMultipartUpload"] == 1
    assert s3_calls["PutObject"] == 0
    data, headers = fetch(store.link("users/big.csv", timedelta(minutes=10)))
    assert len(data) == size
    assert data == expected
    assert headers["content-type"] == "text/csv; charset=utf-8"
    assert headers["content-disposition"] == 'attachment; filename="big.csv"'


def test_a_file_smaller_than_a_part_is_one_put(
    store: S3ExportStore, s3_calls: Counter[str]
) -> None:
    written = store.write("users/small.csv", [b"id,name\r\n", b"1,a\r\n"], "text/csv")

    assert written == 14
    assert dict(s3_calls) == {"PutObject": 1}
    data, _ = fetch(store.link("users/small.csv", timedelta(minutes=10)))
    assert data == b"id,name\r\n1,a\r\n"


def test_an_empty_file_is_stored_too(store: S3ExportStore) -> None:
    assert store.write("users/empty.csv", iter([]), "text/csv") == 0

    data, _ = fetch(store.link("users/empty.csv", timedelta(minutes=10)))
    assert data == b""


def test_the_link_lives_for_the_time_asked(store: S3ExportStore) -> None:
    store.write("users/a.csv", [b"x"], "text/csv")

    url = store.link("users/a.csv", timedelta(hours=2))

    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["7200"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]


class Broken(Exception):
    pass


def test_a_failure_mid_way_aborts_the_upload_and_leaves_no_file(
    store: S3ExportStore, task_resources: TaskResources, s3_calls: Counter[str]
) -> None:
    def failing() -> Iterator[bytes]:
        yield from chunks(PART_SIZE + 1)
        raise Broken("the source gave out")

    with pytest.raises(Broken):
        store.write("users/broken.csv", failing(), "text/csv")

    assert s3_calls["UploadPart"] == 1
    assert s3_calls["AbortMultipartUpload"] == 1
    s3 = aws_client("s3")
    uploads = s3.list_multipart_uploads(Bucket=task_resources.bucket)
    assert uploads.get("Uploads", []) == []
    listed = s3.list_objects_v2(Bucket=task_resources.bucket)
    assert listed.get("KeyCount", 0) == 0


def test_a_missing_bucket_is_a_dependency_error(task_resources: TaskResources) -> None:
    store = S3ExportStore("strata-no-such-bucket", "us-east-1")

    with pytest.raises(DependencyUnavailable):
        store.write("users/x.csv", [b"x"], "text/csv")
    with pytest.raises(DependencyUnavailable):
        store.write("users/x.csv", chunks(PART_SIZE + 1), "text/csv")


def test_parts_smaller_than_s3_allows_are_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        S3ExportStore("b", "us-east-1", part_size=MiB)
