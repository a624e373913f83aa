"""The part of Go's text/template and text/tabwriter that docker-machine's `--format` uses:
`{{ .Field }}`, `{{ .A.B }}`, `{{ json .X }}`, `{{ prettyjson .X }}`, `{{ . }}`, and a
tabwriter with docker-machine's settings (minwidth 5, padding 3, blanks).
"""

from __future__ import annotations

import json
import re
from typing import Any

ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
FUNCS = ("json", "prettyjson", "printf", "upper", "lower")


class TemplateError(Exception):
    pass


def go_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_str(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    return str(value)


def _lookup(data: Any, path: str, name: str) -> Any:
    if path == ".":
        return data
    value = data
    for part in path.lstrip(".").split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise TemplateError(
                f'template: {name}:1: executing "{name}" at <{path}>: can\'t evaluate field {part}'
            )
    return value


def _eval(expr: str, data: Any, name: str) -> str:
    words = expr.split()
    if not words:
        raise TemplateError(f"template: {name}:1: missing value for command")
    if words[0].startswith("."):
        if len(words) != 1:
            raise TemplateError(
                f"template: {name}:1: can't give argument to non-function {words[0]}"
            )
        return go_str(_lookup(data, words[0], name))
    func = words[0]
    if func not in FUNCS:
        raise TemplateError(f'template: {name}:1: function "{func}" not defined')
    args = [_lookup(data, w, name) if w.startswith(".") else w.strip('"') for w in words[1:]]
    if func == "json":
        return json.dumps(args[0] if args else None, separators=(",", ":"))
    if func == "prettyjson":
        return json.dumps(args[0] if args else None, indent=4)
    if func in ("upper", "lower"):
        text = go_str(args[0]) if args else ""
        return text.upper() if func == "upper" else text.lower()
    fmt = str(args[0]) if args else ""
    rest = iter(args[1:])
    return re.sub(r"%[svdq]", lambda _m: go_str(next(rest, "")), fmt)


def render(template: str, data: Any, name: str = "") -> str:
    out = []
    pos = 0
    for m in ACTION.finditer(template):
        out.append(template[pos : m.start()])
        out.append(_eval(m.group(1), data, name))
        pos = m.end()
    rest = template[pos:]
    if "{{" in rest:
        raise TemplateError(f"template: {name}:1: unclosed action")
    out.append(rest)
    return "".join(out)


def tabwrite(text: str, minwidth: int = 5, padding: int = 3) -> str:
    """Go's tabwriter (flags 0, pad ' '): tab-terminated cells are aligned per column over
    consecutive lines; the text after a line's last tab is left as is."""
    lines = text.split("\n")
    cells = [line.split("\t") for line in lines]
    widths: dict[int, int] = {}
    for row in cells:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths.get(i, minwidth), len(cell) + padding)
    out = []
    for row in cells:
        out.append("".join(c.ljust(widths[i]) for i, c in enumerate(row[:-1])) + row[-1])
    return "\n".join(out)
