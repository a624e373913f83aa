"""Replace console fences in a page's Markdown by rendered HTML (pure text surgery).

Top-level blocks become raw HTML in the Markdown itself. Python-Markdown does not read raw HTML
inside indented containers (admonitions, tabs, lists), so a nested block becomes a one-word
placeholder paragraph that `fill_placeholders` swaps for its HTML after rendering.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from runner.model import Block


@dataclass
class Spliced:
    markdown: str
    placeholders: dict[str, str] = field(default_factory=dict)  # token -> HTML


def line_offset(source: str, markdown: str) -> int | None:
    """How many lines of `source` (front matter) precede the page body `markdown`, if known."""
    if not source.endswith(markdown):
        return None
    return source[: len(source) - len(markdown)].count("\n")


def splice(
    markdown: str,
    blocks: tuple[Block, ...],
    offset: int,
    render: Callable[[Block], str | None],
    header: tuple[int, str] | None = None,
    anchor: Callable[[Block], str] | None = None,
) -> Spliced:
    """`render` gives a block's HTML, or None for a block that vanishes (hidden).

    `header` is (body line after which to insert, HTML): the chapter's summary.
    `anchor` (when attr_list is on) gives the id a placeholder's paragraph carries, so that
    mkdocs, which collects anchors before placeholders are filled, knows links to it are good.
    """
    lines = markdown.split("\n")
    out = Spliced(markdown)
    nonce = secrets.token_hex(6)
    for block in sorted(blocks, key=lambda b: b.loc.line, reverse=True):
        first, last = block.loc.line - 1 - offset, block.end_line - 1 - offset
        if first < 0 or last >= len(lines) or "console" not in lines[first]:
            continue  # not where the parser saw it: leave the page as written
        fence = lines[first]
        indent = fence[: len(fence) - len(fence.lstrip())]
        html = render(block)
        if html is None:
            replacement = [""]
        elif indent:
            token = f"VERIFIEDBLOCK{nonce}N{block.index}"
            out.placeholders[token] = html
            replacement = ["", indent + token, ""]
            if anchor is not None:
                replacement[2:2] = [f"{indent}{{: #{anchor(block)} }}"]
        else:
            replacement = ["", *html.split("\n"), ""]
        lines[first : last + 1] = replacement
    if header is not None:
        at, html = header
        lines[at:at] = ["", *html.split("\n"), ""]
    out.markdown = "\n".join(lines)
    return out


def header_line(markdown: str) -> int:
    """Where the chapter summary goes: after a leading `# Title`, else at the top."""
    for number, line in enumerate(markdown.split("\n")):
        if not line.strip():
            continue
        return number + 1 if line.startswith("# ") else number
    return 0


def fill_placeholders(html: str, placeholders: dict[str, str]) -> str:
    for token, block in placeholders.items():
        # The paragraph goes (with the id attr_list gave it: the block carries that id).
        html = re.sub(f'<p(?: id="[^"]*")?>{token}</p>', token, html).replace(token, block)
    return html


_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([^\s`{]*)")


def unseen_console_fences(markdown: str, blocks: tuple[Block, ...], offset: int) -> list[int]:
    """File lines of ```console fences that the notation did not see, so no run verified.

    CommonMark (and so the runner) reads a fence indented under `!!! note` or `=== "Tab"` as
    plain indented text, while Material renders it as code: such a block would show the
    author's expected output as if it had been verified.
    """
    seen = {block.loc.line for block in blocks}
    unseen: list[int] = []
    opened: str | None = None
    for number, line in enumerate(markdown.split("\n"), start=offset + 1):
        match = _FENCE.match(line)
        if match is None:
            continue
        marker, language = match.group(1), match.group(2)
        if opened is None:
            if language == "console" and number not in seen:
                unseen.append(number)
            opened = marker
        elif marker[0] == opened[0] and len(marker) >= len(opened) and not language:
            opened = None
    return unseen
