"""`{{ ... }}` placeholders and `[..]`: tokenising a line of the notation (pure).

`{{ name }}`, `{{ name /REGEX/ }}` and `{{ /REGEX/ }}` are placeholders; anything else between
`{{` and `}}` (Go templates such as `{{.ID}}` or `{{json .Spec}}`) is literal text.

Expected lines compile with the `regex` package, not `re`: its matching takes a time limit,
so that an author's catastrophic pattern (`(a|aa)+b`) fails a block instead of hanging the run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import regex

_PLACEHOLDER = re.compile(
    r"\{\{\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*)?(?:/(?P<regex>.*?)/\s*)?\}\}"
)
_ELLIPSIS = "[..]"
# `LINE {{ * }}`: zero or more output lines of LINE's shape (a racy list of one or two tasks).
_REPEAT = re.compile(r"[ \t]*\{\{[ \t]*\*[ \t]*\}\}[ \t]*\Z")
# A literal `...` line in a chapter that declares its own elision marker.
LITERAL_DOTS = r"{{ /\.\.\./ }}"
_BLANKS = re.compile(r"([ \t]+)")
# `{{end}}`, `{{else}}`... are Go template actions (docker --format), never placeholders.
GO_TEMPLATE_WORDS = frozenset(
    [
        "end",
        "else",
        "if",
        "range",
        "with",
        "define",
        "template",
        "block",
        "break",
        "continue",
        "nil",
        "not",
        "and",
        "or",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "len",
        "index",
        "print",
        "printf",
        "println",
        "slice",
        "call",
        "html",
        "js",
        "urlquery",
        "json",
        "join",
        "title",
        "lower",
        "upper",
        "split",
        "pad",
        "padWithSpace",
        "truncate",
        "tablerow",
        "table",
    ]
)


@dataclass(frozen=True)
class Text:
    """Text to match as written (runs of blanks match any run of blanks)."""

    text: str


@dataclass(frozen=True)
class Anything:
    """`[..]`: any text within the line."""


@dataclass(frozen=True)
class Placeholder:
    name: str | None
    regex: str | None  # None: a run of non-blank characters


# What `tokenize` splits a line into.
Token = Text | Anything | Placeholder


class PatternError(ValueError):
    pass


def _text_tokens(text: str, allow_anything: bool) -> list[Token]:
    if not allow_anything:
        return [Text(text)] if text else []
    out: list[Token] = []
    for i, part in enumerate(text.split(_ELLIPSIS)):
        if i:
            out.append(Anything())
        if part:
            out.append(Text(part))
    return out


def tokenize(line: str, *, allow_anything: bool = True) -> list[Token]:
    """Split a line into literal text, `[..]` and placeholders. Raises PatternError."""
    pieces: list[Token] = []
    pos = 0
    while True:
        start = line.find("{{", pos)
        if start < 0:
            pieces += _text_tokens(line[pos:], allow_anything)
            return pieces
        end = line.find("}}", start + 2)
        if end < 0:
            raise PatternError("`{{` is never closed on this line (write `}}`)")
        match = _PLACEHOLDER.fullmatch(line, start, end + 2)
        if match is None or (match.group("name") is None and match.group("regex") is None):
            # Not our notation: literal text (e.g. a Go template).
            pieces += _text_tokens(line[pos : end + 2], allow_anything)
            pos = end + 2
            continue
        body = match.group("regex")
        if body is not None:
            try:
                regex.compile(body)
            except regex.error as exc:
                raise PatternError(f"bad regular expression /{body}/: {exc}") from exc
            if "(?P<vb__" in body:
                raise PatternError("group names starting with vb__ are the runner's own")
        if match.group("name") in GO_TEMPLATE_WORDS and body is None:
            pieces += _text_tokens(line[pos : end + 2], allow_anything)
            pos = end + 2
            continue
        pieces += _text_tokens(line[pos:start], allow_anything)
        pieces.append(Placeholder(match.group("name"), body))
        pos = end + 2


def split_repeat(line: str) -> tuple[str, bool]:
    """(the line without its `{{ * }}` marker, whether it had one)."""
    found = _REPEAT.search(line)
    if found is None or not line[: found.start()].strip():
        return line, False
    return line[: found.start()], True


def matcher_line(text: str, elision: str) -> str:
    """An expected line as the matcher reads it: the chapter's elision marker becomes `...`
    (and a literal `...` is then plain text)."""
    if elision == "...":
        return text
    if text.strip() == elision:
        return "..."
    if text.strip() == "...":
        return LITERAL_DOTS
    return text


def names_in_command(command: str) -> list[str]:
    """The captured values a command uses."""
    return [
        match.group("name")
        for match in _PLACEHOLDER.finditer(command)
        if match.group("name")
        and match.group("regex") is None
        and match.group("name") not in GO_TEMPLATE_WORDS
    ]


def substitute(command: str, values: dict[str, str]) -> str:
    """Fill `{{ name }}` in a command with captured values; other `{{ }}` text is kept."""

    def fill(match: re.Match[str]) -> str:
        name = match.group("name")
        if match.group("regex") is None and name in values and name not in GO_TEMPLATE_WORDS:
            return values[name]
        return match.group(0)

    return _PLACEHOLDER.sub(fill, command)


def _literal_regex(text: str) -> str:
    return "".join(
        "[ \t]+" if _BLANKS.fullmatch(part) else re.escape(part)
        for part in _BLANKS.split(text)
        if part
    )


class LiteralLine:
    """A line with no placeholder and no `[..]`: compared word by word, with no regex to
    compile (most expected lines are like this, and each would be a new regex)."""

    def __init__(self, line: str) -> None:
        self.words = _words(line)

    def fullmatch(self, actual: str, timeout: float | None = None) -> regex.Match[str] | None:
        return _MATCHED if _words(actual) == self.words else None


_MATCHED = regex.compile("").fullmatch("")


def _words(line: str) -> list[str]:
    return [word for word in line.replace("\t", " ").split(" ") if word]


Pattern = regex.Pattern[str] | LiteralLine


def compile_line(line: str, known: Mapping[str, str]) -> tuple[Pattern, dict[str, str]]:
    """A compiled regex for one expected line, and the group -> capture name it defines.

    Raises PatternError. A run of blanks matches any run of blanks; leading blanks are free.
    """
    pieces = tokenize(line.strip())
    if all(isinstance(piece, Text) for piece in pieces):
        return LiteralLine(line), {}
    parts = ["[ \t]*"]
    groups: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for piece in pieces:
        if isinstance(piece, Text):
            parts.append(_literal_regex(piece.text))
        elif isinstance(piece, Anything):
            parts.append(".*?")
        elif piece.name is None:
            parts.append(f"(?:{piece.regex})")
        elif piece.name in known:
            parts.append(regex.escape(known[piece.name]))
        elif piece.name in by_name:
            parts.append(f"(?P={by_name[piece.name]})")
        else:
            group = f"vb__{len(groups)}"
            groups[group] = piece.name
            by_name[piece.name] = group
            body = piece.regex if piece.regex is not None else r"\S+"
            parts.append(f"(?P<{group}>{body})")
    try:
        return regex.compile("".join(parts)), groups
    except regex.error as exc:
        raise PatternError(f"this line does not make a valid pattern: {exc}") from exc
