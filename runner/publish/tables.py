"""Docker's column tables (`docker node ls`, `docker ps`) found in output, so that a page can
wrap them a whole cell at a time and a handout keep their columns (pure)."""

from __future__ import annotations

import re
from itertools import pairwise

# A header: upper-case column names ("MANAGER STATUS" is one name), two or more blanks apart.
_NAME = re.compile(r"\S+(?: \S+)*")
_HEADER_WORD = re.compile(r"[A-Z][A-Z0-9_/.()-]*")


def _columns(header: str) -> list[int] | None:
    names = list(_NAME.finditer(header))
    if len(names) < 2 or names[0].start() != 0:
        return None
    if not all(_HEADER_WORD.fullmatch(w) for n in names for w in n.group().split(" ")):
        return None
    return [n.start() for n in names]


def _fits(row: str, starts: list[int]) -> bool:
    """Every column boundary that the row reaches falls on a blank."""
    return all(len(row) <= s or row[s - 1] == " " for s in starts[1:])


def cells(row: str, starts: list[int]) -> tuple[str, ...]:
    """A row cut at the columns; each cell keeps its padding, so the text copies unchanged."""
    bounds = [*starts, max(len(row), starts[-1])]
    return tuple(row[a:b] for a, b in pairwise(bounds) if a < len(row))


def find_table(lines: tuple[str, ...]) -> tuple[int, list[int]] | None:
    """(index of the header line, column starts) when `lines` end with a table, else None."""
    for at, line in enumerate(lines):
        starts = _columns(line)
        if starts is not None and all(_fits(row, starts) for row in lines[at + 1 :]):
            return at, starts
    return None
