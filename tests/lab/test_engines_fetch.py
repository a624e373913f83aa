"""Fetching an engine generation: what it says when it cannot, and that it leaves no partial
cache entry. The unreachable archive is a closed port on this machine (127.0.0.1:9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.cli import main
from runner.lab import engines

UNREACHABLE = "http://127.0.0.1:9/debian"


def _leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if p.name != ".lock") if cache.is_dir() else []


def test_no_network_says_what_is_missing_and_caches_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "engines"
    with pytest.raises(engines.EngineError) as caught:
        engines.bundle("26.1", cache=cache, archive=UNREACHABLE)
    message = str(caught.value)
    assert "Docker Engine 26.1" in message and "docker.io" in message
    assert "nothing was cached" in message
    assert _leftovers(cache) == []
    assert engines.cached("26.1", cache) is None


def test_verify_exits_2_without_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "engines"
    monkeypatch.setattr(engines, "CACHE", cache)
    monkeypatch.setattr(engines, "ARCHIVE", UNREACHABLE)
    book = tmp_path / "book"
    (book / "docs").mkdir(parents=True)
    (book / "mkdocs.yml").write_text("site_name: t\n")
    chapter = book / "docs" / "a.md"
    chapter.write_text("# A\n\n```console\n$ echo hi\nhi\n```\n")
    code = main(["verify", "--engine", "28.5", str(chapter)])
    said = capsys.readouterr()
    err = said.out + said.err
    assert code == 2
    assert "Docker Engine 28.5" in err and "no network" in err
    assert _leftovers(cache) == []
    assert not (book / "verified").exists()  # nothing ran, nothing recorded


def test_a_generation_no_suite_serves_says_which_suite_serves_what(tmp_path: Path) -> None:
    cache = tmp_path / "engines"
    with pytest.raises(engines.EngineError) as caught:
        engines.bundle("19.3", cache=cache)  # Debian's archive, for real
    message = str(caught.value)
    assert "no Debian suite serves Docker Engine 19.3" in message
    assert "bookworm serves 20.10." in message  # which suite serves what now
    assert "mkdocs.yml" in message
    assert _leftovers(cache) == []


def test_bad_generation_is_refused_before_anything() -> None:
    with pytest.raises(engines.EngineError, match=r"MAJOR\.MINOR"):
        engines.bundle("latest")


def test_a_half_made_entry_is_no_entry_and_is_cleared(tmp_path: Path) -> None:
    """A run killed between the rename and the manifest leaves a folder without bundle.json:
    it is not taken for a bundle, and the next fetch clears it (here, failing again)."""
    cache = tmp_path / "engines"
    (cache / "26.1" / "bin").mkdir(parents=True)
    assert engines.cached("26.1", cache) is None
    with pytest.raises(engines.EngineError):
        engines.bundle("26.1", cache=cache, archive=UNREACHABLE)
    assert _leftovers(cache) == []
