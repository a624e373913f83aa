"""The results store: one JSON file per chapter, written atomically.

Under the results folder (default `verified/` beside `mkdocs.yml`), keyed by the chapter's
path relative to that folder's parent. Each file keeps the chapter's last *passing* run (what
the site and the handouts publish) and, when the latest run did not pass, that run beside it
(for the report). Writes are atomic: a crash never leaves half a file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from runner.records import ChapterRecord, ChapterRun, record_from_json, record_to_json


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
