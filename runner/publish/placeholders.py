"""Values a run captured that differ for every reader (tokens, IDs, addresses), written as a
placeholder the reader fills in: `{{ jeton_manager }}` becomes `<JETON_MANAGER>` (pure).

Shared by the site and the handouts, so that a reader sees the same name on screen and on
paper."""

from __future__ import annotations

from runner.notation.patterns import Placeholder, Text, tokenize


def reader_placeholder(name: str) -> str:
    """`jeton_worker` -> `<JETON_WORKER>`: captures are named in the words readers should see
    (NOTATION.md), in capitals between angle brackets, as the copy button gives them."""
    return f"<{name.upper().replace('-', '_')}>"


def with_placeholders(line: str) -> tuple[str, set[str]]:
    """A command line as written, each `{{ name }}` as the reader's placeholder; and the names.
    Go templates (`{{.ID}}`) stay as they are."""
    out: list[str] = []
    used: set[str] = set()
    for token in tokenize(line, allow_anything=False):
        if isinstance(token, Placeholder) and token.name:
            used.add(token.name)
            out.append(reader_placeholder(token.name))
        elif isinstance(token, Text):
            out.append(token.text)
    return "".join(out), used
