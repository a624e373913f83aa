"""The book's settings the runner shares with the site: the `verified` plugin's entry in
mkdocs.yml, read without mkdocs.

    plugins:
      - verified:
          engines: ["20.10", "26.1", "28.5"]   # Docker Engine generations; the first is primary

The engine list lives there and only there: the runner verifies on those engines, the site
shows them, the handouts print the primary's output. Moving to another generation is a one
line change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from runner.store import DEFAULT_ENGINE

GENERATION_RE = re.compile(r"^\d+\.\d+$")


class BookConfigError(Exception):
    """mkdocs.yml's `verified` settings are unusable; the message names file and fix."""


class _Loader(yaml.SafeLoader):
    """mkdocs.yml may carry tags (!ENV, !!python/name:...) that only mkdocs resolves."""


def _unknown(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    return None


_Loader.add_multi_constructor("!", _unknown)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", _unknown)


@dataclass(frozen=True)
class BookConfig:
    engines: tuple[str, ...]  # the first is the book's primary engine

    @property
    def primary(self) -> str:
        return self.engines[0]


def check_engines(engines: object, where: str) -> tuple[str, ...]:
    if (
        not isinstance(engines, list | tuple)
        or not engines
        or not all(isinstance(e, str) and GENERATION_RE.match(e) for e in engines)
    ):
        raise BookConfigError(
            f"{where}: `engines` must be a non-empty list of Docker Engine generations as "
            f'quoted strings, e.g. engines: ["20.10", "26.1", "28.5"] (got {engines!r})'
        )
    if len(set(engines)) != len(engines):
        raise BookConfigError(f"{where}: `engines` lists a generation twice: {engines!r}")
    return tuple(engines)


def load(root: Path | None) -> BookConfig:
    """The book's settings from `root/mkdocs.yml`; defaults outside a book."""
    default = BookConfig(engines=(DEFAULT_ENGINE,))
    if root is None or not (root / "mkdocs.yml").is_file():
        return default
    path = root / "mkdocs.yml"
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as exc:
        raise BookConfigError(f"{path}: unreadable YAML ({exc})") from exc
    plugins = data.get("plugins") if isinstance(data, dict) else None
    for entry in plugins or []:
        if isinstance(entry, dict) and "verified" in entry:
            settings = entry["verified"] or {}
            if "engines" not in settings:
                return default
            line = _line_of(path, "engines")
            return BookConfig(engines=check_engines(settings["engines"], f"{path}:{line}"))
    return default


def _line_of(path: Path, key: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip().startswith(f"{key}:"):
            return number
    return 1
