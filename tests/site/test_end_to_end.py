"""The runner really verifies a chapter in bash, then the site and a handout publish that run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

from tests.site.conftest import block_html, build
from tests.site.fixtures.results import BOOK

CHAPTER = """# Essai

```console
$ echo premier; seq 1 5; echo dernier
premier
...
dernier
$ jeton=$(echo jeton-$((6 * 7))); echo $jeton
{{ jeton }}
$ echo "utilise {{ jeton }}"
utilise {{ jeton }}
$ echo '<script>alert(1)</script>'; exit_code=3; (exit $exit_code)
<script>alert(1)</script>
[3]
```

```console hidden
$ echo nettoyage-cache
nettoyage-cache
```
"""


def test_a_chapter_verified_by_the_runner_is_published(tmp_path: Path) -> None:
    book = tmp_path / "book"
    (book / "docs").mkdir(parents=True)
    (book / "mkdocs.yml").write_text((BOOK / "mkdocs.yml").read_text())
    (book / "docs" / "essai.md").write_text(CHAPTER)
    verify = subprocess.run(
        [sys.executable, "-m", "runner", "verify", "docs"],
        cwd=book,
        capture_output=True,
        text=True,
        env={**os.environ, "CI": "true"},
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert (book / "verified" / "docs" / "essai.md.json").is_file()

    site = build(book, "--strict")
    assert site.status == 0, site.log
    block = block_html(site.page("essai"), 1)
    assert 'class="vb-l vb-l--fold" for="bloc-1-pli-1">… 5 lignes masquées' in block
    assert '<span class="go">3</span>' in block  # a line the `...` stood for, from the run
    assert 'vb-cmd">echo &#34;utilise <mark class="vb-capture">jeton-42</mark>' in block
    assert "{{ jeton }}" not in block
    assert "echo &#34;utilise &lt;JETON&gt;&#34;" in block  # what the copy button copies
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in block and "<script>alert(1)" not in block
    assert "↳ code de retour 3" in block
    assert "nettoyage-cache" not in site.page("essai")

    handouts = subprocess.run(
        [sys.executable, "-m", "runner", "handouts"], cwd=book, capture_output=True, text=True
    )
    assert handouts.returncode == 0, handouts.stderr
    text = "\n".join(p.extract_text() for p in PdfReader(book / "handouts" / "essai.pdf").pages)
    # A value a run captured and a command reuses is the participant's own: a placeholder.
    assert '$ echo "utilise <JETON>"' in text and "[code de retour 3]" in text


def test_site_and_handouts_never_load_the_lab_or_the_executor() -> None:
    probe = (
        "import sys, runner.site.plugin, runner.handouts.cli, runner.handouts.pdf;"
        "print(sorted(m for m in sys.modules if m.startswith("
        "('runner.lab', 'runner.run.session', 'runner.run.execute', 'pexpect'))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
