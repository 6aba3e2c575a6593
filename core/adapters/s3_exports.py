"""``ExportStore`` on S3: files streamed up in parts, read back through presigned
links."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from contextlib import suppress
from datetime import timedelta
from typing import Any

from core.adapters.aws import LazyClient, aws_errors

# S3's smallest part but the last: memory holds about one part at a time.
PART_SIZE = 5 * 1024 * 1024


class S3ExportStore:
    """Files in one bucket. ``write`` holds at most about one part (5 MiB) plus one
    chunk in memory, whatever the size of the file.

    A file smaller than one part is one ``PutObject`` (an empty file included: S3
    cannot complete a multipart upload without a part); a larger one is a multipart
    upload of 5 MiB parts and a smaller last one. If anything fails on the way (S3,
    or the code producing the chunks), the multipart upload is aborted, so no
    orphaned parts are left to be billed, and the error rises.
    """

    def __init__(self, bucket: str, region: str, part_size: int = PART_SIZE) -> None:
        if part_size < PART_SIZE:
            raise ValueError(f"S3 parts are at least {PART_SIZE} bytes")
        self._bucket = bucket
        self._part_size = part_size
        self._client = LazyClient(
            "s3",
            region,
            signature_version="s3v4",
            connect_timeout=5,
            read_timeout=60,
        )

    def write(self, key: str, chunks: Iterable[bytes], content_type: str) -> int:
        upload = _Upload(self._client, self._bucket, key, content_type)
        buffer = bytearray()
        total = 0
        try:
            for chunk in chunks:
                buffer += chunk
                total += len(chunk)
                if len(buffer) >= self._part_size:
                    upload.part(buffer)
                    buffer = bytearray()
            upload.finish(buffer)
        except BaseException:
            upload.abort()
            raise
        return total

    def link(self, key: str, expires_in: timedelta) -> str:
        """A URL that GETs the file until ``expires_in`` from now. Made locally, no
        call to S3; the URL is only as valid as the credentials that signed it
        (a Lambda role's session may end sooner)."""
        with aws_errors():
            url: str = self._client.get().generate_presigned_url(
                "get_object",
                Params={"Bucket": self._bucket, "Key": key},
                ExpiresIn=int(expires_in.total_seconds()),
            )
        return url


class _Upload:
    """One file's way up: a multipart upload started by its first full part, or a
    single PutObject if there never is one."""

    def __init__(self, client: LazyClient, bucket: str, key: str, kind: str) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._kind = kind
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    @property
    def _disposition(self) -> str:
        return f'attachment; filename="{posixpath.basename(self._key)}"'

    def part(self, data: bytes | bytearray) -> None:
        with aws_errors():
            s3 = self._client.get()
            if self._upload_id is None:
                started = s3.create_multipart_upload(
                    Bucket=self._bucket,
                    Key=self._key,
                    ContentType=self._kind,
                    ContentDisposition=self._disposition,
                )
                self._upload_id = str(started["UploadId"])
            number = len(self._parts) + 1
            sent = s3.upload_part(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                PartNumber=number,
                Body=data,
            )
            self._parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    def finish(self, rest: bytes | bytearray) -> None:
        if self._upload_id is None:
            with aws_errors():
                self._client.get().put_object(
                    Bucket=self._bucket,
                    Key=self._key,
                    Body=rest,
                    ContentType=self._kind,
                    ContentDisposition=self._disposition,
                )
            return
        if rest:
            self.part(rest)
        with aws_errors():
            self._client.get().complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )

    def abort(self) -> None:
        """Drop the parts sent so far; best effort, the original error matters more
        (a bucket lifecycle rule for incomplete uploads is the backstop)."""
        if self._upload_id is None:
            return
        upload_id, self._upload_id = self._upload_id, None
        with suppress(Exception):
            self._client.get().abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=upload_id
            )
