"""A local S3 endpoint (moto in server mode) for the lake, configured the way operators configure
the product: standard AWS_* environment variables, which delta-rs and polars read themselves.

The server runs in a process of its own: in a thread of the test process it needs the GIL to
answer, and some delta-rs reads hold the GIL while they wait for the answer (a deadlock that
ended in S3 timeouts after 180 s).
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
import pytest

from pipelines.supervisor import port_accepts
from tests.support.server import free_port

START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class S3Endpoint:
    url: str
    bucket: str

    def lake_uri(self) -> str:
        return f"s3://{self.bucket}/lake"

    def keys(self, prefix: str = "") -> list[str]:
        client = boto3.client("s3", endpoint_url=self.url)
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]


@contextmanager
def running_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Endpoint]:
    """A moto S3 server on a free port with one bucket, and the environment pointing at it
    (inherited by the product's processes that tests start)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not port_accepts("127.0.0.1", port):
        assert server.poll() is None, "moto exited at start"
        assert time.monotonic() < deadline, "moto did not start"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "eu-north-1",
        "AWS_ENDPOINT_URL": url,
        "AWS_ALLOW_HTTP": "true",
        # Commits are conditional puts (If-None-Match): two writers cannot both take a version.
        "AWS_CONDITIONAL_PUT": "etag",
    }.items():
        monkeypatch.setenv(name, value)
    bucket = f"engage-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=url).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"}
    )
    try:
        yield S3Endpoint(url, bucket)
    finally:
        server.terminate()
        server.wait(timeout=30)
