"""YAML front matter and its `verify:` map (pure)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from runner.model import LabRequest, Location, StartsFrom
from runner.notation.errors import NotationError

_FENCE = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_NODE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,62}")


@dataclass(frozen=True)
class FrontMatter:
    data: dict[str, Any]
    lines: int  # how many lines of the file it takes, fences included
    lab: LabRequest | None
    timeout: float | None
    starts_from: StartsFrom | None = None


def split_front_matter(text: str, path: Path) -> FrontMatter:
    match = _FENCE.match(text)
    if not match:
        return FrontMatter({}, 0, None, None)
    lines = match.group(0).count("\n") + (0 if match.group(0).endswith("\n") else 1)
    try:
        data = yaml.safe_load(match.group(1) or "") or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = 2 + (mark.line if mark is not None else 0)
        raise NotationError(Location(path, line), f"front matter is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise NotationError(Location(path, 1), "front matter must be a YAML map")
    verify = data.get("verify")
    where = Location(path, _line_of(match.group(0), "verify:"))
    if verify is None:
        return FrontMatter(data, lines, None, None)
    if not isinstance(verify, dict):
        raise NotationError(where, "verify: must be a map, e.g. verify: {lab: {nodes: 4}}")
    _only_known(verify, ("lab", "timeout", "starts-from"), "verify", where)
    timeout = verify.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise NotationError(where, "verify.timeout must be a positive number of seconds")
    lab = _lab_request(verify["lab"], where) if "lab" in verify else None
    starts_from = _starts_from(verify, Location(path, _line_of(match.group(0), "starts-from:")))
    return FrontMatter(
        data, lines, lab, float(timeout) if timeout is not None else None, starts_from
    )


def _starts_from(verify: dict[Any, Any], where: Location) -> StartsFrom | None:
    """`starts-from: partie-1.md`: a chapter, as a Markdown link from this one, whose state
    this chapter starts from. Its lab is that chapter's, so `lab:` may not be given too."""
    if "starts-from" not in verify:
        return None
    value = verify["starts-from"]
    if not isinstance(value, str) or not value.strip().endswith(".md"):
        raise NotationError(
            where, "verify.starts-from names a chapter file, e.g. starts-from: partie-1.md"
        )
    if "lab" in verify:
        raise NotationError(
            where,
            "verify.starts-from and verify.lab together: the lab is the starting chapter's; "
            "remove lab",
        )
    return StartsFrom(value.strip(), where)


def _line_of(block: str, needle: str) -> int:
    for number, line in enumerate(block.splitlines(), start=1):
        if line.lstrip().startswith(needle):
            return number
    return 1


def _only_known(
    mapping: dict[Any, Any], known: tuple[str, ...], label: str, where: Location
) -> None:
    unknown = sorted(str(k) for k in mapping if k not in known)
    if unknown:
        raise NotationError(
            where, f"unknown key(s) under {label}: {', '.join(unknown)} (known: {', '.join(known)})"
        )


def _lab_request(value: object, where: Location) -> LabRequest:
    if value is None:
        return LabRequest()
    if not isinstance(value, dict):
        raise NotationError(where, "verify.lab must be a map: {} or {nodes: 4} or {nodes: [a, b]}")
    _only_known(value, ("nodes", "provider"), "verify.lab", where)
    nodes_value = value.get("nodes", [])
    if isinstance(nodes_value, bool):
        nodes_value = None
    if isinstance(nodes_value, int):
        if not 0 <= nodes_value <= 32:
            raise NotationError(where, "verify.lab.nodes: from 0 to 32 nodes")
        nodes = tuple(f"node-{n:02d}" for n in range(1, nodes_value + 1))
    elif isinstance(nodes_value, list) and all(isinstance(n, str) for n in nodes_value):
        nodes = tuple(nodes_value)
        for name in nodes:
            if not _NODE_NAME.fullmatch(name):
                raise NotationError(where, f"node name {name!r}: letters, digits, '-' and '.'")
        if len(set(nodes)) != len(nodes):
            raise NotationError(where, "verify.lab.nodes names a node twice")
    else:
        raise NotationError(where, "verify.lab.nodes is a number or a list of names")
    provider = value.get("provider")
    if provider is not None and not isinstance(provider, str):
        raise NotationError(where, "verify.lab.provider is a name, e.g. netns")
    return LabRequest(nodes=nodes, provider=provider)
