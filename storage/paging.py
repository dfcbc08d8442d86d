"""One page of a query's rows, with the total the paged API responses report."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

RowT = TypeVar("RowT")


def fetch_page(
    session: Session, query: Select[tuple[RowT]], order_by: tuple[Any, ...], offset: int, count: int
) -> tuple[list[RowT], int]:
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(*order_by).offset(offset).limit(count))
    return list(rows), total
