"""The lab's command line and start, faced with other users' labs and impatient Ctrl-C."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from runner.lab import census
from runner.lab.cli import main as lab_main
from runner.lab.engine import EngineError  # noqa: F401  (the lab package is importable)
from tests.faults.conftest import book, runner

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="the netns lab needs root"),
]


def _lab_id(text: str) -> str:
    found = re.search(r"# lab (\w+) ", text)
    assert found, text
    return found.group(1)


def test_lab_down_without_names_keeps_live_labs() -> None:
    made = runner("lab", "up")
    assert made.code == 0, made.out
    lab_id = _lab_id(made.out)
    try:
        down = runner("lab", "down")
        assert down.code == 0, down.out
        assert Path(f"/run/book-lab/{lab_id}").is_dir(), down.out  # someone's lab: kept
        assert f"kept live lab(s) {lab_id}" in down.out or lab_id in down.out
    finally:
        named = runner("lab", "down", lab_id)
    assert named.code == 0 and f"removed lab {lab_id}" in named.out, named.out
    assert [r for r in census.census() if r.lab == lab_id] == []


def test_non_root_status_does_not_call_a_live_lab_stale() -> None:
    made = runner("lab", "up")
    assert made.code == 0, made.out
    lab_id = _lab_id(made.out)
    try:
        # The real CLI, in a child that really is another user (the lock file is root's).
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover (child)
            os.close(read)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            out = io.StringIO()
            with redirect_stdout(out):
                code = lab_main(["status"])
            os.write(write, f"{code}\n{out.getvalue()}".encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as fh:
            text = fh.read()
        os.waitpid(pid, 0)
        line = next(line for line in text.splitlines() if f"lab {lab_id}" in line)
        assert "stale" not in line and "by hand" in line, text
    finally:
        runner("lab", "down", lab_id)


def test_double_ctrl_c_during_lab_start_does_not_hang(tmp_path: Path) -> None:
    chapter = book(tmp_path, "---\nverify:\n  lab: {nodes: 3}\n---\n```console\n$ true\n```\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "runner", "verify", str(chapter)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Wait until the lab's nodes are being made, then press Ctrl-C twice, as an impatient reader.
    before = set(Path("/run/book-lab").glob("*")) if Path("/run/book-lab").is_dir() else set()
    deadline = time.monotonic() + 300
    mine: set[Path] = set()
    while not mine:
        assert proc.poll() is None and time.monotonic() < deadline, "the lab never started"
        now = set(Path("/run/book-lab").glob("*")) if Path("/run/book-lab").is_dir() else set()
        mine = {p for p in now - before if p.is_dir() and any(p.glob("nodes/*"))}
        time.sleep(0.02)
    time.sleep(0.5)  # engines starting: the workers are waiting for them
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("interrupted"):
            # The run says it is over: no worker thread may still be waiting for an engine
            # (they kept the process alive for 30 s after this message).
            try:
                threads = len(os.listdir(f"/proc/{proc.pid}/task"))
            except FileNotFoundError:
                threads = 0
            assert threads <= 1, f"{threads} threads still running after: {line}"
    proc.wait()
    out = "".join(lines)
    # 130, or killed by the second SIGINT once the run had said it was over: a shell shows
    # both as 130.
    assert proc.returncode in (130, -signal.SIGINT), out
    assert "Traceback" not in out, out
    for folder in mine:
        assert [r for r in census.census() if r.lab == folder.name] == [], out
