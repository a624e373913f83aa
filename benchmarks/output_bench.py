"""Time to verify one command by the size of its output (1, 2, 5, 10 MB), beside the floor:
the same output read from a pty by a bare pexpect loop, in the same run. Reading must stay
linear: the time per MB at 10 MB should be that at 1 MB, not ten times it."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect

SIZES_MB = (1, 2, 5, 10)
REPEATS = 3


def producer(mb: int, letter: str = "a") -> str:
    return f"head -c {mb * 1_000_000} /dev/zero | tr '\\0' {letter} | fold -w 99"


def time_verify(folder: Path, mb: int) -> float:
    chapter = folder / "docs" / f"out{mb}.md"
    chapter.write_text(f"```console\n$ {producer(mb)}\n...\n$ echo done\ndone\n```\n")
    cmd = [sys.executable, "-m", "runner", "verify", str(chapter), "--force"]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"verify failed at {mb} MB:\n{done.stdout[-2000:]}")
    return elapsed


def time_floor(mb: int) -> float:
    """A bash in a pty printing the output, read to the end with no search at all."""
    start = time.perf_counter()
    child = pexpect.spawn("bash", ["-c", producer(mb)], encoding="utf-8", echo=False)
    while True:
        try:
            child.read_nonblocking(1 << 16, timeout=30)
        except pexpect.EOF:
            break
    child.close()
    return time.perf_counter() - start


def failing(folder: Path) -> tuple[float, int, int]:
    """A failing 5 MB output: seconds, lines printed, bytes stored."""
    chapter = folder / "docs" / "fail.md"
    chapter.write_text(f"```console\n$ {producer(5, 'b')}\nnot this\n```\n")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "runner", "verify", str(chapter), "--force"],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    stored = sum(p.stat().st_size for p in (folder / "verified").rglob("fail.md.json"))
    return elapsed, len((done.stdout + done.stderr).splitlines()), stored


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "mkdocs.yml").write_text("site_name: bench\n")
        (folder / "docs").mkdir()
        print(f"one command printing N MB (lines of 99 characters), median of {REPEATS} runs:")
        print("   MB   verify (s)   pty floor (s)   verify s/MB")
        per_mb = {}
        for mb in SIZES_MB:
            ours = statistics.median(time_verify(folder, mb) for _ in range(REPEATS))
            floor = statistics.median(time_floor(mb) for _ in range(REPEATS))
            per_mb[mb] = ours / mb
            print(f"  {mb:3d}   {ours:10.2f}   {floor:13.2f}   {per_mb[mb]:11.3f}")
        ten = per_mb[10] * 10
        verdict = "goal met" if ten < 3.0 else "goal MISSED"
        print(f"10 MB verified in {ten:.2f} s (goal < 3 s on this machine: {verdict})")
        growth = per_mb[10] / per_mb[1]
        print(
            f"time per MB at 10 MB / at 1 MB = {growth:.2f} "
            f"(linear reading: about 1 or below; quadratic would be about 10)"
        )
        seconds, printed, stored = failing(folder)
        print(
            f"failing 5 MB output: {seconds:.2f} s, {printed} lines printed, "
            f"{stored / 1000:.0f} kB stored"
        )
