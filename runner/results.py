"""Results of verification runs, kept apart from the parsed chapter, and their store.

One JSON file per chapter under the results folder (default `verified/` beside `mkdocs.yml`),
keyed by the chapter's path relative to that folder's parent. Each file keeps the chapter's
last *passing* run (what the site and the handouts publish) and, when the latest run did not
pass, that run beside it (for the report). Writes are atomic: a crash never leaves half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

SCHEMA = 1

BlockStatus = Literal["passed", "failed", "skipped", "blocked"]
RunStatus = Literal["passed", "failed"]


@dataclass(frozen=True)
class CommandResult:
    line: int  # the command's line in the chapter
    prompt: str  # "$" or the nested prompt as written
    command: str  # as typed, after `{{ name }}` substitution
    output: str  # the actual output, normalised (runner.normalise)
    status: int | None  # exit status; None when not read (key-ended, opened a nested shell)
    duration: float  # seconds, of the matching (or last) attempt
    attempts: int = 1
    captures: dict[str, str] = field(default_factory=dict)  # values captured by this command
    # Spans [start, end) of output lines that the author's `...` stood for, so a page can fold them.
    elided: tuple[tuple[int, int], ...] = ()
    key: str | None = None  # "^C"/"^D" sent while it ran
    expected: str = ""  # the expected lines as written
    error: str | None = None  # why it failed: a diff, a timeout, a status mismatch


@dataclass(frozen=True)
class BlockResult:
    index: int  # ordinal among the chapter's console blocks
    line: int  # the fence line
    status: BlockStatus
    session: str
    hidden: bool = False
    reason: str | None = None  # skip reason, blocking cause, or failure summary
    duration: float = 0.0
    until: float | None = None
    source_hash: str = ""
    commands: tuple[CommandResult, ...] = ()

    @property
    def attempts(self) -> int:
        return max((c.attempts for c in self.commands), default=0)


@dataclass(frozen=True)
class LabInfo:
    provider: str  # "netns", "machine", or "none"
    nodes: tuple[str, ...] = ()
    engine_version: str | None = None
    kernel: str = ""
    capabilities: dict[str, bool] = field(default_factory=dict)
    stands_in_for: dict[str, str] = field(default_factory=dict)  # node -> driver asked for


@dataclass(frozen=True)
class ChapterRun:
    chapter: str  # the chapter's key: its path relative to the project root, POSIX form
    title: str | None
    source_hash: str
    runner_version: str
    lab_key: str
    lab: LabInfo
    started: str  # ISO 8601, UTC
    duration: float
    status: RunStatus
    blocks: tuple[BlockResult, ...] = ()

    def count(self, status: BlockStatus) -> int:
        return sum(1 for b in self.blocks if b.status == status)


@dataclass(frozen=True)
class ChapterRecord:
    passing: ChapterRun | None = None
    latest: ChapterRun | None = None  # only kept when it did not pass


def merge_spans(spans: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Adjacent or overlapping elided spans as one: one author's `...` is one fold."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def source_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- JSON ---------------------------------------------------------------------------------


def _command_from(d: dict[str, Any]) -> CommandResult:
    d = dict(d)
    d["elided"] = tuple(tuple(span) for span in d.get("elided", ()))
    return CommandResult(**d)


def _block_from(d: dict[str, Any]) -> BlockResult:
    d = dict(d)
    d["commands"] = tuple(_command_from(c) for c in d.get("commands", ()))
    return BlockResult(**d)


def _run_from(d: dict[str, Any]) -> ChapterRun:
    d = dict(d)
    lab = dict(d["lab"])
    lab["nodes"] = tuple(lab.get("nodes", ()))
    d["lab"] = LabInfo(**lab)
    d["blocks"] = tuple(_block_from(b) for b in d.get("blocks", ()))
    return ChapterRun(**d)


def record_to_json(record: ChapterRecord) -> str:
    data = {
        "schema": SCHEMA,
        "passing": asdict(record.passing) if record.passing else None,
        "latest": asdict(record.latest) if record.latest else None,
    }
    return json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def record_from_json(text: str, origin: str = "<results>") -> ChapterRecord:
    try:
        data = json.loads(text)
        if data.get("schema") != SCHEMA:
            raise ValueError(f"schema {data.get('schema')!r}, expected {SCHEMA}")
        return ChapterRecord(
            passing=_run_from(data["passing"]) if data.get("passing") else None,
            latest=_run_from(data["latest"]) if data.get("latest") else None,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ResultsError(
            f"{origin}: unreadable results ({exc}); delete the file and run the chapter again"
        ) from exc


class ResultsError(Exception):
    pass


# --- The store ----------------------------------------------------------------------------


def find_project_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding mkdocs.yml."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / "mkdocs.yml").is_file():
            return folder
    return None


@dataclass(frozen=True)
class ResultStore:
    folder: Path  # e.g. <project>/verified
    root: Path  # chapter keys are relative to this folder

    @classmethod
    def for_chapter(cls, chapter: Path, override: Path | None = None) -> ResultStore:
        root = find_project_root(chapter.parent) or Path.cwd()
        folder = override if override is not None else root / "verified"
        return cls(folder=folder.resolve(), root=root.resolve())

    def key(self, chapter: Path) -> str:
        path = chapter.resolve()
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix().lstrip("/")

    def file(self, key: str) -> Path:
        return self.folder / (key + ".json")

    def load(self, key: str) -> ChapterRecord:
        path = self.file(key)
        if not path.exists():
            return ChapterRecord()
        return record_from_json(path.read_text(encoding="utf-8"), str(path))

    def save(self, run: ChapterRun) -> ChapterRecord:
        """Record a run; a failed one never replaces the last passing one."""
        old = self.load(run.chapter)
        record = (
            ChapterRecord(passing=run, latest=None)
            if run.status == "passed"
            else ChapterRecord(passing=old.passing, latest=run)
        )
        atomic_write(self.file(run.chapter), record_to_json(record))
        return record

    def all(self) -> dict[str, ChapterRecord]:
        out: dict[str, ChapterRecord] = {}
        if not self.folder.is_dir():
            return out
        for path in sorted(self.folder.rglob("*.json")):
            key = path.relative_to(self.folder).as_posix()[: -len(".json")]
            out[key] = record_from_json(path.read_text(encoding="utf-8"), str(path))
        return out


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
