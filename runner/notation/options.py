"""Options on a ```console fence line, mkdocs-material style: key="value" or a bare flag."""

from __future__ import annotations

import math
import re

from runner.model import BlockOptions, Location
from runner.notation.errors import NotationError

_OPTION = re.compile(r"""\s*([A-Za-z_][\w-]*)(?:=("[^"]*"|'[^']*'|[^\s"']+))?""")
DISPLAY_OPTIONS = ("title", "linenums", "hl_lines")
_KNOWN = (
    "session",
    "timeout",
    "until",
    "order",
    "hidden",
    "skip",
    "requires",
    "prompt",
    "unchecked",
    *DISPLAY_OPTIONS,
)
_FLAGS = ("hidden", "unchecked")


def split_options(rest: str, loc: Location) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    pos = 0
    while pos < len(rest):
        if rest[pos:].strip() == "":
            break
        match = _OPTION.match(rest, pos)
        if match is None or match.end() == pos:
            raise NotationError(
                loc,
                f"cannot read the fence options at {rest[pos:].strip()!r}; "
                'write them as key="value" separated by spaces',
            )
        value = match.group(2)
        if value is not None and value[:1] in "\"'":
            value = value[1:-1]
        out.append((match.group(1), value))
        pos = match.end()
    return out


def _seconds(name: str, value: str | None, loc: Location) -> float:
    try:
        seconds = float(value or "")
    except ValueError:
        seconds = -1.0
    if not math.isfinite(seconds) or seconds <= 0:
        raise NotationError(loc, f'{name}= takes a positive number of seconds, e.g. {name}="60"')
    return seconds


def parse_options(rest: str, loc: Location, default_timeout: float) -> BlockOptions:
    values: dict[str, str | None] = {}
    for name, value in split_options(rest, loc):
        if name not in _KNOWN:
            raise NotationError(
                loc, f"unknown option {name!r} on a console block (known: {', '.join(_KNOWN)})"
            )
        if name in values:
            raise NotationError(loc, f"option {name!r} given twice")
        if name in _FLAGS and value is not None:
            raise NotationError(loc, f"{name} is a flag: write it alone, without a value")
        if name not in _FLAGS and value is None:
            hint = ' (skip="why it is not run")' if name == "skip" else ""
            raise NotationError(loc, f'{name} needs a value: {name}="..."{hint}')
        values[name] = value
    order = values.get("order")
    if order is not None and order != "any":
        raise NotationError(loc, f'order= takes only "any", not {order!r}')
    session = values.get("session") or "main"
    if not re.fullmatch(r"[\w.-]+", session):
        raise NotationError(loc, f"session name {session!r}: use letters, digits, '-', '_', '.'")
    skip = values.get("skip")
    if skip is not None and not skip.strip():
        raise NotationError(loc, 'skip= needs a reason, e.g. skip="needs a real VirtualBox"')
    requires = tuple(r.strip() for r in (values.get("requires") or "").split(",") if r.strip())
    if "requires" in values and not requires:
        raise NotationError(loc, 'requires= names capabilities, e.g. requires="ipvs"')
    prompt = values.get("prompt")
    if prompt is not None and not prompt.strip():
        raise NotationError(loc, 'prompt= must not be blank, e.g. prompt="/ # "')
    return BlockOptions(
        session=session,
        timeout=_seconds("timeout", values["timeout"], loc)
        if "timeout" in values
        else default_timeout,
        until=_seconds("until", values["until"], loc) if "until" in values else None,
        order_any=order == "any",
        hidden="hidden" in values,
        unchecked="unchecked" in values,
        skip=skip,
        requires=requires,
        prompt=prompt.rstrip() if prompt is not None else None,
        display=tuple((k, v or "") for k, v in values.items() if k in DISPLAY_OPTIONS),
    )
