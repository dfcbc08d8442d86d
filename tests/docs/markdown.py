"""Reading the guides as their tests need: fenced code blocks, sections, headings and links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
DOCS = REPOSITORY / "docs"

FENCE = re.compile(
    r"^[ \t]*```(?P<info>[^\n`]*)\n(?P<code>.*?)^[ \t]*```[ \t]*$", re.MULTILINE | re.DOTALL
)
"""A fenced code block, also one indented in a list item."""


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    line: int
    """Line of the opening fence in the markdown file, for messages."""


def code_blocks(markdown: str, language: str | None = None) -> list[Block]:
    """The fenced code blocks of `markdown`, in order; only those of `language` if given."""
    blocks = []
    for match in FENCE.finditer(markdown):
        info = match.group("info").strip()
        kind = info.split()[0] if info else ""
        if language is None or kind == language:
            line = markdown.count("\n", 0, match.start()) + 1
            blocks.append(Block(kind, match.group("code"), line))
    return blocks


def prose(markdown: str) -> str:
    """The markdown without its fenced code blocks."""
    return FENCE.sub("", markdown)


def section(markdown: str, heading: str) -> str:
    """The text under the heading that starts with `heading` (e.g. `## Jobs`), up to the next
    heading of its level or higher (a `#` line inside a code block is no heading)."""
    level = len(heading) - len(heading.lstrip("#"))
    found = re.search(rf"^{re.escape(heading)}.*$", markdown, re.MULTILINE)
    assert found, f"no heading {heading}"
    ends = re.compile(rf"^#{{1,{level}}} ", re.MULTILINE)
    rest = markdown[found.end() :]
    for match in ends.finditer(rest):
        if rest[: match.start()].count("```") % 2 == 0:
            return markdown[found.start() : found.end() + match.start()]
    return markdown[found.start() :]


def heading_anchors(markdown: str) -> set[str]:
    """The anchors GitHub makes of the headings of `markdown`."""
    return {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#{1,6} (.+)$", prose(markdown), re.MULTILINE)
    }


def broken_links(path: Path) -> list[str]:
    """The relative links and images of a markdown file whose file or heading does not exist."""
    markdown = path.read_text(encoding="utf-8")
    broken = []
    for link in re.findall(r"\]\(([^)\s]+)\)", prose(markdown)):
        if "://" in link or link.startswith("mailto:"):
            continue
        target, _, anchor = link.partition("#")
        file = path.parent / target if target else path
        if not file.exists() or (
            anchor and anchor not in heading_anchors(file.read_text(encoding="utf-8"))
        ):
            broken.append(link)
    return broken
