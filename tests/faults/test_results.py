"""Where results cannot be written: said before any lab starts (exit 2); a corrupt stored file
is set aside; a write that fails at the end still prints the verdict, and exits 2. Real
read-only and full filesystems (tmpfs mounted for the test), no patching."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.conftest import book, read_only, runner

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")

CHAPTER = "```console\n$ touch {marker}\n$ echo ok\nok\n```\n"
Mount = Callable[..., Path]


def test_read_only_results_folder_exit_2_before_anything_runs(tmp_path: Path, tmpfs: Mount) -> None:
    marker = tmp_path / "ran"
    chapter = book(tmp_path, CHAPTER.format(marker=marker))
    results = tmpfs("ro")
    read_only(results)
    done = runner("verify", str(chapter), "--results", str(results / "verified"))
    assert done.code == 2, done.out
    assert "cannot write" in done.out and "Read-only file system" in done.out, done.out
    assert not marker.exists() and "Traceback" not in done.out


def test_results_naming_a_file(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    chapter = book(tmp_path, CHAPTER.format(marker=marker))
    (tmp_path / "afile").write_text("x")
    done = runner("verify", str(chapter), "--results", str(tmp_path / "afile"))
    assert done.code == 2 and "is a file" in done.out, done.out
    assert not marker.exists()


def test_junit_where_it_cannot_be_written(tmp_path: Path, tmpfs: Mount) -> None:
    marker = tmp_path / "ran"
    chapter = book(tmp_path, CHAPTER.format(marker=marker))
    place = tmpfs("ro")
    read_only(place)
    done = runner("verify", str(chapter), "--junit", str(place / "missing" / "j.xml"))
    assert done.code == 2 and "--junit" in done.out, done.out
    assert not marker.exists() and "Traceback" not in done.out


@pytest.mark.parametrize("content", [b"[1]", b"\xff\xfe not utf-8", b"{not json"])
def test_a_corrupt_results_file_is_set_aside(tmp_path: Path, content: bytes) -> None:
    chapter = book(tmp_path, CHAPTER.format(marker=tmp_path / "ran"))
    stored = tmp_path / "verified" / "docs" / "c.md.json"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(content)
    done = runner("verify", str(chapter))
    assert done.code == 0, done.out
    assert str(stored) in done.out and "moved aside" in done.out, done.out
    aside = list(stored.parent.glob("c.md.json.unreadable-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == content  # kept, not lost
    assert '"status": "passed"' in stored.read_text()


def test_a_full_disk_at_the_end_prints_the_verdict_and_exits_2(
    tmp_path: Path, tmpfs: Mount
) -> None:
    results = tmpfs("full", size="64k")
    first = book(tmp_path, "```console\n$ echo small\nsmall\n```\n")
    assert runner("verify", str(first), "--results", str(results)).code == 0
    stored = next(results.rglob("*.json"))
    before = stored.read_bytes()
    # The filler takes what is left; the check before the run still finds room for a probe.
    filler = results / "filler"
    try:
        with filler.open("wb") as fh:
            while True:
                fh.write(b"x" * 1024)
                fh.flush()
    except OSError:
        pass
    os.truncate(filler, max(0, filler.stat().st_size - 8192))  # a little room: the probe passes
    big = book(
        tmp_path,
        "```console\n$ seq -f '%0100g' 1 3000\n...\n```\n\n```console\n$ echo ok\nok\n```\n",
    )
    assert big == first
    done = runner("verify", str(big), "--results", str(results))
    assert done.code == 2, done.out
    assert "passed" in done.out  # the verdict
    assert "could not be written" in done.out and "No space left" in done.out, done.out
    assert stored.read_bytes() == before  # the last good results survive
    assert "Traceback" not in done.out


def test_no_write_access_as_another_user_exit_2(tmp_path: Path) -> None:
    """A real user without write access (the results folder is root's, mode 755)."""
    import shutil
    import tempfile

    from runner.cli import main

    folder = Path(tempfile.mkdtemp(prefix="faults-access-"))
    try:
        folder.chmod(0o755)
        (folder / "open").mkdir()
        (folder / "open").chmod(0o777)  # the chapter could write there: it must not run
        marker = folder / "open" / "ran"
        chapter = book(folder, CHAPTER.format(marker=marker))
        (folder / "verified").mkdir()  # root's
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover (child)
            os.close(read)
            code = 99
            try:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
                code = main(["verify", str(chapter)])
            finally:
                os.write(write, str(code).encode())
                os._exit(0)
        os.close(write)
        with os.fdopen(read) as fh:
            code = int(fh.read() or -1)
        os.waitpid(pid, 0)
        assert code == 2
        assert not marker.exists()
    finally:
        shutil.rmtree(folder)
