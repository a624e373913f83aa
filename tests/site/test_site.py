"""The real site, built by mkdocs from the sample book and its stored results."""

from __future__ import annotations

import html
import re
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

from runner.records import BlockResult
from runner.store import ResultStore
from tests.site.conftest import Build, block_html, build
from tests.site.fixtures.results import (
    CID,
    IPVS_REASON,
    LOST,
    add_mesh_chapter,
    first_chapter_run,
    lost_session_run,
)

CHAPTER = "01-premiers-pas"


def plain(page: str) -> str:
    """A page's text with entities decoded and French non-breaking spaces as plain ones."""
    return html.unescape(page).replace("\u00a0", " ").replace("\u202f", " ")


def test_commands_show_captured_values_and_outputs_are_the_runs(built: Build) -> None:
    page = built.page(CHAPTER)
    second = block_html(page, 2)
    assert CID in second and f"{CID[:12]}</mark> web" in second  # the run's values
    third = block_html(page, 3)
    # The lab's value is marked where it shows; the copy button gives a placeholder instead.
    assert f'<mark class="vb-capture">{CID}</mark>' in third and "{{ cid }}" not in page
    assert 'data-copy="docker inspect --format &#39;{{.State.Status}}&#39; &lt;CID&gt;' in third
    assert "<code>&lt;CID&gt;</code>" in third  # said under the block, readable on paper
    assert f'<mark class="vb-capture">{CID}</mark>' in second  # in output too
    assert 'data-copy="docker run -d --name web nginx:alpine\n' in second
    # The author wrote `fini`; the run printed `fini-réellement`: the page shows the run.
    assert "fini-réellement" in block_html(page, 9)
    # Go templates in commands pass through untouched.
    assert "docker ps --format &#39;{{.ID}} {{.Names}}&#39;" in second


def test_hidden_blocks_vanish(built: Build) -> None:
    page = built.page(CHAPTER)
    assert "web-secret-cleanup" not in page
    assert 'id="bloc-1"' not in page


def test_output_is_escaped(built: Build) -> None:
    page = built.page(CHAPTER)
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in block_html(page, 4)
    assert '<script>alert("pwned")' not in page


def test_elisions_fold_and_keys_and_statuses_read_plainly(built: Build) -> None:
    page = built.page(CHAPTER)
    logs = block_html(page, 3)
    # A fold is a checkbox and its label: valid inside <pre>, unlike <details>.
    assert '<input type="checkbox" class="vb-fold" id="bloc-3-pli-1">' in logs
    assert '<label class="vb-l vb-l--fold" for="bloc-3-pli-1">… 8 lignes masquées' in logs
    folded = logs[logs.index('<span class="vb-folded">') : logs.index("start worker processes")]
    assert "ligne de journal 7" in folded
    assert "<details" not in logs
    assert "↳ code de retour 1 (erreur attendue)" in block_html(page, 4)
    assert "<kbd>Ctrl</kbd>+<kbd>C</kbd> (interrompt la commande)" in block_html(page, 5)


def test_block_statuses(built: Build) -> None:
    page = built.page(CHAPTER)
    verified = block_html(page, 2)
    assert 'class="vb vb--verified copy"' in verified
    # A verified block carries no mark: the chapter's header says once when and on what.
    assert "vb-mark" not in verified and "20.10.24" not in verified
    header = page[
        page.index('<div class="vb-chapter') : page.index("</div>", page.index("vb-chapter"))
    ]
    assert "Chapitre vérifié</strong>" in header and "27 novembre 2026" in header
    assert "Docker 20.10.24 (client Docker 28.2.2)" in header and "+dfsg1" not in header
    assert "laboratoire local" in header
    assert "Signalés sur place : 1 bloc non exécuté." in plain(header)
    assert 'href="../rapport-verification/#rapport-docs-01-premiers-pas-md"' in header
    # A long wait, in the reader's terms.
    wait = block_html(page, 6)
    assert "Patience</span> : la convergence prend environ 40 s ;" in plain(wait)
    skipped = block_html(page, 7)
    assert 'class="vb vb--skipped copy"' in skipped and "nécessite VirtualBox" in skipped
    assert "Non exécuté</span>" in skipped and "non vérifiée" in skipped
    assert 'vb-l--expected"><span class="go">Running pre-create checks...' in skipped
    # A block inside a list is rendered in place too.
    start = page.index("<p>Une étape dans une liste")
    item = page[start : page.index("</li>", start)]
    assert 'id="bloc-8"' in item and "imbriqué" in item and item.count('id="bloc-8"') == 1
    # mkdocs knew that anchor before the block was filled in: the report's link to it is good.
    assert "does not contain an anchor" not in built.log


def test_nested_shell_prompts(built: Build) -> None:
    block = block_html(built.page("02-machines"), 1)
    assert '<span class="gp">docker@node-01:~$ </span><span class="vb-cmd">hostname' in block
    assert 'data-copy="docker-machine ssh node-01\nhostname\nexit\necho retour"' in block
    # Material's display options pass on: numbered lines, highlighted lines 2 and 3.
    assert '<span class="linenos" data-linenos="1 "></span><span class="gp">$ </span>' in block
    assert 'hll"><span class="linenos" data-linenos="2 "></span>' in block
    assert block.count(' hll"') == 2


def test_report_page(built: Build) -> None:
    report = built.page("rapport-verification")
    assert "<h1" in report and "Rapport de vérification" in report
    text = plain(report)
    assert "Premiers pas" in text and "Machines" in text
    # Not « vérifié » while a block was not run; totals agree between summary and table.
    assert "vérifié sauf 1 bloc non exécuté" in text and "nécessite VirtualBox" in text
    assert "8 blocs vérifiés sur 9 blocs affichés dans 2 chapitres" in text
    assert "<td>7 sur 8</td>" in report
    assert "4 essais (au plus 30 s)" in text  # attempts of the until block
    assert "masqué" in text and "Session" not in text and "Tentatives" not in text
    assert "Docker Engine 20.10.24+dfsg1 ; client Docker 28.2.2 ; docker-machine 0.16.2" in text
    assert "Debian GNU/Linux 12 (bookworm), noyau Linux 6.1.0-13-amd64" in text
    assert "Légende" in text and "ligne 15" in text
    assert 'href="../01-premiers-pas/#bloc-2"' in report
    # Listed in the navigation, after the chapters.
    nav = built.page("")
    assert nav.index("Machines") < nav.index("Rapport de vérification")


def test_french_search_and_palettes(built: Build) -> None:
    page = built.page(CHAPTER)
    assert '<html lang="fr"' in page
    assert 'data-md-color-scheme="slate"' in page or "slate" in page
    assert (built.site / "search" / "search_index.json").is_file()


def test_strict_build_fails_on_a_stale_chapter_naming_it(book: Path) -> None:
    chapter = book / "docs" / "02-machines.md"
    chapter.write_text(chapter.read_text() + "\nUn paragraphe ajouté.\n")
    strict = build(book, "--strict")
    assert strict.status != 0
    assert "docs/02-machines.md: chapter changed since its last passing run" in strict.log
    loose = build(book)
    assert loose.status == 0, loose.log
    page = loose.page("02-machines")
    assert "vb vb--stale" in page
    assert '<span class="go">node-01' in page  # the unchanged block still shows its real output
    # The header says it once; an unchanged block, shown with its old output, has no mark.
    assert "Chapitre modifié depuis sa vérification" in page and "Obsolète" not in page
    chapter.write_text(chapter.read_text().replace("echo retour", "echo retour-changé"))
    page = build(book).page("02-machines")
    assert "Obsolète</span> : ce bloc a changé" in plain(page)


def test_a_chapter_never_verified_warns_and_shows_no_output(book: Path) -> None:
    (book / "docs" / "03-nouveau.md").write_text(
        "# Nouveau\n\n```console\n$ echo bonjour\nsortie-inventée\n```\n"
    )
    strict = build(book, "--strict")
    assert strict.status != 0
    assert "docs/03-nouveau.md: chapter has no passing verification results" in strict.log
    page = build(book).page("03-nouveau")
    assert "Jamais vérifié" in page and "echo bonjour" in page
    assert "sortie-inventée" not in page  # never show output that no run produced


def test_a_failed_latest_run_is_shown_beside_the_passing_output(book: Path) -> None:
    run = first_chapter_run(book, status="failed")
    blocks = list(run.blocks)
    old = blocks[2]
    blocks[2] = BlockResult(
        index=old.index,
        line=old.line,
        status="failed",
        session=old.session,
        reason="sortie différente à la ligne 24",
        source_hash=old.source_hash,
        commands=old.commands,
    )
    ResultStore(book / "verified", book).save(
        type(run)(**{**run.__dict__, "blocks": tuple(blocks), "started": "2026-11-27T10:00:00"})
    )
    done = build(book, "--strict")
    assert done.status == 0, done.log  # the passing results still match the chapter
    block = block_html(done.page(CHAPTER), 3)
    assert "vb vb--failed" in block and "sortie différente à la ligne 24" in block
    assert "27 novembre 2026" in block and "start worker processes" in block
    report = html.unescape(done.page("rapport-verification"))
    assert "échec" in report and "(1 bloc en échec)" in report
    assert "0 bloc" not in report


def test_blocks_not_run_because_their_session_was_lost_are_not_failures(book: Path) -> None:
    ResultStore(book / "verified", book).save(lost_session_run(book))
    done = build(book, "--strict")
    assert done.status == 0, done.log
    page = done.page(CHAPTER)
    block = block_html(page, 4)
    assert "vb vb--blocked" in block and "Échec" not in block
    assert '<span class="vb-mark__label">Non exécuté</span>' in block
    text = html.unescape(block)
    # The runner's own words are one tap away (a <details>), never in a hover-only title.
    assert "la session «\u00a0main\u00a0» a été perdue plus tôt" in text
    assert "<summary>Détails de la vérification</summary>" in text and LOST in text
    assert "title=" not in block
    assert (
        "Signalés sur place : 1 bloc non exécuté, 1 bloc non exécuté (session perdue), "
        "1 bloc en échec." in plain(page)
    )
    report = html.unescape(done.page("rapport-verification"))
    assert "non exécuté" in report
    assert "(1 bloc en échec, 1 bloc non exécuté (session perdue))" in report


def test_bad_notation_is_a_warning_naming_file_and_line(book: Path) -> None:
    (book / "docs" / "04-casse.md").write_text("# Cassé\n\n```console nope\n$ true\n```\n")
    strict = build(book, "--strict")
    assert strict.status != 0
    assert "04-casse.md:3" in strict.log and "unknown option 'nope'" in strict.log


def test_a_theme_overrides_the_templates(book: Path) -> None:
    overrides = book / "overrides" / "verified"
    overrides.mkdir(parents=True)
    (overrides / "badge.html").write_text('<p class="mon-badge">{{ view.kind }}</p>\n')
    config = book / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "  name: material\n", "  name: material\n  custom_dir: overrides\n"
        )
    )
    page = build(book, "--strict").page(CHAPTER)
    assert '<p class="mon-badge">verified</p>' in page and "vb-mark" not in page


def test_a_console_block_the_runner_cannot_see_is_a_warning(book: Path) -> None:
    chapter = book / "docs" / "02-machines.md"
    chapter.write_text(
        chapter.read_text()
        + "\n<div markdown>\n```console\n$ echo invisible\ninvisible\n```\n</div>\n"
        + "\n````markdown\n```console\n$ echo exemple\n```\n````\n"
    )
    strict = build(book, "--strict")
    assert strict.status != 0
    # The notation itself refuses it, by file:line; the site passes that on as a warning.
    # (A block inside `!!! note` is no longer one: the runner verifies it.)
    assert "docs/02-machines.md:13: this console block is not seen as a fenced block" in strict.log
    assert ":20: this console block" not in strict.log  # an example inside another fence


def test_blocks_without_a_run_to_show_never_show_or_copy_the_notation(book: Path) -> None:
    chapter = book / "docs" / "01-premiers-pas.md"
    chapter.write_text(chapter.read_text() + "\n```console\n$ docker stop {{ cid }}\nweb\n```\n")
    (book / "docs" / "03-nouveau.md").write_text(
        "# Nouveau\n\n```console\n$ docker swarm join-token -q manager\n{{ manager_token }}\n```\n"
        "\n```console\n$ docker swarm join --token {{ manager_token }} \\\n"
        "> 10.0.0.1:2377\nThis node joined a swarm as a worker.\n```\n"
    )
    done = build(book)
    assert done.status == 0, done.log
    # Stale: the last passing run captured `cid` before this block; it is filled in and marked.
    stale = block_html(done.page(CHAPTER), 10)
    assert "vb vb--stale" in stale and "{{" not in stale
    assert f'<mark class="vb-capture">{CID}</mark>' in stale
    assert 'data-copy="docker stop &lt;CID&gt;"' in stale
    # Never verified: no value known; the reader sees, and copies, what to replace.
    never = block_html(done.page("03-nouveau"), 2)
    assert "{{" not in never and "manager_token }}" not in never
    assert "--token &lt;MANAGER_TOKEN&gt; \\</span>" in never
    assert 'data-copy="docker swarm join --token &lt;MANAGER_TOKEN&gt; \\\n10.0.0.1:2377"' in never


def test_one_ellipsis_is_one_fold_even_when_recorded_line_by_line(book: Path) -> None:
    run = first_chapter_run(book)
    blocks = list(run.blocks)
    logs = blocks[2].commands[1]
    per_line = tuple((n, n + 1) for n in range(8))  # what order="any" blocks recorded
    blocks[2] = replace(blocks[2], commands=(blocks[2].commands[0], replace(logs, elided=per_line)))
    ResultStore(book / "verified", book).save(replace(run, blocks=tuple(blocks)))
    done = build(book, "--strict")
    assert done.status == 0, done.log
    block = block_html(done.page(CHAPTER), 3)
    assert block.count('class="vb-fold"') == 1
    assert "… 8 lignes masquées" in block


def test_blocks_the_lab_could_not_run_say_why_in_french(book: Path) -> None:
    add_mesh_chapter(book)
    done = build(book, "--strict")
    assert done.status == 0, done.log
    page = done.page("03-maille")
    ipvs = block_html(page, 1)
    assert "vb vb--skipped" in ipvs
    text = html.unescape(ipvs).replace("\u00a0", " ").replace("\u202f", " ")
    assert "le noyau du laboratoire de vérification n'a pas IPVS" in text
    assert IPVS_REASON in text  # the runner's words, one tap away
    overlay = html.unescape(block_html(page, 2)).replace("\u00a0", " ").replace("\u202f", " ")
    assert "réseau overlay (VXLAN) indisponible ; capacité « wireguard » absente" in overlay
    assert "unknown capability" in overlay
    # Not run, and the author wrote no output but `...`: said in words, never a bare "…".
    curl = html.unescape(block_html(page, 3))
    assert "(sortie non reproduite ici)" in curl and ">…<" not in curl
    report = html.unescape(done.page("rapport-verification"))
    assert "n'a pas IPVS" in report and "has no ip_vs" not in report


def test_the_report_joins_an_explicit_nav_without_an_omitted_page_message(book: Path) -> None:
    config = book / "mkdocs.yml"
    config.write_text(
        config.read_text() + "nav:\n  - index.md\n  - 02-machines.md\n  - 01-premiers-pas.md\n"
    )
    done = build(book, "--strict")
    assert done.status == 0, done.log
    assert "not included" not in done.log
    nav = done.page("")
    assert nav.index("Premiers pas") < nav.index("Rapport de vérification")
    assert "Rapport de vérification" in done.page("rapport-verification")


# HTML's phrasing content: all a <pre> may hold (no div, p, details, table...).
PHRASING = {
    "a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "dfn", "em", "i", "input",
    "kbd", "label", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time",
    "u", "var", "wbr",
}  # fmt: skip


class _PreChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.depth = 0  # open <pre> elements
        self.wrong: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids += [v for k, v in attrs if k == "id" and v]
        if self.depth and tag not in PHRASING:
            self.wrong.append(f"<{tag}> inside <pre> at line {self.getpos()[0]}")
        if tag == "pre":
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self.depth:
            self.depth -= 1


def invalid_console_html(page: str) -> list[str]:
    """Block elements inside a <pre>, and ids used twice, in a built page."""
    checker = _PreChecker()
    checker.feed(page)
    twice = {i for i in checker.ids if checker.ids.count(i) > 1}
    return checker.wrong + [f"id {i!r} used twice" for i in sorted(twice)]


def test_console_blocks_are_valid_html(book: Path) -> None:
    add_mesh_chapter(book)
    done = build(book, "--strict")
    assert done.status == 0, done.log
    for name in (CHAPTER, "02-machines", "03-maille"):
        page = done.page(name)
        assert "<pre" in page
        assert invalid_console_html(page) == [], name
    # The checker does see a block element in a <pre>.
    assert invalid_console_html("<pre><code><details>x</details></code></pre>")


def test_french_spacing_everywhere_but_code(built: Build) -> None:
    page = built.page(CHAPTER)
    # Prose and generated text: no ordinary space before « : ; ! ? » or inside « ».
    assert "Objectifs\u00a0: lancer" in page
    text = re.sub(r"<(pre|code|script|style)\b.*?</\1>", "", page, flags=re.S)
    text = re.sub(r"<[^>]+>", "", text)
    assert not re.search(r" [:;!?](\s|$)", text), re.findall(r".{20} [:;!?]\s", text)[:5]
    # Code keeps its spaces.
    assert "docker inspect --format &#39;{{.State.Status}}&#39;" in page
    # Theme strings in French; no Google fonts; no English footer.
    assert "Made with" not in page and "fonts.googleapis" not in page


def test_a_theme_that_loads_fonts_from_another_host_or_speaks_english_is_refused(
    book: Path,
) -> None:
    config = book / "mkdocs.yml"
    original = config.read_text()
    config.write_text(original.replace("  font: false\n", ""))
    strict = build(book, "--strict")
    assert strict.status != 0 and "set `font: false`" in strict.log
    config.write_text(original.replace("  generator: false\n", "  autre: 1\n"))
    strict = build(book, "--strict")
    assert strict.status != 0 and "Made with Material for MkDocs" in strict.log
    config.write_text(
        original.replace("  - attr_list\n", "  - attr_list\n  - toc:\n      permalink: true\n")
    )
    strict = build(book, "--strict")
    assert strict.status != 0 and "Permanent link" in strict.log


def test_the_report_links_blocks_to_their_source_line_and_names_the_commit(book: Path) -> None:
    config = book / "mkdocs.yml"
    config.write_text(
        config.read_text()
        + "repo_url: https://forge.example/livre/docker\nedit_uri: edit/main/docs/\n"
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-C", str(book)]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "livre"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    commit = subprocess.run(
        [*git, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    done = build(book, "--strict")
    assert done.status == 0, done.log
    report = done.page("rapport-verification")
    source = "https://forge.example/livre/docker/blob/main/docs/01-premiers-pas.md"
    assert f'href="{source}#L15">ligne 15</a>' in report
    assert f"<code>{commit}</code>." in report  # the built site/ is no change to the book
    (book / "docs" / "01-premiers-pas.md").write_text(
        (book / "docs" / "01-premiers-pas.md").read_text() + "\nUne phrase de plus.\n"
    )
    report = build(book).page("rapport-verification")
    assert f"<code>{commit}</code> (avec des modifications non commitées)" in report


def test_no_information_hides_in_a_hover_only_title(book: Path) -> None:
    ResultStore(book / "verified", book).save(lost_session_run(book))
    add_mesh_chapter(book)
    done = build(book, "--strict")
    assert done.status == 0, done.log
    for name in (CHAPTER, "02-machines", "03-maille"):
        page = done.page(name)
        ours = re.findall(r'<div class="vb[ -].*?</div>\n</div>', page, flags=re.S)
        assert ours and not any("title=" in html_ for html_ in ours), name
