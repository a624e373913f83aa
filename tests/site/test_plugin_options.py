"""The plugin as Material's own plugins behave: an `enabled` switch, and an explicit event
priority instead of asking authors to order the plugins list. Real `mkdocs build --strict`."""

from __future__ import annotations

from pathlib import Path

from runner.site.plugin import VerifiedPlugin
from tests.site.conftest import build

CHAPTER = "01-premiers-pas"


def _configure(book: Path, plugin: str, *, hooks: str = "") -> None:
    config = book / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    assert text.endswith("  - verified\n")
    config.write_text(text.replace("  - verified\n", plugin) + hooks, encoding="utf-8")


def test_disabled_the_pages_are_built_as_written(book: Path) -> None:
    _configure(book, "  - verified:\n      enabled: false\n")
    result = build(book, "--strict")
    assert result.status == 0, result.log
    page = result.page(CHAPTER)
    # Material's own code blocks, the notation as written; nothing of the plugin.
    assert 'class="vb ' not in page and "vb-capture" not in page
    assert "cid" in page and "Vérifié le" not in page
    assert "verified.css" not in page
    assert not (result.site / "rapport-verification").exists()
    assert not (result.site / "assets" / "verified").exists()


def test_enabled_by_default(book: Path) -> None:
    result = build(book, "--strict")
    assert result.status == 0, result.log
    assert 'class="vb ' in result.page(CHAPTER)
    assert (result.site / "rapport-verification" / "index.html").is_file()


# Another plugin's Markdown hook (here a mkdocs hook) that adds a banner at the top of every
# page, at a priority above the default one: it would shift every block line if it ran first.
BANNER = """from mkdocs.plugins import event_priority


@event_priority(10)
def on_page_markdown(markdown, **kwargs):
    return '!!! note "Aperçu"\\n    Bandeau ajouté par un autre greffon.\\n\\n' + markdown
"""


def test_blocks_are_spliced_before_other_plugins_rewrite_the_markdown(book: Path) -> None:
    (book / "banner.py").write_text(BANNER, encoding="utf-8")
    _configure(book, "  - verified\n", hooks="hooks:\n  - banner.py\n")
    result = build(book, "--strict")
    assert result.status == 0, result.log
    page = result.page(CHAPTER)
    assert "Bandeau ajouté par un autre greffon." in page
    assert 'class="vb ' in page and "another plugin changed" not in result.log


def test_the_priority_is_declared_on_the_hook() -> None:
    assert VerifiedPlugin.on_page_markdown.mkdocs_priority == 50  # type: ignore[attr-defined]
