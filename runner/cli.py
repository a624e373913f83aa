"""`python -m runner verify|lab|handouts`: the command line.

Exit status: 0 every executed block passed; 1 a block failed; 2 a usage or notation error, or
an environment that cannot run the chapters (said plainly).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from runner.chapters import find_chapters
from runner.lab.base import Lab, LabError
from runner.model import Chapter
from runner.notation import NotationError, parse_chapter
from runner.records import ChapterRecord, ChapterRun, ResultsError, chapter_hash
from runner.run.execute import RunContext, run_chapter
from runner.run.home import clean_stale_homes
from runner.run.junit import write_junit
from runner.run.report import Reporter
from runner.run.tracking import clean_stale as clean_stale_sessions
from runner.store import ResultStore, writable_problem
from runner.version import runner_version

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


class Interrupted(BaseException):
    """SIGTERM/SIGHUP, turned into an exception so that every `finally` (lab teardown) runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["lab"]:
        from runner.lab.cli import main as lab_main

        return lab_main(args[1:])
    if args[:1] == ["handouts"]:
        from runner.handouts.cli import main as handouts_main

        return handouts_main(args[1:])
    parser = _parser()
    options = parser.parse_args(args)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    try:
        return verify(options)
    except (KeyboardInterrupt, Interrupted) as exc:
        # The shell's convention: 128 + the signal's number (130 Ctrl-C, 143 SIGTERM).
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        print(
            f"\ninterrupted ({name}): sessions ended, lab removed, nothing of this run recorded",
            file=sys.stderr,
        )
        return 128 + signum


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m runner", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="verify|lab|handouts")
    verify_cmd = sub.add_parser("verify", help="verify chapters (default: docs/)")
    verify_cmd.add_argument("paths", nargs="*", type=Path, help="chapter files or folders")
    verify_cmd.add_argument("--results", type=Path, help="results folder (default: verified/)")
    verify_cmd.add_argument("--force", action="store_true", help="ignore the cache")
    verify_cmd.add_argument("--junit", type=Path, help="write JUnit XML to this file")
    verify_cmd.add_argument("--provider", help="lab provider (default: netns, or machine)")
    sub.add_parser("lab", help="manage a lab by hand: up|down|status|census")
    sub.add_parser("handouts", help="write the workshop handouts (PDF)")
    return parser


@dataclass(frozen=True)
class Planned:
    path: Path
    chapter: Chapter
    store: ResultStore
    key: str
    lab_key: str


def _lab_key(chapter: Chapter, provider: str | None) -> str:
    if chapter.lab is None:
        return "none"
    name = chapter.lab.provider or provider or "default"
    return json.dumps({"provider": name, "nodes": list(chapter.lab.nodes)}, sort_keys=True)


def verify(options: argparse.Namespace) -> int:
    reporter = Reporter()
    try:
        files = find_chapters(options.paths)
    except FileNotFoundError as exc:
        reporter.error(f"{exc}; give chapter files or folders (default: docs/)")
        return EXIT_ERROR
    if not files:
        reporter.error("no chapters (*.md) found; give chapter files or folders")
        return EXIT_ERROR
    # Parse everything first: a notation error stops us before any command runs.
    planned: list[Planned] = []
    for path in files:
        try:
            chapter = parse_chapter(path)
        except NotationError as exc:
            reporter.error(f"{exc}\n(fix the notation; the reference is NOTATION.md)")
            return EXIT_ERROR
        if not chapter.blocks:
            reporter.note(f"{path}: no console block, nothing to verify")
            continue  # nothing to record either
        store = ResultStore.for_chapter(path, options.results)
        planned.append(
            Planned(path, chapter, store, store.key(path), _lab_key(chapter, options.provider))
        )
    # Then what can be checked of where results go, before any lab starts.
    problem = writable_problem(
        [item.store.folder for item in planned], options.junit, options.results
    )
    if problem is not None:
        reporter.error(problem)
        return EXIT_ERROR
    for leftover in [*clean_stale_homes(), *clean_stale_sessions()]:
        reporter.note(f"removed what a killed run left: {leftover}")
    version = runner_version()
    runs: list[ChapterRun] = []
    failed = False
    unsaved = False
    for item in planned:
        try:
            record = item.store.load(item.key)
        except ResultsError as exc:
            what = str(exc).split("; delete the file")[0]
            try:
                aside = item.store.set_aside(item.key)
            except OSError as move:
                reporter.error(f"{what}; it could not be moved aside ({move}): remove it")
                return EXIT_ERROR
            reporter.error(f"{what}; moved aside to {aside}; the chapter runs as if never run")
            record = ChapterRecord()
        passing = record.passing
        if (
            not options.force
            and record.latest is None  # a newer failed run: run again, don't hide it
            and passing is not None
            and passing.source_hash == chapter_hash(item.chapter)
            and passing.runner_version == version
            and passing.lab_key == item.lab_key
        ):
            reporter.cached(item.key, passing)
            continue
        try:
            run = _run_one(item, options, version, reporter)
        except LabError as exc:
            reporter.error(f"{item.path}: the lab cannot start here: {exc}")
            return EXIT_ERROR
        finally:
            reporter.stop()
        runs.append(run)
        reporter.chapter_done(item.key, item.path, run)
        failed = failed or run.status != "passed"
        try:
            item.store.save(run)
        except (OSError, ResultsError) as exc:
            # The verdict above stands; what could not be kept is said, and the run exits 2.
            reporter.error(f"{item.path}: the results could not be written: {exc}")
            unsaved = True
    if options.junit:
        try:
            write_junit(options.junit, runs)
        except OSError as exc:
            reporter.error(f"the JUnit report could not be written to {options.junit}: {exc}")
            unsaved = True
    if not planned:
        reporter.note("nothing to verify")
    if unsaved:
        return EXIT_ERROR
    return EXIT_FAILED if failed else EXIT_OK


def _base_env() -> dict[str, str]:
    """What sessions inherit: enough to find programs, nothing of the author's shell."""
    env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "LANG": "C.UTF-8"}
    for name in ("USER", "LOGNAME", "TZ"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _run_one(
    item: Planned, options: argparse.Namespace, version: str, reporter: Reporter
) -> ChapterRun:
    progress = reporter.start_chapter(item.chapter, item.key)
    lab: Lab | None = None
    try:
        if item.chapter.lab is not None:
            from runner.lab import default_provider

            provider = default_provider(item.chapter.lab.provider or options.provider or "netns")
            reporter.lab_starting(item.chapter.lab.nodes, provider.name)
            lab = provider.up(item.chapter.lab.nodes)
        ctx = RunContext(
            chapter=item.chapter,
            chapter_key=item.key,
            runner_version=version,
            lab_key=item.lab_key,
            lab=lab,
            base_env=_base_env(),
            progress=progress,
        )
        return run_chapter(ctx)
    finally:
        if lab is not None:
            lab.down()
