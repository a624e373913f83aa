"""A block's transcript as readers see it, shared by the site and the handouts (pure).

Built from a passing run (commands as typed, real output, elisions folded) or, for a block that
no run verified, from the chapter as written (commands, and output only where the caller asks
for the author's text, clearly marked as not verified).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from runner.model import Block, Command
from runner.notation.patterns import PatternError, Placeholder, Text, split_repeat, tokenize
from runner.publish.placeholders import reader_placeholder
from runner.publish.status import BlockState
from runner.records import BlockResult, ChapterRun, CommandResult, merge_spans


def placeholder(name: str) -> str:
    """What a reader fills in for the value the run captured as `name`: `jeton_worker` gives
    `<JETON_WORKER>` (NOTATION.md: name captures in the words readers should see). One rule
    for pages, copy buttons, « Mise en place » and handouts: runner.publish.placeholders."""
    return reader_placeholder(name)


# Captured values shorter than this are not hunted for in output and commands (a `1` would
# mark every digit); the tokens, IDs and addresses that differ for readers are all longer.
MIN_MARKED = 6


@dataclass(frozen=True)
class Piece:
    text: str
    capture: str | None = None  # the capture's name when `text` is a value a run captured

    @property
    def placeholder(self) -> str:
        """What a reader types instead: the captured value never leaves the page."""
        return placeholder(self.capture) if self.capture else self.text


def mark(text: str, values: dict[str, str]) -> tuple[Piece, ...]:
    """`text` cut into pieces, the captured `values` (name -> value) in it marked as such."""
    found = sorted(
        ((v, n) for n, v in values.items() if len(v) >= MIN_MARKED), key=lambda p: -len(p[0])
    )
    pieces: list[Piece] = []
    rest = text
    while rest:
        hits = [(rest.find(v), v, n) for v, n in found if v in rest]
        if not hits:
            pieces.append(Piece(rest))
            break
        at, value, name = min(hits, key=lambda h: (h[0], -len(h[1])))
        if at:
            pieces.append(Piece(rest[:at]))
        pieces.append(Piece(value, name))
        rest = rest[at + len(value) :]
    return tuple(pieces)


def lab_only(values: dict[str, str], nodes: tuple[str, ...]) -> dict[str, str]:
    """The captured values to hunt for in text: not the lab's node names, which readers share
    (a `{{ leader }}` written in a command still becomes a placeholder there)."""
    return {name: value for name, value in values.items() if value not in nodes}


def copy_form(pieces: Iterable[Piece], values: dict[str, str]) -> str:
    """A command line as the copy button gives it: every captured value a placeholder."""
    return "".join(
        p.placeholder if p.capture else "".join(q.placeholder for q in mark(p.text, values))
        for p in pieces
    )


@dataclass(frozen=True)
class OutputRun:
    lines: tuple[str, ...]
    folded: bool = False  # lines that the author's `...` stood for


@dataclass(frozen=True)
class Step:
    prompt: str
    lines: tuple[tuple[Piece, ...], ...]  # the command's lines (continuations after the first)
    typed: str  # what the copy button copies: captured values as placeholders (`<JETON>`)
    output: tuple[OutputRun, ...]
    status: int | None = None  # a non-zero exit status to show
    key: str | None = None  # "^C"/"^D" sent while it ran
    attempts: int = 1
    duration: float = 0.0
    unwritten: bool = False  # not run, and the author's `...` stands for output not shown


@dataclass(frozen=True)
class Transcript:
    steps: tuple[Step, ...]
    verified: bool  # False: built from the chapter as written
    values: dict[str, str] = field(default_factory=dict)  # captured so far: name -> value

    @property
    def copy_text(self) -> str:
        return "\n".join(step.typed for step in self.steps)

    def marked(self, line: str) -> tuple[Piece, ...]:
        """An output line with the captured values in it marked."""
        return mark(line, self.values)

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The placeholders a reader fills in this block's commands, in order of appearance."""
        seen: dict[str, None] = {}
        for step in self.steps:
            for line in step.lines:
                for piece in line:
                    if piece.capture:
                        seen[piece.placeholder] = None
        return tuple(seen)

    @property
    def has_marks(self) -> bool:
        """Whether any captured value shows in this block, command or output."""
        if self.placeholders:
            return True
        return any(
            any(p.capture for p in self.marked(line))
            for step in self.steps
            for run in step.output
            for line in run.lines
        )


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
    written: Command | None, typed: str, values: dict[str, str], hunted: dict[str, str]
) -> tuple[tuple[Piece, ...], ...]:
    typed_lines = typed.split("\n")
    out: list[tuple[Piece, ...]] = []
    for n, line in enumerate(typed_lines):
        marked = None
        if written is not None and len(written.lines) == len(typed_lines):
            marked = _mark_captures(written.lines[n], line, values)
        out.append(tuple(marked) if marked else mark(line, hunted))
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
        hunted = lab_only(values, run.lab.nodes)
        lines = _command_lines(by_line.get(command.line), command.command, values, hunted)
        steps.append(
            Step(
                prompt=command.prompt,
                lines=lines,
                typed="\n".join(copy_form(line, hunted) for line in lines),
                output=_output_runs(command),
                status=command.status if command.status not in (None, 0) else None,
                key=command.key,
                attempts=command.attempts,
                duration=command.duration,
            )
        )
        values.update(command.captures)
    return Transcript(tuple(steps), verified=True, values=lab_only(values, run.lab.nodes))


def readable(line: str, values: dict[str, str]) -> str | None:
    """An expected line as a reader should see it: `[..]` becomes an ellipsis, placeholders
    the value a run captured, or `<NAME>`; never the notation itself. None for a `...` line,
    which stands for lines the author did not write (the page says so instead)."""
    if line.strip() == "...":
        return None
    line = split_repeat(line)[0]  # `LINE {{ * }}`: the reader sees LINE
    try:
        pieces = tokenize(line)
    except PatternError:
        return line
    out: list[str] = []
    for piece in pieces:
        if isinstance(piece, Text):
            out.append(piece.text)
        elif isinstance(piece, Placeholder) and piece.name:
            out.append(values.get(piece.name, placeholder(piece.name)))
        else:
            out.append("…")
    text = "".join(out)
    return None if text.strip() == "…" else text  # nothing but "any text": unwritten


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
            pieces.append(Piece(placeholder(token.name or "valeur")))
    return tuple(pieces)


def from_source(
    block: Block,
    with_output: bool,
    values: dict[str, str] | None = None,
    nodes: tuple[str, ...] = (),
) -> Transcript:
    """The block as written: for blocks that no run verified. `values`: what the last passing
    run captured before this block, filled into the commands."""
    values = values or {}
    hunted = lab_only(values, nodes)
    steps: list[Step] = []
    for command in block.commands:
        lines = tuple(filled(line, values) for line in command.lines)
        output: Iterable[str | None] = (
            (readable(e.text, values) for e in command.expected) if with_output else ()
        )
        shown = tuple(line for line in output if line is not None)
        steps.append(
            Step(
                # A prompt may hold a captured value (`[{{ node }}]$`): the value, or <NODE>.
                prompt="".join(piece.text for piece in filled(command.prompt, values)),
                lines=lines,
                typed="\n".join(copy_form(line, hunted) for line in lines),
                output=(OutputRun(shown),) if shown else (),
                status=command.status if with_output and command.status else None,
                key=command.key if with_output else None,
                unwritten=with_output
                and any(readable(e.text, values) is None for e in command.expected),
            )
        )
    return Transcript(tuple(steps), verified=False, values=hunted)


def for_state(state: BlockState, passing: ChapterRun | None, with_output: bool) -> Transcript:
    """What a block shows: its passing run's transcript, else the block as written, its
    commands filled with what `passing` (the chapter's last passing run, even a stale one)
    captured before it; `with_output`: with the author's expected output."""
    if state.shown is not None and state.run is not None:
        return from_result(state.block, state.shown, state.run)
    source = state.run or passing
    values = captures_before(source, state.block.index)
    nodes = source.lab.nodes if source else ()
    return from_source(state.block, with_output=with_output, values=values, nodes=nodes)
