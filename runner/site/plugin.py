"""The `verified` mkdocs plugin: thin hooks over runner.site's modules.

mkdocs.yml:
    plugins:
      - search
      - verified:
          results: verified                  # stored results, relative to mkdocs.yml
          report: rapport-verification.md    # the generated report page; "" for none
          report_title: Rapport de vérification
          header: true                       # a status summary under each chapter's title
          french_spacing: true               # French non-breaking spaces in every page
          enabled: true                      # false: a quick preview, console blocks as written

Its `on_page_markdown` runs early (event priority 50), before plugins at the default priority
that rewrite Markdown, wherever `verified` stands in the list: the block lines it finds in the
page must still be the chapter's.

Templates live in runner/site/templates/verified/; a theme overrides one by putting a file of
the same name in `<custom_dir>/verified/`. Chapters with no passing results, stale ones, bad
notation and console blocks the runner cannot see are logged as warnings (`--strict` fails).
"""

from __future__ import annotations

import logging
import posixpath
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from jinja2 import Environment
from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

from runner.model import Block
from runner.publish import typography
from runner.publish.book import Problem, load_chapter, may_have_blocks
from runner.publish.setup import SETUP_MARK
from runner.publish.status import ChapterState
from runner.site import render, splice
from runner.store import ResultStore

log = logging.getLogger("mkdocs.plugins.verified")
CSS = "assets/verified/verified.css"
_ASSETS = Path(__file__).parent / "assets"


class VerifiedConfig(Config):  # type: ignore[no-untyped-call]  # mkdocs is untyped there
    enabled = c.Type(bool, default=True)  # off: no results read, pages left as written
    results = c.Type(str, default="verified")
    report = c.Type(str, default="rapport-verification.md")
    report_title = c.Type(str, default="Rapport de vérification")
    header = c.Type(bool, default=True)  # the chapter's summary under its title
    french_spacing = c.Type(bool, default=True)  # non-breaking spaces before : ; ! ? and in « »


def english_theme_strings(config: MkDocsConfig) -> list[str]:
    """Strings the theme would show in English on a French book's pages, and how to fix each.
    (Material translates its own strings when `theme.language` is `fr`; these two it does not.)"""
    problems = []
    if config.theme.name == "material" and config.extra.get("generator") is not False:
        problems.append(
            "Material's footer says « Made with Material for MkDocs » in English; set "
            "`generator: false` under `extra:` (and say it in French in `copyright:`)"
        )
    toc = config.mdx_configs.get("toc", {})
    english = toc.get("permalink_title", "Permanent link") == "Permanent link"
    if "toc" in config.markdown_extensions and toc.get("permalink") and english:
        problems.append(
            "the toc extension titles its anchors « Permanent link »; set "
            "`permalink_title: Lien permanent vers cette section` under `toc:`"
        )
    return problems


def source_base(config: MkDocsConfig) -> str | None:
    """Where a chapter's source shows with line anchors: repo_url + edit_uri, with GitHub's and
    GitLab's `edit/` page swapped for `blob/` (which takes `#L12`). None when not configured."""
    if not config.repo_url or not config.edit_uri:
        return None
    base = urljoin(config.repo_url.rstrip("/") + "/", config.edit_uri)
    base = base.replace("/edit/", "/blob/")
    return base if base.endswith("/") else base + "/"


def book_commit(root: Path, watched: tuple[Path, ...] = ()) -> tuple[str | None, bool]:
    """The book's commit (short), and whether `watched` (the chapters, the results) have
    uncommitted changes. (None, False) outside a git repository or without git."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", *map(str, watched or [root])],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None, False
    if head.returncode != 0:
        return None, False
    return head.stdout.strip(), bool(dirty.stdout.strip())


class VerifiedPlugin(BasePlugin[VerifiedConfig]):  # type: ignore[no-untyped-call]
    def __init__(self) -> None:
        self.env: Environment | None = None
        self.store: ResultStore | None = None
        self.chapters: dict[str, ChapterState] = {}  # by src_uri
        self.placeholders: dict[str, dict[str, str]] = {}  # by src_uri

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        if not self.config.enabled:
            return config  # every other hook then finds nothing to do
        root = Path(config.config_file_path).resolve().parent
        self.store = ResultStore(folder=(root / self.config.results).resolve(), root=root)
        custom_dir = config.theme.custom_dir
        self.env = render.make_env(Path(custom_dir) if custom_dir else None)
        if CSS not in config.extra_css:
            config.extra_css.append(CSS)
        if config.theme.name == "material" and config.theme.get("font") is not False:
            # Material loads Roboto from Google: a workshop room offline gets a broken page,
            # and every reader's address goes to a third party.
            log.warning(
                f"{config.config_file_path}: theme.font makes every page fetch fonts from "
                "Google; set `font: false` under `theme:` (system fonts, no other host)"
            )
        for problem in english_theme_strings(config):
            log.warning(f"{config.config_file_path}: {problem}")
        return config

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        if not self.config.enabled:
            return files
        assert self.store is not None and self.env is not None
        self.chapters, self.placeholders = {}, {}
        problems: list[str] = []
        for file in files.documentation_pages():
            if file.abs_src_path is None or file.generated_by:
                continue
            # As the runner reads it: mkdocs drops a byte order mark, the runner refuses it.
            text = Path(file.abs_src_path).read_bytes().decode("utf-8", errors="replace")
            if not may_have_blocks(text):
                continue
            loaded = load_chapter(Path(file.abs_src_path), text, self.store)
            if isinstance(loaded, Problem):
                log.warning(loaded.message)
                problems.append(loaded.message)
                continue
            if not loaded.chapter.blocks:
                continue
            if loaded.warning:
                log.warning(loaded.warning)
            self.chapters[file.src_uri] = loaded
        files.append(File.generated(config, CSS, abs_src_path=str(_ASSETS / "verified.css")))
        if self.config.report:
            # Not in nav: an explicit `nav` need not list it (no "not included" message);
            # on_nav places it after the chapters.
            report = File.generated(
                config,
                self.config.report,
                content=self._report(problems, config),
                inclusion=InclusionLevel.NOT_IN_NAV,
            )
            files.append(report)
        return files

    def _report(self, problems: list[str], config: MkDocsConfig) -> str:
        assert self.env is not None
        here = posixpath.dirname(self.config.report) or "."
        base = source_base(config)
        chapters = [
            (state, posixpath.relpath(uri, here), f"{base}{uri}" if base else None)
            for uri, state in sorted(self.chapters.items())
        ]
        root = Path(config.config_file_path).resolve().parent
        assert self.store is not None
        watched = (Path(config.docs_dir), self.store.folder)
        commit, dirty = book_commit(root, watched)
        context = render.ReportContext(commit=commit, dirty=dirty, source_url=base)
        return render.render_report(self.env, self.config.report_title, chapters, problems, context)

    def on_nav(self, nav: Navigation, *, config: MkDocsConfig, files: Files) -> Navigation:
        wanted = self.config.enabled and self.config.report
        report = files.get_file_from_path(self.config.report) if wanted else None
        if report is None:
            return nav
        page = report.page
        if page is not None and page in nav.pages:  # the author's nav lists it: move it last
            for listing in (nav.items, nav.pages):
                if page in listing:
                    listing.remove(page)
        else:
            page = Page(self.config.report_title, report, config)
        # The report goes last, after the chapters.
        nav.items.append(page)
        nav.pages.append(page)
        for before, after in zip(nav.pages, nav.pages[1:], strict=False):
            before.next_page, after.previous_page = after, before
        page.next_page = None
        return nav

    @event_priority(50)  # "early": see the module's docstring
    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        state = self.chapters.get(page.file.src_uri)
        if state is None or self.env is None:
            return markdown
        env = self.env
        offset = splice.line_offset(state.chapter.source, markdown)
        if offset is None:
            log.warning(
                f"{state.key}: another plugin changed this page's Markdown before `verified` "
                "(its on_page_markdown has a priority above 50); block lines no longer match"
            )
            return markdown
        for line in splice.unseen_console_fences(markdown, state.chapter.blocks, offset):
            log.warning(
                f"{state.key}:{line}: this console block is not verified (the runner does not "
                "see fences inside admonitions or content tabs); move it out of the container"
            )
        states = {b.block.index: b for b in state.blocks}
        setup = render.render_setup(env, state)  # « Mise en place »: at its mark, or else
        marked = bool(setup) and any(line.strip() == SETUP_MARK for line in markdown.split("\n"))
        first = None if marked else next((b.block.index for b in state.visible), None)

        def block_html(block: Block) -> str | None:
            if block.options.hidden:
                return None
            html = render.render_block(env, states[block.index], state.passing)
            return f"{setup}\n{html}" if setup and block.index == first else html

        header = None
        if self.config.header:
            report = None
            if self.config.report:
                # Page URLs, as the browser resolves them (directory URLs or not).
                stem = posixpath.splitext(self.config.report)[0]
                here = posixpath.dirname(page.url) if page.url else ""
                if config.use_directory_urls:
                    report = posixpath.relpath(stem, here or ".") + "/"
                else:
                    report = posixpath.relpath(stem + ".html", here or ".")
                report += "#" + render.report_anchor(state.key)
            header = (splice.header_line(markdown), render.render_header(env, state, report))
        anchor = render.anchor if "attr_list" in config.markdown_extensions else None
        done = splice.splice(markdown, state.chapter.blocks, offset, block_html, header, anchor)
        self.placeholders[page.file.src_uri] = done.placeholders
        if marked:
            return "\n".join(
                f"\n{setup}\n" if line.strip() == SETUP_MARK else line
                for line in done.markdown.split("\n")
            )
        return done.markdown

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        if self.config.report and page.file.src_uri == self.config.report:
            return f'<div class="vb-report">\n{html}\n</div>'  # its tables fit phones
        placeholders = self.placeholders.get(page.file.src_uri)
        return splice.fill_placeholders(html, placeholders) if placeholders else html

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        # The whole page, theme strings and generated text included: French spacing.
        return typography.french_html(output) if self.config.french_spacing else output

    def on_serve(self, server: Any, *, config: MkDocsConfig, builder: Any) -> Any:
        if self.store is not None and self.store.folder.is_dir():
            server.watch(str(self.store.folder))  # re-verified chapters show up live
        return server
