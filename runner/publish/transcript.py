"""A block's transcript as readers see it, shared by the site and the handouts (pure).

Built from a passing run (commands as typed, real output, elisions folded) or, for a block that
no run verified, from the chapter as written (commands, and output only where the caller asks
for the author's text, clearly marked as not verified).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from runner.model import Block, Command
from runner.notation.patterns import PatternError, Placeholder, Text, tokenize
from runner.publish.status import BlockState
from runner.records import BlockResult, ChapterRun, CommandResult, merge_spans


@dataclass(frozen=True)
class Piece:
    text: str
    capture: str | None = None  # the capture's name when `text` is a value a run captured


@dataclass(frozen=True)
class OutputRun:
    lines: tuple[str, ...]
    folded: bool = False  # lines that the author's `...` stood for


@dataclass(frozen=True)
class Step:
    prompt: str
    lines: tuple[tuple[Piece, ...], ...]  # the command's lines (continuations after the first)
    typed: str  # what the copy button copies
    output: tuple[OutputRun, ...]
    status: int | None = None  # a non-zero exit status to show
    key: str | None = None  # "^C"/"^D" sent while it ran
    attempts: int = 1
    duration: float = 0.0


@dataclass(frozen=True)
class Transcript:
    steps: tuple[Step, ...]
    verified: bool  # False: built from the chapter as written

    @property
    def copy_text(self) -> str:
        return "\n".join(step.typed for step in self.steps)


def captures_before(run: ChapterRun | None, index: int) -> dict[str, str]:
    """Values captured by the blocks of `run` before block `index` (hidden ones included)."""
    values: dict[str, str] = {}
    if run is None:
        return values
    for result in sorted(run.blocks, key=lambda b: b.index):
        if result.index >= index:
            break
        for command in result.commands:
            values.update(command.captures)
    return values


def _mark_captures(written: str, typed: str, values: dict[str, str]) -> list[Piece] | None:
    """Split a typed line into pieces, marking the captured values, if it matches `written`."""
    try:
        tokens = tokenize(written, allow_anything=False)
    except PatternError:
        return None
    pieces: list[Piece] = []
    for token in tokens:
        if isinstance(token, Placeholder) and token.name and token.name in values:
            pieces.append(Piece(values[token.name], token.name))
        elif isinstance(token, Text):
            pieces.append(Piece(token.text))
        else:
            return None
    return pieces if "".join(p.text for p in pieces) == typed else None


def _command_lines(
    written: Command | None, typed: str, values: dict[str, str]
) -> tuple[tuple[Piece, ...], ...]:
    typed_lines = typed.split("\n")
    out: list[tuple[Piece, ...]] = []
    for n, line in enumerate(typed_lines):
        marked = None
        if written is not None and len(written.lines) == len(typed_lines):
            marked = _mark_captures(written.lines[n], line, values)
        out.append(tuple(marked) if marked else (Piece(line),))
    return tuple(out)


def _output_runs(result: CommandResult) -> tuple[OutputRun, ...]:
    lines = result.output.split("\n") if result.output else []
    runs: list[OutputRun] = []
    pos = 0
    for start, end in merge_spans(result.elided):
        start, end = max(start, pos), min(end, len(lines))
        if end <= start:
            continue
        if start > pos:
            runs.append(OutputRun(tuple(lines[pos:start])))
        runs.append(OutputRun(tuple(lines[start:end]), folded=True))
        pos = end
    if pos < len(lines):
        runs.append(OutputRun(tuple(lines[pos:])))
    return tuple(runs)


def from_result(block: Block, result: BlockResult, run: ChapterRun) -> Transcript:
    values = captures_before(run, result.index)
    by_line = {c.loc.line: c for c in block.commands}
    steps: list[Step] = []
    for command in result.commands:
        steps.append(
            Step(
                prompt=command.prompt,
                lines=_command_lines(by_line.get(command.line), command.command, values),
                typed=command.command,
                output=_output_runs(command),
                status=command.status if command.status not in (None, 0) else None,
                key=command.key,
                attempts=command.attempts,
                duration=command.duration,
            )
        )
        values.update(command.captures)
    return Transcript(tuple(steps), verified=True)


def readable(line: str, values: dict[str, str]) -> str:
    """An expected line as a reader should see it: `...` and `[..]` become an ellipsis, and
    placeholders the value a run captured, or `<name>`; never the notation itself."""
    if line.strip() == "...":
        return "…"
    try:
        pieces = tokenize(line)
    except PatternError:
        return line
    out: list[str] = []
    for piece in pieces:
        if isinstance(piece, Text):
            out.append(piece.text)
        elif isinstance(piece, Placeholder) and piece.name:
            out.append(values.get(piece.name, f"<{piece.name}>"))
        else:
            out.append("…")
    return "".join(out)


def filled(line: str, values: dict[str, str]) -> tuple[Piece, ...]:
    """A command line as written, its `{{ name }}` filled with the value a run captured (marked
    as a capture), or `<name>` when no run captured it: a reader sees what to replace, and
    never copies the notation. Go templates (`{{.ID}}`) stay as written."""
    try:
        tokens = tokenize(line, allow_anything=False)
    except PatternError:
        return (Piece(line),)
    pieces: list[Piece] = []
    for token in tokens:
        if isinstance(token, Text):
            pieces.append(Piece(token.text))
        elif isinstance(token, Placeholder) and token.name and token.name in values:
            pieces.append(Piece(values[token.name], token.name))
        elif isinstance(token, Placeholder):
            pieces.append(Piece(f"<{token.name or 'valeur'}>"))
    return tuple(pieces)


def from_source(
    block: Block, with_output: bool, values: dict[str, str] | None = None
) -> Transcript:
    """The block as written: for blocks that no run verified. `values`: what the last passing
    run captured before this block, filled into the commands."""
    values = values or {}
    steps: list[Step] = []
    for command in block.commands:
        lines = tuple(filled(line, values) for line in command.lines)
        output: Iterable[str] = (
            (readable(e.text, values) for e in command.expected) if with_output else ()
        )
        shown = tuple(output)
        steps.append(
            Step(
                prompt=command.prompt,
                lines=lines,
                typed="\n".join("".join(p.text for p in line) for line in lines),
                output=(OutputRun(shown),) if shown else (),
                status=command.status if with_output and command.status else None,
                key=command.key if with_output else None,
            )
        )
    return Transcript(tuple(steps), verified=False)


def for_state(state: BlockState, passing: ChapterRun | None, with_output: bool) -> Transcript:
    """What a block shows: its passing run's transcript, else the block as written, its
    commands filled with what `passing` (the chapter's last passing run, even a stale one)
    captured before it; `with_output`: with the author's expected output."""
    if state.shown is not None and state.run is not None:
        return from_result(state.block, state.shown, state.run)
    values = captures_before(state.run or passing, state.block.index)
    return from_source(state.block, with_output=with_output, values=values)
