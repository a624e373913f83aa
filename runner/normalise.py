"""The one pure function that turns what a terminal printed into comparable text."""

from __future__ import annotations

import re

# CSI and OSC sequences, and two-character escapes: colours, cursor moves, titles.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise(raw: str) -> str:
    """Strip ANSI escapes and control characters, fold CRLF, keep what a `\\r` overwrote last,
    drop trailing blanks on each line and blank lines at both ends."""
    text = (_ANSI.sub("", raw) if "\x1b" in raw else raw).replace("\r\n", "\n")
    if "\r" not in text and _CONTROL.search(text) is None:
        # The common case, and the one of megabytes of output: one pass, no per-line work.
        lines = [line.rstrip() for line in text.split("\n")]
    else:
        lines = _lines(text)
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _lines(text: str) -> list[str]:
    lines = []
    for line in text.split("\n"):
        if "\r" in line:
            # A bare carriage return rewrites the line (progress bars): keep the last write.
            line = [part for part in line.split("\r") if part][-1] if line.strip("\r") else ""
        lines.append(_CONTROL.sub("", line).rstrip())
    return lines
