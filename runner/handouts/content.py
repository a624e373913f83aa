"""What a handout says about a chapter (pure): intro, lab needs, steps, command summary.

Long output is trimmed with a visible mark and long lines are cut at a fixed width with a
continuation sign, so that nothing runs off an A4 page in the monospace font.
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt
from markupsafe import Markup

from runner.publish import french
from runner.publish.status import BlockState, ChapterState
from runner.publish.transcript import Step, for_state

WIDTH = 94  # monospace characters that fit the width of a step on A4 (8.2 pt DejaVu Sans Mono)
MAX_OUTPUT = 14  # output lines shown per command before trimming
KEEP_TAIL = 3  # of which, the last ones kept after the trim mark
WRAP_MARK = "↩"
INTRO_PARAGRAPHS = 3  # opening paragraphs shown when the front matter lists no objectives
_MD = MarkdownIt("commonmark", {"html": False})


@dataclass(frozen=True)
class Line:
    text: str
    kind: str  # "cmd" (first line of a command), "cont" (its continuation), "out", "mark"


@dataclass(frozen=True)
class HandoutStep:
    number: int
    section: str | None  # the heading the block sits under
    status: str  # the site's block kind: verified, stale, failed, blocked, skipped, unverified
    note: str | None  # why the output is not the verified one
    lines: tuple[Line, ...]
    commands: tuple[str, ...]


@dataclass(frozen=True)
class Handout:
    key: str
    slug: str
    title: str
    intro: tuple[Markup, ...]  # objectives (front matter) or the chapter's opening paragraphs
    objectives_listed: bool
    needs: tuple[str, ...]
    steps: tuple[HandoutStep, ...]
    verification: str  # the line that says when and against what it was verified
    verified: bool


def wrap(text: str, width: int = WIDTH, indent: str = "  ") -> list[str]:
    """Cut a line into pieces of `width` characters; each cut is marked and indented."""
    if len(text) <= width:
        return [text]
    pieces: list[str] = []
    rest = text
    first = True
    while rest:
        room = width - 1 - (0 if first else len(indent))
        if len(rest) <= room + 1:
            pieces.append(rest if first else indent + rest)
            break
        cut = rest.rfind(" ", room // 2, room)
        cut = room if cut <= 0 else cut + 1
        piece, rest = rest[:cut], rest[cut:]
        pieces.append((piece if first else indent + piece) + WRAP_MARK)
        first = False
    return pieces


def _trimmed(lines: list[str]) -> list[Line]:
    if len(lines) <= MAX_OUTPUT:
        return [Line(t, "out") for t in lines]
    head = lines[: MAX_OUTPUT - KEEP_TAIL - 1]
    tail = lines[-KEEP_TAIL:]
    cut = len(lines) - len(head) - len(tail)
    return [
        *(Line(t, "out") for t in head),
        Line(f"[… {french.plural(cut, 'ligne coupée', 'lignes coupées')} …]", "mark"),
        *(Line(t, "out") for t in tail),
    ]


_KEYS = {"^C": "Ctrl+C pour interrompre", "^D": "Ctrl+D : fin de saisie"}


def step_lines(step: Step) -> list[Line]:
    out: list[Line] = []
    for n, pieces in enumerate(step.lines):
        text = "".join(p.text for p in pieces)
        prefix = f"{step.prompt} " if n == 0 else "> "
        for m, piece in enumerate(wrap(prefix + text)):
            out.append(Line(piece, "cmd" if n == 0 and m == 0 else "cont"))
    shown: list[str] = []
    for run in step.output:
        if run.folded:
            shown.append(f"[… {french.plural(len(run.lines), 'ligne omise', 'lignes omises')} …]")
        else:
            shown.extend(run.lines)
    for line in _trimmed(shown):
        kind = "mark" if line.kind == "mark" or line.text.startswith("[… ") else line.kind
        out.extend(Line(piece, kind) for piece in wrap(line.text))
    if step.key:
        out.append(Line(f"[{step.key} : {_KEYS.get(step.key, step.key)}]", "mark"))
    if step.status is not None:
        out.append(Line(f"[code de retour {step.status}]", "mark"))
    return out


_NOTES = {
    "stale": "le chapitre a changé depuis sa dernière vérification",
    "failed": "échec lors de la dernière exécution",
    "unverified": "jamais vérifié : sortie non montrée",
}


def _note(state: BlockState) -> str | None:
    if state.kind == "skipped":
        return f"non vérifié : {state.reason}"
    if state.kind == "blocked":
        note = f"non exécuté lors de la dernière exécution : {state.reason}"
        return note + ("" if state.shown else " ; sortie non montrée")
    if state.kind == "verified":
        return None
    note = _NOTES.get(state.kind, state.kind)
    if state.shown is None and state.kind != "unverified":
        note += " ; sortie non montrée"
    return note


def _needs(state: ChapterState) -> list[str]:
    chapter, run = state.chapter, state.passing
    needs: list[str] = []
    if chapter.lab is None:
        needs.append("Un terminal avec bash : ce chapitre n'a pas besoin de lab Docker")
    elif run is not None and run.lab.engine_version:
        needs.append(f"Docker Engine (vérifié avec la version {run.lab.engine_version})")
    else:
        needs.append("Docker Engine")
    if chapter.lab is not None and chapter.lab.nodes:
        needs.append("Nœuds Docker prêts avant de commencer : " + ", ".join(chapter.lab.nodes))
    tools = sorted(
        {
            c.lines[0].split()[0]
            for b in chapter.blocks
            for c in b.commands
            if c.prompt == "$" and c.lines and c.lines[0].split()
        }
        & {"docker", "docker-machine", "docker-compose", "curl", "ssh", "git", "openssl"}
    )
    if tools:
        needs.append("Outils utilisés : " + ", ".join(tools))
    caps = sorted({cap for b in chapter.blocks for cap in b.options.requires})
    if caps:
        needs.append("Fonctions du noyau demandées : " + ", ".join(caps))
    return needs


def verification_line(state: ChapterState) -> str:
    run = state.passing
    if run is None:
        return "Non vérifié : aucune exécution réussie n'est enregistrée pour ce chapitre."
    when, engine = french.date_fr(run.started), french.engine_fr(run.lab)
    lab = french.lab_fr(run.lab)
    line = f"Vérifié le {when} avec {engine} ({lab})"
    if state.kind == "stale":
        line += " ; le chapitre a changé depuis cette vérification"
    return line + "."


def slug(key: str) -> str:
    stem = key[: -len(".md")] if key.endswith(".md") else key
    parts = [p for p in stem.split("/") if p not in ("docs", "")]
    return "-".join(parts) or "chapitre"


def handout(state: ChapterState) -> Handout:
    chapter = state.chapter
    objectives = chapter.front_matter.get("objectifs") or chapter.front_matter.get("objectives")
    listed = isinstance(objectives, list) and bool(objectives)
    intro = (
        [Markup(_MD.renderInline(str(o))) for o in objectives]
        if isinstance(objectives, list) and objectives
        else [Markup(_MD.renderInline(text)) for text in chapter.intro[:INTRO_PARAGRAPHS]]
    )
    steps: list[HandoutStep] = []
    for block_state in state.blocks:
        block = block_state.block
        if block.options.hidden:
            continue
        section = None
        for line, text in chapter.headings:
            if line < block.loc.line:
                section = text
        shown = for_state(block_state, state.passing, with_output=False)
        lines = [line for step in shown.steps for line in step_lines(step)]
        steps.append(
            HandoutStep(
                number=len(steps) + 1,
                section=section,
                status=block_state.kind,
                note=_note(block_state),
                lines=tuple(lines),
                commands=tuple(step.typed for step in shown.steps),
            )
        )
    return Handout(
        key=state.key,
        slug=slug(state.key),
        title=chapter.title or state.key,
        intro=tuple(intro),
        objectives_listed=listed,
        needs=tuple(_needs(state)),
        steps=tuple(steps),
        verification=verification_line(state),
        verified=state.kind in ("verified", "failed"),
    )
