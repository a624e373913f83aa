"""Fitting wide command output on an A4 page (pure).

A table such as `docker node ls` is wider than a printed step; cut, each row would spill its
last columns onto a second line (`ENGINE ↩ VERSION`). Its columns are padded for the widest
value a daemon could print, so closing up the gaps between them keeps every row whole."""

from __future__ import annotations

import re

_GAP = re.compile(r" {2,}")
_HEADER_WORD = re.compile(r"[A-Z][A-Z0-9 ./_-]*")


def _columns(header: str) -> list[int] | None:
    """Where each column of a docker-style table starts: after two or more spaces."""
    if not _HEADER_WORD.fullmatch(header.strip()) or header.startswith(" "):
        return None
    starts = [0] + [m.end() for m in _GAP.finditer(header.rstrip())]
    return starts if len(starts) >= 3 else None


def compact_table(lines: list[str], width: int) -> list[str]:
    """`lines` with each table in it (a capitalised header, then rows aligned under it) set
    with two spaces between columns, when a row is wider than `width`. Anything that does not
    line up with the header is left alone."""
    out = list(lines)
    n = 0
    while n < len(out):
        starts = _columns(out[n])
        if starts is None:
            n += 1
            continue
        end = n + 1
        while end < len(out) and out[end].strip() and _aligned(out[end], starts):
            end += 1
        rows = out[n:end]
        if end > n + 1 and max(len(r) for r in rows) > width:  # a header with rows
            out[n:end] = _compact(rows, starts)
        n = end
    return out


def _aligned(row: str, starts: list[int]) -> bool:
    """Every column start falls after a blank (or past the end): no value crosses a border."""
    return all(s >= len(row) or row[s - 1] == " " for s in starts[1:])


def _compact(rows: list[str], starts: list[int]) -> list[str]:
    bounds = [*starts[1:], None]
    cells = [[row[a:b].strip() for a, b in zip(starts, bounds, strict=True)] for row in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(starts))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
