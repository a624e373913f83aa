"""The workshop handouts: real PDFs printed by WeasyPrint, read back with pypdf and poppler."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PageObject, PdfReader

from runner.notation import parse_chapter
from runner.store import ResultStore
from tests.site.fixtures.results import (
    CID,
    _block,
    _cmd,
    add_mesh_chapter,
    chapter_run,
    lost_session_run,
)

LONG_COMMAND = "docker run --rm " + " ".join(f"--env VARIABLE_{n}=valeur-{n}" for n in range(14))
LONG_LINE = "x" * 150 + " fin-de-ligne-longue"


def handouts(book: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runner", "handouts", *args],
        cwd=book,
        capture_output=True,
        text=True,
    )


def text(pdf: Path) -> list[str]:
    """Each page's text; French non-breaking spaces read as plain ones."""
    return [
        page.extract_text().replace("\u00a0", " ").replace("\u202f", " ")
        for page in PdfReader(pdf).pages
    ]


def monospace_runs(page: PageObject) -> list[tuple[float, float]]:
    """(left, right) in points of every run of DejaVu Sans Mono text on the page."""
    advance = 1233 / 2048  # the font's glyph advance, in em
    runs: list[tuple[float, float]] = []

    def visit(
        text: str, cm: list[float], tm: list[float], font: dict[str, str] | None, size: float
    ) -> None:
        if text.strip() and font and "Mono" in font.get("/BaseFont", ""):
            left = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            runs.append((left, left + len(text) * advance * size * tm[0] * cm[0]))

    page.extract_text(visitor_text=visit)
    return runs


def add_long_chapter(book: Path) -> None:
    """A chapter with a long command line, a long output line and a long output."""
    path = book / "docs" / "03-long.md"
    numbers = "\n".join(str(n) for n in range(1, 41))
    path.write_text(
        f"# Sorties longues\n\n```console\n$ seq 1 40\n{numbers}\n$ {LONG_COMMAND}\n...\n```\n"
    )
    ch = parse_chapter(path)
    lines = [c.loc.line for c in ch.blocks[0].commands]
    block = _block(
        ch, 0, _cmd(lines[0], "seq 1 40", numbers), _cmd(lines[1], LONG_COMMAND, LONG_LINE)
    )
    ResultStore(book / "verified", book).save(chapter_run(ch, (block,)))


def test_a_handout_per_chapter_and_a_booklet(book: Path) -> None:
    done = handouts(book)
    assert done.returncode == 0, done.stderr
    out = book / "handouts"
    assert sorted(p.name for p in out.glob("*.pdf")) == [
        "01-premiers-pas.pdf",
        "02-machines.pdf",
        "livret.pdf",
    ]
    pages = text(out / "01-premiers-pas.pdf")
    assert len(pages) == 3
    everything = "\n".join(pages)
    assert "Premiers pas" in pages[0]
    assert "Vérifié le 27 novembre 2026 à 09:30 UTC avec Docker 20.10.24" in pages[0]
    assert "Ce qu'il vous faut" in pages[0] and "node-01" in pages[0]
    assert "Objectifs : lancer un conteneur et lire ses journaux." in pages[0]
    # A step: its checkbox, its commands with the captured value, the run's real output.
    step = everything[everything.index("☐ Étape 2") : everything.index("☐ Étape 3")]
    assert "$ docker logs web" in step and "start worker processes" in step
    assert "[… 8 lignes omises …]" in step and "ligne de journal 3" not in step
    assert "fini-réellement" in everything and "web-secret-cleanup" not in everything
    assert "non vérifié : nécessite VirtualBox" in everything
    assert everything.count("☐") == 8
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} / 3" in page
    assert "Récapitulatif des commandes" in pages[-1] and "docker logs -f web" in pages[-1]
    assert "start worker processes" not in pages[-1]  # commands only
    booklet = text(out / "livret.pdf")
    assert "Sommaire" in booklet[0] and "Premiers pas" in booklet[0] and "Machines" in booklet[0]
    assert len(booklet) == 1 + 3 + len(text(out / "02-machines.pdf"))


def test_long_output_is_trimmed_and_long_lines_stay_on_the_page(book: Path) -> None:
    add_long_chapter(book)
    done = handouts(book, "docs/03-long.md")
    assert done.returncode == 0, done.stderr
    pdf = book / "handouts" / "03-long.pdf"
    everything = "\n".join(text(pdf))
    assert "[… 27 lignes coupées …]" in everything
    assert "\n40\n" in everything and "\n30\n" not in everything
    assert "↩" in everything and "VARIABLE_13=valeur-13" in everything
    assert "fin-de-ligne-longue" in everything
    # Every monospace run (commands, outputs) ends inside the right margin (16 mm) of the page.
    margin = 16 / 25.4 * 72
    for page in PdfReader(pdf).pages:
        runs = monospace_runs(page)
        assert runs
        assert all(margin <= left and right <= page.mediabox.width - margin for left, right in runs)


def test_a_stale_chapter_is_printed_with_a_warning_and_without_unverified_output(
    book: Path,
) -> None:
    chapter = book / "docs" / "02-machines.md"
    chapter.write_text(chapter.read_text() + "\n```console\n$ echo nouveau\nsortie-inventée\n```\n")
    first = book / "docs" / "01-premiers-pas.md"
    first.write_text(first.read_text() + "\n```console\n$ docker stop {{ cid }}\nweb\n```\n")
    done = handouts(book, "docs/01-premiers-pas.md")
    assert done.returncode == 0, done.stderr
    stale = "\n".join(text(book / "handouts" / "01-premiers-pas.pdf"))
    # The participant types their own ID: a placeholder, never the run's value nor `{{ }}`.
    assert "$ docker stop <CID>" in stale and CID not in stale and "{{ cid }}" not in stale
    done = handouts(book, "docs/02-machines.md")
    assert done.returncode == 0, done.stderr
    assert "docs/02-machines.md: chapter changed since its last passing run" in done.stderr
    everything = " ".join("\n".join(text(book / "handouts" / "02-machines.pdf")).split())
    assert "le chapitre a changé depuis cette vérification" in everything
    assert "$ echo nouveau" in everything and "sortie-inventée" not in everything
    assert "node-01" in everything  # the unchanged block keeps its real output


@pytest.mark.parametrize("args", [["docs/absent.md"]])
def test_usage_errors_exit_2(book: Path, args: list[str]) -> None:
    done = handouts(book, *args)
    assert done.returncode == 2 and "absent.md" in done.stderr


def test_the_booklet_follows_the_site_navigation(book: Path) -> None:
    config = book / "mkdocs.yml"
    config.write_text(
        config.read_text() + "nav:\n  - index.md\n  - 02-machines.md\n  - 01-premiers-pas.md\n"
    )
    done = handouts(book)
    assert done.returncode == 0, done.stderr
    cover = text(book / "handouts" / "livret.pdf")[0]
    assert "Livre de test" in cover
    assert cover.index("Machines") < cover.index("Premiers pas")


def test_a_block_not_run_after_a_lost_session_is_not_printed_as_a_failure(book: Path) -> None:
    ResultStore(book / "verified", book).save(lost_session_run(book))
    done = handouts(book, "docs/01-premiers-pas.md")
    assert done.returncode == 0, done.stderr
    everything = " ".join("\n".join(text(book / "handouts" / "01-premiers-pas.pdf")).split())
    step = everything[everything.index("☐ Étape 3") : everything.index("☐ Étape 4")]
    assert "non exécuté lors de la dernière exécution : la session « main » a été perdue" in step
    assert "échec lors de" not in step and "was lost" not in step
    assert "échec lors de la dernière exécution" in everything  # block 3 really failed


def test_a_missing_lab_capability_is_explained_in_french(book: Path) -> None:
    add_mesh_chapter(book)
    done = handouts(book, "docs/03-maille.md")
    assert done.returncode == 0, done.stderr
    everything = " ".join("\n".join(text(book / "handouts" / "03-maille.pdf")).split())
    assert (
        "non vérifié : le noyau du laboratoire de vérification n'a pas IPVS, dont le routing "
        "mesh de Swarm a besoin pour répondre sur les ports publiés"
    ) in everything
    assert "has no ip_vs" not in everything and "no vxlan" not in everything
    assert "$ docker network create -d overlay maille" in everything
