"""Dimensions of the star schema: contacts, articles, stores and the calendar, as polars frames.

Every dimension has an "unknown" member with key 0, so a fact whose SKU, store or contact is not
(yet) known still joins its dimensions with an inner join and nothing silently drops out of a
report. Rebuilt in full each time: the registers are small, and a rebuild is how an article
registered after its sales gets its attributes into the facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl

from assets.gold.frames import conform, unknown_member
from assets.gold.keys import date_key, date_of_key, surrogate_key
from schemas.gold_tables import DIM_ARTICLE, DIM_CONTACT, DIM_DATE, DIM_STORE, UNKNOWN_KEY

UNKNOWN = "Unknown"
DAYS_AROUND_TODAY = 365
"""dim_date reaches a year past today (promised delivery dates), and a year back without facts."""


def dim_contact_frame(contacts: pl.LazyFrame | pl.DataFrame) -> pl.LazyFrame:
    """Live contacts (`storage.contact_attributes.live_contact_attributes`) plus the unknown
    member. The input already holds no personal data; `conform` keeps it that way by selecting
    the catalogue's columns only."""
    members = contacts.lazy().with_columns(
        surrogate_key("contact_id").alias("contact_key"),
        date_key("created_at").alias("created_date_key"),
    )
    unknown = unknown_member(
        DIM_CONTACT,
        contact_key=UNKNOWN_KEY,
        contact_type=UNKNOWN,
        has_email=False,
        has_mobile_phone=False,
        created_date_key=UNKNOWN_KEY,
    )
    return pl.concat([unknown, conform(members, DIM_CONTACT)], how="vertical")


def dim_article_frame(articles: pl.LazyFrame) -> pl.LazyFrame:
    """The article register, every attribute, plus the unknown member (name Unknown)."""
    registered = articles.with_columns(surrogate_key("sku").alias("article_key"))
    unknown = unknown_member(DIM_ARTICLE, article_key=UNKNOWN_KEY, name=UNKNOWN)
    return pl.concat([unknown, conform(registered, DIM_ARTICLE)], how="vertical")


def dim_store_frame(stores: pl.LazyFrame) -> pl.LazyFrame:
    """The store register plus the unknown member (name Unknown)."""
    registered = stores.with_columns(surrogate_key("external_id").alias("store_key"))
    unknown = unknown_member(DIM_STORE, store_key=UNKNOWN_KEY, name=UNKNOWN)
    return pl.concat([unknown, conform(registered, DIM_STORE)], how="vertical")


def date_key_bounds(key_columns: Sequence[pl.LazyFrame]) -> tuple[date | None, date | None]:
    """The first and last day among the date keys of `key_columns` (frames of Int32 yyyymmdd
    columns, 0 = unknown, ignored); None when there are none."""
    if not key_columns:
        return None, None
    bounds = pl.concat(pl.collect_all([_key_bounds(frame) for frame in key_columns]))
    found = bounds.select(
        date_of_key(pl.col("first").min()).alias("first"),
        date_of_key(pl.col("last").max()).alias("last"),
    )
    return found["first"].item(), found["last"].item()


def _key_bounds(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The smallest and largest known date key over all columns of `frame`."""
    names = frame.collect_schema().names()
    known = [pl.col(name).filter(pl.col(name) != UNKNOWN_KEY) for name in names]
    return frame.select(
        pl.min_horizontal(key.min() for key in known).alias("first"),
        pl.max_horizontal(key.max() for key in known).alias("last"),
    )


def calendar_range(first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """Every fact day and a year ahead of today; a year on each side of today without facts."""
    ahead = today + timedelta(days=DAYS_AROUND_TODAY)
    if first is None or last is None:
        return today - timedelta(days=DAYS_AROUND_TODAY), ahead
    return min(first, today), max(last, ahead)


def dim_date_frame(first: date, last: date) -> pl.DataFrame:
    """One row per day first..last plus the unknown day 0."""
    days = pl.LazyFrame({"date": pl.date_range(first, last, "1d", eager=True)})
    calendar = days.with_columns(
        date_key("date").alias("date_key"),
        pl.col("date").dt.year().cast(pl.Int32).alias("year"),
        pl.col("date").dt.quarter().cast(pl.Int32).alias("quarter"),
        pl.col("date").dt.month().cast(pl.Int32).alias("month"),
        pl.col("date").dt.strftime("%B").alias("month_name"),
        pl.col("date").dt.iso_year().cast(pl.Int32).alias("iso_year"),
        pl.col("date").dt.week().cast(pl.Int32).alias("iso_week"),
        pl.col("date").dt.day().cast(pl.Int32).alias("day_of_month"),
        pl.col("date").dt.weekday().cast(pl.Int32).alias("day_of_week"),
        pl.col("date").dt.strftime("%A").alias("day_name"),
        (pl.col("date").dt.weekday() >= 6).alias("is_weekend"),
    )
    unknown = unknown_member(DIM_DATE, date_key=UNKNOWN_KEY, month_name=UNKNOWN, day_name=UNKNOWN)
    return pl.concat([unknown, conform(calendar, DIM_DATE)], how="vertical").collect()
