"""The store register (SPEC 2.4): one store as `POST /stores` carries it, keyed by `externalId`.

A registration replaces the whole store (upsert by `externalId`), like articles do by SKU.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import AfterValidator, Field, RootModel

from schemas.articles import RegisterKey, Text, canonical_json, last_per_key, plain_text
from schemas.common import EngageModel

MAX_STORES_PER_CALL = 1000

CountryCode = Annotated[
    str, Field(pattern=r"^[A-Za-z]{2}$", examples=["SE"]), AfterValidator(str.upper)
]
"""ISO 3166-1 alpha-2, stored upper-case (the contacts API accepts it the same way)."""
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["SEK"])]
"""ISO 4217 alphabetic code, upper-case as orders and receipts send it."""
ZipCode = Annotated[str, Field(max_length=32), AfterValidator(plain_text)]


class Store(EngageModel):
    """One store (or web shop) that orders and receipts name by `storeExternalId`."""

    external_id: RegisterKey
    name: Text | None = None
    type: Text | None = None
    street: Text | None = None
    zip_code: ZipCode | None = None
    city: Text | None = None
    region: Text | None = None
    country: Text | None = None
    country_code: CountryCode | None = None
    currency: CurrencyCode | None = None
    chain: Text | None = None


class StoreBatch(RootModel[list[Store]]):
    """Body of `POST /stores`: a JSON array of 1 to 1000 stores; of an `externalId` sent twice
    in one call the later one wins."""

    root: Annotated[list[Store], Field(min_length=1, max_length=MAX_STORES_PER_CALL)]


def store_submission_rows(
    stores: Iterable[Store], job_id: str, api_key_id: str
) -> list[dict[str, Any]]:
    """Bronze `store_submissions` rows of one job; of a store given twice the later one lands."""
    return [
        {
            "job_id": job_id,
            "api_key_id": api_key_id,
            "external_id": store.external_id,
            "store": canonical_json(store),
        }
        for store in last_per_key(stores, "external_id")
    ]
