"""The front-matter refusals of tests/faults, checked on the parser directly: the same cases,
fast and pure (the fault tests prove, through the command line, that nothing runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.notation import NotationError, parse_chapter
from tests.faults.test_front_matter import CASES

BODY = "```console\n$ true\n```\n"


@pytest.mark.parametrize(("front", "line", "words"), CASES)
def test_refused_with_file_line(front: str, line: int, words: str) -> None:
    with pytest.raises(NotationError) as info:
        parse_chapter(Path("c.md"), front + BODY)
    assert info.value.loc.line == line and words in info.value.message
    assert str(info.value).startswith(f"c.md:{line}: ")


def test_open_top_level_keys_pass() -> None:
    text = "---\ntitle: t\nweight: 3\nauthors: [a]\nverified_by: x\n---\n" + BODY
    chapter = parse_chapter(Path("c.md"), text)
    assert chapter.front_matter["weight"] == 3 and chapter.lab is None
