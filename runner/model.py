"""The parsed chapter: frozen dataclasses, each carrying the file and line it came from.

Produced once by `runner.notation`, then read by the executor, the site and the handouts.
Results of a run live apart, in `runner.records`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class Location:
    path: Path
    line: int  # 1-based

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


Key = Literal["^C", "^D"]
KEY_BYTES: dict[str, str] = {"^C": "\x03", "^D": "\x04"}


@dataclass(frozen=True)
class ExpectLine:
    """One line of expected output, as written (after the block's indentation is removed)."""

    text: str
    loc: Location


@dataclass(frozen=True)
class Command:
    """One command of a transcript, with what it must print."""

    loc: Location
    # "$" for the session's own shell, else the nested prompt as written ("docker@node-01:~$")
    prompt: str
    lines: tuple[str, ...]  # the command as written, continuation lines included
    expected: tuple[ExpectLine, ...]  # output lines; `...` included; no `[N]`, no key
    status: int | None  # `[N]` if given
    key: Key | None = None  # `^C`/`^D` to send once `expected_before_key` has appeared
    expected_before_key: int = 0  # how many of `expected` must appear before the key is sent
    opens_shell: str | None = None  # the prompt of the nested shell this command opens
    closes_shell: bool = False  # the command leaves a nested shell (`exit`, `^D`)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def checks_status(self) -> bool:
        if self.status is not None:
            return True
        # Leaving a nested shell gives back its last status (130 after a ^C): only [N] checks it.
        return self.key is None and self.opens_shell is None and not self.closes_shell


Generation = tuple[int, int]  # a Docker Engine generation, (26, 1) for "26.1"
EngineBound = tuple[str, Generation]  # ("<", (26, 0)): one condition of `engines=`


def parse_generation(text: str) -> Generation | None:
    """(26, 1) from "26.1", (26, 0) from "26"; None when it is not a generation."""
    parts = text.strip().split(".")
    if not 1 <= len(parts) <= 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1]) if len(parts) == 2 else 0


_COMPARE = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
}


def engines_match(bounds: tuple[EngineBound, ...], generation: str) -> bool:
    """Does a block written for `bounds` (all must hold; none: every engine) run on it?"""
    wanted = parse_generation(generation)
    if wanted is None:
        return not bounds
    return all(_COMPARE[op](wanted, value) for op, value in bounds)


@dataclass(frozen=True)
class BlockOptions:
    session: str = "main"
    timeout: float = 30.0
    until: float | None = None
    order_any: bool = False
    hidden: bool = False
    skip: str | None = None
    requires: tuple[str, ...] = ()
    prompt: str | None = None  # a declared prompt with spaces, e.g. "/ #"
    unchecked: bool = False  # output neither shown nor checked (only the exit status is)
    display: tuple[tuple[str, str], ...] = ()  # Material's own options (title, linenums, hl_lines)
    # `engines=">=26"`: the block is this step's variant for those engines only; () = all.
    engines: tuple[EngineBound, ...] = ()
    engines_text: str | None = None  # as written, for messages and pages

    def runs_on(self, generation: str | None) -> bool:
        return generation is None or engines_match(self.engines, generation)


@dataclass(frozen=True)
class Block:
    """A ```console fence."""

    index: int  # 0-based ordinal among the chapter's console blocks
    loc: Location  # the fence line
    end_line: int  # the closing fence line (1-based)
    source: str  # the block's content, as written
    info: str  # the fence's info string
    options: BlockOptions
    commands: tuple[Command, ...]

    @property
    def verified(self) -> bool:
        return self.options.skip is None


@dataclass(frozen=True)
class LabRequest:
    """What a chapter asks of the lab in its front matter (`verify: {lab: ...}`)."""

    nodes: tuple[str, ...] = ()  # created before the chapter starts; empty: an empty lab
    provider: str | None = None  # None: the default provider
    images: tuple[tuple[str, str], ...] = ()  # (name the text uses, lab image), tagged on nodes


@dataclass(frozen=True)
class StartsFrom:
    """`verify: {starts-from: partie-1.md}`: the chapter whose end state this one starts from."""

    target: str  # as written: a path relative to the chapter's folder
    loc: Location

    @property
    def path(self) -> Path:
        """The starting chapter's file, from this chapter's folder (not resolved: pure)."""
        return Path(os.path.normpath(self.loc.path.parent / self.target))


@dataclass(frozen=True)
class Chapter:
    path: Path
    source: str
    title: str | None
    lab: LabRequest | None  # None: no lab at all
    timeout: float | None  # the chapter's default per-command timeout
    blocks: tuple[Block, ...] = field(default_factory=tuple)
    elision: str = "..."  # the line that stands for zero or more lines (`verify.elision`)
    front_matter: dict[str, object] = field(default_factory=dict, compare=False, hash=False)
    # (line, text) of each `##` to `######` heading: the section the blocks after it sit under
    headings: tuple[tuple[int, str], ...] = ()
    # The Markdown of the opening paragraphs: between the title and the first section or block.
    intro: tuple[str, ...] = ()
    starts_from: StartsFrom | None = None
