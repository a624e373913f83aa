"""`{{ ... }}` placeholders and `[..]`: tokenising a line of the notation (pure).

`{{ name }}`, `{{ name /REGEX/ }}` and `{{ /REGEX/ }}` are placeholders; anything else between
`{{` and `}}` (Go templates such as `{{.ID}}` or `{{json .Spec}}`) is literal text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PLACEHOLDER = re.compile(
    r"\{\{\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*)?(?:/(?P<regex>.*?)/\s*)?\}\}"
)
_ELLIPSIS = "[..]"


@dataclass(frozen=True)
class Literal:
    text: str


@dataclass(frozen=True)
class Anything:
    """`[..]`: any text within the line."""


@dataclass(frozen=True)
class Placeholder:
    name: str | None
    regex: str | None  # None: a run of non-blank characters


Piece = Literal | Anything | Placeholder


class PatternError(ValueError):
    pass


def _literal_pieces(text: str, allow_anything: bool) -> list[Piece]:
    if not allow_anything:
        return [Literal(text)] if text else []
    out: list[Piece] = []
    for i, part in enumerate(text.split(_ELLIPSIS)):
        if i:
            out.append(Anything())
        if part:
            out.append(Literal(part))
    return out


def tokenize(line: str, *, allow_anything: bool = True) -> list[Piece]:
    """Split a line into literal text, `[..]` and placeholders. Raises PatternError."""
    pieces: list[Piece] = []
    pos = 0
    while True:
        start = line.find("{{", pos)
        if start < 0:
            pieces += _literal_pieces(line[pos:], allow_anything)
            return pieces
        end = line.find("}}", start + 2)
        if end < 0:
            raise PatternError("`{{` is never closed on this line (write `}}`)")
        match = _PLACEHOLDER.fullmatch(line, start, end + 2)
        if match is None or (match.group("name") is None and match.group("regex") is None):
            # Not our notation: literal text (e.g. a Go template).
            pieces += _literal_pieces(line[pos : end + 2], allow_anything)
            pos = end + 2
            continue
        regex = match.group("regex")
        if regex is not None:
            try:
                compiled = re.compile(regex)
            except re.error as exc:
                raise PatternError(f"bad regular expression /{regex}/: {exc}") from exc
            if compiled.groups:
                # Our own groups carry the captures; the author's would shift them.
                regex = re.sub(r"\((?!\?)", "(?:", regex)
                try:
                    re.compile(regex)
                except re.error as exc:
                    raise PatternError(f"bad regular expression /{regex}/: {exc}") from exc
        pieces += _literal_pieces(line[pos:start], allow_anything)
        pieces.append(Placeholder(match.group("name"), regex))
        pos = end + 2


def names_in(line: str) -> list[str]:
    return [p.name for p in tokenize(line) if isinstance(p, Placeholder) and p.name]


def substitute(command: str, values: dict[str, str]) -> str:
    """Fill `{{ name }}` in a command with captured values; other `{{ }}` text is kept."""

    def fill(match: re.Match[str]) -> str:
        name = match.group("name")
        if name is not None and match.group("regex") is None and name in values:
            return values[name]
        return match.group(0)

    return _PLACEHOLDER.sub(fill, command)
