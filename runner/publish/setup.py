"""« Mise en place »: the commands that bring a reader's machines to where a chapter starts
(`verify: {starts-from: ...}`), as the site and the handouts show them (pure but for reading
the starting chapters' files).

They are exactly the commands the runner replays before the chapter (runner.startpoint); a
value that one of them prints and a later one uses is a placeholder the reader fills in."""

from __future__ import annotations

from dataclasses import dataclass

from runner.model import Chapter, Command
from runner.notation import parse_chapter
from runner.notation.patterns import Placeholder, tokenize
from runner.publish.placeholders import reader_placeholder, with_placeholders
from runner.startpoint import load_setup

# Where the page shows « Mise en place », when the author puts it on a line of its own;
# otherwise just before the chapter's first block.
SETUP_MARK = "<!-- mise en place -->"


@dataclass(frozen=True)
class SetupCommand:
    prompt: str  # "$" or a nested shell's prompt
    lines: tuple[str, ...]  # as the reader types them, placeholders in `<CAPITALES>`
    gives: tuple[str, ...] = ()  # placeholders whose value this command prints

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class SetupView:
    chapters: tuple[str, ...]  # titles of the starting chapters, the first one first
    commands: tuple[SetupCommand, ...]
    placeholders: tuple[str, ...]  # every placeholder the commands use
    requires: tuple[str, ...] = ()  # lab capabilities some of them need (`requires=`)

    @property
    def copy_text(self) -> str:
        return "\n".join(c.text for c in self.commands)


def setup_view(chapter: Chapter) -> SetupView | None:
    """What the chapter's « Mise en place » shows; None when it starts from nothing.
    Raises NotationError when a starting chapter is missing or malformed."""
    setup = load_setup(chapter, parse_chapter)
    if not setup.parts:
        return None
    commands: list[SetupCommand] = []
    placeholders: dict[str, None] = {}
    for part in setup.parts:
        used: set[str] = set()
        typed: list[tuple[Command, tuple[str, ...]]] = []
        for command in part.commands:
            written: list[str] = []
            for line in command.lines:
                text, names = with_placeholders(line)
                written.append(text)
                used |= names
            typed.append((command, tuple(written)))
        for command, lines in typed:
            gives = sorted(
                {
                    t.name
                    for e in command.expected
                    for t in tokenize(e.text)
                    if isinstance(t, Placeholder) and t.name in used
                }
            )
            shown = tuple(reader_placeholder(n) for n in gives)
            placeholders.update(dict.fromkeys(shown))
            commands.append(SetupCommand(command.prompt, lines, shown))
    titles = tuple(p.chapter.title or p.chapter.path.name for p in setup.parts)
    return SetupView(titles, tuple(commands), tuple(placeholders), setup.requires)
