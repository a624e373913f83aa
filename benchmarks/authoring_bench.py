"""Authors and CI (issue 11): chapters at once (`-j 2` against `-j 1`, both measured in this
run) on two lab chapters and on the whole book, and `verify --update` on a 300-block chapter
against a plain verify of the same chapter.

Goal: on two lab chapters, `-j 2` takes at most 0.75x the wall time of `-j 1`. Measured on
two short generated lab chapters (their time is mostly CPU: engines starting, a swarm made)
and on two chapters of the book (mostly waiting for a swarm to converge).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from runner.notation import parse_chapter
from runner.update import Outcome, recheck_source, rewrite

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = 300

LAB_CHAPTER = """---
verify:
  lab: {{nodes: 2}}
---

# Bench {n}

```console
$ eval $(docker-machine env node-01)
$ docker swarm init --advertise-addr $(docker-machine ip node-01) > /dev/null
$ docker service create --detach --name web{n} --replicas 2 web > /dev/null 2>&1
$ docker run --rm busybox echo chapter {n}
chapter {n}
```

```console until="60"
$ docker service ls --format '{{{{.Name}}}} {{{{.Replicas}}}}'
web{n} 2/2
```
"""


def _verify(
    paths: list[Path], results: Path, *extra: str, history: bool = False
) -> tuple[float, int, str]:
    """One `verify` process, timed. `history`: start from the book's committed results (as CI
    does), whose durations let `-j` start the longest chapters first."""
    if history and (ROOT / "verified").is_dir():
        shutil.copytree(ROOT / "verified", results, dirs_exist_ok=True)
    cmd = [sys.executable, "-m", "runner", "verify", *map(str, paths), "--force"]
    cmd += ["--results", str(results), *extra]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - start, done.returncode, done.stdout + done.stderr


def _per_chapter(results: Path, since: str) -> dict[str, tuple[float, float]]:
    """chapter -> (its run's duration, of which blocks polling with until=), for the runs
    started at or after `since` (ISO time: not the committed results it started from)."""
    out: dict[str, tuple[float, float]] = {}
    for path in sorted(results.rglob("*.json")):
        data = json.loads(path.read_text())
        run = data.get("latest") or data.get("passing")
        if run is None or run["started"] < since:
            continue
        polling = sum(b["duration"] for b in run["blocks"] if b.get("until"))
        out[run["chapter"]] = (run["duration"], polling)
    return out


def _compare(label: str, paths: list[Path], folder: Path, rounds: int) -> None:
    """-j 1 and -j 2 alternated, `rounds` times each; medians compared."""
    walls: dict[int, list[float]] = {1: [], 2: []}
    for round_ in range(rounds):
        for jobs in (1, 2):
            results = folder / f"{label}-j{jobs}-{round_}"
            since = datetime.now(UTC).isoformat(timespec="seconds")
            wall, code, out = _verify(paths, results, "-j", str(jobs), history=label != "lab")
            walls[jobs].append(wall)
            status = "passed" if code == 0 else f"exit {code}"
            print(f"  -j {jobs}: {wall:7.1f} s wall ({status})")
            chapters = _per_chapter(results, since)
            for chapter, (duration, polling) in chapters.items():
                print(f"      {chapter:34} {duration:6.1f} s in sessions, {polling:5.1f} s polling")
            inside = sum(d for d, _ in chapters.values())
            if jobs == 1:
                print(
                    f"      the rest (labs up and down, start-up): {max(0.0, wall - inside):.1f} s"
                )
            if code not in (0, 1):
                print(out[-2000:])
    one, two = statistics.median(walls[1]), statistics.median(walls[2])
    ratio = two / one
    print(f"  median of {rounds}: -j 1 {one:.1f} s, -j 2 {two:.1f} s, ratio {ratio:.2f}")
    if label != "book":
        print(f"  goal <= 0.75: {'goal met' if ratio <= 0.75 else 'goal MISSED'}")


def _update_bench(folder: Path) -> None:
    # Every third block's second line is out of date: --update has 100 commands to rewrite.
    body = "".join(
        f"```console\n$ echo line {n}; echo second {n}\nline {n}\n"
        + (f"second {n}\n" if n % 3 else "old text\n")
        + "```\n\n"
        for n in range(BLOCKS)
    )
    source = f"# Gros chapitre\n\n{body}"
    path = folder / "docs" / "big.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    (folder / "mkdocs.yml").write_text("site_name: bench\n")
    fixed_text = "".join(
        f"```console\n$ echo line {n}; echo second {n}\nline {n}\nsecond {n}\n```\n\n"
        for n in range(BLOCKS)
    )
    path.write_text(f"# Gros chapitre\n\n{fixed_text}")
    plain, code, out = _verify([path], folder / "res-plain")
    if code != 0:
        print(out[-2000:])
    path.write_text(source)
    update, code_u, out_u = _verify([path], folder / "res-update", "--update")
    rewritten = path.read_text() == f"# Gros chapitre\n\n{fixed_text}"
    print(f"  {BLOCKS} blocks, {BLOCKS // 3} of them with a wrong line:")
    print(f"  plain verify (passing chapter)      {plain:6.2f} s (exit {code})")
    print(
        f"  verify --update (rewrite + recheck) {update:6.2f} s (exit {code_u}; "
        f"rewritten to the passing chapter: {'yes' if rewritten else 'NO'})"
    )
    print(f"  ratio update / plain = {update / plain:.2f}")
    # The rewrite alone (align, write, parse again, recheck), from the same outputs, in process.
    chapter = parse_chapter(path, source)
    outcomes = {
        (n, 0): Outcome(n, 0, f"line {n}\nsecond {n}", 0, ok=n % 3 != 0, mismatch=n % 3 == 0)
        for n in range(BLOCKS)
    }
    start = time.perf_counter()
    new = rewrite(chapter, outcomes)
    problems = recheck_source(path, new, outcomes, frozenset())
    took = time.perf_counter() - start
    print(f"  of which the rewrite and its recheck, in process: {took * 1000:.0f} ms ({problems})")
    if code_u != 0:
        print(out_u[-2000:])


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-authoring-") as tmp:
        folder = Path(tmp)
        print(f"verify --update on a {BLOCKS}-block generated chapter:")
        _update_bench(folder / "update")
        lab = folder / "lab"
        (lab / "docs").mkdir(parents=True)
        (lab / "mkdocs.yml").write_text("site_name: bench\n")
        chapters = []
        for n in (1, 2):
            path = lab / "docs" / f"bench-{n}.md"
            path.write_text(LAB_CHAPTER.format(n=n))
            chapters.append(path)
        print("two lab chapters (2 nodes each, a swarm, a service, until= polling):")
        _compare("lab", chapters, folder, rounds=3)
        print("two chapters of the book (swarm parts 1 and 2):")
        swarm = [ROOT / "docs" / "swarm" / f"partie-{n}.md" for n in (1, 2)]
        _compare("two-book-chapters", swarm, folder, rounds=1)
        print("the whole book (docs/):")
        _compare("book", [ROOT / "docs"], folder, rounds=1)
        shutil.rmtree(folder, ignore_errors=True)
