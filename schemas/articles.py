"""The article register (SPEC 2.4): one article as `POST /articles` and the XML import carry it.

Both doors end in the same strict `Article` model, so an article imported from XML and one posted
as JSON are validated, landed and merged identically. Every field but `sku` is optional: a
registration replaces the whole article (upsert by SKU), so a field left out becomes empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import AfterValidator, Field, RootModel
from pydantic_core import PydanticCustomError

from schemas.common import EngageModel, OffsetDatetime

MAX_ARTICLES_PER_CALL = 1000
"""`POST /articles` takes at most this many articles (SPEC 2.4); larger sets go through the XML
import or the `engage-orders articles import` command."""


def plain_text(value: str) -> str:
    """Refuse control characters other than tab and line breaks: they are never intended in a
    register and break downstream consumers (CSV exports, PostgreSQL cannot hold NUL)."""
    if any((ord(char) < 0x20 and char not in "\t\r\n") or ord(char) == 0x7F for char in value):
        raise PydanticCustomError("InvalidCharacter", "Control characters are not allowed.")
    return value


def register_key(value: str) -> str:
    """A register key (SKU, store id) without surrounding blanks: keys are compared exactly, and
    an order line's `sku` must find the article whatever padding an export added."""
    value = plain_text(value).strip()
    if not value:
        raise PydanticCustomError("TooShort", "A key must not be empty.")
    return value


def _gtin(value: str) -> str:
    if not (value.isascii() and value.isdigit() and len(value) in (8, 12, 13, 14)):
        raise PydanticCustomError("InvalidGtin", "A GTIN is 8, 12, 13 or 14 digits.")
    return value


RegisterKey = Annotated[
    str,
    Field(min_length=1, max_length=128, examples=["7391-RAIN-BLU-L"]),
    AfterValidator(register_key),
]
Text = Annotated[str, Field(max_length=255), AfterValidator(plain_text)]
LongText = Annotated[str, Field(max_length=4000), AfterValidator(plain_text)]
Gtin = Annotated[str, Field(max_length=14, examples=["7350012345678"]), AfterValidator(_gtin)]


class Article(EngageModel):
    """One article of the register, keyed by `sku` (what order and receipt lines refer to)."""

    sku: RegisterKey
    number: Text | None = None
    name: Text | None = None
    main_category: Text | None = None
    item_number: Text | None = None
    awards_bonus: bool | None = None
    brand: Text | None = None
    color: Text | None = None
    product_category: Text | None = None
    sub_category: Text | None = None
    age_group: Text | None = None
    description: LongText | None = None
    season: Text | None = None
    size: Text | None = None
    gender: Text | None = None
    gtin: Gtin | None = None
    spare1: LongText | None = None
    spare2: LongText | None = None
    spare3: LongText | None = None
    spare4: LongText | None = None
    spare5: LongText | None = None
    spare6: LongText | None = None
    spare7: LongText | None = None
    spare8: LongText | None = None
    spare9: LongText | None = None
    spare10: LongText | None = None
    date_spare1: OffsetDatetime | None = None
    date_spare2: OffsetDatetime | None = None
    date_spare3: OffsetDatetime | None = None
    date_spare4: OffsetDatetime | None = None
    date_spare5: OffsetDatetime | None = None


class ArticleBatch(RootModel[list[Article]]):
    """Body of `POST /articles`: a JSON array of 1 to 1000 articles.

    A SKU sent twice in one call is not an error: the later one wins, exactly as if the two had
    been sent in two calls (see `last_per_key`).
    """

    root: Annotated[list[Article], Field(min_length=1, max_length=MAX_ARTICLES_PER_CALL)]


ARTICLE_FIELD_ALIASES: dict[str, str] = {
    name: field.alias or name for name, field in Article.model_fields.items()
}
"""Python field name → camelCase JSON name; the XML element name is the JSON name lowercased."""


def canonical_json(model: EngageModel) -> str:
    """The register entry as landed in bronze: camelCase JSON without the empty fields."""
    return model.model_dump_json(by_alias=True, exclude_none=True)


def last_per_key(items: Iterable[Any], key: str) -> list[Any]:
    """Keep the last item of each key, in the order of those last items.

    Within one call the later registration of a key wins; landing only that one keeps bronze's
    key (job, key) unique and makes the landing order say which registration is newest.
    """
    last: dict[str, Any] = {}
    for item in items:
        value = getattr(item, key)
        last.pop(value, None)
        last[value] = item
    return list(last.values())


def article_submission_rows(
    articles: Iterable[Article], job_id: str, api_key_id: str, source: str
) -> list[dict[str, Any]]:
    """Bronze `article_submissions` rows of one job (the landing sets time and position).

    `source` is `json` or `xml`; of a SKU given twice only the later registration is landed.
    """
    return [
        {
            "job_id": job_id,
            "api_key_id": api_key_id,
            "sku": article.sku,
            "source": source,
            "article": canonical_json(article),
        }
        for article in last_per_key(articles, "sku")
    ]
