"""Pure parts of the handouts: tables closed up to fit, the chapter's prose cut per step."""

from __future__ import annotations

from pathlib import Path

from runner.handouts.layout import compact_table
from runner.handouts.prose import leads
from runner.notation import parse_chapter

HEADER = "ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   "
NODE_LS = [
    HEADER + "ENGINE VERSION",
    "yimngof8omkdw830l8914qk6b *   node-01    Ready     Active         Leader           20.10.24",
    "omfbz6dxi1p5bg01ansphl587     node-02    Ready     Active                          20.10.24",
]


def test_a_wide_table_keeps_its_columns_closer_together() -> None:
    out = compact_table(NODE_LS, 94)
    assert all(len(line) <= 94 for line in out)
    assert out[0].split() == NODE_LS[0].split()
    # every row still lines up under the header: the empty MANAGER STATUS cell stays empty
    column = out[0].index("ENGINE VERSION")
    assert all(line[column:].startswith("20.10.24") for line in out[1:])
    assert out[2][out[0].index("MANAGER STATUS") :].startswith(" " * 14)


def test_narrow_tables_and_plain_text_are_left_alone() -> None:
    assert compact_table(NODE_LS, 200) == NODE_LS
    text = ["Swarm initialized: current node (abc) is now a manager.", "", "  docker swarm join"]
    assert compact_table(text, 20) == text
    # a row that crosses a column border is not a table row: nothing is cut
    crossing = [NODE_LS[0], "x" * 40 + " node-01"]
    assert compact_table(crossing, 60) == crossing


def test_each_step_gets_the_prose_before_it_and_its_section(tmp_path: Path) -> None:
    path = tmp_path / "c.md"
    path.write_text(
        "---\ntitle: T\n---\n\n# T\n\nIntro.\n\n## Première\n\nAvant le bloc.\n\n"
        '```console\n$ echo a\na\n```\n\nAprès le bloc.\n\n!!! warning "Attention"\n'
        "    Corps de l'encadré.\n\n## Seconde\n\n`--opt`\n:   ce que fait l'option.\n\n"
        "<!-- mise en place -->\n\n```console\n$ echo b\nb\n```\n\nFin.\n"
    )
    chapter = parse_chapter(path)
    steps, closing = leads(chapter, list(chapter.blocks))
    assert steps[0].section == "Première" and "Avant le bloc." in steps[0].html
    assert "Intro." not in steps[0].html  # the introduction is printed apart
    second = steps[1]
    assert second.section == "Seconde"
    assert "Après le bloc." in second.before and "<strong>Attention</strong>" in second.before
    assert "Corps de l'encadré." in second.before
    assert "<code>--opt</code> : ce que fait l'option." in second.html
    assert "mise en place" not in second.html and "Fin." in closing


def test_sections_are_the_parsed_headings_not_lines_that_look_like_them(tmp_path: Path) -> None:
    path = tmp_path / "c.md"
    path.write_text(
        "# T\n\nIntro.\n\n## Vraie\n\nUn exemple de Markdown :\n\n```markdown\n## Pas une section\n"
        "```\n\nAvant a.\n\n```console\n$ echo a\na\n```\n\nSoulignée\n---------\n\nAvant b.\n\n"
        "```console\n$ echo b\nb\n```\n"
    )
    chapter = parse_chapter(path)
    steps, closing = leads(chapter, list(chapter.blocks))
    assert [step.section for step in steps] == ["Vraie", "Soulignée"]
    # the fenced `## ` line stays in the prose, as the example it is
    assert str(steps[0].html) == (
        "<p>Un exemple de Markdown :</p>\n"
        '<pre><code class="language-markdown">## Pas une section\n</code></pre>\n'
        "<p>Avant a.</p>\n"
    )
    assert "Intro." not in steps[0].html
    # a setext heading's underline goes with it: no rule, no stray heading left in the prose
    assert str(steps[1].html) == "<p>Avant b.</p>\n" and str(steps[1].before) == ""
    assert str(closing) == ""


def test_a_section_without_a_block_is_a_bold_line_of_the_next_lead(tmp_path: Path) -> None:
    path = tmp_path / "c.md"
    path.write_text(
        "# T\n\n## Seule\n\nTexte seul.\n\n## Avec bloc ##\n\nAvant.\n\n"
        "```console\n$ echo a\na\n```\n"
    )
    chapter = parse_chapter(path)
    steps, _ = leads(chapter, list(chapter.blocks))
    assert steps[0].section == "Avec bloc"
    assert str(steps[0].before) == "<p><strong>Seule</strong></p>\n<p>Texte seul.</p>\n"
    assert str(steps[0].html) == "<p>Avant.</p>\n"
