"""The site's pure parts: statuses, splicing Markdown, wrapping handout lines, French dates."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from runner.handouts.content import WIDTH, WRAP_MARK, wrap
from runner.notation import parse_chapter
from runner.publish import french
from runner.publish.status import chapter_state
from runner.records import ChapterRecord
from runner.site import splice
from runner.site.render import anchor
from tests.site.fixtures.results import BOOK, first_chapter_run

SOURCE = (BOOK / "docs" / "01-premiers-pas.md").read_text()


def _state(source: str, record: ChapterRecord):  # type: ignore[no-untyped-def]
    chapter = parse_chapter(BOOK / "docs" / "01-premiers-pas.md", source)
    return chapter_state("docs/01-premiers-pas.md", chapter, record)


def test_statuses_follow_the_source_and_the_runs() -> None:
    run = first_chapter_run(BOOK)
    state = _state(SOURCE, ChapterRecord(passing=run))
    assert state.kind == "verified" and state.warning is None
    assert [b.kind for b in state.blocks].count("verified") == 8
    assert state.blocks[6].kind == "skipped" and state.blocks[6].reason == "nécessite VirtualBox"

    # A block inserted before the others: the chapter is stale; unchanged blocks keep their
    # run (matched by content, not by position); the new one has none.
    edited = SOURCE.replace(
        "```console hidden", "```console\n$ echo neuf\nneuf\n```\n\n```console hidden"
    )
    stale = _state(edited, ChapterRecord(passing=run))
    assert stale.kind == "stale" and "changed since its last passing run" in (stale.warning or "")
    assert stale.blocks[0].kind == "stale" and stale.blocks[0].shown is None
    assert stale.blocks[3].shown is run.blocks[2]  # was block 2, now block 3

    never = _state(SOURCE, ChapterRecord())
    assert never.kind == "unverified" and "no passing verification results" in (never.warning or "")
    assert {b.kind for b in never.blocks} == {"unverified", "skipped"}

    failed = replace(run, status="failed", blocks=(
        *run.blocks[:2], replace(run.blocks[2], status="blocked", reason="session perdue"),
        *run.blocks[3:],
    ))  # fmt: skip
    both = _state(SOURCE, ChapterRecord(passing=run, latest=failed))
    assert both.kind == "failed" and both.warning is None
    assert both.blocks[2].kind == "blocked" and both.blocks[2].detail == "session perdue"
    assert "la session « main » a été perdue" in (both.blocks[2].reason or "")
    assert both.blocks[2].shown is run.blocks[2]  # the passing output is still shown


def test_splice_replaces_fences_keeps_the_rest_and_places_the_header() -> None:
    chapter = parse_chapter(BOOK / "docs" / "02-machines.md")
    body = chapter.source
    done = splice.splice(
        body, chapter.blocks, 0, lambda block: f"<div>bloc {block.index}</div>", (1, "<p>h</p>")
    )
    assert done.markdown.split("\n")[:4] == ["# Machines", "", "<p>h</p>", ""]
    assert "<div>bloc 0</div>" in done.markdown and "docker-machine ssh" not in done.markdown
    assert splice.header_line("\n\n# Titre\ntexte") == 3
    assert splice.header_line("texte") == 0
    assert splice.line_offset("---\na: 1\n---\n\n# T\n", "# T\n") == 4
    assert splice.line_offset("autre", "# T\n") is None


def test_nested_blocks_become_placeholders_filled_after_rendering() -> None:
    text = "1. étape\n\n    ```console\n    $ echo a\n    a\n    ```\n"
    chapter = parse_chapter(Path("liste.md"), text)
    done = splice.splice(text, chapter.blocks, 0, lambda block: "<div>X</div>")
    [(token, html)] = done.placeholders.items()
    assert f"    {token}" in done.markdown and html == "<div>X</div>"
    assert splice.fill_placeholders(f"<li><p>{token}</p></li>", done.placeholders) == (
        "<li><div>X</div></li>"
    )
    # With attr_list, the placeholder's paragraph carries the block's id for mkdocs' anchor
    # check; filling it in replaces that paragraph, id included.
    anchored = splice.splice(text, chapter.blocks, 0, lambda block: "<div>X</div>", None, anchor)
    assert "    {: #bloc-1 }" in anchored.markdown
    [token] = anchored.placeholders
    assert splice.fill_placeholders(
        f'<li><p id="bloc-1">{token}</p></li>', anchored.placeholders
    ) == ("<li><div>X</div></li>")


def test_wrap_cuts_long_lines_visibly_and_loses_nothing() -> None:
    line = "docker run " + " ".join(f"--env V{n}=x" for n in range(40)) + " " + "y" * 150
    pieces = wrap(line)
    assert len(pieces) > 2 and all(len(p) <= WIDTH for p in pieces)
    assert all(p.endswith(WRAP_MARK) for p in pieces[:-1]) and not pieces[-1].endswith(WRAP_MARK)
    assert "".join(p.removesuffix(WRAP_MARK).removeprefix("  ") for p in pieces) == line
    assert wrap("court") == ["court"]


def test_french_dates_and_durations() -> None:
    assert french.date_fr("2026-08-01T07:05:00+00:00") == "1er août 2026 à 07:05 UTC"
    assert french.date_fr("2026-11-27T10:00:00") == "27 novembre 2026 à 10:00 UTC"
    assert french.date_fr("pas une date") == "pas une date"
    assert french.duration_fr(0.25) == "250 ms" and french.duration_fr(6.5) == "6,5 s"
    assert french.duration_fr(125) == "2 min 05 s"
    # Rounded before the unit is chosen.
    assert french.duration_fr(59.96) == "1 min 00 s" and french.duration_fr(0.9996) == "1,0 s"
    assert french.duration_fr(0.9994) == "999 ms"
    assert french.plural(1, "bloc") == "1 bloc" and french.plural(3, "bloc") == "3 blocs"


def test_a_skipped_block_never_shows_the_notation_to_readers() -> None:
    from runner.publish.transcript import readable

    values = {"ip": "192.168.99.100"}
    assert readable("...", values) is None  # the page says « sortie non reproduite » instead
    assert readable("tcp://{{ ip }}:2376 [..] {{ id /[0-9a-f]{12}/ }}", values) == (
        "tcp://192.168.99.100:2376 … <ID>"
    )
    assert readable("ID {{ node }} {{.Name}}", {}) == "ID <NODE> {{.Name}}"
    assert readable("web.{{ /\\d/ }} Running {{ * }}", {}) == "web.… Running"  # repeated


def test_keys_in_handouts_read_plainly() -> None:
    from runner.handouts.content import step_lines
    from runner.publish.transcript import Piece, Step

    def mark(key: str) -> str:
        step = Step(prompt="$", lines=((Piece("cat"),),), typed="cat", output=(), key=key)
        return step_lines(step)[-1].text

    assert mark("^D") == "[^D : Ctrl+D : fin de saisie]"
    assert mark("^C") == "[^C : Ctrl+C pour interrompre]"


def test_french_spacing_of_text_and_html() -> None:
    from runner.publish.typography import NBSP, NNBSP, french_html, french_spaces

    assert french_spaces("Partie 1 : le cluster ; prêt ! Vraiment ?") == (
        f"Partie 1{NBSP}: le cluster{NNBSP}; prêt{NNBSP}! Vraiment{NNBSP}?"
    )
    assert french_spaces("« bien »  et «mot»") == f"«{NBSP}bien{NBSP}»  et «{NBSP}mot{NBSP}»"
    # Nothing added where the author wrote no space: times, URLs, Go templates.
    assert french_spaces("à 12:45 sur http://x.y/?a=1") == "à 12:45 sur http://x.y/?a=1"
    assert french_spaces("environ 40 s, 250 ms ; 3 services, 2 min") == (
        f"environ 40{NBSP}s, 250{NBSP}ms{NNBSP}; 3 services, 2{NBSP}min"
    )
    page = (
        "<p>Titre : <code>a : b</code> <kbd>?</kbd></p><pre>x ! y</pre><script>a ? b : c</script>"
    )
    assert french_html(page) == (
        f"<p>Titre{NBSP}: <code>a : b</code> <kbd>?</kbd></p><pre>x ! y</pre>"
        "<script>a ? b : c</script>"
    )
    assert french_html('<a title="a : b">x ?</a>') == f'<a title="a : b">x{NNBSP}?</a>'


def test_placeholders_are_named_after_captures_and_never_leak_values() -> None:
    from runner.publish.transcript import Piece, copy_form, lab_only, mark, placeholder

    assert placeholder("jeton_worker") == "<JETON_WORKER>"
    token = "SWMTKN-1-07k3uyrvm4pp67dx0b8siyj1ut1ebuei2xsln72hzqdap77wyu"
    values = {"jeton_worker": token, "ip": "192.168.99.100", "n": "1"}
    line = (
        Piece("docker swarm join --token "),
        Piece(token, "jeton_worker"),
        Piece(" 192.168.99.100:2377"),
    )
    assert copy_form(line, values) == "docker swarm join --token <JETON_WORKER> <IP>:2377"
    pieces = mark(f"To join: {token} at 192.168.99.100, 1 node", values)
    assert [p.capture for p in pieces if p.capture] == ["jeton_worker", "ip"]  # not "1"
    assert "".join(p.text for p in pieces) == f"To join: {token} at 192.168.99.100, 1 node"
    assert lab_only({"leader": "node-02", "ip": "10.0.0.1"}, ("node-01", "node-02")) == {
        "ip": "10.0.0.1"
    }


def test_docker_tables_are_cut_into_whole_cells() -> None:
    from runner.publish.tables import cells, find_table

    lines = (
        "Swarm initialized: current node (abc) is now a manager.",
        "ID                            HOSTNAME   STATUS    MANAGER STATUS   ENGINE VERSION",
        "yimngof8omkdw830l8914qk6b *   node-01    Ready     Leader           20.10.24",
        "abc                           node-02    Ready                      20.10.24",
    )
    found = find_table(lines)
    assert found is not None and found[0] == 1
    row = cells(lines[2], found[1])
    assert row[0] == "yimngof8omkdw830l8914qk6b *   " and row[3] == "Leader           "
    assert "".join(row) == lines[2]  # nothing lost: the cells are the line
    assert find_table(("Error response from daemon: rpc error: code = Unknown",)) is None
    assert find_table(("NAME   ID", "a-very-long-name-that-runs-over 1")) is None


def test_a_prompt_holding_a_capture_shows_its_value_never_the_notation() -> None:
    from pathlib import Path

    from runner.notation import parse_chapter
    from runner.publish.transcript import from_source

    chapter = parse_chapter(Path("c.md"), '```console skip="x"\n$ bash\n[{{ node }}]$ ls\n```\n')
    shown = from_source(chapter.blocks[0], with_output=True, values={"node": "n1"})
    assert [step.prompt for step in shown.steps] == ["$", "[n1]$"]
    unknown = from_source(chapter.blocks[0], with_output=True, values={})
    assert [step.prompt for step in unknown.steps] == ["$", "[<NODE>]$"]
