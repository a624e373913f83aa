"""Split the text of one console block into commands and their expected output (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from runner.model import Command, ExpectLine, Key, Location
from runner.notation.errors import NotationError
from runner.notation.shellsyntax import LineReader

_OWN_PROMPT = re.compile(r"\$(?: (?P<cmd>.*))?")
# A nested shell's prompt: a token without spaces (but `{{ name }}`, a captured value, may be
# part of it), not made only of `#`, then `$ ` or `# `.
_NESTED_PROMPT = re.compile(
    r"(?P<prompt>(?:\{\{[ \t]*[A-Za-z_]\w*[ \t]*\}\}|[^\s])+[$#]) (?P<cmd>.*)"
)
_STATUS = re.compile(r"\[(\d{1,3})\]")
_KEYS: tuple[Key, ...] = ("^C", "^D")


@dataclass
class RawCommand:
    loc: Location
    prompt: str
    lines: list[str]
    output: list[ExpectLine] = field(default_factory=list)


def match_prompt(line: str, declared: str | None) -> tuple[str, str] | None:
    """(prompt, command) if the line is typed at a prompt, else None."""
    if declared is not None and (line == declared or line.startswith(declared + " ")):
        return declared, line[len(declared) + 1 :]
    own = _OWN_PROMPT.fullmatch(line)
    if own:
        return "$", own.group("cmd") or ""
    nested = _NESTED_PROMPT.fullmatch(line)
    if nested and nested.group("prompt").strip("#$"):
        return nested.group("prompt"), nested.group("cmd")
    return None


def split_commands(
    lines: list[str], first_line: int, path: Path, declared_prompt: str | None
) -> list[RawCommand]:
    """`lines`: the block's content split by str.splitlines (so no line holds a `\\r`)."""
    commands: list[RawCommand] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        loc = Location(path, first_line + i)
        typed = match_prompt(line, declared_prompt)
        if typed is None:
            if not commands:
                if line.strip():
                    raise NotationError(
                        loc,
                        "output before any command: a console block starts with a command "
                        "typed at a prompt, e.g. `$ ls`",
                    )
            else:
                commands[-1].output.append(ExpectLine(line, loc))
            i += 1
            continue
        prompt, first = typed
        command = RawCommand(loc, prompt, [first])
        reader = LineReader()
        reader.feed(first)
        i += 1
        while reader.unfinished:
            if i >= len(lines):
                raise NotationError(
                    loc,
                    "this command is unfinished at the end of the block (an open quote, "
                    "here-document, or a trailing `\\`, `|`, `&&`); finish it, with its "
                    "continuation lines behind `> `",
                )
            nxt = lines[i]
            if nxt.startswith("> ") or nxt == ">":
                nxt = nxt[2:]
            elif not reader.continued_only:
                raise NotationError(
                    Location(path, first_line + i),
                    "the command above is unfinished (open quote or here-document): "
                    "its continuation lines start with `> `",
                )
            command.lines.append(nxt)
            reader.feed(nxt)
            i += 1
        commands.append(command)
    return commands


def _trim_blank(lines: list[ExpectLine]) -> list[ExpectLine]:
    start, end = 0, len(lines)
    while start < end and not lines[start].text.strip():
        start += 1
    while end > start and not lines[end - 1].text.strip():
        end -= 1
    return lines[start:end]


def finish_command(raw: RawCommand) -> Command:
    """Read `[N]` and a key (`^C`, `^D`) out of the expected output."""
    output = _trim_blank(raw.output)
    status: int | None = None
    if output and _STATUS.fullmatch(output[-1].text.strip()):
        status = int(output[-1].text.strip()[1:-1])
        output = _trim_blank(output[:-1])
    key: Key | None = None
    before_key = 0
    expected: list[ExpectLine] = []
    lines = tuple(raw.lines)
    if lines in (("^C",), ("^D",)):
        # A key pressed at the prompt itself (^D to leave a nested shell).
        key, lines = ("^C" if lines[0] == "^C" else "^D"), ("",)
    for item in output:
        text = item.text.strip()
        if _STATUS.fullmatch(text):
            raise NotationError(
                item.loc, f"{text} must be the last expected line of its command (the exit status)"
            )
        if text in _KEYS and item.text == item.text.lstrip():
            if key is not None:
                raise NotationError(item.loc, "one key (^C or ^D) per command at most")
            key = "^C" if text == "^C" else "^D"
            before_key = len(expected)
            continue
        expected.append(item)
    return Command(
        loc=raw.loc,
        prompt=raw.prompt,
        lines=lines,
        expected=tuple(expected),
        status=status,
        key=key,
        expected_before_key=before_key,
    )
