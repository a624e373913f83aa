"""The sample book copied to a temporary folder, with its stored results, built by real mkdocs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.site.fixtures.results import BOOK, write_results


@dataclass(frozen=True)
class Build:
    book: Path
    site: Path
    status: int
    log: str

    def page(self, name: str) -> str:
        return (self.site / name / "index.html").read_text(encoding="utf-8")


def copy_book(dest: Path) -> Path:
    book = dest / "book"
    shutil.copytree(BOOK, book, ignore=shutil.ignore_patterns("site", "verified"))
    write_results(book)
    return book


def build(book: Path, *args: str) -> Build:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-d", str(book / "site"), *args],
        cwd=book,
        env=env,
        capture_output=True,
        text=True,
    )
    return Build(book, book / "site", done.returncode, done.stdout + done.stderr)


def block_html(page: str, number: int) -> str:
    """The HTML of block `number` (1-based) of a built page."""
    start = page.rindex('<div class="vb ', 0, page.index(f'id="bloc-{number}"'))
    nxt = re.compile(r'<div class="vb vb--').search(page, start + 1)
    return page[start : nxt.start() if nxt else len(page)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Build:
    result = build(copy_book(tmp_path_factory.mktemp("site")), "--strict")
    assert result.status == 0, result.log
    return result


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return copy_book(tmp_path)
