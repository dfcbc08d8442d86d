"""Paged lists and links, the shape every list endpoint answers."""

from __future__ import annotations

from typing import Generic, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel

ItemT = TypeVar("ItemT")

DEFAULT_COUNT = 10
MAX_COUNT = 100


class Link(BaseModel):
    href: str
    method: str = "GET"
    rel: str


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    totalCount: int  # noqa: N815 - Engage field name
    offset: int
    count: int
    links: list[Link]


def page_links(
    path: str, params: dict[str, str], offset: int, count: int, total: int
) -> list[Link]:
    """`next` and `prev` links that keep the list's filters."""
    links = []
    if offset + count < total:
        links.append(Link(href=_href(path, params, offset + count, count), rel="next"))
    if offset > 0:
        links.append(Link(href=_href(path, params, max(0, offset - count), count), rel="prev"))
    return links


def _href(path: str, params: dict[str, str], offset: int, count: int) -> str:
    return f"{path}?{urlencode({**params, 'offset': offset, 'count': count})}"
