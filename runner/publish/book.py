"""The book's chapters with their stored results, loaded once per build (no lab, no shell)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from runner.notation import NotationError, parse_chapter
from runner.publish.setup import setup_view
from runner.publish.status import ChapterState, chapter_state
from runner.records import ResultsError
from runner.store import ResultStore


def may_have_blocks(text: str) -> bool:
    """A cheap test that spares parsing pages without console blocks."""
    return "console" in text


@dataclass(frozen=True)
class Problem:
    """A chapter that cannot be published as verified: notation or results unreadable."""

    key: str
    message: str


def load_chapter(path: Path, text: str, store: ResultStore) -> ChapterState | Problem:
    key = store.key(path)
    try:
        chapter = parse_chapter(path, text.replace("\r\n", "\n"))
        setup = setup_view(chapter)
    except NotationError as exc:
        return Problem(key, f"{exc} (fix the notation, then verify the chapter again)")
    try:
        record = store.load(key)
    except ResultsError as exc:
        return Problem(key, str(exc))
    return replace(chapter_state(key, chapter, record), setup=setup)
