from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from runner.cli import main
from runner.records import ChapterRecord, ChapterRun
from runner.store import ResultStore

# Chapters the tests verify, kept as files an author can open and run by hand (see README.md).
CHAPTERS = Path(__file__).parent / "chapters" / "docs"


def chapter(name: str) -> Path:
    path = CHAPTERS / name
    assert path.is_file(), f"no test chapter {path}"
    return path


@dataclass
class Verified:
    code: int
    out: str
    record: ChapterRecord

    @property
    def passing(self) -> ChapterRun:
        assert self.record.passing is not None, self.out
        return self.record.passing

    @property
    def latest(self) -> ChapterRun:
        assert self.record.latest is not None, self.out
        return self.record.latest


@pytest.fixture
def verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Verified]:
    """Write a chapter (text, or a test chapter's file) into a fresh book folder and verify it
    with the real CLI; the stored results stay in that folder."""
    (tmp_path / "mkdocs.yml").write_text("site_name: test\n")
    (tmp_path / "docs").mkdir()

    def run(chapter: str | Path, *extra: str, name: str = "chapter.md") -> Verified:
        if isinstance(chapter, Path):
            name = chapter.name
            chapter = chapter.read_text(encoding="utf-8")
        path = tmp_path / "docs" / name
        path.write_text(chapter)
        code = main(["verify", str(path), *extra])
        out = capsys.readouterr()
        store = ResultStore.for_chapter(path)
        return Verified(code, out.out + out.err, store.load(store.key(path)))

    return run
