"""Where the book's Docker Engine generations differ, block by block (pure; site and handouts).

Each chapter has one record per engine (runner.store). A *step* is what a reader does once:
one block, or a group of per-engine variants of it (adjacent blocks with `engines=`, blank
lines only between them). For every engine of the book a step shows that engine's block
state; it *differs* from the primary engine's when its block failed, was not run, or printed
something else. Output that varies from run to run (IDs, tokens, numbers, versions, relative
times, lines the author elided, where words sit) is left out of the comparison, so only
changes of behaviour count: words that appear or disappear (a line, a column, a message).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from runner.model import Block, Chapter
from runner.publish.status import BlockState, ChapterState, chapter_state
from runner.records import ChapterRecord, ResultsError

LoadRecord = Callable[[str, str], ChapterRecord]  # store.load(key, engine)


@dataclass(frozen=True)
class EngineTab:
    engine: str  # generation, "26.1"
    version: str  # what readers know it as: "26.1.5" (from the run), else the generation
    state: BlockState | None  # None: the step has no variant for this engine
    same: bool  # shows what the primary engine's tab shows


@dataclass(frozen=True)
class Step:
    blocks: tuple[Block, ...]  # one block, or the variants of one step
    primary: EngineTab
    others: tuple[EngineTab, ...]

    @property
    def differs(self) -> bool:
        return any(not tab.same for tab in self.others)

    @property
    def tabs(self) -> tuple[EngineTab, ...]:
        return (self.primary, *self.others)


@dataclass(frozen=True)
class BookEngines:
    """One chapter on every engine of the book; `states[engines[0]]` is the primary's."""

    engines: tuple[str, ...]
    states: dict[str, ChapterState]

    @property
    def primary(self) -> ChapterState:
        return self.states[self.engines[0]]

    def version(self, engine: str) -> str:
        state = self.states.get(engine)
        record = state.record if state is not None else None
        for run in (record.passing, record.latest) if record is not None else ():
            if run is not None and run.lab.engine_version:
                return short_version(run.lab.engine_version)
        return engine

    def steps(self) -> list[Step]:
        return [self._step(group) for group in variant_groups(self.primary.chapter)]

    def step_of(self, block: Block) -> Step | None:
        """The step a block starts, or None for the later variants of a group (shown by the
        first one's step)."""
        for group in variant_groups(self.primary.chapter):
            if group[0].index == block.index:
                return self._step(group)
        return None

    def _tab(self, engine: str, group: tuple[Block, ...]) -> tuple[EngineTab, tuple[str, ...]]:
        block = next((b for b in group if b.options.runs_on(engine)), None)
        state = self.states.get(engine)
        bstate = state.blocks[block.index] if state is not None and block is not None else None
        sig = signature(bstate) if bstate is not None else ("none",)
        return EngineTab(engine, self.version(engine), bstate, True), sig

    @property
    def compared(self) -> tuple[str, ...]:
        """The other engines with any run of this chapter: one with none is said once, in
        the header, not on every block."""
        return tuple(
            e
            for e in self.engines[1:]
            if self.states[e].record.passing is not None or self.states[e].record.latest
        )

    def _step(self, group: tuple[Block, ...]) -> Step:
        primary, primary_sig = self._tab(self.engines[0], group)
        others = []
        for engine in self.compared:
            tab, sig = self._tab(engine, group)
            others.append(EngineTab(tab.engine, tab.version, tab.state, sig == primary_sig))
        return Step(group, primary, tuple(others))

    def differing(self, engine: str) -> int:
        """How many visible steps show something else on `engine` than on the primary."""
        return sum(
            1
            for step in self.steps()
            if not all(b.options.hidden for b in step.blocks)
            for tab in step.others
            if tab.engine == engine and not tab.same
        )


def short_version(version: str) -> str:
    """'26.1.5' from Debian's '26.1.5+dfsg1': what readers see in `docker version`."""
    return re.split(r"[+~-]", version, maxsplit=1)[0]


def load(
    primary: ChapterState, engines: tuple[str, ...], load_record: LoadRecord
) -> BookEngines | ResultsError:
    """The chapter's state on every engine; `primary` was loaded for `engines[0]`."""
    states = {engines[0]: primary}
    for engine in engines[1:]:
        try:
            record = load_record(primary.key, engine)
        except ResultsError as exc:
            return exc
        states[engine] = chapter_state(primary.key, primary.chapter, record)
    return BookEngines(engines, states)


def variant_groups(chapter: Chapter) -> list[tuple[Block, ...]]:
    """Blocks in order, per-engine variants of one step grouped together."""
    lines = chapter.source.split("\n")
    groups: list[list[Block]] = []
    for block in chapter.blocks:
        last = groups[-1][-1] if groups else None
        if (
            last is not None
            and last.options.engines
            and block.options.engines
            and last.options.session == block.options.session
            and all(not line.strip() for line in lines[last.end_line : block.loc.line - 1])
        ):
            groups[-1].append(block)
        else:
            groups.append([block])
    return [tuple(g) for g in groups]


def coverage_problems(chapter: Chapter, key: str, engines: tuple[str, ...]) -> list[str]:
    """Variant groups where an engine of the book gets no variant, or two. A lone block with
    `engines=` is a step for those engines only: other engines may go without it."""
    out = []
    for group in variant_groups(chapter):
        if not group[0].options.engines:
            continue
        for engine in engines:
            count = sum(1 for b in group if b.options.runs_on(engine))
            if count > 1 or (count == 0 and len(group) > 1):
                what = "no variant" if count == 0 else f"{count} variants"
                out.append(
                    f"{key}:{group[0].loc.line}: the blocks with engines= here give Docker "
                    f"{engine} {what}; each engine of the book needs exactly one"
                )
    return out


# --- comparing outputs ----------------------------------------------------------------------

# IDs mix letters and digits (a run of digits alone is a number, masked as such below).
_ID = re.compile(r"\b(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{10,}\b")
_HEX = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,}\b")  # short IDs, lab ids
# Swarm's IDs (25 characters) and their short form (12), which may hold no digit at all.
_SWARM_ID = re.compile(r"\b(?:[a-z0-9]{25}|[a-z0-9]{12})\b")
_TOKEN = re.compile(r"SWMTKN-[A-Za-z0-9-]+")
_AGO = re.compile(r"\b(?:less than a second|about a minute|about an hour|an? \w+|\d+ \w+) ago\b")
_DURATION = re.compile(r"\b\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h)\b")
_NUMBER = re.compile(r"\d+")
_BLANKS = re.compile(r"\s+")


def mask(text: str) -> str:
    """Run-to-run noise out: join tokens, IDs, relative times, numbers (so versions,
    addresses and counters too), runs of blanks. Captured values are not masked as such: a
    captured node name (the new leader) is no noise, and IDs are masked anyway."""
    text = _TOKEN.sub("<token>", text)
    text = _AGO.sub("<time> ago", text)
    text = _DURATION.sub("<duration>", text)  # "4.817737025s" is no ID
    text = _ID.sub("<id>", text)
    text = _HEX.sub("<id>", text)
    text = _SWARM_ID.sub("<id>", text)
    text = _NUMBER.sub("0", text)
    return "\n".join(_BLANKS.sub(" ", line).strip() for line in text.splitlines() if line.strip())


def _unelided(output: str, elided: tuple[tuple[int, int], ...]) -> str:
    """The output without the lines the author's `...` stood for (any output was fine there,
    and a `...` standing for no line on one engine and some on another is no difference)."""
    lines = output.split("\n")
    for start, end in sorted(elided, reverse=True):
        del lines[start:end]
    return "\n".join(lines)


def signature(state: BlockState) -> tuple[str, ...]:
    """What a block shows readers on one engine, with run-to-run noise masked."""
    shown = state.shown
    if shown is None:
        return (str(state.block.index), state.kind)
    problem = state.kind in ("failed", "blocked")  # an old passing output, but it fails now
    parts = [str(state.block.index), "failing" if problem else "shown"]
    for command in shown.commands:
        parts.append(mask(command.command))
        # Words compared as a multiset: which node wins an election or gets a task is luck
        # (rows and cells trade places), while a new column, message or line adds words.
        output = mask(_unelided(command.output, command.elided))
        parts.append(" ".join(sorted(output.split())))
        parts.append(str(command.status))
    return tuple(parts)
