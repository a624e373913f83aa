"""What a handout says about a chapter (pure): intro, lab needs, steps, command summary.

Long output is trimmed with a visible mark and long lines are cut at a fixed width with a
continuation sign, so that nothing runs off an A4 page in the monospace font.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markupsafe import Markup

from runner.handouts.layout import compact_table
from runner.handouts.prose import leads
from runner.model import Chapter
from runner.notation.patterns import names_in_command
from runner.publish import engines, french
from runner.publish.placeholders import reader_placeholder, with_placeholders
from runner.publish.setup import SetupView
from runner.publish.status import BlockState, ChapterState
from runner.publish.transcript import Piece, Step, captures_before, for_state

WIDTH = 94  # monospace characters that fit the width of a step on A4 (8.5 pt DejaVu Sans Mono)
SUMMARY_WIDTH = 88  # the same in the command summary, beside the step numbers
MAX_OUTPUT = 14  # output lines shown per command before trimming
KEEP_TAIL = 3  # of which, the last ones kept after the trim mark
WRAP_MARK = "↩"
INTRO_PARAGRAPHS = 3  # opening paragraphs shown when the front matter lists no objectives
_MD = MarkdownIt("commonmark", {"html": False})


_EMPTY = Markup("")


@dataclass(frozen=True)
class Line:
    text: str
    kind: str  # "cmd" (first line of a command), "cont" (its continuation), "out", "mark"


@dataclass(frozen=True)
class HandoutStep:
    number: int
    section: str | None  # the heading the block sits under, when it starts a new section
    status: str  # the site's block kind: verified, stale, failed, blocked, skipped, unverified
    note: str | None  # why the output is not the verified one
    lines: tuple[Line, ...]
    commands: tuple[str, ...]
    lead: Markup = _EMPTY  # the chapter's prose that leads to this step
    before: Markup = _EMPTY  # prose of the previous section, above `section`
    errors: tuple[str, ...] = ()  # callouts: a command that is meant to fail
    wait: str | None = None  # how long the result takes to come, in reader terms
    engines_note: str | None = None  # where other engines of the book differ from the primary


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
    closing: Markup = _EMPTY  # the chapter's prose after its last block
    placeholders: tuple[str, ...] = ()  # `<JETON_WORKER>`...: values the participant fills in


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


_UNFILLED = re.compile(r"<([a-z][a-z0-9_-]*)>")


def _unfilled(text: str) -> str:
    """`<name>` that no run filled, as the participant's placeholder."""
    return _UNFILLED.sub(lambda m: reader_placeholder(m.group(1)), text) if "<" in text else text


def _typed(pieces: tuple[Piece, ...], values: dict[str, str]) -> str:
    """A command line with the participant's own values as `<PLACEHOLDERS>`: a captured
    value, or a `{{ name }}` that no run filled (`<name>`, in a block not verified as is)."""
    return "".join(
        reader_placeholder(p.capture)
        if p.capture and p.capture in values
        else _UNFILLED.sub(lambda m: reader_placeholder(m.group(1)), p.text)
        if p.capture is None and p.text.startswith("<")
        else p.text
        for p in pieces
    )


def _own_values(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        if len(value) >= 8:  # a token or an ID; never a short word that could be anything
            text = text.replace(value, reader_placeholder(name))
    return text


def step_lines(step: Step, values: dict[str, str] | None = None) -> list[Line]:
    """`values`: captured values the participant has their own of (name -> the run's value)."""
    values = values or {}
    out: list[Line] = []
    for n, pieces in enumerate(step.lines):
        text = _typed(pieces, values)
        prefix = f"{step.prompt} " if n == 0 else "> "
        for m, piece in enumerate(wrap(prefix + text)):
            out.append(Line(piece, "cmd" if n == 0 and m == 0 else "cont"))
    shown: list[str] = []
    for run in step.output:
        if run.folded:
            shown.append(f"[… {french.plural(len(run.lines), 'ligne omise', 'lignes omises')} …]")
        else:
            table = compact_table(list(run.lines), WIDTH)  # columns kept whole
            shown.extend(_own_values(_unfilled(line), values) for line in table)
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
        return f"non vérifié : {state.reason} ; sortie attendue par l'auteur, non vérifiée"
    if state.kind == "blocked":
        note = f"non exécuté lors de la dernière exécution : {state.reason}"
        return note + ("" if state.shown else " ; sortie non montrée")
    if state.kind == "verified":
        return None
    note = _NOTES.get(state.kind, state.kind)
    if state.shown is None and state.kind != "unverified":
        note += " ; sortie non montrée"
    return note


# What a `requires=` capability means for a participant's machines.
_CAPABILITY_NEEDS = {
    "ipvs": "IPVS, l'équilibreur de charge du noyau Linux, sur lequel repose le routing mesh",
    "overlay": "les réseaux overlay (VXLAN) entre les machines",
}


def _machines(chapter: Chapter, setup: SetupView | None) -> int:
    """How many Docker machines the chapter needs: its lab's nodes, or those it creates."""
    if chapter.lab is not None and chapter.lab.nodes:
        return len(chapter.lab.nodes)
    typed = [c.text for b in chapter.blocks for c in b.commands]
    typed += [c.text for c in setup.commands] if setup else []
    return sum(1 for t in typed if t.startswith("docker-machine create"))


def _needs(state: ChapterState) -> list[str]:
    chapter, run = state.chapter, state.passing
    needs: list[str] = []
    machines = _machines(chapter, state.setup)
    caps = sorted({cap for b in chapter.blocks for cap in b.options.requires})
    setup_caps = sorted(set(state.setup.requires if state.setup else ()) - set(caps))
    # What the book's lab gave the run: a capability the host kernel lacks comes from its VMs.
    lab_has = run is not None and all(run.lab.capabilities.get(cap) for cap in caps)
    on_vms = bool(caps) and lab_has and run is not None and run.lab.provider == "vm"
    if chapter.lab is None and state.setup is None:
        needs.append("Un terminal avec bash : ce chapitre n'a pas besoin de machines Docker")
    elif machines:
        needs.append(
            f"{french.plural(machines, 'machine Docker', 'machines Docker')}, au choix : "
            f"avec Docker Machine et VirtualBox (chaque machine prend 1 Go de mémoire, la valeur "
            f"par défaut, et environ 1 Go de disque : prévoir {machines + 2} Go de mémoire "
            f"libre et {machines + 1} Go de disque) ; ou, sous Linux, le lab du livre "
            + (
                f"(« python -m runner lab up --provider vm --nodes {machines} » : des machines "
                "virtuelles QEMU, environ 800 Mo de mémoire par nœud et 320 Mo de disque pour "
                "leur image)"
                if on_vms
                else f"(« python -m runner lab up --nodes {machines} » : environ 100 Mo de "
                "mémoire et 70 Mo de disque par nœud)"
            )
        )
    if run is not None and run.lab.engine_version:
        version = run.lab.engine_version.split("+")[0]
        needs.append(f"Docker Engine 1.12 ou plus récent (sorties relevées avec Docker {version})")
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
        needs.append("Outils sur votre poste : " + ", ".join(tools))
    for cap in caps:
        what = _CAPABILITY_NEEDS.get(cap, f"la fonction « {cap} » du noyau")
        if lab_has:
            needs.append(
                f"Pour certaines étapes, {what} : les machines VirtualBox l'ont, comme les "
                "machines virtuelles du lab du livre sur lesquelles ce chapitre a été vérifié"
            )
        else:
            needs.append(
                f"Pour les étapes marquées « non vérifié » : {what}. Les machines VirtualBox "
                "l'ont ; le lab du livre, non (ces étapes y sont sautées)"
            )
    for cap in setup_caps:  # only commands of the set-up need it (partie 2's routing mesh)
        what = _CAPABILITY_NEEDS.get(cap, f"la fonction « {cap} » du noyau")
        needs.append(
            f"Pour quelques commandes de la mise en place, {what} : les machines VirtualBox l'ont"
        )
    if state.setup is not None:
        needs.append(
            f"Les machines dans l'état où les laisse « {state.setup.chapters[-1]} », ou "
            "l'étape 1 (mise en place) pour y arriver depuis des machines neuves"
        )
    return needs


def verification_line(state: ChapterState, book: engines.BookEngines | None = None) -> str:
    run = state.passing
    if run is None:
        return "Non vérifié : aucune exécution réussie n'est enregistrée pour ce chapitre."
    when, engine = french.date_fr(run.started), french.engine_fr(run.lab)
    lab = french.lab_fr(run.lab)
    line = f"Vérifié le {when} avec {engine} ({lab})"
    if state.kind == "stale":
        line += " ; le chapitre a changé depuis cette vérification"
    others = (
        [book.version(e) for e in book.engines[1:] if book.states[e].kind == "verified"]
        if book is not None
        else []
    )
    if others:
        line += " ; également vérifié avec Docker " + french.join_fr(others)
    return line + "."


def slug(key: str) -> str:
    stem = key[: -len(".md")] if key.endswith(".md") else key
    parts = [p for p in stem.split("/") if p not in ("docs", "")]
    return "-".join(parts) or "chapitre"


def _used_values(state: ChapterState) -> dict[str, str]:
    """Captured values that commands reuse (tokens...): the participant has their own."""
    names = {n for b in state.chapter.blocks for c in b.commands for n in names_in_command(c.text)}
    every = captures_before(state.passing, len(state.chapter.blocks) + 1)
    return {n: v for n, v in every.items() if n in names}


def _setup_step(setup: SetupView) -> HandoutStep:
    lines: list[Line] = []
    for command in setup.commands:
        for n, text in enumerate(command.lines):
            prefix = f"{command.prompt} " if n == 0 else "> "
            note = (
                f"   # affiche {', '.join(command.gives)}"
                if command.gives and n == len(command.lines) - 1
                else ""
            )
            for m, piece in enumerate(wrap(prefix + text + note)):
                lines.append(Line(piece, "cmd" if n == 0 and m == 0 else "cont"))
    chapters = " puis de ".join(f"« {t} »" for t in setup.chapters)
    lead = (
        f"<p>Ce chapitre part de la fin de « {setup.chapters[-1]} ». Si vos machines sont "
        "déjà dans cet état, passez à l'étape 2. Sinon, tapez ces commandes dans l'ordre, sur "
        f"des machines neuves : ce sont celles de {chapters} qui changent l'état des "
        "machines, sans celles qui ne font qu'observer.</p>"
    )
    if setup.placeholders:
        lead += (
            "<p>Chaque valeur en &lt;CAPITALES&gt; s'affiche dans la sortie de la commande "
            "marquée « # affiche » : recopiez-la à sa place.</p>"
        )
    return HandoutStep(
        number=1,
        section="Mise en place",
        status="verified",
        note=None,
        lines=tuple(lines),
        commands=tuple(c.text for c in setup.commands),
        lead=Markup(lead),
    )


def _wait(state: BlockState) -> str | None:
    until = state.block.options.until
    if until is None:
        return None
    took = state.shown.duration if state.shown is not None else None
    if took is None:
        seen = ""
    elif took >= 2:
        seen = f"lors de la vérification, il a fallu environ {french.duration_fr(took)} ; "
    else:
        seen = "lors de la vérification, il était là presque tout de suite ; "
    return (
        "Le résultat peut mettre un moment à venir : si votre sortie diffère, patientez "
        f"quelques secondes et relancez la commande ({seen}le livre attend jusqu'à "
        f"{french.duration_fr(until)})."
    )


def _errors(state: BlockState, values: dict[str, str]) -> tuple[str, ...]:
    """Commands the author wrote as failing (`[N]`): the participant must not be alarmed."""
    out = []
    commands = state.block.commands
    for n, command in enumerate(commands, start=1):
        if command.status and command.key is None:
            typed, _ = with_placeholders(command.lines[0])
            typed = typed if len(typed) <= 60 else typed[:57] + "…"
            which = "1re" if n == 1 else f"{n}e"
            where = f" ({which} commande de l'étape)" if len(commands) > 1 else ""
            out.append(
                f"« {typed} »{where} doit échouer (code de retour {command.status}) : "
                "c'est voulu, le texte explique pourquoi."
            )
    return tuple(out)


_ENGINE_NOTES = {
    "failed": "ce bloc échoue",
    "blocked": "ce bloc n'a pas été exécuté",
    "skipped": "ce bloc n'est pas vérifié",
    "unverified": "ce bloc n'a jamais été vérifié",
    "stale": "ce bloc est à revérifier",
}


def engines_note(step: engines.Step) -> str | None:
    """'Avec Docker 26.1.5 et 28.5.2 : sortie différente (voir le site).' or None when every
    engine shows what the primary shows. Engines with the same difference share a phrase."""
    by_what: dict[str, list[str]] = {}
    for tab in step.others:
        if tab.same:
            continue
        if tab.state is None:
            what = "cette étape ne s'applique pas"
        elif tab.state.kind in _ENGINE_NOTES:
            what = _ENGINE_NOTES[tab.state.kind]
        elif tab.state.block is not (step.primary.state.block if step.primary.state else None):
            variant = french.engines_fr(tab.state.block.options.engines_text)
            what = f"variante de ce bloc pour {variant} (voir le site)"
        else:
            what = "sortie différente (voir le site)"
        by_what.setdefault(what, []).append(tab.version)
    if not by_what:
        return None
    phrases = [f"avec Docker {french.join_fr(v)} : {what}" for what, v in by_what.items()]
    text = " ; ".join(phrases)
    return text[0].upper() + text[1:] + "."


def _steps_shown(
    state: ChapterState, book: engines.BookEngines | None
) -> list[tuple[BlockState, engines.Step | None]]:
    """The blocks a handout prints, each with its step on every engine: per-engine variants
    of a step are one step, printed as the primary engine's variant."""
    out: list[tuple[BlockState, engines.Step | None]] = []
    for block_state in state.blocks:
        step = book.step_of(block_state.block) if book is not None else None
        if book is not None and step is None:
            continue  # a later variant of a step
        if step is not None and step.primary.state is not None:
            block_state = step.primary.state
        if not block_state.block.options.hidden:
            out.append((block_state, step))
    return out


def handout(state: ChapterState, book: engines.BookEngines | None = None) -> Handout:
    """`book`: the chapter on every engine of the book; the primary's output is printed,
    each step notes where another engine differs."""
    chapter = state.chapter
    objectives = chapter.front_matter.get("objectifs") or chapter.front_matter.get("objectives")
    listed = isinstance(objectives, list) and bool(objectives)
    intro = (
        [Markup(_MD.renderInline(str(o))) for o in objectives]
        if isinstance(objectives, list) and objectives
        else [Markup(_MD.renderInline(text)) for text in chapter.intro[:INTRO_PARAGRAPHS]]
    )
    values = _used_values(state)
    steps: list[HandoutStep] = [_setup_step(state.setup)] if state.setup else []
    shown_steps = _steps_shown(state, book)
    visible = [b for b, _ in shown_steps]
    lead_ins, closing = leads(chapter, [b.block for b in visible])
    for (block_state, step_engines), lead in zip(shown_steps, lead_ins, strict=True):
        # A block the lab cannot run: the author's expected output, marked as such.
        written = block_state.kind == "skipped"
        shown = for_state(block_state, state.passing, with_output=written)
        lines = [line for step in shown.steps for line in step_lines(step, values)]
        steps.append(
            HandoutStep(
                number=len(steps) + 1,
                section=lead.section,
                status=block_state.kind,
                note=_note(block_state),
                lines=tuple(lines),
                commands=tuple(
                    "\n".join(_typed(pieces, values) for pieces in step.lines)
                    for step in shown.steps
                ),
                lead=lead.html,
                before=lead.before,
                errors=_errors(block_state, values),
                wait=_wait(block_state),
                engines_note=engines_note(step_engines) if step_engines is not None else None,
            )
        )
    used = (n for b in visible for c in b.block.commands for n in names_in_command(c.text))
    placeholders = tuple(dict.fromkeys(reader_placeholder(n) for n in used))
    if state.setup:
        placeholders = tuple(dict.fromkeys(state.setup.placeholders + placeholders))
    return Handout(
        key=state.key,
        slug=slug(state.key),
        title=chapter.title or state.key,
        intro=tuple(intro),
        objectives_listed=listed,
        needs=tuple(_needs(state)),
        steps=tuple(steps),
        verification=verification_line(state, book),
        verified=state.kind in ("verified", "failed"),
        closing=closing,
        placeholders=placeholders,
    )
