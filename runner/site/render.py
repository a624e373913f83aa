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
from runner.publish import french, tables, transcript
from runner.publish.status import BlockState, ChapterState
from runner.publish.transcript import Piece, Transcript
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
    env.filters["client_fr"] = french.client_fr
    env.filters["provider_fr"] = french.provider_fr
    env.filters["release"] = french.release
    env.filters["wait_fr"] = french.wait_fr
    env.filters["md_cell"] = md_cell
    env.filters["quoted_fr"] = lambda text: f"« {text} »"
    env.globals["plural"] = french.plural
    env.globals["chapter_word"] = chapter_word
    env.globals["block_detail"] = block_detail
    env.globals["not_run"] = not_run
    env.globals["captures"] = has_captures
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


# Waits shorter than these go unsaid: a reader notices nothing.
CONVERGENCE_WORTH_SAYING = 8.0  # seconds of polling (`until`) before the output appeared
COMMAND_WORTH_SAYING = 20.0  # seconds a block's commands took


@dataclass(frozen=True)
class Line:
    """One line of a block as shown: its text is wrapped, never cut (see verified.css)."""

    kind: str  # cmd, more (a command's continuation), out, expected, head, row, note, key, exit
    number: int
    pieces: tuple[Piece, ...] = ()
    cells: tuple[tuple[Piece, ...], ...] = ()  # head, row: a table's cells, padding kept
    prompt: str = ""
    text: str = ""  # note, key, exit
    highlighted: bool = False


@dataclass(frozen=True)
class Fold:
    """Output lines the author's `...` stood for, folded behind a toggle inside the <pre>."""

    id: str
    lines: tuple[Line, ...]
    kind: str = "fold"


def _output_lines(
    t: Transcript, lines: tuple[str, ...], kind: str, counter: list[int], hl: frozenset[int]
) -> list[Line]:
    found = tables.find_table(lines)
    out: list[Line] = []
    for at, line in enumerate(lines):
        counter[0] += 1
        n = counter[0]
        if found is not None and at >= found[0]:
            cells = tuple(t.marked(c) for c in tables.cells(line, found[1]))
            row = "head" if at == found[0] else "row"
            out.append(Line(row, n, cells=cells, highlighted=n in hl))
        else:
            out.append(Line(kind, n, t.marked(line), highlighted=n in hl))
    return out


def display_lines(view_anchor: str, t: Transcript, hl: frozenset[int]) -> tuple[Line | Fold, ...]:
    counter = [0]
    items: list[Line | Fold] = []
    out_kind = "out" if t.verified else "expected"
    folds = 0
    for step in t.steps:
        for m, pieces in enumerate(step.lines):
            counter[0] += 1
            kind, prompt = ("cmd", step.prompt) if m == 0 else ("more", ">")
            items.append(
                Line(kind, counter[0], pieces, prompt=prompt, highlighted=counter[0] in hl)
            )
        for run in step.output:
            lines = _output_lines(t, run.lines, out_kind, counter, hl)
            if run.folded:
                folds += 1
                items.append(Fold(f"{view_anchor}-pli-{folds}", tuple(lines)))
            else:
                items.extend(lines)
        if step.unwritten:
            text = "(suite non reproduite ici)" if step.output else "(sortie non reproduite ici)"
            items.append(Line("note", 0, text=text))
        if step.key:
            items.append(Line("key", 0, text=step.key))
        if step.status is not None:
            items.append(Line("exit", 0, text=str(step.status)))
    return tuple(items)


def wait_text(state: BlockState) -> str | None:
    """A long wait, in the reader's terms, for a block whose run shows it."""
    shown = state.shown
    if shown is None or state.kind not in ("verified", "stale"):
        return None
    if shown.until is not None and shown.attempts > 1:
        if shown.duration >= CONVERGENCE_WORTH_SAYING:
            return (
                f"la convergence prend {french.wait_fr(shown.duration)} ; si votre sortie "
                "diffère, patientez puis relancez la commande."
            )
        return None
    if shown.duration >= COMMAND_WORTH_SAYING:
        return f"ce bloc prend {french.wait_fr(shown.duration)}."
    return None


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
    lines: tuple[Line | Fold, ...] = ()
    wait: str | None = None  # a long wait, said to readers


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
    hl = frozenset(_hl_lines(display.get("hl_lines", "")))
    return BlockView(
        anchor=anchor(block),
        number=block.index + 1,
        kind=state.kind,
        state=state,
        transcript=shown,
        title=display.get("title") or None,
        hl_lines=hl,
        linenums=_linenums(display.get("linenums")),
        output_hidden=state.shown is None and state.kind != "skipped",
        lines=display_lines(anchor(block), shown, hl),
        wait=wait_text(state),
    )


def render_block(env: Environment, state: BlockState, passing: ChapterRun | None = None) -> str:
    view = block_view(state, passing)
    return env.get_template(f"{TEMPLATES}/block.html").render(view=view).strip()


def render_setup(env: Environment, chapter: ChapterState) -> str:
    """The folded « Mise en place » of a chapter that starts from another; "" for none."""
    if chapter.setup is None:
        return ""
    template = env.get_template(f"{TEMPLATES}/setup.html")
    return template.render(setup=chapter.setup, chapter=chapter).strip()


def has_captures(run: ChapterRun) -> bool:
    """Whether the run captured values that its pages mark as the lab's own."""
    return any(
        len(v) >= transcript.MIN_MARKED
        for b in run.blocks
        for c in b.commands
        for v in c.captures.values()
    )


def chapter_word(chapter: ChapterState) -> str:
    """The report's one-phrase verdict: never « vérifié » while blocks were not run."""
    if chapter.kind != "verified":
        return {
            "stale": "obsolète",
            "failed": "échec",
            "unverified": "jamais vérifié",
            "none": "rien à vérifier",
        }[chapter.kind]
    not_run = chapter.count("skipped") + chapter.count("blocked")
    if not_run:
        return f"vérifié sauf {french.plural(not_run, 'bloc non exécuté', 'blocs non exécutés')}"
    return "vérifié"


def not_run(chapter: ChapterState) -> list[tuple[str, list[int]]]:
    """The reasons blocks were not run, each with the numbers of its blocks, as shown."""
    reasons: dict[str, list[int]] = {}
    for b in chapter.visible:
        if b.kind in ("skipped", "blocked"):
            reasons.setdefault(b.reason or "raison non précisée", []).append(b.block.index + 1)
    return list(reasons.items())


def block_detail(state: BlockState) -> str:
    """The report's detail for one block, in French where the runner's words allow."""
    if state.kind in ("skipped", "blocked", "failed"):
        return state.reason or ""
    shown = state.shown
    if shown is not None and shown.until is not None:
        tries = french.plural(shown.attempts, "essai")
        return f"attente de la convergence : {tries} (au plus {shown.until:g} s)"
    return ""


def report_anchor(key: str) -> str:
    """The id of a chapter's section in the report."""
    return "rapport-" + re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")


def render_header(env: Environment, chapter: ChapterState, report: str | None = None) -> str:
    """`report`: the URL of this chapter's section in the report, from the chapter's page."""
    return (
        env.get_template(f"{TEMPLATES}/chapter.html").render(chapter=chapter, report=report).strip()
    )


def environment_key(run: ChapterRun) -> tuple[object, ...]:
    """What the report says of a run's environment: equal keys are said once."""
    lab = run.lab
    return (
        lab.engine_version,
        lab.client_version,
        lab.machine_version,
        lab.provider,
        lab.host_os,
        lab.kernel,
    )


@dataclass(frozen=True)
class ReportContext:
    """What the report says about the book as a whole."""

    commit: str | None  # the book's commit when the site was built
    dirty: bool  # its chapters or results had uncommitted changes
    source_url: str | None  # repo_url + edit_uri: a chapter file's path appended gives its page


def render_report(
    env: Environment,
    title: str,
    chapters: list[tuple[ChapterState, str, str | None]],
    problems: list[str],
    context: ReportContext | None = None,
) -> str:
    """The report page's Markdown; `chapters`: each chapter with its link from the page and
    the URL of its source (None without repo_url/edit_uri)."""
    runs = [state.passing for state, _, _ in chapters if state.passing is not None]
    common = runs[0] if runs and len({environment_key(r) for r in runs}) == 1 else None
    return env.get_template(f"{TEMPLATES}/report.md").render(
        title=title,
        common=common,
        chapters=chapters,
        problems=problems,
        context=context or ReportContext(None, False, None),
        anchor=report_anchor,
    )
