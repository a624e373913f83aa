"""The book's own handouts teach: printed by WeasyPrint from the real chapters and their stored
results, read back with pypdf. A participant with only the booklet can do the whole chapter."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from runner.notation import parse_chapter
from runner.notation.frontmatter import split_front_matter

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = ["swarm/partie-1.md", "swarm/partie-2.md", "swarm/partie-3.md"]


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book (chapters, mkdocs.yml, stored results) copied, and its handouts printed."""
    book = tmp_path_factory.mktemp("book")
    shutil.copytree(ROOT / "docs", book / "docs")
    shutil.copytree(ROOT / "verified", book / "verified")
    shutil.copy(ROOT / "mkdocs.yml", book / "mkdocs.yml")
    done = subprocess.run(
        [sys.executable, "-m", "runner", "handouts"], cwd=book, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return book / "handouts"


def pdf_text(pdf: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(pdf).pages)


def prose_words(chapter: Path) -> set[str]:
    """Distinct words of seven letters or more in the chapter's prose: no front matter, no
    fenced block, no inline code, no link target."""
    parsed = parse_chapter(chapter)
    lines = chapter.read_text(encoding="utf-8").split("\n")
    fenced = {n for b in parsed.blocks for n in range(b.loc.line, b.end_line + 1)}
    skip = split_front_matter(parsed.source, chapter).lines
    text = "\n".join(line for n, line in enumerate(lines, 1) if n > skip and n not in fenced)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return {w.lower() for w in re.findall(r"[^\W\d_]{7,}", text)}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_handout_carries_most_of_its_chapter_s_words(printed: Path, chapter: str) -> None:
    words = prose_words(ROOT / "docs" / chapter)
    handout = pdf_text(printed / (chapter[: -len(".md")].replace("/", "-") + ".pdf")).lower()
    found = {w for w in words if w in handout}
    assert len(words) > 50  # the chapter has prose to carry
    assert len(found) >= len(words) / 2, sorted(words - found)


def _sizes(pdf: Path) -> tuple[list[float], list[float]]:
    """Font sizes in points of every text run: (proportional, monospace)."""
    prose: list[float] = []
    mono: list[float] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if not text.strip() or not isinstance(font, dict):
            return
        points = size * math.hypot(tm[0], tm[1]) * math.hypot(cm[0], cm[1])
        (mono if "Mono" in str(font.get("/BaseFont", "")) else prose).append(points)

    for page in PdfReader(pdf).pages:
        page.extract_text(visitor_text=visit)
    return prose, mono


def test_type_is_large_enough_to_read(printed: Path) -> None:
    for pdf in [printed / "livret.pdf", printed / "swarm-partie-1.pdf"]:
        prose, mono = _sizes(pdf)
        assert prose and mono
        assert min(prose) >= 9 - 0.01, (pdf.name, sorted(set(prose))[:3])
        assert min(mono) >= 8.5 - 0.01, (pdf.name, sorted(set(mono))[:3])


def test_the_participant_s_own_values_are_placeholders(printed: Path) -> None:
    text = pdf_text(printed / "swarm-partie-1.pdf")
    for name in ("<JETON_WORKER>", "<JETON_MANAGER>", "<NOUVEAU_JETON_WORKER>"):
        assert f"--token {name}" in text, name
    assert "SWMTKN-1-" not in text  # the lab's tokens are never printed to be typed
    assert "Vos propres valeurs" in text


def test_steps_say_when_an_error_is_expected_and_how_long_to_wait(printed: Path) -> None:
    text = " ".join(pdf_text(printed / "swarm-partie-1.pdf").split())
    assert (
        "Erreur attendue : « docker swarm join-token --rotate worker » (1re commande de "
        "l'étape) doit échouer" in text
    )
    assert "Erreur attendue : « docker swarm join --token <JETON_WORKER>" in text
    assert "Attente :" in text and "relancez la commande" in text
    assert "Ctrl+C" in text and "Erreur attendue : « tail" not in text  # a key is not an error


def test_tables_keep_their_columns(printed: Path) -> None:
    text = pdf_text(printed / "swarm-partie-1.pdf")
    headers = [line for line in text.split("\n") if line.startswith("ID ") and "HOSTNAME" in line]
    assert headers and all("ENGINE VERSION" in h and "↩" not in h for h in headers)
    assert not re.search(r"ENGINE\s*↩", text)


def test_lab_needs_say_what_the_reader_s_way_needs(printed: Path) -> None:
    text = " ".join(pdf_text(printed / "swarm-partie-1.pdf").split())
    assert "4 machines Docker" in text and "VirtualBox" in text
    assert "Go de mémoire" in text and "Go de disque" in text and "lab up --nodes 4" in text


def test_a_chapter_verified_on_vms_says_how_a_reader_gets_them(printed: Path) -> None:
    """Partie 2's routing mesh needs IPVS: verified on the vm lab, its handout names that lab
    and does not call those steps unverified."""
    text = " ".join(pdf_text(printed / "swarm-partie-2.pdf").split())
    assert "lab up --provider vm --nodes 4" in text and "800 Mo de mémoire par nœud" in text
    assert "Pour certaines étapes, IPVS" in text and "vérifié" in text
    assert "non vérifié" not in text and "sautées" not in text
    # Partie 3 needs IPVS only for set-up commands (partie 2's mesh): no step of its own is
    # skipped, so none is said to be.
    text = " ".join(pdf_text(printed / "swarm-partie-3.pdf").split())
    assert "Pour quelques commandes de la mise en place, IPVS" in text
    assert "sautées" not in text


def test_a_chapter_that_starts_from_another_prints_its_set_up_first(printed: Path) -> None:
    text = pdf_text(printed / "swarm-partie-3.pdf")
    first, second = text.index("☐ Étape 1"), text.index("☐ Étape 2")
    step = text[first:second]
    assert text.index("Mise en place") < first
    assert "$ docker-machine create -d virtualbox node-01" in step
    assert "$ docker node demote node-02" in step  # the end of part 1
    assert "$ docker service rm web front" in step  # the end of part 2
    assert "$ docker swarm join --token <JETON_MANAGER>" in step
    assert "# affiche <JETON_MANAGER>" in step
    assert "docker node ls" not in step  # looking is not needed to get there
    assert "$ docker node promote node-02 node-03" in text[second:]


def test_handouts_keep_their_names(printed: Path) -> None:
    names = {p.name for p in printed.glob("*.pdf")}
    assert {"swarm-partie-1.pdf", "swarm-partie-2.pdf", "swarm-partie-3.pdf", "livret.pdf"} <= names
