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
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType

from runner import bookconfig
from runner.chapters import find_chapters
from runner.lab import engines
from runner.lab.base import Lab, LabError
from runner.lab.engines import Bundle
from runner.model import Block, Chapter
from runner.notation import NotationError, parse_chapter
from runner.records import ChapterRecord, ChapterRun, ResultsError, chapter_hash
from runner.run.batch import Cancelled, longest_first, parse_shard, run_all, shard
from runner.run.execute import RunContext, run_chapter
from runner.run.home import clean_stale_homes
from runner.run.junit import write_junit
from runner.run.report import Reporter
from runner.run.session import Shell
from runner.run.tracking import clean_stale as clean_stale_sessions
from runner.startpoint import NO_SETUP, Setup, load_setup
from runner.store import ResultStore, atomic_write, find_project_root, writable_problem
from runner.update import Outcome, recheck_source, rewrite, unified_diff
from runner.version import runner_version

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
# Chapters run at once by default: 2 (1 on a 1-CPU machine). Measured by `nox -s bench` on
# this book's 2-core, shared machine: the book took 0.51x the wall time of -j 1 with -j 2
# (longest chapters first). A chapter's time is mostly waiting (engines, a swarm converging),
# which overlaps well; more jobs would mostly add load (see README).
DEFAULT_JOBS = min(2, os.cpu_count() or 1)


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
    verify_cmd.add_argument(
        "--provider",
        help="lab provider: netns, vm or machine (default: the cheapest, netns then vm, "
        "having every capability the chapter's blocks require)",
    )
    verify_cmd.add_argument(
        "--update",
        action="store_true",
        help="rewrite the expected output of the commands that did not match",
    )
    verify_cmd.add_argument(
        "--dry-run", action="store_true", help="with --update: print the diff, write nothing"
    )
    verify_cmd.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        help=f"chapters run at once, each on its own lab (default {DEFAULT_JOBS})",
    )
    verify_cmd.add_argument("--shard", metavar="K/N", help="run the K-th of N slices of the book")
    verify_cmd.add_argument(
        "--engine",
        action="append",
        metavar="GENERATION",
        help="Docker Engine generation, e.g. 26.1 (repeatable; `all`: every engine of the "
        "book's list in mkdocs.yml; default: the book's primary engine)",
    )
    sub.add_parser("lab", help="manage a lab by hand: up|down|status|census")
    sub.add_parser("handouts", help="write the workshop handouts (PDF)")
    return parser


@dataclass(frozen=True)
class LabChoice:
    """A lab provider, and the capabilities it was chosen for (none when it was named)."""

    name: str
    chosen_for: tuple[str, ...]


@dataclass(frozen=True)
class Planned:
    path: Path
    chapter: Chapter
    store: ResultStore
    key: str
    lab_key: str
    setup: Setup
    engine: Bundle  # the Docker Engine generation it runs on (client and, with a lab, nodes)
    provider: LabChoice | None  # the lab it runs on; None: no lab

    @property
    def label(self) -> str:
        """Unique among the planned runs: a chapter runs once per engine."""
        return f"{self.key} [Docker {self.engine.generation}]"


@dataclass
class Done:
    """A chapter that ran, and what its commands printed in full (for --update)."""

    item: Planned
    run: ChapterRun
    outcomes: dict[tuple[int, int], Outcome] = field(default_factory=dict)


def _provider(chapter: Chapter, forced: str | None, setup: Setup = NO_SETUP) -> LabChoice | None:
    """Which lab provider a chapter runs on: the one its front matter or `--provider` names,
    else the cheapest that has every capability its blocks require. None: no lab."""
    lab = setup.lab if setup.parts else chapter.lab
    if lab is None:
        return None
    named = lab.provider or forced
    if named is not None:
        return LabChoice(named, ())
    from runner.lab import choose_provider

    needs = tuple(sorted({cap for block in chapter.blocks for cap in block.options.requires}))
    return LabChoice(choose_provider(set(needs)), needs)


def _lab_key(
    chapter: Chapter, provider: LabChoice | None, engine: Bundle, setup: Setup = NO_SETUP
) -> str:
    lab = setup.lab if setup.parts else chapter.lab
    # The engine's exact packages: a bundle fetched anew (another Debian revision) re-runs.
    packages = engine.packages
    if lab is None or provider is None:
        key = json.dumps({"client": packages.get("docker-cli", packages.get("docker.io"))})
    else:
        # The provider that runs it, named or chosen: a run on netns chosen by default and
        # one forced with --provider netns are the same lab.
        name = provider.name
        key = json.dumps(
            {"provider": name, "nodes": list(lab.nodes), "engine": packages}, sort_keys=True
        )
    # A chapter that starts from others runs again when one of them changes.
    return key if not setup.parts else f"{key} starts-from {setup.key}"


def _engines(wanted: list[str] | None, book: bookconfig.BookConfig) -> tuple[str, ...]:
    """The generations asked for (`all`: the book's list), else the book's primary one."""
    if not wanted:
        return (book.primary,)
    out: list[str] = []
    for item in wanted:
        for name in book.engines if item == "all" else item.split(","):
            engines.check_generation(name.strip())
            if name.strip() not in out:
                out.append(name.strip())
    return tuple(out)


def _usage(options: argparse.Namespace) -> str | None:
    if options.dry_run and not options.update:
        return "--dry-run goes with --update (print the rewrite, write nothing)"
    if options.jobs < 1:
        return "-j takes a number of chapters at once, 1 or more"
    if options.shard is not None:
        try:
            parse_shard(options.shard)
        except ValueError as exc:
            return str(exc)
    return None


def verify(options: argparse.Namespace) -> int:
    reporter = Reporter()
    problem = _usage(options)
    if problem is not None:
        reporter.error(problem)
        return EXIT_ERROR
    try:
        files = find_chapters(options.paths)
    except FileNotFoundError as exc:
        reporter.error(f"{exc}; give chapter files or folders (default: docs/)")
        return EXIT_ERROR
    if not files:
        reporter.error("no chapters (*.md) found; give chapter files or folders")
        return EXIT_ERROR
    try:
        book = bookconfig.load(find_project_root(files[0].parent))
        wanted_engines = _engines(options.engine, book)
        # Fetched (once, into the lab's cache) before anything runs.
        bundles = [engines.bundle(name) for name in wanted_engines]
    except (LabError, bookconfig.BookConfigError) as exc:
        reporter.error(f"engines: {exc}")
        return EXIT_ERROR
    if options.update and len(bundles) > 1:
        reporter.error("--update rewrites a chapter for one engine at a time: give one --engine")
        return EXIT_ERROR
    # Parse everything first: a notation error stops us before any command runs.
    planned: list[Planned] = []
    for path in files:
        try:
            chapter = parse_chapter(path)
            setup = load_setup(chapter, parse_chapter)
        except NotationError as exc:
            reporter.error(f"{exc}\n(fix the notation; the reference is NOTATION.md)")
            return EXIT_ERROR
        if not chapter.blocks:
            reporter.note(f"{path}: no console block, nothing to verify")
            continue  # nothing to record either
        store = ResultStore.for_chapter(path, options.results, primary=book.primary)
        choice = _provider(chapter, options.provider, setup)
        for bundle in bundles:
            planned.append(
                Planned(
                    path,
                    chapter,
                    store,
                    store.key(path),
                    _lab_key(chapter, choice, bundle, setup),
                    setup,
                    bundle,
                    choice,
                )
            )
    if options.shard is not None:
        k, n = parse_shard(options.shard)
        total = len(planned)
        planned = shard(planned, lambda item: item.key, k, n)
        reporter.console.print(f"shard {k}/{n}: {len(planned)} of {total} chapters")
    # Then what can be checked of where results go, before any lab starts.
    problem = writable_problem(
        [item.store.folder for item in planned], options.junit, options.results
    )
    if problem is not None:
        reporter.error(problem)
        return EXIT_ERROR
    for store in {item.store for item in planned}:
        try:  # results stored before engines had their own files
            for moved in store.migrate():
                reporter.note(f"results of one engine per chapter now: {moved}")
        except OSError as exc:
            reporter.error(f"moving results to their per-engine files: {exc}")
            return EXIT_ERROR
    for leftover in [*clean_stale_homes(), *clean_stale_sessions()]:
        reporter.note(f"removed what a killed run left: {leftover}")
    version = runner_version()
    to_run: list[Planned] = []
    lasted: dict[str, float] = {}  # chapter -> how long its last run took
    for item in planned:
        try:
            record = item.store.load(item.key, item.engine.generation)
        except ResultsError as exc:
            what = str(exc).split("; delete the file")[0]
            try:
                aside = item.store.set_aside(item.key, item.engine.generation)
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
            reporter.cached(item.label, passing)
            continue
        to_run.append(item)
        last = record.latest or record.passing
        if last is not None:
            lasted[item.label] = last.duration
    done, lab_errors, unsaved = _run_chapters(to_run, options, version, reporter, lasted)
    runs = [d.run for d in done]
    if len(planned) > 1 and (options.jobs > 1 or options.shard is not None):
        passed = sum(1 for run in runs if run.status == "passed")
        reporter.console.print(
            f"{len(planned)} chapters: {passed} passed, {len(runs) - passed} failed, "
            f"{len(planned) - len(to_run)} cached"
            + (f", {len(lab_errors)} whose lab could not start" if lab_errors else "")
        )
    if options.junit:
        try:
            write_junit(options.junit, runs)
        except OSError as exc:
            reporter.error(f"the JUnit report could not be written to {options.junit}: {exc}")
            unsaved = True
    if not planned:
        reporter.note("nothing to verify")
    if lab_errors:
        return EXIT_ERROR  # nothing rewritten: the run could not start
    if options.update:
        code = _update(done, options, reporter)
        return EXIT_ERROR if unsaved else code
    if unsaved:
        return EXIT_ERROR
    failed = any(run.status != "passed" for run in runs)
    return EXIT_FAILED if failed else EXIT_OK


def _save(item: Planned, run: ChapterRun, reporter: Reporter) -> bool:
    try:
        item.store.save(run)
    except (OSError, ResultsError) as exc:
        # The verdict stands; what could not be kept is said, and the run exits 2.
        reporter.error(f"{item.path}: the results could not be written: {exc}")
        return False
    return True


@dataclass
class Together:
    """What chapters running at once share: their sessions (closed all at once on Ctrl-C) and
    one slot for the vm lab. Its VMs are CPU-bound under TCG: two VM chapters at once would
    each run at half speed and miss their `until=` deadlines, so they take turns while netns
    chapters fill the other workers."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sessions: list[dict[str, Shell]] = field(default_factory=list)
    vm_slot: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(1))

    def take_vm_slot(self, cancel: threading.Event | None, waiting: Callable[[], None]) -> None:
        """Wait for the vm slot (calling `waiting` once if it is taken) and hold it."""
        if self.vm_slot.acquire(blocking=False):
            return
        waiting()
        while not self.vm_slot.acquire(timeout=0.5):
            if cancel is not None and cancel.is_set():
                raise Cancelled("interrupted while waiting for the vm lab")


def _run_chapters(
    items: list[Planned],
    options: argparse.Namespace,
    version: str,
    reporter: Reporter,
    lasted: dict[str, float],
) -> tuple[list[Done], list[str], bool]:
    """Run the chapters, one by one or `-j` at once; (what ran, in book order; lab errors;
    whether some results could not be written)."""
    done: list[Done] = []
    unsaved = False
    if options.jobs == 1 or len(items) <= 1:
        for item in items:
            try:
                finished = _run_one(item, options, version, reporter, None, None)
            except LabError as exc:
                reporter.error(f"{item.path}: the lab cannot start here: {exc}")
                return done, [str(exc)], unsaved
            finally:
                reporter.stop()
            reporter.chapter_done(item.label, item.path, finished.run)
            unsaved = not _save(item, finished.run, reporter) or unsaved
            done.append(finished)
        return done, [], unsaved
    # Several at once: no live status line; each chapter's account printed whole.
    reporter.live = False
    together = Together()
    failed_saves: list[str] = []

    def work(item: Planned, cancel: threading.Event) -> Done:
        finished = _run_one(item, options, version, reporter, cancel, together)
        if cancel.is_set():
            raise Cancelled(f"{item.path}: interrupted")  # a cut-short run is not recorded
        with together.lock:
            reporter.chapter_done(item.label, item.path, finished.run)
            if not _save(item, finished.run, reporter):
                failed_saves.append(item.label)
        return finished

    def close_sessions() -> None:
        with together.lock:
            shells = [shell for group in together.sessions for shell in list(group.values())]
        for shell in shells:
            shell.close()

    # Longest first: the wall time is then about the longest chapter's.
    order = longest_first(items, lambda item: item.label, lasted)
    results = dict(
        zip(
            (item.label for item in order),
            run_all(order, work, options.jobs, close_sessions),
            strict=True,
        )
    )
    errors: list[str] = []
    for item in items:
        result = results[item.label]
        if isinstance(result, LabError):
            reporter.error(f"{item.path}: the lab cannot start here: {result}")
            errors.append(str(result))
        elif isinstance(result, BaseException):
            raise result
        else:
            done.append(result)
    return done, errors, bool(failed_saves)


def _update(done: list[Done], options: argparse.Namespace, reporter: Reporter) -> int:
    """Rewrite the chapters whose commands did not match; 0 only when a second plain verify
    would pass (each rewritten chapter is parsed again and matched against the outputs)."""
    problems: list[str] = []
    for finished in done:
        chapter, run = finished.item.chapter, finished.run
        if run.status == "passed":
            continue
        new = rewrite(chapter, finished.outcomes)
        skipped = frozenset(b.index for b in run.blocks if b.status == "skipped")
        left = recheck_source(finished.item.path, new, finished.outcomes, skipped)
        problems += left
        if new == chapter.source:
            continue
        print(unified_diff(finished.item.path, chapter.source, new), end="", flush=True)
        if options.dry_run:
            continue
        current = finished.item.path.read_text(encoding="utf-8")
        if current != chapter.source:
            reporter.error(f"{finished.item.path}: changed while it ran; not rewritten")
            return EXIT_ERROR
        atomic_write(finished.item.path, new)
    for problem in problems:
        reporter.error(f"after the rewrite, {problem}")
    if problems:
        reporter.console.print("a plain verify would still fail: see above")
        return EXIT_FAILED
    verb = "would pass" if options.dry_run else "passes"
    reporter.console.print(f"update: every executed block now {verb} with the recorded output")
    return EXIT_OK


def _base_env(engine: Bundle) -> dict[str, str]:
    """What sessions inherit: enough to find programs, nothing of the author's shell; the
    engine's own `docker` client first, whatever the host has."""
    path = os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    env = {"PATH": f"{engine.client}:{path}", "LANG": "C.UTF-8"}
    for name in ("USER", "LOGNAME", "TZ"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _run_one(
    item: Planned,
    options: argparse.Namespace,
    version: str,
    reporter: Reporter,
    cancel: threading.Event | None,
    together: Together | None,
) -> Done:
    progress = reporter.start_chapter(item.chapter, item.label)
    outcomes: dict[tuple[int, int], Outcome] = {}

    def on_block(block: Block) -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"{item.path}: interrupted")
        reporter_block(block)

    reporter_block = progress.block
    progress = replace(
        progress,
        block=on_block,
        outcome=lambda o: outcomes.__setitem__((o.block, o.command), o),
    )
    lab: Lab | None = None
    vm_slot = False
    try:
        wanted = item.setup.lab if item.setup.parts else item.chapter.lab
        if wanted is not None and item.provider is not None:
            from runner.lab import default_provider

            provider = default_provider(item.provider.name, item.engine.generation)
            needs = item.provider.chosen_for
            why = f", chosen for {', '.join(needs)}" if needs else ""
            if together is not None and provider.name == "vm":
                together.take_vm_slot(
                    cancel,
                    lambda: reporter.lab_note(
                        f"{item.label}: waits for the chapter on the vm lab to end"
                    ),
                )
                vm_slot = True
            reporter.lab_starting(wanted.nodes, provider.name + why)
            lab = provider.up(wanted.nodes)
            accel = getattr(provider, "accel", None)  # vm: KVM, or TCG and why
            if accel is not None:
                reporter.lab_note(f"lab ({provider.name}): {accel.why}")
            if wanted.images:
                lab.tag_images(dict(wanted.images))
        ctx = RunContext(
            chapter=item.chapter,
            chapter_key=item.key,
            runner_version=version,
            lab_key=item.lab_key,
            lab=lab,
            base_env=_base_env(item.engine),
            engine=item.engine.generation,
            progress=progress,
            keep_going=options.update,
            setup=tuple(part.blocks for part in item.setup.parts),
        )
        if together is not None:
            with together.lock:
                together.sessions.append(ctx.sessions)
        return Done(item, run_chapter(ctx), outcomes)
    finally:
        if lab is not None:
            lab.down()
        if vm_slot:
            assert together is not None
            together.vm_slot.release()
