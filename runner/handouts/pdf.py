"""HTML to PDF with WeasyPrint, through jinja2 templates that a project can override."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
)

from runner.handouts.content import SUMMARY_WIDTH, Handout, wrap
from runner.publish import french, typography


def make_env(custom_dir: Path | None = None) -> Environment:
    loaders: list[BaseLoader] = [FileSystemLoader(str(custom_dir))] if custom_dir else []
    loaders.append(PackageLoader("runner.handouts", "templates"))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=True, undefined=StrictUndefined)
    env.globals.update(plural=french.plural, wrap=wrap, summary_width=SUMMARY_WIDTH)
    return env


def html(env: Environment, title: str, handouts: list[Handout], booklet: bool) -> str:
    css = env.get_template("handout.css").render()
    # French spacing in the text, never in the transcripts (pre) or the CSS (style).
    return typography.french_html(
        env.get_template("handout.html").render(
            title=title,
            handouts=handouts,
            booklet=booklet,
            css=css,
            generated=french.date_fr(datetime.now(UTC).isoformat(), with_time=False),
        )
    )


def write_pdf(document: str, path: Path) -> None:
    """Print `document` to `path` (atomically: a crash leaves the previous PDF)."""
    from weasyprint import HTML  # slow to import: only when printing

    data = HTML(string=document, base_url=str(path.parent)).write_pdf()
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
