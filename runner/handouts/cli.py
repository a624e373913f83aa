"""`python -m runner handouts [PATH ...]`: one A4 PDF per chapter and a booklet, in handouts/."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from runner.handouts import content, pdf
from runner.results import ResultStore, find_project_root
from runner.site import fr
from runner.site.book import Problem, chapter_files, load_chapter, may_have_blocks
from runner.site.status import ChapterState

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


def _site_name(root: Path) -> str:
    try:
        data = yaml.load((root / "mkdocs.yml").read_text(encoding="utf-8"), _Lenient)
    except (OSError, yaml.YAMLError):
        return "Livret d'atelier"
    name = data.get("site_name") if isinstance(data, dict) else None
    return str(name) if name else "Livret d'atelier"


class _Lenient(yaml.SafeLoader):
    """Reads mkdocs.yml even with Material's `!!python/name:` tags (their values are ignored)."""


_Lenient.add_multi_constructor("", lambda loader, suffix, node: None)


def _chapters(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        out.extend(chapter_files(path) if path.is_dir() else [path])
    return out


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    root = find_project_root(Path.cwd()) or Path.cwd()
    paths = args.paths or [root / "docs"]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"handouts: no such file or folder: {missing[0]}", file=sys.stderr)
        return 2
    results = args.results.resolve() if args.results else root / "verified"
    store = ResultStore(folder=results, root=root.resolve())
    states: list[ChapterState] = []
    failed = False
    for path in _chapters(paths):
        text = path.read_text(encoding="utf-8")
        if not may_have_blocks(text):
            continue
        loaded = load_chapter(path, text, store)
        if isinstance(loaded, Problem):
            print(f"handouts: {loaded.message}", file=sys.stderr)
            failed = True
            continue
        if not loaded.chapter.blocks:
            continue
        if loaded.warning:
            print(f"handouts: warning: {loaded.warning}", file=sys.stderr)
        states.append(loaded)
    if failed:
        return 2
    if not states:
        print("handouts: no chapter with console blocks found", file=sys.stderr)
        return 2
    out = args.out.resolve() if args.out else root / "handouts"
    out.mkdir(parents=True, exist_ok=True)
    env = pdf.make_env(args.templates)
    handouts = [content.handout(state) for state in states]
    for handout in handouts:
        target = out / f"{handout.slug}.pdf"
        pdf.write_pdf(pdf.html(env, handout.title, [handout], booklet=False), target)
        print(f"handouts: wrote {target} ({fr.plural(len(handout.steps), 'étape')})")
    booklet = out / BOOKLET
    pdf.write_pdf(pdf.html(env, _site_name(root), handouts, booklet=True), booklet)
    print(f"handouts: wrote {booklet} ({fr.plural(len(handouts), 'chapitre')})")
    return 0
