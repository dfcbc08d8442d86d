"""A local S3 endpoint (moto in server mode) for the lake, configured the way operators configure
the product: standard AWS_* environment variables, which delta-rs and polars read themselves.

The server runs in a process of its own: in a thread of the test process it needs the GIL to
answer, and some delta-rs reads hold the GIL while they wait for the answer (a deadlock that
ended in S3 timeouts after 180 s). One server serves every test of a test process; each test gets
a bucket of its own, emptied and removed afterwards so the server's memory stays flat.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from tests.support.local_servers import local_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-north-1"


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
def moto_server() -> Iterator[str]:
    """A moto S3 server on a free port (tests.support.s3_server); yields its URL."""
    with local_server(
        "moto",
        lambda port: [sys.executable, "-m", "tests.support.s3_server", "127.0.0.1", str(port)],
        cwd=PROJECT_ROOT,
    ) as url:
        yield url


@contextmanager
def s3_bucket(server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Endpoint]:
    """A new bucket on the server, and the environment pointing at it (inherited by the
    product's processes that tests start)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": server_url,
        "AWS_ALLOW_HTTP": "true",
        # Commits are conditional puts (If-None-Match): two writers cannot both take a version.
        "AWS_CONDITIONAL_PUT": "etag",
    }.items():
        monkeypatch.setenv(name, value)
    bucket = f"engage-{uuid.uuid4().hex[:8]}"
    client = boto3.client("s3", endpoint_url=server_url)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    endpoint = S3Endpoint(server_url, bucket)
    try:
        yield endpoint
    finally:
        keys = endpoint.keys()
        for start in range(0, len(keys), 1000):  # the most one request may delete
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            client.delete_objects(Bucket=bucket, Delete={"Objects": batch})
        client.delete_bucket(Bucket=bucket)
