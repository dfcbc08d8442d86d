"""The article register (SPEC 2.4): `POST /articles` (JSON), `POST /articles/import` (Engage XML).

Like orders, a call is validated whole and landed in bronze before its 202; the `articles`
processing job merges the registrations into silver `articles`, upserting by SKU.
"""

from __future__ import annotations

import asyncio
import io
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from ingest_api.body import read_body, read_json
from ingest_api.deps import SessionDep, SettingsDep, committer_for, require_scope
from ingest_api.errors import ProblemError
from ingest_api.landing import GroupCommitter
from ingest_api.routes.registers import invalid_body, job_state, land_registrations, parse_batch
from schemas.article_xml import ArticleXmlError, read_articles
from schemas.articles import Article, ArticleBatch, article_submission_rows
from schemas.register_jobs import RegisterAccepted, RegisterJobState
from schemas.tables import ARTICLE_SUBMISSIONS
from storage.apikeys import Principal, Scope
from storage.jobs import get_job

router = APIRouter(prefix="/articles", tags=["articles"])

Writer = Annotated[Principal, Depends(require_scope(Scope.ARTICLES_WRITE))]
ArticleCommitterDep = Annotated[GroupCommitter, Depends(committer_for(ARTICLE_SUBMISSIONS))]

RESOURCE = "articles"
XML_MEDIA_TYPES = ("application/xml", "text/xml")
MAX_IMPORT_ARTICLES = 200_000
"""Articles per XML import call. One call lands in one commit, and a commit's rows are ordered by
a 20-bit position (`change_seq`), so a call must stay well below 2^20 rows; bigger files go
through `engage-orders articles import`, which lands them in chunks."""


@router.post(
    "",
    status_code=202,
    response_model=RegisterAccepted,
    summary="Register articles (JSON, up to 1000)",
)
async def register_articles(
    request: Request, settings: SettingsDep, principal: Writer, committer: ArticleCommitterDep
) -> JSONResponse:
    """Upsert articles by SKU. The body is a JSON array of 1 to 1000 articles (at most
    `ENGAGE_IMPORT_MAX_BODY_BYTES`, default 32 MiB); of a SKU sent twice in one call the later
    one wins (`count` is the number of distinct SKUs). Any invalid article rejects the whole call
    with 400, its errors located by JSON pointer (`/3/gtin`).

    Asynchronous: `202` means the call is durably stored; the articles are in the register once
    the job in `Location` has `Succeeded`."""
    # 1000 articles with descriptions outgrow the 1 MiB of an order: the import's limit applies.
    body = await read_json(request, settings.import_max_body_bytes)
    batch = parse_batch(ArticleBatch, body, "articles")
    return await _land(committer, principal, batch.root, "json")


@router.post(
    "/import",
    status_code=202,
    response_model=RegisterAccepted,
    summary="Import the Engage article XML",
    responses={415: {"description": "The body is not XML"}},
)
async def import_articles(
    request: Request, settings: SettingsDep, principal: Writer, committer: ArticleCommitterDep
) -> JSONResponse:
    """Upsert every `<article>` of an Engage article XML document (`Content-Type:
    application/xml` or `text/xml`, up to `ENGAGE_IMPORT_MAX_BODY_BYTES`, default 32 MiB).

    The whole document is checked before anything lands: malformed XML, a DTD, an unknown element
    or an invalid value answers 400 with the element's path (`/articles/article[2]/awardsbonus`).
    Of a SKU given twice the later one wins. Asynchronous like `POST /articles`: poll the job in
    `Location`. Files over the limit go through `engage-orders articles import`.
    """
    _require_xml(request)
    body = await read_body(request, settings.import_max_body_bytes)
    try:
        # Parsing megabytes of XML is CPU work: off the event loop, so other requests go on.
        articles = await asyncio.to_thread(read_articles, io.BytesIO(body), MAX_IMPORT_ARTICLES)
    except ArticleXmlError as error:
        raise invalid_body(error.errors, "articles in the XML document") from None
    return await _land(committer, principal, articles, "xml")


@router.get("/jobs/{jobId}", response_model=RegisterJobState, summary="Status of an article job")
def read_article_job(
    job_id: Annotated[str, Path(alias="jobId")],
    session: SessionDep,
    settings: SettingsDep,
    _writer: Writer,
) -> JSONResponse:
    """Queued until processed, then Succeeded (the articles are in the register); `count` is
    how many articles the call landed. 404 for an unknown job."""
    return job_state(
        get_job(session, job_id), RESOURCE, settings.resolved_lake_uri, ARTICLE_SUBMISSIONS
    )


async def _land(
    committer: GroupCommitter, principal: Principal, articles: list[Article], source: str
) -> JSONResponse:
    return await land_registrations(
        committer,
        principal,
        RESOURCE,
        lambda job_id: article_submission_rows(articles, job_id, principal.key_id, source),
    )


def _require_xml(request: Request) -> None:
    content_type = request.headers.get("content-type") or ""
    if content_type.split(";", 1)[0].strip().lower() not in XML_MEDIA_TYPES:
        raise ProblemError(
            415,
            "Unsupported Media Type",
            "Send the article XML with 'Content-Type: application/xml' (or text/xml).",
            code="UnsupportedMediaType",
        )
