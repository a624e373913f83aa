"""An interrupted run leaves no process behind and does not touch the stored results."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _pids(pattern: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    return found.stdout.split()


def _wait_for(predicate, what: str, limit: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_ends_sessions_and_keeps_results(tmp_path: Path, sig: signal.Signals) -> None:
    (tmp_path / "mkdocs.yml").write_text("site_name: t\n")
    chapter = tmp_path / "docs" / "c.md"
    chapter.parent.mkdir()
    marker = f"{4000 + sig.value}.25"
    chapter.write_text(f"```console\n$ echo first\nfirst\n$ sleep {marker}\n```\n")
    results = tmp_path / "verified"
    proc = subprocess.Popen(
        [sys.executable, "-m", "runner", "verify", str(chapter)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _wait_for(lambda: _pids(f"sleep {marker}"), "the chapter's command to start")
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig.value, out  # 143 for SIGTERM, 130 for Ctrl-C
    assert "interrupted (SIGTERM)" in out if sig == signal.SIGTERM else "(Ctrl-C)" in out
    _wait_for(lambda: not _pids(f"sleep {marker}"), "the session's processes to end")
    assert not results.exists()  # nothing recorded for an interrupted run
