"""The chapter's own words for each step of a handout (pure): the prose that leads to a block,
the heading it sits under, and the prose after the last block.

Admonitions (`!!! warning "Titre"`) become quotes and definition lists `terme` / `:   texte`
become « terme : texte » paragraphs, since CommonMark reads neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markupsafe import Markup

from runner.model import Block, Chapter

_MD = MarkdownIt("commonmark", {"html": False}).enable("table")
_ADMONITION = re.compile(r"(!!!|\?\?\?\+?)\s+\w+(?:\s+\"([^\"]*)\")?\s*$")
_COMMENT = re.compile(r"<!--.*-->")
_UNDERLINE = re.compile(r" {0,3}(?:=+|-+)[ \t]*\r?")
LONG = 2400  # characters of Markdown before a lead-in is shortened


_EMPTY = Markup("")


@dataclass(frozen=True)
class Lead:
    section: str | None  # the `##` heading above the block, when it starts a new section
    html: Markup  # the prose between that heading (or the previous block) and the block
    before: Markup = _EMPTY  # with a new section: the prose above its heading


def _markdown(lines: list[str]) -> str:
    """Admonitions and definition lists as CommonMark can read them; headings dropped."""
    out: list[str] = []
    in_admonition = False
    for line in lines:
        if _COMMENT.fullmatch(line.strip()):
            continue  # an author's mark, such as <!-- mise en place -->
        match = _ADMONITION.match(line)
        if match:
            in_admonition = True
            out.append(f"> **{match.group(2)}**" if match.group(2) else ">")
            out.append(">")
            continue
        if in_admonition:
            if line.startswith("    ") or not line.strip():
                out.append("> " + line[4:] if line.strip() else ">")
                continue
            in_admonition = False
        if line.startswith(":   ") and out:
            # definition list: the term is the previous non-blank line
            while out and not out[-1].strip():
                out.pop()
            term = out.pop() if out else ""
            out.append(f"{term} : {line[4:]}")
            continue
        if line.startswith("    ") and out and out[-1].strip() and not out[-1].startswith(">"):
            out.append(line.strip())  # continuation of a definition
            continue
        out.append(line)
    return "\n".join(out).strip()


def _shorten(text: str) -> str:
    """A long lead-in keeps its first and last paragraphs: the context and what comes next."""
    if len(text) <= LONG:
        return text
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    cut = False
    while len(paragraphs) > 3 and sum(len(p) for p in paragraphs) > LONG:
        del paragraphs[len(paragraphs) // 2]  # the middle goes first
        cut = True
    if cut:
        paragraphs.insert(len(paragraphs) // 2, "[…]")
    return "\n\n".join(paragraphs)


def leads(chapter: Chapter, blocks: list[Block]) -> tuple[list[Lead], Markup]:
    """For each of `blocks` (the visible ones, in order), its lead-in; then the closing prose.

    The first lead-in starts at the first section (`##` or below): what comes before is the
    handout's introduction. Sections are the parsed chapter's, so a `## ` line inside a fence
    or an HTML block is no section."""
    lines = chapter.source.split("\n")
    headings = dict(chapter.headings)
    fenced = {n for b in chapter.blocks for n in range(b.loc.line, b.end_line + 1)}
    first_section = chapter.headings[0][0] if chapter.headings else len(lines) + 1
    out: list[Lead] = []
    start = min(first_section, blocks[0].loc.line if blocks else first_section)
    section: str | None = None
    for block in blocks:
        segment, heading, cut = _segment(lines, start, block.loc.line, fenced, headings)
        new_section = heading if heading is not None and heading != section else None
        section = heading if heading is not None else section
        out.append(Lead(new_section, _html(segment[cut:]), _html(segment[:cut])))
        start = block.end_line + 1
    closing, _, _ = _segment(lines, start, len(lines) + 1, fenced, headings)
    return out, _html(closing)


def _html(lines: list[str]) -> Markup:
    text = _shorten(_markdown(lines))
    return Markup(_MD.render(text)) if text else Markup("")


def _segment(
    lines: list[str], start: int, end: int, fenced: set[int], headings: dict[int, str]
) -> tuple[list[str], str | None, int]:
    """Source lines [start, end) outside console fences, without their last section heading;
    that heading, and where it was among the lines (0 without one)."""
    segment: list[str] = []
    heading: str | None = None
    last = -1
    underlined = False  # inside a setext heading (`Titre` then `-----`): up to its underline
    for number in range(start, end):
        if number in fenced:
            continue
        line = lines[number - 1]
        if underlined:
            underlined = not _UNDERLINE.fullmatch(line)
            continue
        if number in headings:
            heading, last = headings[number], len(segment)
            underlined = not line.lstrip(" ").startswith("#")
            line = f"**{heading}**"  # a section with no block of its own: a bold line
        segment.append(line)
    if last >= 0:
        del segment[last]  # the section of the block: the handout prints it as a heading
    return segment, heading, max(last, 0)
