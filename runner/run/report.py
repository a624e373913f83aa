"""What the runner says on the terminal: progress while it runs, a readable account after.

On a terminal, a live status line (chapter, block, command); elsewhere (CI), one line per
chapter. Failures always print `file:line`, the command, and the diff.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from runner.model import Block, Chapter, Command
from runner.records import BlockResult, ChapterRun
from runner.run.execute import Progress


class Reporter:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.live = self.console.is_terminal
        self._status: Status | None = None
        self._chapter: Chapter | None = None
        self._block: Block | None = None

    # --- while running ---------------------------------------------------------------------

    def start_chapter(self, chapter: Chapter, label: str) -> Progress:
        self._chapter = chapter
        if self.live:
            self._status = self.console.status(f"{label}")
            self._status.start()
        else:
            self.console.print(f"verifying {label} ({len(chapter.blocks)} blocks)")
        return Progress(block=self._on_block, command=self._on_command)

    def _on_block(self, block: Block) -> None:
        self._block = block

    def _on_command(self, command: Command, typed: str) -> None:
        if self._status is not None and self._chapter is not None and self._block is not None:
            first = typed.splitlines()[0] if typed else ""
            if self._block.loc.path == self._chapter.path:
                where = f"block {self._block.index + 1}/{len(self._chapter.blocks)}"
            else:  # replaying a starting chapter (starts-from)
                where = f"set-up from {self._block.loc}"
            self._status.update(
                f"{escape(str(self._chapter.path))} · {escape(where)} · "
                f"[bold]{escape(command.prompt)} {escape(first[:80])}[/bold]"
            )

    def stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    # --- after -----------------------------------------------------------------------------

    def lab_starting(self, nodes: tuple[str, ...], provider: str) -> None:
        what = ", ".join(nodes) if nodes else "no node yet"
        if self._status is not None:
            self._status.update(f"lab ({provider}): starting {escape(what)}")
        else:
            self.console.print(f"  lab ({provider}): {what}")

    def cached(self, label: str, run: ChapterRun) -> None:
        self.console.print(f"[dim]cached[/dim]  {escape(label)} ({_counts(run)})")

    def chapter_done(self, label: str, path: Path, run: ChapterRun) -> None:
        self.stop()
        mark = "[green]passed[/green]" if run.status == "passed" else "[red]FAILED[/red]"
        self.console.print(f"{mark}  {escape(label)} ({_counts(run)}) in {run.duration:.1f} s")
        for block in run.blocks:
            if block.status in ("failed", "blocked"):
                self._print_block(path, block)

    def _print_block(self, path: Path, block: BlockResult) -> None:
        self.console.print(
            f"  [red]Block at {escape(str(path))}, line {block.line}, "
            f"{'did not run' if block.status == 'blocked' else 'did not verify'}[/red]"
        )
        if block.status == "blocked":
            self.console.print(f"    {escape(block.reason or '')}")
            return
        for command in block.commands:
            if command.error is None:
                continue
            self.console.print(
                f"    {escape(str(path))}:{command.line}: {escape(command.prompt)} "
                f"{escape(command.command)}"
            )
            for line in command.error.splitlines():
                style = "red" if line.startswith("-") else "green" if line.startswith("+") else ""
                text = escape(line)
                self.console.print(f"      [{style}]{text}[/{style}]" if style else f"      {text}")
        extra = (block.reason or "").split("\n")[1:]
        for line in extra:
            self.console.print(f"    {escape(line)}")

    def note(self, message: str) -> None:
        self.console.print(f"[dim]{escape(message)}[/dim]")

    def error(self, message: str) -> None:
        self.stop()
        self.console.print(f"[red]error:[/red] {escape(message)}")


def _counts(run: ChapterRun) -> str:
    parts = [
        f"{run.count(s)} {s}" for s in ("passed", "failed", "blocked", "skipped") if run.count(s)
    ]
    return ", ".join(parts) or "no blocks"
