"""YAML front matter and its `verify:` map: the one schema the runner and the site share (pure).

Top-level keys are open (themes, other plugins and generators bring their own: `title`,
`weight`, `authors`...), except that a key that looks like a misspelling of ours (`verfiy`,
`verify_`, `Verify`: within two edits, or differing only in case) is refused. Every key under
`verify:` is declared below, in VERIFY_KEYS, with the function that checks and converts its
value; anything else there is refused, and so is a null or mistyped value. A chapter that is
not exactly understood stops the run with `file:line` before anything runs: a silently
ignored `lab:` would run the chapter in plain host bash, against the host's Docker.

To add a key under `verify:`, append a `Key` to VERIFY_KEYS (and, if code reads it often, a
property on FrontMatter).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runner.model import LabRequest, Location, StartsFrom
from runner.notation.errors import NotationError
from runner.records import node_name_problem

_FENCE = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_BLANK_THEN_FENCE = re.compile(
    r"\A(?:[ \t]*\r?\n)+---[ \t]*\r?\n(.*?\r?\n)?(?:---|\.\.\.)[ \t]*$", re.DOTALL | re.MULTILINE
)
BOM = "\ufeff"


@dataclass(frozen=True)
class Key:
    """One key under `verify:`: its name, what its value must be (said in errors), and the
    function that checks and converts the value (raising NotationError at `where`)."""

    name: str
    expects: str
    parse: Callable[[Any, Location], Any]


def _seconds(value: Any, where: Location) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise NotationError(
            where, f"verify.timeout must be a positive number of seconds, not {value!r}"
        )
    return float(value)


def _lab_request(value: Any, where: Location) -> LabRequest:
    if not isinstance(value, dict):
        raise NotationError(
            where, "verify.lab must be a map: {} (an empty lab), {nodes: 4} or {nodes: [a, b]}"
        )
    _only_known(value, ("nodes", "provider", "images"), "verify.lab", where)
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
            problem = node_name_problem(name)
            if problem is not None:
                raise NotationError(where, f"verify.lab.nodes: node name {name!r}: {problem}")
        if len(set(nodes)) != len(nodes):
            raise NotationError(where, "verify.lab.nodes names a node twice")
    else:
        raise NotationError(where, "verify.lab.nodes is a number or a list of names")
    provider = value.get("provider")
    if "provider" in value and not isinstance(provider, str):
        raise NotationError(where, "verify.lab.provider is a name, e.g. netns")
    return LabRequest(nodes=nodes, provider=provider, images=_images(value.get("images"), where))


_IMAGE_NAME = re.compile(r"[a-z0-9][a-z0-9._/-]*(:[\w][\w.-]{0,127})?")


def _images(value: object, where: Location) -> tuple[tuple[str, str], ...]:
    """`images: {alpine: busybox}`: the names the text uses, and the lab images behind them."""
    if value is None:
        return ()
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise NotationError(where, "verify.lab.images maps names to lab images: {alpine: busybox}")
    for name in (*value.keys(), *value.values()):
        if not _IMAGE_NAME.fullmatch(name):
            raise NotationError(where, f"verify.lab.images: {name!r} is not an image name")
    return tuple(sorted(value.items()))


def _elision(value: Any, where: Location) -> str:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise NotationError(where, 'verify.elision is a marker line, e.g. elision: "...snip..."')
    return value


def _starts_from(value: Any, where: Location) -> StartsFrom:
    """A chapter, as a Markdown link from this one, whose end state this chapter starts from
    (runner.startpoint); its lab is that chapter's."""
    if not isinstance(value, str) or not value.strip().endswith(".md"):
        raise NotationError(
            where, "verify.starts-from names a chapter file, e.g. starts-from: partie-1.md"
        )
    return StartsFrom(value.strip(), where)


VERIFY_KEYS: tuple[Key, ...] = (
    Key("lab", "a map: {} (an empty lab), {nodes: 4} or {nodes: [a, b]}", _lab_request),
    Key("timeout", "a positive number of seconds", _seconds),
    Key("starts-from", "a chapter file, e.g. partie-1.md", _starts_from),
    Key("elision", 'a marker line, e.g. "...snip..."', _elision),
)
OUR_TOP_LEVEL = ("verify",)


@dataclass(frozen=True)
class FrontMatter:
    data: dict[str, Any]
    lines: int  # how many lines of the file it takes, fences included
    verify: Mapping[str, Any] = field(default_factory=dict)  # checked values, by key name

    @property
    def lab(self) -> LabRequest | None:
        lab: LabRequest | None = self.verify.get("lab")
        return lab

    @property
    def timeout(self) -> float | None:
        timeout: float | None = self.verify.get("timeout")
        return timeout

    @property
    def starts_from(self) -> StartsFrom | None:
        starts_from: StartsFrom | None = self.verify.get("starts-from")
        return starts_from

    @property
    def elision(self) -> str:
        elision: str = self.verify.get("elision", "...")
        return elision


def split_front_matter(text: str, path: Path) -> FrontMatter:
    if text.startswith(BOM):
        raise NotationError(
            Location(path, 1),
            "the file starts with a byte order mark (BOM, U+FEFF): save it as UTF-8 without "
            'BOM (most editors call it plain "UTF-8")',
        )
    match = _FENCE.match(text)
    if not match:
        late = _BLANK_THEN_FENCE.match(text)
        if late and _is_yaml_map(late.group(1) or ""):  # else two thematic breaks, not YAML
            raise NotationError(
                Location(path, 1),
                "blank line before the front matter's `---`: neither mkdocs nor the runner "
                "reads it as front matter (the page would show it as text); remove the blank "
                "line so that `---` is the first line",
            )
        return FrontMatter({}, 0)
    lines = match.group(0).count("\n") + (0 if match.group(0).endswith("\n") else 1)
    body = match.group(1) or ""
    try:
        data = yaml.safe_load(body) or {}
        node = yaml.compose(body, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = 2 + (mark.line if mark is not None else 0)
        raise NotationError(Location(path, line), f"front matter is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise NotationError(Location(path, 1), "front matter must be a YAML map")
    top = _key_lines(node, path)
    _refuse_near_misses(data, top, path)
    if "verify" not in data:
        if "lab" in data:  # nobody else's key, and a lab silently missing runs on the host
            raise NotationError(
                top["lab"], "`lab:` belongs under `verify:` (write `verify:` then `  lab: ...`)"
            )
        return FrontMatter(data, lines)
    where = top.get("verify", Location(path, 1))
    verify = data["verify"]
    if verify is None:
        misplaced = [k for k in data if k in {key.name for key in VERIFY_KEYS}]
        hint = (
            f" (`{misplaced[0]}:` at line {top[misplaced[0]].line} is not indented under it)"
            if misplaced
            else ""
        )
        raise NotationError(
            where,
            f"verify: has no value{hint}; put its keys under it, indented, "
            "e.g. `verify:` then `  lab: {nodes: 2}`",
        )
    if not isinstance(verify, dict):
        raise NotationError(where, "verify: must be a map, e.g. verify: {lab: {nodes: 4}}")
    inner = _key_lines(_child(node, "verify"), path)
    _only_known(verify, tuple(k.name for k in VERIFY_KEYS), "verify", where, inner)
    values: dict[str, Any] = {}
    for key in VERIFY_KEYS:
        if key.name not in verify:
            continue
        at = inner.get(key.name, where)
        if verify[key.name] is None:
            raise NotationError(at, f"verify.{key.name} has no value: it must be {key.expects}")
        values[key.name] = key.parse(verify[key.name], at)
    if "starts-from" in values and "lab" in values:
        raise NotationError(
            inner.get("starts-from", where),
            "verify.starts-from and verify.lab together: the lab is the starting chapter's; "
            "remove lab",
        )
    return FrontMatter(data, lines, values)


def _is_yaml_map(text: str) -> bool:
    try:
        return isinstance(yaml.safe_load(text), dict)
    except yaml.YAMLError:
        return False


def _key_lines(node: yaml.Node | None, path: Path) -> dict[str, Location]:
    """Each key of a YAML map, with its line in the file (the front matter starts at 2);
    a key given twice is refused (YAML would keep the last one silently)."""
    out: dict[str, Location] = {}
    if not isinstance(node, yaml.MappingNode):
        return out
    for key_node, _ in node.value:
        name = str(key_node.value)
        where = Location(path, key_node.start_mark.line + 2)
        if name in out:
            raise NotationError(where, f"`{name}` is given twice (first at line {out[name].line})")
        out[name] = where
    return out


def _child(node: yaml.Node | None, name: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == name:
                child: yaml.Node = value_node
                return child
    return None


def _edits(a: str, b: str) -> int:
    """Optimal string alignment distance: substitutions, insertions, deletions, swaps."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def _near(name: str, candidates: tuple[str, ...]) -> str | None:
    for candidate in candidates:
        if name != candidate and _edits(name.lower(), candidate.lower()) <= 2:
            return candidate
    return None


def _refuse_near_misses(data: dict[Any, Any], lines: dict[str, Location], path: Path) -> None:
    for name in data:
        if not isinstance(name, str) or name in OUR_TOP_LEVEL:
            continue
        ours = _near(name, OUR_TOP_LEVEL)
        if ours is not None:
            raise NotationError(
                lines.get(name, Location(path, 1)),
                f"unknown front-matter key `{name}`: did you mean `{ours}`?",
            )


def _only_known(
    mapping: dict[Any, Any],
    known: tuple[str, ...],
    label: str,
    where: Location,
    lines: dict[str, Location] | None = None,
) -> None:
    for name in mapping:
        if name in known:
            continue
        guess = _near(str(name), known)
        raise NotationError(
            (lines or {}).get(str(name), where),
            f"unknown key `{name}` under {label}:"
            + (f" did you mean `{guess}`?" if guess else "")
            + f" (known: {', '.join(known)})",
        )
