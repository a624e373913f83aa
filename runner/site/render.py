"""Jinja2 rendering of blocks, chapter headers and the report; a theme's custom_dir wins."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
)

from runner.model import Block
from runner.publish import french, transcript
from runner.publish.status import BlockState, ChapterState
from runner.publish.transcript import Transcript
from runner.records import ChapterRun

TEMPLATES = "verified"  # the folder a theme's custom_dir overrides, e.g. custom_dir/verified/


@functools.lru_cache(maxsize=8)
def make_env(custom_dir: Path | None = None) -> Environment:
    """One environment per theme folder and process, so `mkdocs serve` compiles templates once;
    compiled templates are also cached on disk (Jinja's per-user cache in the temp folder)
    because compiling them costs more than the rest of the plugin. Edited templates reload."""
    loaders: list[BaseLoader] = []
    if custom_dir is not None:
        loaders.append(FileSystemLoader(str(custom_dir)))
    loaders.append(PackageLoader("runner.site", "templates"))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=True,  # outputs are untrusted text: `<script>` must show, never run
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        auto_reload=True,
        bytecode_cache=FileSystemBytecodeCache(),
    )
    env.filters["date_fr"] = french.date_fr
    env.filters["duration_fr"] = french.duration_fr
    env.filters["lab_fr"] = french.lab_fr
    env.filters["engine_fr"] = french.engine_fr
    env.filters["md_cell"] = md_cell
    env.globals["plural"] = french.plural
    env.filters["join_fr"] = french.join_fr
    env.filters["engines_fr"] = french.engines_fr
    return env


# `<`, `>` and `&` are left to autoescaping: a backslash before an entity would show it.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")


def md_cell(text: object) -> str:
    """Text safe inside a Markdown table cell (one line, no markup)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _hl_lines(spec: str) -> set[int]:
    out: set[int] = set()
    for part in spec.replace(",", " ").split():
        first, _, last = part.partition("-")
        if first.isdigit() and (not last or last.isdigit()):
            out.update(range(int(first), int(last or first) + 1))
    return out


def _linenums(value: str | None) -> int | None:
    if value is None:
        return None
    first = value.split()[0] if value.split() else "1"
    return int(first) if first.isdigit() and int(first) > 0 else 1


@dataclass(frozen=True)
class BlockView:
    """Everything a block template needs."""

    anchor: str
    number: int
    kind: str
    state: BlockState
    transcript: Transcript
    title: str | None
    hl_lines: frozenset[int]
    linenums: int | None  # the first line's number, when the author asked for numbers
    output_hidden: bool  # output withheld: no passing run of this block to show


def anchor(block: Block) -> str:
    """The id of a block's HTML, which the report links to."""
    return f"bloc-{block.index + 1}"


def block_view(state: BlockState, passing: ChapterRun | None = None) -> BlockView:
    """`passing`: the chapter's last passing run, even a stale one, whose captured values fill
    the commands of a block that has no run of its own to show."""
    block = state.block
    # A skipped block shows what the author wrote, clearly marked: it was never meant to run.
    shown = transcript.for_state(state, passing, with_output=state.kind == "skipped")
    display = dict(block.options.display)
    return BlockView(
        anchor=anchor(block),
        number=block.index + 1,
        kind=state.kind,
        state=state,
        transcript=shown,
        title=display.get("title") or None,
        hl_lines=frozenset(_hl_lines(display.get("hl_lines", ""))),
        linenums=_linenums(display.get("linenums")),
        output_hidden=state.shown is None and state.kind != "skipped",
    )


def render_block(env: Environment, state: BlockState, passing: ChapterRun | None = None) -> str:
    view = block_view(state, passing)
    return env.get_template(f"{TEMPLATES}/block.html").render(view=view).strip()


def render_header(env: Environment, chapter: ChapterState) -> str:
    return env.get_template(f"{TEMPLATES}/chapter.html").render(chapter=chapter).strip()


def render_report(
    env: Environment, title: str, chapters: list[tuple[ChapterState, str]], problems: list[str]
) -> str:
    """The report page's Markdown; `chapters` pairs each chapter with its link from the page."""
    return env.get_template(f"{TEMPLATES}/report.md").render(
        title=title, chapters=chapters, problems=problems
    )
