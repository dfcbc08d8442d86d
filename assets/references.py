"""What orders and receipts refer to that the article and store registers do not know.

Missing register entries are warnings (ArticleMissing, StoreMissing), never failures: the order or
receipt is stored, and facts join the registers by SKU and store id when read, so an article that
arrives later is picked up without anything being reposted.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from schemas.problems import ProcessingWarning
from schemas.table_spec import TableSpec
from schemas.tables import ARTICLES, STORES
from storage.lake import Lake

MAX_LISTED = 10


class RegisterLookup:
    """Which of a batch's SKUs and store ids the registers know, read once per batch."""

    def __init__(self, lake: Lake, skus: Iterable[str], store_ids: Iterable[str]) -> None:
        self.known_skus = _present(lake, ARTICLES, "sku", skus)
        self.known_stores = _present(lake, STORES, "external_id", store_ids)

    def warnings(self, skus: Iterable[str], store_id: str | None) -> tuple[ProcessingWarning, ...]:
        found: list[ProcessingWarning] = []
        missing = [sku for sku in dict.fromkeys(skus) if sku not in self.known_skus]
        if missing:
            listed = ", ".join(missing[:MAX_LISTED]) + (
                ", ..." if len(missing) > MAX_LISTED else ""
            )
            found.append(ProcessingWarning("ArticleMissing", f"Article is missing (sku {listed})"))
        if store_id is not None and store_id not in self.known_stores:
            found.append(ProcessingWarning("StoreMissing", f"Store is missing ({store_id})"))
        return tuple(found)


def _present(lake: Lake, spec: TableSpec, column: str, values: Iterable[str]) -> frozenset[str]:
    """The subset of `values` found in `column` of a register table."""
    wanted = pl.Series(list(set(values)), dtype=pl.String)
    if wanted.is_empty():
        return frozenset()
    found = lake.scan(spec).filter(pl.col(column).is_in(wanted)).select(column).collect()
    return frozenset(found[column].to_list())
