"""The site's side of the book's several Docker Engine generations: a step whose output
differs gets Material content tabs (primary engine first), the chapter header says on which
engines the chapter is verified, and the report gets a chapter × engine matrix.

Kept apart from render.py and plugin.py (small hooks there) so that template work elsewhere
merges easily. Templates: verified/engines/{tabs,note,header}.html, matrix.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from jinja2 import Environment
from markupsafe import Markup

from runner.model import Block
from runner.publish.engines import BookEngines, EngineTab
from runner.publish.status import BlockState, ChapterState
from runner.site import render


@dataclass(frozen=True)
class TabView:
    label: str
    title: str
    version: str
    state: BlockState | None
    primary: bool
    html: Markup
    variant: str | None = None  # the step's `engines=` when this engine has no block in it


def _anchor(block: Block, engine: str | None) -> str:
    base = render.anchor(block)
    return base if engine is None else f"{base}-docker-{engine.replace('.', '-')}"


def _block_html(
    env: Environment, state: BlockState, book: BookEngines, engine: str | None, anchor: str
) -> str:
    engine_state = book.states[engine or book.engines[0]]
    view = render.block_view(state, engine_state.passing)
    view = dataclasses.replace(view, anchor=anchor)
    return env.get_template(f"{render.TEMPLATES}/block.html").render(view=view).strip()


_LABEL_SUFFIX = {
    "failed": " — échec",
    "blocked": " — non exécuté",
    "skipped": " — non vérifié",
    "unverified": " — jamais vérifié",
}


def _tab(
    env: Environment,
    tab: EngineTab,
    book: BookEngines,
    primary: bool,
    used: set[str],
    variant_of: str | None = None,
) -> TabView:
    label = f"Docker {tab.version}"
    variant = None
    if tab.state is not None:
        label += _LABEL_SUFFIX.get(tab.state.kind, "")
        # The report links every block by its plain id: the first tab showing a block has
        # it (a later variant is shown only here), other tabs get one named after the engine.
        anchor = _anchor(tab.state.block, None)
        if anchor in used:
            anchor = _anchor(tab.state.block, tab.engine)
        used.add(anchor)
        html = _block_html(env, tab.state, book, None if primary else tab.engine, anchor)
    else:
        label += " — sans objet"
        html = ""
        variant = variant_of
    title = "version de référence du livre" if primary else f"Docker Engine {tab.version}"
    return TabView(label, title, tab.version, tab.state, primary, Markup(html), variant)


def render_step(env: Environment, book: BookEngines, block: Block) -> str | None:
    """The HTML standing for `block` on the page: None when it vanishes (hidden, or a later
    variant of a step shown at its first block)."""
    step = book.step_of(block)
    if step is None or all(b.options.hidden for b in step.blocks):
        return None
    primary = step.primary
    if not step.differs and primary.state is not None:
        return _block_html(env, primary.state, book, None, _anchor(primary.state.block, None))
    used: set[str] = set()
    written_for = step.blocks[0].options.engines_text
    tabs = [_tab(env, primary, book, True, used, written_for)]
    tabs += [_tab(env, t, book, False, used, written_for) for t in step.others]
    template = env.get_template(f"{render.TEMPLATES}/engines/tabs.html")
    return template.render(set_id=f"{block.index + 1}", tabs=tabs).strip()


def render_header(env: Environment, book: BookEngines) -> str:
    return env.get_template(f"{render.TEMPLATES}/engines/header.html").render(book=book).strip()


def insert_matrix(report: str, matrix: str) -> str:
    """The matrix goes after the report's first table (the chapters), before the details."""
    lines = report.split("\n")
    in_table = False
    for number, line in enumerate(lines):
        if line.startswith("|"):
            in_table = True
        elif in_table:
            return "\n".join([*lines[:number], "", matrix.strip("\n"), "", *lines[number:]])
    return report.rstrip("\n") + "\n\n" + matrix.strip("\n") + "\n"


def render_matrix(
    env: Environment, engines: tuple[str, ...], rows: list[tuple[ChapterState, str, BookEngines]]
) -> str:
    template = env.get_template(f"{render.TEMPLATES}/engines/matrix.md")
    return template.render(engines=engines, matrix=rows)
