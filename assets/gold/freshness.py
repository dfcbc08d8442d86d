"""Freshness checks on the gold tables: has each been rebuilt within the last day?

build_gold_sensor rebuilds gold whenever what it reads changes, and at least once per UTC day
(the day is part of its fingerprint: segment recency moves with time). A gold table not written
for more than GOLD_MAX_AGE is therefore a stopped daemon, a failing build or a sensor turned off,
and analysts would be reading yesterday's customers. The checks say so in the UI;
pipelines.sensors.gold_freshness_sensor evaluates them, by default.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import timedelta

import dagster as dg

GOLD_MAX_AGE = timedelta(hours=25)
"""A day between two daily builds, plus an hour for a slow build or a late sensor tick."""


def gold_freshness_checks(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetChecksDefinition]:
    """A `freshness_check` on each of `assets`: failed once it was not written for GOLD_MAX_AGE."""
    # Dagster marks this builder superseded by asset FreshnessPolicy objects, which are still a
    # preview in open source (an instance setting turns them on). Checks show in the UI like any
    # other asset check and need nothing of the instance.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        return list(
            dg.build_last_update_freshness_checks(assets=assets, lower_bound_delta=GOLD_MAX_AGE)
        )
