"""The book's chapters with their stored results, loaded once per build (no lab, no shell)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runner.notation import NotationError, parse_chapter
from runner.results import ResultsError, ResultStore
from runner.site.status import ChapterState, chapter_state


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
    except NotationError as exc:
        return Problem(key, f"{exc} (fix the notation, then verify the chapter again)")
    try:
        record = store.load(key)
    except ResultsError as exc:
        return Problem(key, str(exc))
    return chapter_state(key, chapter, record)


def chapter_files(docs: Path) -> list[Path]:
    return sorted(p for p in docs.rglob("*.md") if p.is_file())


def load_book(docs: Path, store: ResultStore) -> list[ChapterState | Problem]:
    """Every chapter under `docs` that has console blocks, in path order."""
    out: list[ChapterState | Problem] = []
    for path in chapter_files(docs):
        text = path.read_text(encoding="utf-8")
        if not may_have_blocks(text):
            continue
        loaded = load_chapter(path, text, store)
        if isinstance(loaded, Problem) or loaded.chapter.blocks:
            out.append(loaded)
    return out
