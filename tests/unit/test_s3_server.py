"""The suite's S3 endpoint keeps S3's promise that Delta commits rely on: of several writers
putting one key with `If-None-Match: *` at once, exactly one succeeds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.exceptions import ClientError

from tests.support.object_storage import REGION, moto_server

KEYS = 40
WRITERS = 8


def test_of_concurrent_conditional_puts_of_one_key_exactly_one_succeeds() -> None:
    with moto_server() as url:
        s3 = boto3.client(
            "s3",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket="commits", CreateBucketConfiguration={"LocationConstraint": REGION})

        def put(key: str, writer: int) -> str:
            try:
                s3.put_object(Bucket="commits", Key=key, Body=f"{writer}".encode(), IfNoneMatch="*")
            except ClientError as error:
                return str(error.response["Error"]["Code"])
            return "stored"

        with ThreadPoolExecutor(WRITERS) as pool:
            for number in range(KEYS):
                key = f"_delta_log/{number:020d}.json"
                answers = list(pool.map(put, [key] * WRITERS, range(WRITERS)))
                winners = [writer for writer, answer in enumerate(answers) if answer == "stored"]
                assert len(winners) == 1, key
                assert answers.count("PreconditionFailed") == WRITERS - 1
                stored = s3.get_object(Bucket="commits", Key=key)["Body"].read()
                assert stored == f"{winners[0]}".encode()
