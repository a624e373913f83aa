"""Front matter that is not exactly understood stops the run, with file:line, before anything
runs: the chapter's command would otherwise run in plain host bash, with no lab."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.conftest import book, runner

BODY = "```console\n$ touch {marker}\n```\n"

CASES = [
    # (front matter as written, line named, words of the message)
    ("---\nverify:\nlab: {nodes: 2}\n---\n", 2, "`lab:` at line 3 is not indented"),
    ("\ufeff---\nverify:\n  lab: {}\n---\n", 1, "byte order mark"),
    ("\n---\nverify:\n  lab: {}\n---\n", 1, "blank line before the front matter"),
    ("---\nverfiy:\n  lab: {}\n---\n", 2, "did you mean `verify`?"),
    ("---\ntitle: t\nverify_:\n  lab: {}\n---\n", 3, "did you mean `verify`?"),
    ("---\nVerify:\n  lab: {}\n---\n", 2, "did you mean `verify`?"),
    ("---\nverify:\n  lab: {}\n  tiemout: 5\n---\n", 4, "did you mean `timeout`?"),
    ("---\nverify:\n  lab:\n---\n", 3, "verify.lab has no value"),
    ("---\nverify:\n  timeout:\n---\n", 3, "verify.timeout has no value"),
    ("---\nverify:\n  timeout: '30'\n---\n", 3, "positive number of seconds"),
    ("---\nverify:\n  lab: [node-01]\n---\n", 3, "verify.lab must be a map"),
    ("---\nverify:\n  lab: {nodes: [a..]}\n---\n", 3, "node name 'a..'"),
    ("---\nverify:\n  lab: {}\nverify:\n  lab: {}\n---\n", 4, "given twice"),
    ("---\ntitle: t\nlab: {nodes: 2}\n---\n", 3, "`lab:` belongs under `verify:`"),
]


@pytest.mark.parametrize(("front", "line", "words"), CASES)
def test_refused_with_file_line_and_nothing_runs(
    tmp_path: Path, front: str, line: int, words: str
) -> None:
    marker = tmp_path / "ran"
    chapter = book(tmp_path, front + BODY.format(marker=marker))
    done = runner("verify", str(chapter))
    assert done.code == 2, done.out
    assert f"c.md:{line}:" in done.out and words in done.out, done.out
    assert not marker.exists()  # nothing ran
    assert not (tmp_path / "verified").exists()


def test_open_top_level_keys_pass(tmp_path: Path) -> None:
    chapter = book(
        tmp_path,
        "---\ntitle: t\nweight: 3\nauthors: [a]\nverified_by: x\n---\n"
        "```console\n$ echo ok\nok\n```\n",
    )
    done = runner("verify", str(chapter))
    assert done.code == 0, done.out


def test_mkdocs_strict_fails_on_a_bom(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text("site_name: t\nplugins:\n  - verified\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Accueil\n")
    (tmp_path / "docs" / "c.md").write_text(
        "\ufeff# Titre\n\n```console\n$ echo ok\nok\n```\n", encoding="utf-8"
    )
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    log = done.stdout + done.stderr
    assert done.returncode != 0, log
    assert "c.md:1:" in log and "byte order mark" in log, log


def test_a_blank_line_then_two_thematic_breaks_is_prose(tmp_path: Path) -> None:
    chapter = book(tmp_path, "\n---\n\nDu texte.\n\n---\n\n```console\n$ echo ok\nok\n```\n")
    done = runner("verify", str(chapter))
    assert done.code == 0, done.out
