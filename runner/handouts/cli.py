"""`python -m runner handouts [PATH ...]`: one A4 PDF per chapter and a booklet, in handouts/."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from runner import bookconfig
from runner.chapters import find_chapters
from runner.handouts import content, pdf
from runner.publish import engines, french
from runner.publish.book import Problem, load_chapter, may_have_blocks
from runner.publish.status import ChapterState
from runner.store import ResultStore, find_project_root

BOOKLET = "livret.pdf"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m runner handouts",
        description="Write workshop handouts (A4 PDF, in French) from the stored verified results.",
    )
    parser.add_argument("paths", nargs="*", type=Path, help="chapters or folders (default: docs/)")
    parser.add_argument("--results", type=Path, help="results folder (default: verified/)")
    parser.add_argument("--out", type=Path, help="output folder (default: handouts/)")
    parser.add_argument("--templates", type=Path, help="folder whose templates override ours")
    return parser


def _mkdocs_config(root: Path) -> dict[str, object]:
    try:
        data = yaml.load((root / "mkdocs.yml").read_text(encoding="utf-8"), _Lenient)
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


class _Lenient(yaml.SafeLoader):
    """Reads mkdocs.yml even with Material's `!!python/name:` tags (their values are ignored)."""


_Lenient.add_multi_constructor("", lambda loader, suffix, node: None)


def _nav_files(nav: object) -> list[str]:
    """The Markdown files of an mkdocs `nav:`, in reading order."""
    if isinstance(nav, str):
        return [nav] if nav.endswith(".md") else []
    if isinstance(nav, list):
        return [f for item in nav for f in _nav_files(item)]
    if isinstance(nav, dict):
        return [f for value in nav.values() for f in _nav_files(value)]
    return []


def _in_reading_order(paths: list[Path], docs: Path, nav: object) -> list[Path]:
    """Chapters in the site's navigation order when mkdocs.yml has a `nav:`, else by path."""
    order = {name: n for n, name in enumerate(_nav_files(nav))}

    def rank(path: Path) -> tuple[int, str]:
        try:
            name = path.resolve().relative_to(docs.resolve()).as_posix()
        except ValueError:
            name = path.as_posix()
        return (order.get(name, len(order)), name)

    return sorted(paths, key=rank)


def _load(paths: list[Path], store: ResultStore) -> list[ChapterState] | None:
    """The chapters with console blocks; None when one cannot be read (said on stderr)."""
    states: list[ChapterState] = []
    failed = False
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if not may_have_blocks(text):
            continue
        loaded = load_chapter(path, text, store)
        if isinstance(loaded, Problem):
            print(f"handouts: {loaded.message}", file=sys.stderr)
            failed = True
        elif loaded.chapter.blocks:
            if loaded.warning:
                print(f"handouts: warning: {loaded.warning}", file=sys.stderr)
            states.append(loaded)
    return None if failed else states


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    root = find_project_root(Path.cwd()) or Path.cwd()
    config = _mkdocs_config(root)
    docs = root / str(config.get("docs_dir") or "docs")
    try:
        files = find_chapters(args.paths or [docs])
    except FileNotFoundError as exc:
        print(f"handouts: {exc}", file=sys.stderr)
        return 2
    results = args.results.resolve() if args.results else root / "verified"
    try:
        book_engines = bookconfig.load(root).engines
    except bookconfig.BookConfigError as exc:
        print(f"handouts: {exc}", file=sys.stderr)
        return 2
    store = ResultStore(folder=results, root=root.resolve(), primary=book_engines[0])
    states = _load(_in_reading_order(files, docs, config.get("nav")), store)
    if states is None:
        return 2
    if not states:
        print("handouts: no chapter with console blocks found", file=sys.stderr)
        return 2
    out = args.out.resolve() if args.out else root / "handouts"
    out.mkdir(parents=True, exist_ok=True)
    env = pdf.make_env(args.templates)
    handouts = []
    for state in states:
        book = engines.load(state, book_engines, store.load)
        if isinstance(book, Exception):
            print(f"handouts: {book}", file=sys.stderr)
            return 2
        handouts.append(content.handout(state, book))
    for handout in handouts:
        target = out / f"{handout.slug}.pdf"
        pdf.write_pdf(pdf.html(env, handout.title, [handout], booklet=False), target)
        print(f"handouts: wrote {target} ({french.plural(len(handout.steps), 'étape')})")
    booklet = out / BOOKLET
    title = str(config.get("site_name") or "Livret d'atelier")
    pdf.write_pdf(pdf.html(env, title, handouts, booklet=True), booklet)
    print(f"handouts: wrote {booklet} ({french.plural(len(handouts), 'chapitre')})")
    return 0
