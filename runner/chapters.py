"""Where the book's chapters are: Markdown files given, or found under folders."""

from __future__ import annotations

from pathlib import Path

DEFAULT_FOLDER = Path("docs")


def find_chapters(paths: list[Path]) -> list[Path]:
    """Chapter files, in order: files as given, folders walked for `*.md` (sorted by path).

    No paths: the `docs/` folder. Raises FileNotFoundError naming a path that does not exist."""
    found: list[Path] = []
    for path in paths or [DEFAULT_FOLDER]:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.md") if p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return found
