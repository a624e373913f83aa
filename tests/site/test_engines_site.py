"""The site on a book verified on three Docker Engine generations (real mkdocs builds): tabs
only where outputs differ, the failure said on its engine's tab, the header, the report's
matrix; the handouts print the primary engine's output and note the difference."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader

from runner.records import BlockResult, ChapterRun, LabInfo
from runner.store import ResultStore
from tests.site.conftest import Build, block_html, build, copy_book
from tests.site.fixtures.results import LAB, first_chapter_run, second_chapter_run

ENGINES = '["20.10", "26.1", "28.5"]'


def _on(run: ChapterRun, engine: str, version: str) -> ChapterRun:
    lab: LabInfo = replace(LAB, engine=engine, engine_version=version)
    return replace(run, lab=lab)


def _with_block(run: ChapterRun, index: int, block: BlockResult) -> ChapterRun:
    blocks = tuple(block if b.index == index else b for b in run.blocks)
    return replace(run, blocks=blocks)


def engines_book(tmp: Path) -> Path:
    book = copy_book(tmp)
    config = book / "mkdocs.yml"
    config.write_text(
        config.read_text().replace("  - verified\n", f"  - verified:\n      engines: {ENGINES}\n")
    )
    store = ResultStore(book / "verified", book)
    first, second = first_chapter_run(book), second_chapter_run(book)
    # 26.1: `docker ps` shows another column (a real change); the rest is the same, apart
    # from run-to-run noise (another container ID) that must not count as a difference.
    on26 = _on(first, "26.1", "26.1.5+dfsg1")
    ps = on26.blocks[1]
    other_id = "9" * 64
    changed = replace(
        ps,
        commands=(
            replace(ps.commands[0], output=other_id),
            replace(ps.commands[1], output=other_id[:12] + " web   Up 2 seconds"),
        ),
    )
    store.save(_with_block(on26, 1, changed))
    store.save(_on(second, "26.1", "26.1.5+dfsg1"))
    # 28.5: passed once, then its latest run failed on block 4 (the `evil.html` one).
    on28 = _on(first, "28.5", "28.5.2+dfsg4")
    store.save(on28)
    bad = replace(on28.blocks[3], status="failed", reason="docs/01-premiers-pas.md:31: différent")
    store.save(replace(_with_block(on28, 3, bad), status="failed", started="2026-11-28T10:00:00"))
    store.save(_on(second, "28.5", "28.5.2+dfsg4"))
    return book


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Build:
    result = build(engines_book(tmp_path_factory.mktemp("engines")), "--strict")
    assert result.status == 0, result.log
    return result


def _tab_labels(html: str) -> list[str]:
    return re.findall(r'<label for="__vbengine_[^"]*"[^>]*>([^<]*)</label>', html)


def test_a_block_that_differs_gets_tabs_primary_first(built: Build) -> None:
    page = built.page("01-premiers-pas")
    html = block_html(page, 2)
    tabset = page[page.rindex('<div class="tabbed-set', 0, page.index('id="bloc-2"')) :]
    labels = _tab_labels(tabset[: tabset.index("</div>", tabset.index("tabbed-labels")) + 6])
    assert labels == ["Docker 20.10.24", "Docker 26.1.5", "Docker 28.5.2"]
    assert 'checked="checked" id="__vbengine_2_1"' in tabset  # the primary engine first
    assert "Up 2 seconds" in tabset and "Up 2 seconds" not in html  # 26.1's tab, not primary's
    assert 'id="bloc-2-docker-26-1"' in tabset  # one id per tab; the report links the primary


def test_a_block_that_is_the_same_everywhere_looks_as_before(built: Build) -> None:
    page = built.page("01-premiers-pas")
    for number in (3, 6):  # elided log lines and polling: same on every engine
        start = page.index(f'id="bloc-{number}"')
        before = page.rindex("<div", 0, start - 20)
        assert "tabbed" not in page[before:start], number
    assert "tabbed-set" not in built.page("02-machines")


def test_a_failure_is_said_on_its_engines_tab_in_french(built: Build) -> None:
    page = built.page("01-premiers-pas")
    tabset = page[page.rindex('<div class="tabbed-set', 0, page.index('id="bloc-4"')) :]
    assert "Docker 28.5.2 — échec" in _tab_labels(tabset[:2000])
    assert "Avec Docker 28.5.2, ce bloc échoue." in tabset


def test_header_names_the_engines(built: Build) -> None:
    page = built.page("01-premiers-pas")
    summary = page[page.index('class="vb-engines-summary"') :][:600]
    # French spacing (runner.publish.typography): a thin no-break space before « ; ».
    assert (
        "Vérifié avec Docker 20.10.24 (référence) et 26.1.5\u202f; en échec avec Docker 28.5.2."
        in summary
    )
    assert "1 bloc avec Docker 26.1.5" in summary
    other = built.page("02-machines")
    assert "Mêmes sorties avec chaque version." in other


def test_report_has_a_chapter_by_engine_matrix(built: Build) -> None:
    report = built.page("rapport-verification")
    assert "Par version de Docker Engine" in report
    matrix = report[report.index('id="par-version-de-docker-engine"') :]
    table = matrix[matrix.index("<table>") : matrix.index("</table>")]
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", table)
    assert headers == ["Chapitre", "Docker 20.10 (référence)", "Docker 26.1", "Docker 28.5"]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    first = next(c for c in cells if "Premiers pas" in c[0])
    assert first[1:] == [
        "✅ vérifié (20.10.24)",
        "✅ vérifié (26.1.5), 1 bloc différent",
        "❌ échec (28.5.2), 1 bloc différent",
    ]


def test_a_missing_engine_is_a_strict_build_error(tmp_path: Path) -> None:
    book = engines_book(tmp_path)
    for path in (book / "verified").rglob("28.5.json"):
        if "02-machines" in str(path):
            path.unlink()
    result = build(book, "--strict")
    assert result.status != 0
    assert "no passing results on Docker 28.5" in result.log
    assert "--engine 28.5" in result.log


def test_handouts_print_the_primary_and_note_differences(tmp_path: Path) -> None:
    book = engines_book(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "runner", "handouts"], cwd=book, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = "\n".join(
        page.extract_text() for page in PdfReader(book / "handouts" / "01-premiers-pas.pdf").pages
    )
    flat = " ".join(text.split())
    assert "Up 2 seconds" not in flat  # the primary engine's output only
    assert (
        "Avec Docker 26.1.5 : sortie différente (voir le site)" in flat
    )  # (the no-break space reads as one)
    assert "Avec Docker 28.5.2 : ce bloc échoue." in flat
    assert "également vérifié avec Docker 26.1.5" in flat  # and 28.5.2, which failed: not
