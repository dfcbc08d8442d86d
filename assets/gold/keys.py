"""Surrogate and date keys of the star schema, as polars expressions.

A surrogate key is a 64-bit hash of the natural key (SKU, store id, contact id, order id), so the
same natural key gets the same key in every rebuild without a key table to maintain, and a fact
table read during a rebuild still joins the dimensions. Delta has no unsigned integers, so the
hash is reinterpreted as a signed Int64. 0 is reserved for each dimension's "unknown" member.

The hash is polars' own (`Expr.hash`) with a fixed seed: stable between builds and processes on
one polars version, but polars does not promise it across versions. Keys are therefore only
meaningful inside the gold tables, which are always rebuilt together; join on the natural keys
when keeping anything outside them.
"""

from __future__ import annotations

import polars as pl

from schemas.gold_tables import UNKNOWN_KEY

SURROGATE_KEY_SEED = 0x5EED_60D1
"""Never change it: every surrogate key in the lake would change with it."""


def surrogate_key(natural_key: pl.Expr | str) -> pl.Expr:
    """The Int64 surrogate key of a natural key: null → 0 (unknown), never 0 for a real key."""
    natural = pl.col(natural_key) if isinstance(natural_key, str) else natural_key
    hashed = natural.hash(seed=SURROGATE_KEY_SEED).reinterpret(signed=True)
    return (
        pl.when(natural.is_null())
        .then(pl.lit(UNKNOWN_KEY, pl.Int64))
        .when(hashed == UNKNOWN_KEY)
        .then(pl.lit(1, pl.Int64))
        .otherwise(hashed)
    )


def date_key(moment: pl.Expr | str) -> pl.Expr:
    """yyyymmdd (Int32) of a Date, or of a UTC Datetime's UTC day; 0 when null."""
    value = pl.col(moment) if isinstance(moment, str) else moment
    # Month and day are Int8 in polars: widen before multiplying.
    year, month, day = (
        part.cast(pl.Int32) for part in (value.dt.year(), value.dt.month(), value.dt.day())
    )
    return (year * 10_000 + month * 100 + day).fill_null(UNKNOWN_KEY)


def date_of_key(key: pl.Expr | str) -> pl.Expr:
    """The Date of a yyyymmdd key (null for 0)."""
    value = pl.col(key) if isinstance(key, str) else key
    real = pl.when(value != UNKNOWN_KEY).then(value)
    return pl.date(real // 10_000, real // 100 % 100, real % 100)
