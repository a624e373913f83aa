"""`verify --update`, `-j` and `--shard` through the real command line, in real bash."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from runner.cli import main
from runner.store import ResultStore
from tests.runner.conftest import Verified

Verify = Callable[..., Verified]

CHAPTER = (
    "# Essai\n\nDe la prose, gardée telle quelle.\n\n"
    '```console title="Un titre"\n'
    "$ echo \"id: $(printf 'abc%04d' 7)\"\nid: {{ id }}\n"
    "$ printf 'header\\n%s ready\\nnew line\\n' {{ id }}\n"
    "header\nold line\n"
    "$ (exit 3)\n"
    "$ seq 1 5\n1\n...\n5\n"
    "```\n\nFin.\n"
)


def test_update_rewrites_only_what_failed_and_a_plain_verify_then_passes(
    verify: Verify, tmp_path: Path
) -> None:
    result = verify(CHAPTER, "--update")
    assert result.code == 0, result.out
    path = tmp_path / "docs" / "chapter.md"
    new = path.read_text()
    assert new == CHAPTER.replace(
        "header\nold line\n", "header\n{{ id }} ready\nnew line\n"
    ).replace("$ (exit 3)\n", "$ (exit 3)\n[3]\n")
    assert "-old line" in result.out and "+{{ id }} ready" in result.out  # the diff
    assert "+[3]" in result.out
    again = main(["verify", str(path)])
    assert again == 0


def test_dry_run_prints_the_diff_and_writes_nothing(verify: Verify, tmp_path: Path) -> None:
    result = verify(CHAPTER, "--update", "--dry-run")
    assert result.code == 0, result.out
    assert (tmp_path / "docs" / "chapter.md").read_text() == CHAPTER
    assert "+new line" in result.out and "would pass" in result.out


def test_update_rewrites_from_the_whole_output(verify: Verify, tmp_path: Path) -> None:
    result = verify("```console\n$ seq 1 3000\n1\n```\n", "--update")
    assert result.code == 0, result.out
    text = (tmp_path / "docs" / "chapter.md").read_text()
    assert text.count("\n") == 3000 + 3 and "\n2999\n3000\n```" in text


def test_update_exits_1_when_a_failure_is_not_an_output(verify: Verify, tmp_path: Path) -> None:
    text = '```console timeout="1"\n$ echo a; sleep 20\na\n```\n```console\n$ echo b\nc\n```\n'
    result = verify(text, "--update")
    assert result.code == 1, result.out
    assert "failed for another reason than its output" in result.out
    # What could be rewritten was, and says it.
    assert (tmp_path / "docs" / "chapter.md").read_text() == text.replace("b\nc\n", "b\nb\n")


def test_update_rewrites_a_hidden_block_and_the_blocks_after_it(
    verify: Verify, tmp_path: Path
) -> None:
    text = "```console hidden\n$ echo setup\nold\n```\n```console\n$ echo after\nwrong\n```\n"
    result = verify(text, "--update")
    assert result.code == 0, result.out
    new = (tmp_path / "docs" / "chapter.md").read_text()
    assert new == text.replace("old", "setup").replace("wrong", "after")


def test_update_never_touches_a_file_when_the_run_cannot_start(
    verify: Verify, tmp_path: Path
) -> None:
    bad = '```console\n$ echo a\nb\n```\n\n```console colour="red"\n$ true\n```\n'
    result = verify(bad, "--update")
    assert result.code == 2
    assert (tmp_path / "docs" / "chapter.md").read_text() == bad


def test_dry_run_alone_is_a_usage_error(verify: Verify) -> None:
    assert verify("```console\n$ true\n```\n", "--dry-run").code == 2


# --- several chapters at once, and shards ----------------------------------------------------


def _book(tmp_path: Path, count: int) -> list[Path]:
    (tmp_path / "mkdocs.yml").write_text("site_name: t\n")
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    paths = []
    for n in range(count):
        path = docs / f"ch{n}.md"
        body = f"```console\n$ sleep 0.3; echo chapter {n}\nchapter {n}\n```\n"
        if n == 1:
            body += "```console\n$ echo wrong\nright\n```\n"
        path.write_text(body)
        paths.append(path)
    return paths


def test_jobs_run_chapters_at_once_with_one_report_and_junit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = _book(tmp_path, 4)
    junit = tmp_path / "junit.xml"
    code = main(["verify", str(tmp_path / "docs"), "-j", "3", "--junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 1
    for n in range(4):
        assert f"docs/ch{n}.md" in out
    # The failing chapter's account is printed whole, in one piece.
    failure = out[out.index("FAILED  docs/ch1.md") :]
    assert failure.index("did not verify") < failure.index("+wrong")
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == [f"docs/ch{n}.md" for n in range(4)]
    store = ResultStore.for_chapter(paths[0])
    records = [store.load(store.key(p)) for p in paths]
    assert [r.passing is not None for r in records] == [True, False, True, True]


def test_shards_are_stable_balanced_and_merge_without_conflict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = _book(tmp_path, 5)
    paths[1].write_text("```console\n$ echo fine\nfine\n```\n")
    seen: list[set[str]] = []
    for k in (1, 2, 3):
        results = tmp_path / f"shard{k}"
        docs = str(tmp_path / "docs")
        assert main(["verify", docs, "--shard", f"{k}/3", "--results", str(results)]) == 0
        out = capsys.readouterr().out
        ran = {p.name for p in results.rglob("*.json")}
        assert f"shard {k}/3" in out
        for name in ran:
            assert name[: -len(".json")] in out  # reported
        for other in {f"ch{n}.md.json" for n in range(5)} - ran:
            assert other[: -len(".json")] not in out  # only its own chapters
        seen.append(ran)
    sizes = sorted(len(s) for s in seen)
    assert sizes[-1] - sizes[0] <= 1 and sum(sizes) == 5
    assert set.union(*seen) == {f"ch{n}.md.json" for n in range(5)}
    assert not (seen[0] & seen[1]) and not (seen[1] & seen[2]) and not (seen[0] & seen[2])
    # Stable: the same slices again.
    again = tmp_path / "again"
    assert main(["verify", docs, "--shard", "2/3", "--results", str(again)]) == 0
    assert {p.name for p in again.rglob("*.json")} == seen[1]


def test_bad_shard_and_jobs_are_usage_errors(tmp_path: Path) -> None:
    _book(tmp_path, 1)
    for bad in (["--shard", "4/3"], ["--shard", "0/2"], ["--shard", "x"], ["-j", "0"]):
        assert main(["verify", str(tmp_path / "docs"), *bad]) == 2


def test_an_interrupted_parallel_run_ends_every_session(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    (tmp_path / "mkdocs.yml").write_text("site_name: t\n")
    (tmp_path / "docs").mkdir()
    markers = ["4242.125", "4242.375"]
    for n, marker in enumerate(markers):
        (tmp_path / "docs" / f"c{n}.md").write_text(f"```console\n$ sleep {marker}\n```\n")

    def pids(marker: str) -> list[str]:
        found = subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True, text=True)
        return found.stdout.split()

    proc = subprocess.Popen(
        [sys.executable, "-m", "runner", "verify", str(tmp_path / "docs"), "-j", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60  # only bounds a hang
    while not all(pids(m) for m in markers):
        assert time.monotonic() < deadline, "the chapters never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    while any(pids(m) for m in markers):
        assert time.monotonic() < deadline + 60, "sessions left behind"
        time.sleep(0.05)
    assert not (tmp_path / "verified").exists()


def test_update_with_jobs_rewrites_every_chapter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = _book(tmp_path, 3)
    for path in paths:
        path.write_text(path.read_text().replace("\nchapter ", "\nold chapter ", 1))
    code = main(["verify", str(tmp_path / "docs"), "-j", "2", "--update"])
    out = capsys.readouterr().out
    assert code == 0, out
    for n, path in enumerate(paths):
        assert f"\nchapter {n}\n" in path.read_text() and "old chapter" not in path.read_text()
    assert main(["verify", str(tmp_path / "docs"), "-j", "2"]) == 0
