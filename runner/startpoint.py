"""Where a chapter starts from (`verify: {starts-from: partie-1.md}`): the set-up that brings a
fresh lab to the state the starting chapter leaves, and the lab that chapter asks for.

The set-up is the starting chapter's own commands, minus those that only look (`until=` waits,
hidden checks, commands known to only read, refused ones with `[N]`, interactive visits), and
transitively its own starting point's first. A looking command stays when a kept command uses
a value it captures. The runner runs it before the chapter; the page and the handout show the
same commands as « Mise en place ». Reads chapter files; no lab, no shell.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from runner.model import Block, Chapter, Command, LabRequest
from runner.notation.effects import effect
from runner.notation.errors import NotationError
from runner.notation.patterns import Placeholder, names_in_command, tokenize
from runner.records import chapter_hash

Parse = Callable[[Path], Chapter]


@dataclass(frozen=True)
class SetupPart:
    """One starting chapter's share of the set-up: its blocks, cut down to what changes state."""

    chapter: Chapter
    blocks: tuple[Block, ...]

    @property
    def commands(self) -> tuple[Command, ...]:
        return tuple(c for b in self.blocks for c in b.commands)


@dataclass(frozen=True)
class Setup:
    parts: tuple[SetupPart, ...]  # the first starting chapter first; empty: none

    @property
    def lab(self) -> LabRequest | None:
        """The lab of the whole chain: the first chapter's (the others may not ask for one)."""
        return self.parts[0].chapter.lab if self.parts else None

    @property
    def key(self) -> str:
        """What the chapter's cache key must include: every starting chapter, as written."""
        return json.dumps([chapter_hash(p.chapter) for p in self.parts])

    @property
    def requires(self) -> tuple[str, ...]:
        """Lab capabilities the set-up's blocks ask for (`requires=`): the chapter inherits them."""
        seen: dict[str, None] = {}
        for part in self.parts:
            for block in part.blocks:
                seen.update(dict.fromkeys(block.options.requires))
        return tuple(seen)


NO_SETUP = Setup(())


def load_setup(chapter: Chapter, parse: Parse) -> Setup:
    """The set-up of `chapter`, its starting chapters parsed with `parse`. NotationError (at the
    `starts-from:` line) for a missing file, a loop, or a chain whose lab is not its first's."""
    chain: list[Chapter] = []
    seen = {chapter.path.resolve()}
    current = chapter
    while current.starts_from is not None:
        where = current.starts_from.loc
        target = current.starts_from.path.resolve()
        if target in seen:
            raise NotationError(where, f"starts-from makes a loop through {target.name}")
        if not target.is_file():
            raise NotationError(
                where, f"starts-from: {current.starts_from.target}: no such chapter ({target})"
            )
        seen.add(target)
        current = parse(target)
        chain.append(current)
    chain.reverse()
    return Setup(tuple(SetupPart(c, setup_blocks(c)) for c in chain))


def setup_blocks(chapter: Chapter) -> tuple[Block, ...]:
    """`chapter`'s blocks, each cut down to the commands a later chapter must replay."""
    kept: list[list[Command]] = [[] for _ in chapter.blocks]
    needed: set[str] = set()  # names that kept commands use: who captures them is kept too
    for b, block in reversed(list(enumerate(chapter.blocks))):
        if not block.verified:
            continue
        looking_block = block.options.until is not None or block.options.hidden
        for unit in reversed(_units(block)):
            if not _replayed(unit, looking_block, needed):
                continue
            kept[b][:0] = unit
            for command in unit:
                needed.update(names_in_command(command.text))
    return tuple(
        replace(block, commands=tuple(commands), options=replace(block.options, hidden=False))
        for block, commands in zip(chapter.blocks, kept, strict=True)
        if commands
    )


def _units(block: Block) -> list[list[Command]]:
    """The block's commands, an interactive visit (`ssh node` ... `exit`) as one unit."""
    units: list[list[Command]] = []
    nested: list[Command] = []
    for command in block.commands:
        if nested or command.opens_shell is not None:
            nested.append(command)
            if command.closes_shell:
                units.append(nested)
                nested = []
        else:
            units.append([command])
    if nested:
        units.append(nested)  # a visit the block leaves open: the next blocks go on inside
    return units


def _replayed(unit: list[Command], looking_block: bool, needed: set[str]) -> bool:
    if any(_captured(c) & needed for c in unit):
        return True  # a later kept command uses what it prints
    if len(unit) > 1 or unit[0].opens_shell is not None:
        inside = [c for c in unit[1:] if not c.closes_shell]
        return any(effect(c.text) != "looks" for c in inside)
    command = unit[0]
    if looking_block or command.key is not None or (command.status or 0) != 0:
        return False  # a wait, a check, an interrupted look, or a refused command
    return effect(command.text) != "looks"


def _captured(command: Command) -> set[str]:
    names: set[str] = set()
    for line in command.expected:
        for piece in tokenize(line.text):
            if isinstance(piece, Placeholder) and piece.name:
                names.add(piece.name)
    return names
