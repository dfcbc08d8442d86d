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
from typing import Any

import boto3
import pytest

from schemas.tables import ALL_TABLES
from storage.lake import Lake
from tests.support.local_servers import local_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-north-1"


@dataclass(frozen=True)
class S3Endpoint:
    url: str
    bucket: str

    def lake_uri(self) -> str:
        return f"s3://{self.bucket}/lake"

    def object_keys(self, prefix: str = "") -> list[str]:
        client = s3_client(self.url)
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


def s3_environment(server_url: str) -> dict[str, str]:
    """The variables operators set for the product (and delta-rs and polars read)."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": server_url,
        "AWS_ALLOW_HTTP": "true",
        # Commits are conditional puts (If-None-Match): two writers cannot both take a version.
        "AWS_CONDITIONAL_PUT": "etag",
    }


@contextmanager
def s3_bucket(
    server_url: str, monkeypatch: pytest.MonkeyPatch, copy_of: S3Endpoint | None = None
) -> Iterator[S3Endpoint]:
    """A new bucket on the server, and the environment pointing at it (inherited by the
    product's processes that tests start); with `copy_of`, holding a copy of that bucket."""
    for name, value in s3_environment(server_url).items():
        monkeypatch.setenv(name, value)
    endpoint = _new_bucket(server_url)
    if copy_of is not None:
        client = s3_client(server_url)
        for key in copy_of.object_keys():
            source = {"Bucket": copy_of.bucket, "Key": key}
            client.copy_object(Bucket=endpoint.bucket, Key=key, CopySource=source)
    try:
        yield endpoint
    finally:
        _remove_bucket(endpoint)


@contextmanager
def s3_lake_with_every_table(server_url: str) -> Iterator[S3Endpoint]:
    """A bucket with every table of the catalogue, created empty by the product (`Lake.ensure`).

    Production creates its tables once, then opens them; a test's lake copied from this starts
    there too, instead of creating them again: 14 requests a table instead of 4, where the
    end-to-end suite on S3 spends its time in the S3 server answering requests."""
    endpoint = _new_bucket(server_url)
    options = {name.lower(): value for name, value in s3_environment(server_url).items()}
    lake = Lake(endpoint.lake_uri(), options)
    try:
        for spec in ALL_TABLES:
            lake.ensure(spec)
        yield endpoint
    finally:
        _remove_bucket(endpoint)


def s3_client(server_url: str) -> Any:
    """A boto3 client for the server, whatever the environment holds at the time."""
    environment = s3_environment(server_url)
    return boto3.client(
        "s3",
        endpoint_url=server_url,
        region_name=REGION,
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
    )


def _new_bucket(server_url: str) -> S3Endpoint:
    bucket = f"engage-{uuid.uuid4().hex[:8]}"
    s3_client(server_url).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return S3Endpoint(server_url, bucket)


def _remove_bucket(endpoint: S3Endpoint) -> None:
    """Empty and remove the bucket, so the server's memory stays flat."""
    client = s3_client(endpoint.url)
    keys = endpoint.object_keys()
    for start in range(0, len(keys), 1000):  # the most one request may delete
        batch = [{"Key": key} for key in keys[start : start + 1000]]
        client.delete_objects(Bucket=endpoint.bucket, Delete={"Objects": batch})
    client.delete_bucket(Bucket=endpoint.bucket)
