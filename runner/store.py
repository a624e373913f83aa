"""The results store: one JSON file per chapter, written atomically.

Under the results folder (default `verified/` beside `mkdocs.yml`), keyed by the chapter's
path relative to that folder's parent. Each file keeps the chapter's last *passing* run (what
the site and the handouts publish) and, when the latest run did not pass, that run beside it
(for the report). Writes are atomic: a crash never leaves half a file.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from runner.records import (
    ChapterRecord,
    ChapterRun,
    ResultsError,
    record_from_json,
    record_to_json,
)


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
        """The stored record; ResultsError (naming the file) when it cannot be read."""
        path = self.file(key)
        if not path.exists():
            return ChapterRecord()
        return _read(path)

    def set_aside(self, key: str) -> Path:
        """Rename an unreadable results file out of the way (kept, never deleted)."""
        path = self.file(key)
        aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%dT%H%M%S')}")
        os.replace(path, aside)
        return aside

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
            out[key] = _read(path)
        return out


def _read(path: Path) -> ChapterRecord:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(
            f"{path}: unreadable results ({exc}); delete the file and run the chapter again"
        ) from exc
    return record_from_json(text, str(path))


def _probe(folder: Path) -> str | None:
    """Why no file can be written in `folder` (tried for real), or None."""
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    try:
        fd, tmp = tempfile.mkstemp(dir=existing, prefix=".write-probe-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        return f"cannot write in {existing}: {exc.strerror or exc}"
    return None


def writable_problem(
    folders: list[Path], junit: Path | None, results: Path | None = None
) -> str | None:
    """What keeps results (or the JUnit report) from being written, checked before any lab
    starts; None when nothing does. A full disk can only show at the end."""
    if results is not None and results.exists() and not results.is_dir():
        return f"--results {results}: is a file; give a folder"
    for folder in dict.fromkeys(folders):
        if folder.exists() and not folder.is_dir():
            return f"the results folder {folder} is a file; give a folder (--results)"
        problem = _probe(folder)
        if problem is not None:
            return f"results cannot be written to {folder}: {problem} (fix it, or --results DIR)"
    if junit is not None:
        if junit.is_dir():
            return f"--junit {junit}: is a folder; give a file name"
        problem = _probe(junit.parent)
        if problem is not None:
            return f"--junit {junit}: {problem}"
    return None


def atomic_write(path: Path, text: str, *, make_parents: bool = True, durable: bool = True) -> None:
    """Replace `path` whole, so that a crash never leaves half a file.

    `make_parents=False`: the folder must exist (a lab removed meanwhile is not recreated).
    `durable=False`: no fsync, for state files rewritten on every command."""
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
