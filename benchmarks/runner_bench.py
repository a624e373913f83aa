"""Per-command cost of the runner on 1,000 commands, beside byexample and a minimal pexpect loop.

All three run the same commands in the same run, on this machine, so the ratio is what counts.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect

COMMANDS = 1000
REPEATS = 3


def commands() -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for i in range(COMMANDS):
        if i % 10 == 9:
            out.append((f"printf 'line {i}\\nsecond\\nthird\\n'", [f"line {i}", "second", "third"]))
        else:
            out.append((f"echo hello {i}", [f"hello {i}"]))
    return out


def chapter_text(language: str) -> str:
    body = "".join(
        f"$ {cmd}\n" + "".join(f"{line}\n" for line in lines) for cmd, lines in commands()
    )
    return f"# Bench\n\n```{language}\n{body}```\n"


def time_runner(folder: Path) -> float:
    """The whole `python -m runner verify` process, as byexample's is timed."""
    path = folder / "runner.md"
    path.write_text(chapter_text("console"))
    cmd = [sys.executable, "-m", "runner", "verify", str(path), "--force"]
    cmd += ["--results", str(folder / "res")]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"runner failed:\n{done.stdout[-2000:]}")
    return elapsed


def time_byexample(folder: Path) -> float | None:
    exe = shutil.which("byexample") or str(Path(sys.executable).parent / "byexample")
    if not Path(exe).exists():
        return None
    path = folder / "byexample.md"
    path.write_text(chapter_text("shell"))
    start = time.perf_counter()
    done = subprocess.run(
        [exe, "-l", "shell", "--timeout", "30", str(path)], capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"byexample failed:\n{done.stdout[-2000:]}")
    return elapsed


def time_pexpect_loop() -> float:
    """The floor: one bash, a unique prompt, sendline/expect, no checking at all."""
    start = time.perf_counter()
    child = pexpect.spawn(
        "bash", ["--norc", "--noprofile", "--noediting"], encoding="utf-8", echo=False
    )
    child.delaybeforesend = None
    child.sendline("PS1='[BENCH''>'")
    prompt = re.compile(r"\[BENCH>")
    child.expect(prompt)
    for cmd, _lines in commands():
        child.sendline(cmd)
        child.expect(prompt)
    child.close(force=True)
    return time.perf_counter() - start


def time_startup(folder: Path) -> float:
    path = folder / "one.md"
    path.write_text("```console\n$ echo one\none\n```\n")
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "runner",
                "verify",
                str(path),
                "--results",
                str(folder / "res"),
                "--force",
            ],
            check=True,
            capture_output=True,
        )
        best = min(best, time.perf_counter() - start)
    return best


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ours = statistics.median(time_runner(folder) for _ in range(REPEATS))
        theirs_runs = [time_byexample(folder) for _ in range(REPEATS)]
        floor = statistics.median(time_pexpect_loop() for _ in range(REPEATS))
        startup = time_startup(folder)
    print(f"{COMMANDS} commands, median of {REPEATS} runs, per command:")
    print(f"  runner            {ours / COMMANDS * 1000:8.3f} ms (whole process, startup included)")
    if None in theirs_runs:
        print("  byexample         not installed (pip install byexample): no comparison")
    else:
        theirs = statistics.median(t for t in theirs_runs if t is not None)
        print(
            f"  byexample -l shell{theirs / COMMANDS * 1000:8.3f} ms "
            "(whole process, startup included)"
        )
        ratio = ours / theirs
        verdict = "goal met" if ratio <= 1.0 else "goal MISSED"
        print(f"  ratio runner/byexample = {ratio:.2f} (goal <= 1.0: {verdict})")
    print(f"  minimal pexpect   {floor / COMMANDS * 1000:8.3f} ms (no checking: the floor)")
    verdict = "goal met" if startup < 0.5 else "goal MISSED"
    print(
        f"runner start, one-command chapter end to end: {startup:.3f} s (goal < 0.5 s: {verdict})"
    )
