"""`engage-orders articles import FILE.xml`: land an Engage article file of any size in bronze.

The file is read twice, streaming, so memory stays bounded whatever its size: first the whole file
is checked (nothing lands if any article is bad), then it is landed in chunks of 1000 articles,
one job and one durable Delta commit per chunk, exactly as the intake lands a `POST /articles`.
The `process_registers` job then merges them into the register like any other registration.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from schemas.article_xml import ArticleXmlError, ParsedArticle, iter_articles, validate_articles
from schemas.articles import MAX_ARTICLES_PER_CALL, Article, article_submission_rows
from schemas.tables import ARTICLE_SUBMISSIONS
from storage.jobs import NewJob
from storage.lake import Lake
from storage.landing import land_batch
from storage.settings import EngageSettings

CHUNK_SIZE = MAX_ARTICLES_PER_CALL
"""Articles per job: the same unit as one `POST /articles`."""
CLI_KEY_ID = "cli"
"""Stands for the API key id in bronze and jobs: the import is run by an operator, not a key."""


@dataclass
class ImportSummary:
    articles: int = 0
    """Articles landed (of a SKU repeated within one chunk, only the later lands)."""
    job_ids: list[str] = field(default_factory=list)


def check_file(path: Path) -> int:
    """The number of articles in the file; ArticleXmlError naming every problem otherwise."""
    with path.open("rb") as source:
        return validate_articles(source)


def land_file(
    settings: EngageSettings, path: Path, on_chunk: Callable[[int], None]
) -> ImportSummary:
    """Land a checked file chunk by chunk; `on_chunk(n)` reports each landed chunk's articles.

    Raises ArticleXmlError if the file changed since it was checked and is no longer valid; the
    chunks landed before that stay landed (the summary so far is on the error).
    """
    lake = Lake(settings.resolved_lake_uri)
    lake.ensure(ARTICLE_SUBMISSIONS)
    summary = ImportSummary()
    with path.open("rb") as source:
        for chunk in _chunks(iter_articles(source), summary):
            job_id = str(uuid.uuid4())
            rows = article_submission_rows(chunk, job_id, CLI_KEY_ID, "xml")
            job = NewJob(job_id, "articles", None, "register", CLI_KEY_ID)
            land_batch(lake, settings.resolved_database_url, ARTICLE_SUBMISSIONS, rows, [job])
            summary.articles += len(rows)
            summary.job_ids.append(job_id)
            on_chunk(len(chunk))
    return summary


class FileChanged(ArticleXmlError):
    """The file no longer passes the check it passed a moment ago."""

    def __init__(self, error: ArticleXmlError, summary: ImportSummary) -> None:
        super().__init__(error.errors)
        self.summary = summary


def _chunks(parsed: Iterator[ParsedArticle], summary: ImportSummary) -> Iterator[list[Article]]:
    chunk: list[Article] = []
    try:
        for item in parsed:
            if item.errors:
                raise ArticleXmlError(list(item.errors))
            if item.article is None:
                continue
            chunk.append(item.article)
            if len(chunk) == CHUNK_SIZE:
                yield chunk
                chunk = []
    except ArticleXmlError as error:
        raise FileChanged(error, summary) from None
    if chunk:
        yield chunk
