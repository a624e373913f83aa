"""The fault suite (issue 9): every fault here happens for real (real bash sessions, real
signals, a real read-only or full filesystem mounted for the test), nothing is patched."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.runner.conftest import Verified, verify  # noqa: F401  (the fixture, shared)

Verify = Callable[..., Verified]


@dataclass(frozen=True)
class Done:
    code: int
    out: str


def runner(*args: str, cwd: Path | None = None) -> Done:
    """`python -m runner ...` in a process of its own, as a reader would type it."""
    done = subprocess.run(
        [sys.executable, "-m", "runner", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    return Done(done.returncode, done.stdout + done.stderr)


def book(folder: Path, text: str, name: str = "c.md") -> Path:
    (folder / "mkdocs.yml").write_text("site_name: t\n")
    (folder / "docs").mkdir(exist_ok=True)
    path = folder / "docs" / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Mount small tmpfs filesystems for a test (root only), unmounted after it."""
    mounted: list[Path] = []

    def mount(name: str, size: str = "1m", options: str = "") -> Path:
        point = tmp_path / name
        point.mkdir()
        opts = f"size={size}" + (f",{options}" if options else "")
        subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(point)], check=True)
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "--lazy", str(point)], check=False)


def read_only(point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)
