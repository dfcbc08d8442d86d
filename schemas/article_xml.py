"""The Engage article XML (`<articles><article><sku>…`) read into the same `Article` model as JSON.

The document is streamed with `defusedxml`'s `iterparse`, so a file of any size is read in bounded
memory and a DTD (the door to entity-expansion bombs and external entities) is refused outright.
Every problem is reported with an XPath-like location, 1-based like XPath:
`/articles/article[2]/awardsbonus`.

Choices where the Engage documentation is silent:
- element names are compared without their namespace, so a default `xmlns` does no harm;
- text is stripped of surrounding blanks, and an empty element (`<brand/>`) means "no value";
- `awardsbonus` is `1`, `0`, `true` or `false` (any letter case, as .NET writes `True`);
- an element the format does not define, a field given twice, or a field with elements inside it,
  is an error: silently dropping data an integrator meant to send is worse than refusing it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from pydantic import ValidationError

from schemas.articles import ARTICLE_FIELD_ALIASES, Article
from schemas.problems import FieldError, field_errors_from_validation

ROOT = "articles"
ITEM = "article"
ELEMENTS: dict[str, str] = {alias.lower(): alias for alias in ARTICLE_FIELD_ALIASES.values()}
"""XML element name → JSON field name: the XML names are the JSON names in lower case."""
BOOLEANS = {"1": True, "true": True, "0": False, "false": False}
MAX_ERRORS = 100
"""A report stops after this many problems: enough to fix a file, small enough to answer."""

XmlSource = str | IO[bytes]
"""A file path or a binary stream."""


class ArticleXmlError(Exception):
    """The document cannot be imported; `errors` locate every problem found (none is landed)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the article XML")
        self.errors = errors


@dataclass(frozen=True)
class ParsedArticle:
    """One `<article>` of the document: the article, or why it is not valid."""

    position: int
    article: Article | None
    errors: tuple[FieldError, ...] = ()


@dataclass
class _OpenArticle:
    path: str
    seen: set[str] = field(default_factory=set)
    fields: dict[str, str] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)


def read_articles(source: XmlSource, max_articles: int | None = None) -> list[Article]:
    """Every article of the document, or ArticleXmlError naming the problems (up to MAX_ERRORS)."""
    articles: list[Article] = []
    _check_document(source, max_articles, articles.append)
    return articles


def validate_articles(source: XmlSource, max_articles: int | None = None) -> int:
    """Check a whole document without keeping it (for files too big to hold); the count."""
    return _check_document(source, max_articles, None)


def iter_articles(source: XmlSource) -> Iterator[ParsedArticle]:
    """Stream the articles of a document in order.

    Raises ArticleXmlError when reading cannot go on: the XML is not well-formed, has a DTD, or
    its document element is not `<articles>`. An unknown element between the articles is
    reported as an article-less ParsedArticle (position 0).
    """
    stack: list[str] = []
    try:
        yield from _walk(source, stack)
    except ParseError as error:
        raise ArticleXmlError([_malformed(stack, error)]) from None
    except DefusedXmlException:
        raise ArticleXmlError(
            [
                FieldError(
                    path=_path(stack),
                    code="DtdNotAllowed",
                    message=(
                        "DTDs and entity declarations are not accepted: they are how entity-"
                        "expansion and external-entity attacks work."
                    ),
                )
            ]
        ) from None


def _check_document(
    source: XmlSource, max_articles: int | None, sink: Callable[[Article], None] | None
) -> int:
    errors: list[FieldError] = []
    count = 0
    for parsed in iter_articles(source):
        if parsed.position:
            count += 1
        if max_articles is not None and count > max_articles:
            raise ArticleXmlError([*errors, _too_many(max_articles)][-MAX_ERRORS:])
        errors.extend(parsed.errors)
        if len(errors) >= MAX_ERRORS:
            raise ArticleXmlError(errors[:MAX_ERRORS])
        if parsed.article is not None and sink is not None and not errors:
            sink(parsed.article)
    if errors:
        raise ArticleXmlError(errors)
    if count == 0:
        raise ArticleXmlError(
            [FieldError(path=f"/{ROOT}", code="NoArticles", message="The document has no article.")]
        )
    return count


def _walk(source: XmlSource, stack: list[str]) -> Iterator[ParsedArticle]:
    """The iterparse loop; `stack` holds the open elements' path steps (for error locations)."""
    root: Element | None = None
    current: _OpenArticle | None = None
    position = 0
    for event, element in iterparse(source, events=("start", "end"), forbid_dtd=True):
        name = _local_name(element.tag)
        depth = len(stack)
        if event == "start":
            if depth == 0:
                _check_root(name)
                root = element
            elif depth == 1 and name == ITEM:
                position += 1
                name = f"{ITEM}[{position}]"
                current = _OpenArticle(path=_path([*stack, name]))
            elif current is not None:
                _check_field(current, stack, name)
            stack.append(name)
            continue
        stack.pop()
        if depth == 2 and current is None:
            # The end of an unknown element directly under <articles>.
            yield ParsedArticle(0, None, (_unknown(_path([*stack, name]), "<article>"),))
        elif depth == 3 and current is not None and name in ELEMENTS:
            if name not in current.fields:  # the first of a duplicated field; it is an error anyway
                current.fields[name] = (element.text or "").strip()
        elif depth == 2 and current is not None:
            yield _finish(position, current, element)
            current = None
            if root is not None:
                root.clear()  # what keeps memory bounded: parsed articles are dropped


def _check_root(name: str) -> None:
    if name != ROOT:
        raise ArticleXmlError([_unknown(f"/{name}", "<articles> as the document element")])


def _check_field(current: _OpenArticle, stack: list[str], name: str) -> None:
    """Record what is wrong with an element inside an article as it opens."""
    path = _path([*stack, name])
    if len(stack) > 2:
        current.errors.append(
            FieldError(
                path=path, code="UnknownElement", message="An article field holds text only."
            )
        )
    elif name not in ELEMENTS:
        current.errors.append(_unknown(path, "an article field"))
    elif name in current.seen:
        current.errors.append(
            FieldError(path=path, code="DuplicateElement", message="This field is given twice.")
        )
    current.seen.add(name)


def _finish(position: int, current: _OpenArticle, element: Element) -> ParsedArticle:
    errors = current.errors
    if _has_stray_text(element):
        errors.append(
            FieldError(
                path=current.path,
                code="UnexpectedText",
                message="Text belongs inside the field elements of an article.",
            )
        )
    data: dict[str, Any] = {}
    for name, text in current.fields.items():
        if not text:
            continue
        if name == "awardsbonus":
            value = BOOLEANS.get(text.lower())
            if value is None:
                errors.append(
                    FieldError(
                        path=f"{current.path}/{name}",
                        code="InvalidBoolean",
                        message="Must be 1, 0, true or false.",
                    )
                )
                continue
            data[ELEMENTS[name]] = value
        else:
            data[ELEMENTS[name]] = text
    try:
        article = Article.model_validate_json(json.dumps(data))
    except ValidationError as error:
        errors.extend(_xml_errors(current.path, field_errors_from_validation(error)))
        article = None
    if errors:
        return ParsedArticle(position, None, tuple(errors))
    return ParsedArticle(position, article)


def _xml_errors(article_path: str, errors: list[FieldError]) -> list[FieldError]:
    """JSON-pointer errors (`/dateSpare1`) located as XML elements (`.../datespare1`)."""
    return [
        error.model_copy(update={"path": f"{article_path}{error.path.lower()}"}) for error in errors
    ]


def _has_stray_text(element: Element) -> bool:
    texts = [element.text, *(child.tail for child in element)]
    return any(text and text.strip() for text in texts)


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _path(steps: list[str]) -> str:
    return "/" + "/".join(steps)


def _unknown(path: str, expected: str) -> FieldError:
    return FieldError(
        path=path,
        code="UnknownElement",
        message=f"The Engage article format does not define this element; expected {expected}.",
    )


def _too_many(max_articles: int) -> FieldError:
    return FieldError(
        path=f"/{ROOT}",
        code="TooManyItems",
        message=f"At most {max_articles} articles per import; split the file or use the CLI.",
    )


def _malformed(stack: list[str], error: ParseError) -> FieldError:
    # expat's messages name the kind of mistake and its position, never the document's content.
    line, column = error.position
    reason = str(error).split(":", 1)[0]
    return FieldError(
        path=_path(stack),
        code="MalformedXml",
        message=f"Not well-formed XML ({reason}) at line {line}, column {column}.",
    )
