"""Values a run captured that differ for every reader (tokens, IDs, addresses), written as a
placeholder the reader fills in: `{{ manager_token }}` becomes `<JETON_MANAGER>` (pure).

Shared by the site and the handouts, so that a reader sees the same name on screen and on
paper."""

from __future__ import annotations

import re

from runner.notation.patterns import Literal, Placeholder, tokenize

# The capture names' words, in French; the noun goes first, as French puts it.
_WORDS = {"token": "JETON", "id": "ID", "ip": "IP", "addr": "ADRESSE", "short": "COURT"}
_NOUNS = ("token", "id", "ip", "addr")
_NEW = {"new": "NOUVEAU"}


def reader_placeholder(name: str) -> str:
    """`manager_token` -> `<JETON_MANAGER>`, `new_worker_token` -> `<NOUVEAU_JETON_WORKER>`,
    `id_01` -> `<ID_01>`."""
    parts = [p for p in re.split(r"[_\W]+", name.lower()) if p]
    first = [_NEW[p] for p in parts if p in _NEW]
    nouns = [_WORDS[p] for p in parts if p in _NOUNS]
    rest = [_WORDS.get(p, p.upper()) for p in parts if p not in _NOUNS and p not in _NEW]
    return "<" + "_".join(first + nouns + rest or [name.upper()]) + ">"


def with_placeholders(line: str) -> tuple[str, set[str]]:
    """A command line as written, each `{{ name }}` as the reader's placeholder; and the names.
    Go templates (`{{.ID}}`) stay as they are."""
    out: list[str] = []
    used: set[str] = set()
    for token in tokenize(line, allow_anything=False):
        if isinstance(token, Placeholder) and token.name:
            used.add(token.name)
            out.append(reader_placeholder(token.name))
        elif isinstance(token, Literal):
            out.append(token.text)
    return "".join(out), used
