"""Console blocks inside Material's containers (admonitions, tabs), written without a blank
line after the header: verified by the runner and published inside their container."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.site.conftest import build

# The book's own configuration (it has pymdownx.tabbed), without its nav.
CONFIG = Path(__file__).parents[2] / "mkdocs.yml"

CHAPTER = """# Conteneurs

Du texte.

!!! note "Dans une note"
    ```console
    $ echo dans-la-note
    dans-la-note
    ```

=== "Linux"
    ```console
    $ echo dans-un-onglet
    dans-un-onglet
    ```

=== "macOS"
    Rien ici.
"""


def test_blocks_in_admonitions_and_tabs_are_verified_and_published(tmp_path: Path) -> None:
    book = tmp_path / "book"
    (book / "docs").mkdir(parents=True)
    config = CONFIG.read_text(encoding="utf-8")
    (book / "mkdocs.yml").write_text(config[: config.index("\nnav:")] + "\n")
    (book / "docs" / "conteneurs.md").write_text(CHAPTER)
    verify = subprocess.run(
        [sys.executable, "-m", "runner", "verify", "docs"],
        cwd=book,
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "true"},
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "2 passed" in verify.stdout
    site = build(book, "--strict")
    assert site.status == 0, site.log
    page = site.page("conteneurs")
    assert "dans-la-note" in page and "dans-un-onglet" in page
    assert page.index('class="admonition note"') < page.index("dans-la-note")
    assert page.index('class="tabbed-set') < page.index("dans-un-onglet")
    assert "```console" not in page and '=== "Linux"' not in page
    tab = page[page.index('class="tabbed-block"') :]
    assert tab.index("dans-un-onglet") < tab.index("Rien ici")  # in the first tab
