"""Parse a chapter once: front matter, console fences (found by markdown-it-py), transcripts."""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from runner.model import Block, BlockOptions, Chapter, Command, ExpectLine, Location
from runner.notation.containers import open_containers
from runner.notation.effects import effect
from runner.notation.errors import NotationError
from runner.notation.frontmatter import split_front_matter
from runner.notation.options import parse_options
from runner.notation.patterns import PatternError, Placeholder, split_repeat, tokenize
from runner.notation.transcript import finish_command, split_commands

DEFAULT_TIMEOUT = 30.0
MAX_LINE = 4000  # a terminal in canonical mode keeps 4095 bytes of a line
_EXIT = re.compile(r"\s*(exit|logout)(\s+\d+)?\s*")
# Only block structure matters here (fences, headings, indented code): no inline parsing.
_MD = MarkdownIt("commonmark").disable(["inline", "text_join"], ignoreInvalid=True)


def parse_chapter(path: Path, text: str | None = None) -> Chapter:
    """Parse a chapter. Raises NotationError naming file:line for anything malformed."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise NotationError(Location(path, 1), f"not UTF-8 text: {exc}") from exc
    front = split_front_matter(text, path)
    lines = text.splitlines()
    # Blank the front matter out, so that markdown-it's line numbers are the file's; open
    # Material's containers (admonitions, tabs), whose fences Material shows.
    written = lines[front.lines :]
    opened = open_containers(written)
    body = "\n" * front.lines + "\n".join(opened) + "\n"
    tokens = _MD.parse(body)
    # The outline (sections, opening paragraphs) is read from the page as written.
    plain = tokens if opened == written else _MD.parse("\n" * front.lines + "\n".join(written))
    _refuse_unseen_fences(tokens, body.split("\n"), path)
    default_timeout = front.timeout or DEFAULT_TIMEOUT
    blocks: list[Block] = []
    title = front.data.get("title") if isinstance(front.data.get("title"), str) else None
    for i, token in enumerate(tokens):
        if title is None and token.type == "heading_open" and token.tag == "h1":
            title = tokens[i + 1].content.strip() or None
        if token.type != "fence" or token.map is None:
            continue
        language, _, rest = token.info.strip().partition(" ")
        if language != "console":
            continue
        fence_line = token.map[0] + 1
        loc = Location(path, fence_line)
        options = parse_options(rest, loc, default_timeout)
        content = token.content.splitlines()
        raw = split_commands(content, fence_line + 1, path, options.prompt)
        if not raw and options.skip is None:
            raise NotationError(loc, "empty console block: write `$ command` lines, or remove it")
        parsed = [finish_command(r) for r in raw]
        _check_block(parsed, options, front.elision)
        blocks.append(
            Block(
                index=len(blocks),
                loc=loc,
                end_line=token.map[1],
                source=token.content,
                info=token.info.strip(),
                options=options,
                commands=tuple(parsed),
            )
        )
    blocks = _link_nested_shells(blocks)
    _check_names(blocks)
    headings, intro = _outline(plain)
    return Chapter(
        path=path,
        source=text,
        title=title,
        lab=front.lab,
        timeout=front.timeout,
        blocks=tuple(blocks),
        front_matter=front.data,
        elision=front.elision,
        headings=headings,
        intro=intro,
        starts_from=front.starts_from,
    )


def _outline(tokens: list[Token]) -> tuple[tuple[tuple[int, str], ...], tuple[str, ...]]:
    """The chapter's sections (every heading but `#`) and its opening paragraphs (top-level
    ones between its title and its first section or block; `!!!` admonitions left out)."""
    headings: list[tuple[int, str]] = []
    intro: list[str] = []
    seen_title, opening = False, True
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            if token.tag != "h1" or seen_title:
                opening = False
            seen_title = True
            if token.tag != "h1" and token.map is not None:  # block tokens always have a map
                headings.append((token.map[0] + 1, tokens[i + 1].content.strip()))
        elif token.type == "fence":
            opening = False
        elif opening and token.type == "paragraph_open" and token.level == 0:
            text = tokens[i + 1].content
            if not text.startswith("!!!"):  # paragraphs come with their blanks stripped
                intro.append(text)
    return tuple(headings), tuple(intro)


# A line that opens a console fence, however written: ```console, ~~~ console, ```{.console}
# (after quote markers, or a definition list's `:`, which CommonMark does not know).
_CONSOLE_FENCE = re.compile(
    r"[ \t>]*(?::[ \t]+)?(`{3,}|~{3,})[ \t]*\{?[ \t]*\.?console\b", re.IGNORECASE
)


def _refuse_unseen_fences(tokens: list[Token], lines: list[str], path: Path) -> None:
    """A console fence that CommonMark does not see as one (in a paragraph, an HTML block,
    an indented code block, or written ```{.console}) would be published unverified: refuse
    it. Fences shown as text inside another fence (a Markdown example) are what they seem."""
    seen: set[int] = set()
    inside: set[int] = set()
    for token in tokens:
        if token.map is None:
            continue
        if token.type == "fence":
            if token.info.strip().partition(" ")[0] == "console":
                seen.add(token.map[0])
            else:
                inside.update(range(token.map[0] + 1, token.map[1]))
        elif token.type == "html_block" and token.content.lstrip().startswith("<!--"):
            inside.update(range(token.map[0], token.map[1]))  # a comment: shown to nobody
    for number, line in enumerate(lines):
        if number in seen or number in inside or not _CONSOLE_FENCE.match(line):
            continue
        raise NotationError(
            Location(path, number + 1),
            "this console block is not seen as a fenced block (it follows a paragraph line "
            "without a blank line, sits in an HTML block, an indented code block or a "
            "definition list, or is not written ```console): it would be published "
            "unverified; put a blank line before it, move it out, or write ```console",
        )


def _check_block(commands: list[Command], options: BlockOptions, elision: str) -> None:
    for command in commands:
        if options.hidden and effect("\n".join(command.lines)) == "changes":
            raise NotationError(
                command.loc,
                "a hidden block may only check or wait: this command changes what the reader "
                "has (files, machines, the cluster, the shell). Show it (remove `hidden`), or "
                "let the chapter start from one that does it (verify: {starts-from: ...})",
            )
        if options.unchecked and command.expected:
            raise NotationError(
                command.expected[0].loc,
                "an `unchecked` block has no expected output (only `[N]`): remove these "
                "lines, or the option",
            )
        if options.until is not None and command.key is not None:
            raise NotationError(
                command.loc,
                f"{command.key} inside an until= block: a polled command "
                "is re-run, a key cannot be; move it to a block of its own",
            )
        for item in command.expected:
            shape, repeated = split_repeat(item.text)
            if repeated and shape.strip() == elision:
                raise NotationError(
                    item.loc, f"`{elision}` cannot be repeated: it already stands for any lines"
                )
            try:
                tokenize(item.text)  # each `/REGEX/` is compiled here; the line when matched
            except PatternError as exc:
                raise NotationError(item.loc, str(exc)) from exc
        for number, line in enumerate(command.lines):
            if len(line.encode()) > MAX_LINE:
                raise NotationError(
                    Location(command.loc.path, command.loc.line + number),
                    f"a command line longer than {MAX_LINE} bytes is cut by the terminal; "
                    "split it with `\\` at the end of a line",
                )
            try:
                pieces = tokenize(line, allow_anything=False)
            except PatternError as exc:
                where = Location(command.loc.path, command.loc.line + number)
                raise NotationError(where, str(exc)) from exc
            if any(isinstance(p, Placeholder) and p.regex is not None for p in pieces):
                raise NotationError(
                    command.loc,
                    "a command can use a captured value, `{{ name }}`, not a regular expression",
                )


def _captures(line: ExpectLine) -> list[str]:
    return [p.name for p in tokenize(line.text) if isinstance(p, Placeholder) and p.name]


def _check_names(blocks: list[Block]) -> None:
    known: set[str] = set()
    for block in blocks:
        if not block.verified:
            continue
        for command in block.commands:
            for piece in tokenize(command.prompt, allow_anything=False):
                if isinstance(piece, Placeholder) and piece.name and piece.name not in known:
                    raise NotationError(
                        command.loc,
                        f"the prompt uses `{{{{ {piece.name} }}}}`, which no earlier output "
                        "captures; capture it first (e.g. from `hostname`)",
                    )
            for number, line in enumerate(command.lines):
                for piece in tokenize(line, allow_anything=False):
                    if isinstance(piece, Placeholder) and piece.name and piece.name not in known:
                        raise NotationError(
                            Location(command.loc.path, command.loc.line + number),
                            f"`{{{{ {piece.name} }}}}` is used in a command but no earlier "
                            "output captures it; capture it in an expected line first",
                        )
            for item in command.expected:
                repeated = split_repeat(item.text)[1]
                if repeated and any(name not in known for name in _captures(item)):
                    raise NotationError(
                        item.loc,
                        "a repeated line (`{{ * }}`) cannot capture (which of its lines would "
                        "it keep?): use `{{ /REGEX/ }}`, or a value captured earlier",
                    )
                known.update(_captures(item))


def _link_nested_shells(blocks: list[Block]) -> list[Block]:
    """Mark, per session, the commands that open a nested shell and those that leave one.

    A command opens a shell when the next command of its session is typed at a prompt that is
    not on the stack; `exit`, `logout` or `^D` typed in a nested shell leaves it.
    """
    order: dict[str, list[tuple[int, int]]] = {}
    for b, block in enumerate(blocks):
        if not block.verified:
            continue
        for c, _ in enumerate(block.commands):
            order.setdefault(block.options.session, []).append((b, c))
    changes: dict[tuple[int, int], dict[str, object]] = {}
    for positions in order.values():
        stack = ["$"]
        for n, (b, c) in enumerate(positions):
            command = blocks[b].commands[c]
            if command.prompt != stack[-1]:
                raise NotationError(
                    command.loc,
                    f"this command is typed at the prompt {command.prompt!r} but the session "
                    f"{blocks[b].options.session!r} is at {stack[-1]!r} here (a nested shell is "
                    "opened by the command before its first prompt, and left with `exit`)",
                )
            leaves = len(stack) > 1 and (
                _EXIT.fullmatch(command.text) is not None
                or (command.key == "^D" and not command.text.strip())
            )
            if leaves:
                stack.pop()
                changes[(b, c)] = {"closes_shell": True}
                continue
            if n + 1 < len(positions):
                nb, nc = positions[n + 1]
                next_prompt = blocks[nb].commands[nc].prompt
                if next_prompt not in stack:
                    stack.append(next_prompt)
                    changes[(b, c)] = {"opens_shell": next_prompt}
    if not changes:
        return blocks
    out: list[Block] = []
    for b, block in enumerate(blocks):
        commands = tuple(
            _replace(command, changes.get((b, c))) for c, command in enumerate(block.commands)
        )
        out.append(_replace_block(block, commands))
    return out


def _replace(command: Command, change: dict[str, object] | None) -> Command:
    if not change:
        return command
    from dataclasses import replace

    return replace(command, **change)  # type: ignore[arg-type]


def _replace_block(block: Block, commands: tuple[Command, ...]) -> Block:
    from dataclasses import replace

    return replace(block, commands=commands)
