"""Material's indented containers, opened up so that CommonMark sees the fences inside (pure).

Python-Markdown reads the indented body of `!!! note`, `??? note`, `???+ note` and `=== "Tab"`
as Markdown, blank line or not after the header, and Material shows a fence there as a code
block. CommonMark reads the same lines as a paragraph or an indented code block. So before
markdown-it parses a chapter, each container header becomes a blank line and its body loses
one level (4 columns) of indentation: the line count stays the same, so every line number is
still the file's.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"(?:!!!|\?\?\?\+?|===[!+]?)(?:[ \t]|\Z)")


def _width(prefix: str) -> int:
    width = 0
    for ch in prefix:
        width = width + 4 - width % 4 if ch == "\t" else width + 1
    return width


def _dedent(line: str, columns: int) -> str:
    """Remove `columns` columns of leading blanks (a tab counts to the next multiple of 4)."""
    width = 0
    for i, ch in enumerate(line):
        if width >= columns or ch not in " \t":
            return " " * (width - columns) + line[i:]
        width = width + 4 - width % 4 if ch == "\t" else width + 1
    return ""


def open_containers(lines: list[str]) -> list[str]:
    """The lines with container headers blanked and their bodies dedented."""
    out: list[str] = []
    # Open containers: (their header's indentation width, columns their body loses).
    stack: list[tuple[int, int]] = []
    for line in lines:
        if not line.strip():
            out.append(line)
            continue
        width = _width(line[: len(line) - len(line.lstrip(" \t"))])
        while stack and width < stack[-1][0] + 4:
            stack.pop()
        text = _dedent(line, stack[-1][1]) if stack else line
        if _HEADER.match(text.lstrip(" \t")):
            shown = _width(text[: len(text) - len(text.lstrip(" \t"))])
            stack.append((width, width + 4 - shown))
            out.append("")
            continue
        out.append(text)
    return out
