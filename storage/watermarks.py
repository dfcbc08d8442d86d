"""Per-pipeline watermarks: how far a bronze table has been fully processed."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.models import PipelineWatermark

NOTHING_PROCESSED = 0
"""Delta version 0 is the table's creation (no rows), so it is processed by definition."""


def get_watermark(session: Session, name: str) -> int:
    record = session.get(PipelineWatermark, name)
    return NOTHING_PROCESSED if record is None else record.version


def set_watermark(session: Session, name: str, version: int) -> None:
    record = session.get(PipelineWatermark, name)
    if record is None:
        session.add(PipelineWatermark(name=name, version=version))
    elif version > record.version:
        record.version = version
