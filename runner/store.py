"""The results store: one JSON file per chapter and Docker Engine generation, written
atomically.

Under the results folder (default `verified/` beside `mkdocs.yml`), keyed by the chapter's
path relative to that folder's parent, then by engine: `verified/docs/a.md/26.1.json`. Each
file keeps that engine's last *passing* run (what the site and the handouts publish) and, when
the latest run on that engine did not pass, that run beside it (for the report). Engines never
share a file, so a run on one can never overwrite another's. Writes are atomic: a crash never
leaves half a file.

Before engines (schema 1) a chapter had one file, `verified/docs/a.md.json`: such a file is
still read, as the record of the engine its runs name, and `migrate()` moves it into place.
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
    generation_of,
    record_from_json,
    record_to_json,
    run_engine,
)

# The engine of results that name none (runs without an engine, outside a book).
DEFAULT_ENGINE = "20.10"


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
    primary: str = DEFAULT_ENGINE  # the engine `load` reads when none is named

    @classmethod
    def for_chapter(
        cls, chapter: Path, override: Path | None = None, primary: str = DEFAULT_ENGINE
    ) -> ResultStore:
        root = find_project_root(chapter.parent) or Path.cwd()
        folder = override if override is not None else root / "verified"
        return cls(folder=folder.resolve(), root=root.resolve(), primary=primary)

    def key(self, chapter: Path) -> str:
        path = chapter.resolve()
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix().lstrip("/")

    def file(self, key: str, engine: str | None = None) -> Path:
        return self.folder / key / f"{engine or self.primary}.json"

    def legacy_file(self, key: str) -> Path:
        """Where schema 1 kept a chapter's only record."""
        return self.folder / (key + ".json")

    def _legacy(self, key: str) -> tuple[str, ChapterRecord] | None:
        path = self.legacy_file(key)
        if not path.is_file():
            return None
        record = _read(path)
        return (record.engine or self.primary), record

    def load(self, key: str, engine: str | None = None) -> ChapterRecord:
        """That engine's record of the chapter (default: the primary engine's)."""
        engine = engine or self.primary
        path = self.file(key, engine)
        if path.exists():
            return _read(path)
        legacy = self._legacy(key)
        if legacy is not None and legacy[0] == engine:
            return legacy[1]
        return ChapterRecord()

    def load_engines(self, key: str) -> dict[str, ChapterRecord]:
        """Every engine's record of the chapter, by generation."""
        out: dict[str, ChapterRecord] = {}
        legacy = self._legacy(key)
        if legacy is not None:
            out[legacy[0]] = legacy[1]
        folder = self.folder / key
        if folder.is_dir():
            for path in sorted(folder.glob("*.json")):
                if generation_of(path.stem) == path.stem:
                    out[path.stem] = _read(path)
        return out

    def set_aside(self, key: str, engine: str | None = None) -> Path:
        """Rename an unreadable results file out of the way (kept, never deleted)."""
        path = self.file(key, engine)
        if not path.exists() and self.legacy_file(key).exists():
            path = self.legacy_file(key)
        aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%dT%H%M%S')}")
        os.replace(path, aside)
        return aside

    def save(self, run: ChapterRun) -> ChapterRecord:
        """Record a run under its engine; a failed one never replaces the last passing one,
        and no run touches another engine's record."""
        engine = run_engine(run) or self.primary
        old = self.load(run.chapter, engine)
        record = (
            ChapterRecord(passing=run, latest=None)
            if run.status == "passed"
            else ChapterRecord(passing=old.passing, latest=run)
        )
        atomic_write(self.file(run.chapter, engine), record_to_json(record, engine))
        legacy = self._legacy(run.chapter)
        if legacy is not None and legacy[0] == engine:
            self.legacy_file(run.chapter).unlink(missing_ok=True)  # superseded by the new file
        return record

    def migrate(self) -> list[str]:
        """Move schema 1 files (`<key>.json`) to `<key>/<engine>.json`; returns what moved.
        A file already at the new place wins (it is newer); the old one is then dropped. An
        unreadable one is renamed `*.unreadable-<time>` (kept), as `set_aside` does."""
        moved: list[str] = []
        if not self.folder.is_dir():
            return moved
        for path in sorted(self.folder.rglob("*.md.json")):
            key = path.relative_to(self.folder).as_posix()[: -len(".json")]
            try:
                legacy = self._legacy(key)
            except ResultsError as exc:  # kept, out of the way, as any unreadable results
                aside = self.set_aside(key)
                moved.append(f"{exc}; moved aside to {aside}")
                continue
            if legacy is None:
                continue
            engine, record = legacy
            target = self.file(key, engine)
            if not target.exists():
                atomic_write(target, record_to_json(record, engine))
                moved.append(
                    f"{path.relative_to(self.folder)} -> {target.relative_to(self.folder)}"
                )
            path.unlink()
        return moved

    def all(self) -> dict[str, dict[str, ChapterRecord]]:
        """Every chapter's records, by key then engine."""
        out: dict[str, dict[str, ChapterRecord]] = {}
        if not self.folder.is_dir():
            return out
        keys = {
            p.relative_to(self.folder).as_posix()[: -len(".json")]
            for p in self.folder.rglob("*.md.json")
        }
        keys |= {
            p.parent.relative_to(self.folder).as_posix() for p in self.folder.rglob("*.md/*.json")
        }
        for key in sorted(keys):
            out[key] = self.load_engines(key)
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
