"""« Mise en place »: a chapter that starts from another, verified by the real runner in bash,
shows the replayed commands on its page (real mkdocs build) and as step 1 of its handout."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

from tests.site.conftest import build
from tests.site.fixtures.results import BOOK

CHAPTERS = Path(__file__).resolve().parents[1] / "runner" / "chapters" / "starts_from"


def test_a_chapter_that_starts_from_another_shows_how_to_get_there(tmp_path: Path) -> None:
    book = tmp_path / "book"
    (book / "docs").mkdir(parents=True)
    (book / "mkdocs.yml").write_text((BOOK / "mkdocs.yml").read_text())
    for name in ("base.md", "next.md"):
        shutil.copy(CHAPTERS / name, book / "docs" / name)
    marked = book / "docs" / "next.md"
    marked.write_text(
        marked.read_text().replace(
            "# Suite\n", "# Suite\n\nOn repart de là.\n\n<!-- mise en place -->\n"
        )
    )
    verify = subprocess.run(
        [sys.executable, "-m", "runner", "verify", "docs"],
        cwd=book,
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "true"},
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr

    site = build(book, "--strict")
    assert site.status == 0, site.log
    page = site.page("next")
    setup = page[
        page.index('<details class="abstract vb-setup"') : page.index("</details>")
    ].replace("\xa0", " ")
    assert "Mise en place" in setup and "« Point de départ »" in setup
    assert "mkdir -p travail &amp;&amp; echo un &gt; travail/a.txt" in setup
    assert "export SALUT=bonjour" in setup
    # each command is a line that wraps as in any console block (hanging indent, ↪ mark)
    assert re.search(
        r'<span class="vb-l vb-l--cmd"><span class="gp">\$ </span>'
        r'<span class="vb-cmd">export SALUT=bonjour</span>\n</span>',
        setup,
    ), setup
    # its copy button copies the commands only, as every block's does
    assert '<div class="vb vb--setup copy" id="mise-en-place-commandes" data-copy="' in setup
    copied = re.search(r'id="mise-en-place-commandes" data-copy="([^"]*)"', setup)
    assert copied is not None and "export SALUT=bonjour" in copied.group(1)
    assert "$ " not in copied.group(1) and "# affiche" not in copied.group(1)
    assert "cat travail/a.txt" not in setup  # looking is not replayed
    assert "travail/b.txt" not in setup  # nor a refused command
    # at the author's mark: after the paragraph, before the first block
    assert page.index("On repart de là.") < page.index("vb-setup") < page.index('id="bloc-1"')
    assert not re.search(r"<pre[^>]*>(?:(?!</pre>).)*<details", page, re.S)  # valid HTML
    assert "vb-setup" not in site.page("base")

    done = subprocess.run(
        [sys.executable, "-m", "runner", "handouts"], cwd=book, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    text = "\n".join(p.extract_text() for p in PdfReader(book / "handouts" / "next.pdf").pages)
    step1 = text[text.index("☐ Étape 1") : text.index("☐ Étape 2")]
    assert "$ mkdir -p travail && echo un > travail/a.txt" in step1
    assert "$ export SALUT=bonjour" in step1 and "cat travail/a.txt" not in step1
    assert "<!--" not in text  # the author's mark is not printed
