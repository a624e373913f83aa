"""`mkdocs build` of the book with the `verified` plugin against the same build without it.

Both builds run in this process, alternately, on a copy of the book (docs/, verified/,
mkdocs.yml); the median of several builds of each is compared. Chapters that have no stored
results yet get stand-in results made from their own expected output, so that the plugin does
all of its work (transcripts, badges, report) as it will once the book is verified.
Goal: the plugin adds under 20 %.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from runner.chapters import find_chapters
from runner.model import Chapter
from runner.notation import NotationError, parse_chapter
from runner.publish.book import may_have_blocks
from runner.records import BlockResult, ChapterRun, CommandResult, LabInfo, block_hash, chapter_hash
from runner.store import ResultStore

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 7
GOAL = 0.20


def _stand_in(chapter: Chapter, key: str) -> ChapterRun:
    blocks = tuple(
        BlockResult(
            index=b.index,
            line=b.loc.line,
            status="passed" if b.verified else "skipped",
            session=b.options.session,
            hidden=b.options.hidden,
            reason=b.options.skip,
            source_hash=block_hash(b),
            commands=tuple(
                CommandResult(
                    line=c.loc.line,
                    prompt=c.prompt,
                    command=c.text,
                    output="\n".join(e.text for e in c.expected),
                    status=c.status or 0,
                    duration=0.01,
                )
                for c in b.commands
            )
            if b.verified
            else (),
        )
        for b in chapter.blocks
    )
    return ChapterRun(
        chapter=key, title=chapter.title, source_hash=chapter_hash(chapter),
        runner_version="bench", lab_key="bench", lab=LabInfo("netns", engine_version="bench"),
        started="2026-01-01T00:00:00+00:00", duration=0.0, status="passed", blocks=blocks,
    )  # fmt: skip


def _prepare(work: Path) -> tuple[Path, Path, int, int]:
    """The book copied into `work`, with a config that has the plugin and one that has not."""
    book = work / "book"
    shutil.copytree(ROOT / "docs", book / "docs")
    if (ROOT / "verified").is_dir():
        shutil.copytree(ROOT / "verified", book / "verified")
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    on = book / "mkdocs.yml"
    on.write_text(text, encoding="utf-8")
    off = book / "mkdocs-off.yml"
    off.write_text(_without_plugin(text), encoding="utf-8")
    store = ResultStore(folder=book / "verified", root=book)
    pages = stood_in = 0
    for path in find_chapters([book / "docs"]):
        pages += 1
        source = path.read_text(encoding="utf-8")
        if not may_have_blocks(source):
            continue
        try:
            chapter = parse_chapter(path, source)
        except NotationError:
            continue
        key = store.key(path)
        if chapter.blocks and store.load(key).passing is None:
            store.save(_stand_in(chapter, key))
            stood_in += 1
    return on, off, pages, stood_in


def _without_plugin(config: str) -> str:
    """mkdocs.yml with the `verified` entry taken out of `plugins:` (the rest untouched)."""
    out: list[str] = []
    skipping = False
    for line in config.splitlines():
        stripped = line.strip()
        if stripped.startswith("- verified"):
            skipping = True
            indent = len(line) - len(line.lstrip())
            continue
        if skipping and stripped and len(line) - len(line.lstrip()) > indent:
            continue
        skipping = False
        out.append(line)
    return "\n".join(out) + "\n"


def _without_report(config: str) -> str:
    """The plugin kept, its generated report page turned off."""
    return config.replace("report: rapport-verification.md", 'report: ""')


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float  # user + system time of the build's process: steadier on a busy machine


def _build(config: Path, site: Path) -> Timing:
    """One `mkdocs build`, as a user runs it: a fresh process each time."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config), "-d", str(site)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=config.parent, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="site-bench-") as tmp:
        on, off, pages, stood_in = _prepare(Path(tmp))
        site = Path(tmp) / "site"
        _build(off, site), _build(on, site)  # warm-up: the OS's file cache, Jinja's on-disk cache
        # The same build without the generated report page (one more full page to render):
        # shows how much of the overhead is that page rather than the blocks.
        no_report = on.with_name("mkdocs-no-report.yml")
        no_report.write_text(_without_report(on.read_text(encoding="utf-8")), encoding="utf-8")
        times: dict[str, list[Timing]] = {"off": [], "on": [], "no-report": []}
        for _ in range(ROUNDS):
            times["off"].append(_build(off, site))
            times["on"].append(_build(on, site))
            times["no-report"].append(_build(no_report, site))
    print(
        f"book: {pages} pages ({stood_in} chapters with stand-in results); "
        f"`mkdocs build` in a fresh process, median of {ROUNDS}"
    )
    for measure in ("wall", "cpu"):
        without = statistics.median(getattr(t, measure) for t in times["off"])
        with_plugin = statistics.median(getattr(t, measure) for t in times["on"])
        overhead = with_plugin / without - 1
        verdict = "ok" if overhead < GOAL else "OVER GOAL"
        print(
            f"{measure:>4} time: plugin off {without:.3f} s, plugin on {with_plugin:.3f} s, "
            f"overhead {overhead:+.1%} (goal < {GOAL:.0%}) {verdict}"
        )
    without = statistics.median(t.cpu for t in times["off"])
    bare = statistics.median(t.cpu for t in times["no-report"])
    print(
        f"  of which the report page: plugin on without it {bare:.3f} s cpu, "
        f"overhead {bare / without - 1:+.1%}"
    )


if __name__ == "__main__":
    run()
