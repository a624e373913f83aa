"""The bound on what is stored of one command's output (pure).

A command may print megabytes; the results are committed and published. Stored: the first
and last KEEP_LINES lines, each cut at MAX_LINE_CHARS, and one line in between saying what was
left out and why. Matching always sees the whole output; only the record is cut.
"""

from __future__ import annotations

KEEP_LINES = 500  # at each end
MAX_LINE_CHARS = 1000
# In French: the note is published with the output, to the book's readers.
CAP_NOTE = (
    "[… {lines} lignes non conservées\u00a0: la vérification garde les {keep} premières et "
    "les {keep} dernières lignes d’une sortie …]"
)


def _number(n: int) -> str:
    """French digit grouping, with narrow no-break spaces (12\u202f345)."""
    return f"{n:,}".replace(",", "\u202f")


def _cut(line: str) -> str:
    if len(line) <= MAX_LINE_CHARS:
        return line
    left = _number(len(line) - MAX_LINE_CHARS)
    return line[:MAX_LINE_CHARS] + f"[… {left} caractères non conservés …]"


def cap_lines(text: str) -> str:
    """A message (a diff, a timeout's last lines) with each line cut at MAX_LINE_CHARS."""
    if all(len(line) <= MAX_LINE_CHARS for line in text.split("\n")):
        return text
    return "\n".join(_cut(line) for line in text.split("\n"))


def cap_output(
    output: str, elided: tuple[tuple[int, int], ...]
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The output as stored, and the elided spans renumbered to its lines."""
    lines = output.split("\n")
    if len(lines) <= 2 * KEEP_LINES + 1:
        if all(len(line) <= MAX_LINE_CHARS for line in lines):
            return output, elided
        return "\n".join(_cut(line) for line in lines), elided
    dropped = len(lines) - 2 * KEEP_LINES
    kept = [
        *lines[:KEEP_LINES],
        CAP_NOTE.format(lines=_number(dropped), keep=KEEP_LINES),
        *lines[-KEEP_LINES:],
    ]

    def where(j: int) -> int:
        if j <= KEEP_LINES:
            return j
        if j < len(lines) - KEEP_LINES:
            return KEEP_LINES  # inside the part left out: the note line
        return j - dropped + 1

    spans: list[tuple[int, int]] = []
    for start, end in elided:
        new_start, new_end = where(start), where(end)
        if KEEP_LINES < end < len(lines) - KEEP_LINES or (
            start <= KEEP_LINES < end
        ):  # the span covers the note: fold it with the rest
            new_end = max(new_end, KEEP_LINES + 1)
        if new_end > new_start:
            spans.append((new_start, new_end))
    return "\n".join(_cut(line) for line in kept), tuple(spans)
