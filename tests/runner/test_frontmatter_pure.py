"""The front matter, read directly (runner.notation.frontmatter): every refusal with its whole
message and its `file:line`, every accepted value as the runner gets it. Fast and pure."""

from __future__ import annotations

from functools import cache
from itertools import product
from pathlib import Path

import pytest

from runner.model import LabRequest, Location, StartsFrom
from runner.notation.errors import NotationError
from runner.notation.frontmatter import (
    FrontMatter,
    _child,
    _edits,
    _images,
    _key_lines,
    _lab_request,
    _near,
    _only_known,
    _seconds,
    split_front_matter,
)

PATH = Path("c.md")
WHERE = Location(PATH, 5)


def front(text: str) -> FrontMatter:
    return split_front_matter(text, PATH)


def refusal(text: str) -> str:
    with pytest.raises(NotationError) as info:
        front(text)
    assert str(info.value) == f"{info.value.loc}: {info.value.message}"
    return str(info.value)


# --- accepted front matter, and what it gives ---------------------------------------------


def test_every_verify_key_with_its_value() -> None:
    got = front(
        "---\ntitle: T\nverify:\n  timeout: 5\n  elision: '[...]'\n"
        "  starts-from: ' partie-1.md '\n---\n# T\n"
    )
    assert got.data["title"] == "T"
    assert got.lines == 7
    assert got.timeout == 5.0 and isinstance(got.timeout, float)
    assert got.elision == "[...]"
    assert got.starts_from == StartsFrom("partie-1.md", Location(PATH, 6))
    assert got.lab is None
    assert dict(got.verify) == {
        "timeout": 5.0,
        "elision": "[...]",
        "starts-from": StartsFrom("partie-1.md", Location(PATH, 6)),
    }


def test_defaults_without_a_verify_map() -> None:
    got = front("---\ntitle: T\n---\n")
    assert (got.data, got.lines, dict(got.verify)) == ({"title": "T"}, 3, {})
    assert (got.lab, got.timeout, got.starts_from, got.elision) == (None, None, None, "...")
    none = front("# T\n")
    assert (none.data, none.lines, dict(none.verify)) == ({}, 0, {})


def test_a_lab_with_nodes_provider_and_images() -> None:
    got = front(
        "---\nverify:\n  lab:\n    nodes: 2\n    provider: vm\n    images: {alpine: busybox}\n---\n"
    )
    assert got.lab == LabRequest(
        nodes=("node-01", "node-02"), provider="vm", images=(("alpine", "busybox"),)
    )
    assert front("---\nverify: {lab: {}}\n---\n").lab == LabRequest(nodes=(), provider=None)
    assert front("---\nverify: {lab: {nodes: [b, a]}}\n---\n").lab == LabRequest(nodes=("b", "a"))


def test_line_counts_of_the_fences() -> None:
    assert front("---\n---").lines == 2
    assert front("---\n---\n").lines == 2
    assert front("---\na: 1\n...").lines == 3
    assert front("---\r\na: 1\r\n---\r\nx").lines == 3
    assert front("---\n0\n---\n").data == {}  # an empty (falsy) document is no front matter
    assert front("---\na: {b: 1}\n---\n").data == {"a": {"b": 1}}


def test_a_blank_line_then_rules_that_are_no_yaml_map_is_prose() -> None:
    for text in (
        "\n---\n---\n",
        "\n---\nDu texte.\n---\n",
        "\n---\na: [\n---\n",
        "\n\n---\n- a\n---\n",
    ):
        assert front(text) == FrontMatter({}, 0)


def test_other_top_level_keys_are_open() -> None:
    got = front("---\n1: a\nverified_by: x\nlabs: y\n---\n")
    assert got.data == {1: "a", "verified_by": "x", "labs": "y"}


# --- refusals: the whole message and the line ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "\ufeff---\n---\n",
            "c.md:1: the file starts with a byte order mark (BOM, U+FEFF): save it as UTF-8 "
            'without BOM (most editors call it plain "UTF-8")',
        ),
        (
            "\n---\nverify: {}\n---\n",
            "c.md:1: blank line before the front matter's `---`: neither mkdocs nor the runner "
            "reads it as front matter (the page would show it as text); remove the blank line so "
            "that `---` is the first line",
        ),
        ("---\n- a\n---\n", "c.md:1: front matter must be a YAML map"),
        (
            "---\ntitle: t\nlab: {nodes: 2}\n---\n",
            "c.md:3: `lab:` belongs under `verify:` (write `verify:` then `  lab: ...`)",
        ),
        (
            "---\nverify:\n---\n",
            "c.md:2: verify: has no value; put its keys under it, indented, e.g. `verify:` then "
            "`  lab: {nodes: 2}`",
        ),
        (
            "---\ntitle: t\nverify:\ntimeout: 3\n---\n",
            "c.md:3: verify: has no value (`timeout:` at line 4 is not indented under it); put "
            "its keys under it, indented, e.g. `verify:` then `  lab: {nodes: 2}`",
        ),
        (
            "---\ntitle: t\nverify: [a]\n---\n",
            "c.md:3: verify: must be a map, e.g. verify: {lab: {nodes: 4}}",
        ),
        (
            "---\nverify:\n  lab: {}\n  tiemout: 5\n---\n",
            "c.md:4: unknown key `tiemout` under verify: did you mean `timeout`? (known: lab, "
            "timeout, starts-from, elision)",
        ),
        (
            "---\nverify:\n  colour: 5\n---\n",
            "c.md:3: unknown key `colour` under verify: (known: lab, timeout, starts-from, "
            "elision)",
        ),
        (
            "---\nverify:\n  lab: {}\n  timeout:\n---\n",
            "c.md:4: verify.timeout has no value: it must be a positive number of seconds",
        ),
        (
            "---\nverify:\n  lab:\n---\n",
            "c.md:3: verify.lab has no value: it must be a map: {} (an empty lab), {nodes: 4} or "
            "{nodes: [a, b]}",
        ),
        (
            "---\nverify:\n  starts-from:\n---\n",
            "c.md:3: verify.starts-from has no value: it must be a chapter file, e.g. partie-1.md",
        ),
        (
            "---\nverify:\n  elision:\n---\n",
            'c.md:3: verify.elision has no value: it must be a marker line, e.g. "...snip..."',
        ),
        (
            "---\nverify:\n  lab: {}\n  starts-from: a.md\n---\n",
            "c.md:4: verify.starts-from and verify.lab together: the lab is the starting "
            "chapter's; remove lab",
        ),
        (
            "---\nverify:\n  timeout: 3\n  timeout: 4\n---\n",
            "c.md:4: `timeout` is given twice (first at line 3)",
        ),
        ("---\ntitle: a\ntitle: b\n---\n", "c.md:3: `title` is given twice (first at line 2)"),
        (
            "---\ntitle: t\nverfiy: {}\n---\n",
            "c.md:3: unknown front-matter key `verfiy`: did you mean `verify`?",
        ),
        (
            "---\nVERIFY: {}\n---\n",
            "c.md:2: unknown front-matter key `VERIFY`: did you mean `verify`?",
        ),
        (
            "---\nverify:\n  timeout: '30'\n---\n",
            "c.md:3: verify.timeout must be a positive number of seconds, not '30'",
        ),
        (
            "---\nverify:\n  timeout: 0\n---\n",
            "c.md:3: verify.timeout must be a positive number of seconds, not 0",
        ),
        (
            "---\nverify: {timeout: .nan}\n---\n",
            "c.md:2: verify.timeout must be a positive number of seconds, not nan",
        ),
        (
            "---\nverify: {timeout: true}\n---\n",
            "c.md:2: verify.timeout must be a positive number of seconds, not True",
        ),
        (
            "---\nverify: {elision: 3}\n---\n",
            'c.md:2: verify.elision is a marker line, e.g. elision: "...snip..."',
        ),
        (
            "---\nverify: {elision: ' '}\n---\n",
            'c.md:2: verify.elision is a marker line, e.g. elision: "...snip..."',
        ),
        (
            "---\nverify: {elision: ' x'}\n---\n",
            'c.md:2: verify.elision is a marker line, e.g. elision: "...snip..."',
        ),
        (
            "---\nverify: {elision: 'x '}\n---\n",
            'c.md:2: verify.elision is a marker line, e.g. elision: "...snip..."',
        ),
        (
            "---\nverify: {starts-from: 3}\n---\n",
            "c.md:2: verify.starts-from names a chapter file, e.g. starts-from: partie-1.md",
        ),
        (
            "---\nverify: {starts-from: a.txt}\n---\n",
            "c.md:2: verify.starts-from names a chapter file, e.g. starts-from: partie-1.md",
        ),
        (
            "---\nverify:\n  lab: 3\n---\n",
            "c.md:3: verify.lab must be a map: {} (an empty lab), {nodes: 4} or {nodes: [a, b]}",
        ),
        ("---\nverify:\n  lab: {nodes: 33}\n---\n", "c.md:3: verify.lab.nodes: from 0 to 32 nodes"),
        (
            "---\nverify:\n  lab: {nodes: false}\n---\n",
            "c.md:3: verify.lab.nodes is a number or a list of names",
        ),
        (
            "---\nverify:\n  lab: {nodes: [a, 1]}\n---\n",
            "c.md:3: verify.lab.nodes is a number or a list of names",
        ),
        (
            "---\nverify:\n  lab: {nodes: [a, a]}\n---\n",
            "c.md:3: verify.lab.nodes names a node twice",
        ),
        (
            "---\nverify:\n  lab: {nodes: ['']}\n---\n",
            "c.md:3: verify.lab.nodes: node name '': a node needs a name",
        ),
        (
            "---\nverify:\n  lab: {provider: [vm]}\n---\n",
            "c.md:3: verify.lab.provider is a name, e.g. netns",
        ),
        (
            "---\nverify:\n  lab: {provider: null}\n---\n",
            "c.md:3: verify.lab.provider is a name, e.g. netns",
        ),
        (
            "---\nverify:\n  lab: {node: 2}\n---\n",
            "c.md:3: unknown key `node` under verify.lab: did you mean `nodes`? (known: nodes, "
            "provider, images)",
        ),
    ],
)
def test_refusals(text: str, message: str) -> None:
    assert refusal(text) == message


def test_invalid_yaml_names_the_line_of_the_problem() -> None:
    message = refusal("---\ntitle: a\nb: [\nc: d\n---\n")
    assert message.startswith("c.md:5: front matter is not valid YAML: ")
    assert "while parsing a flow sequence" in message
    assert refusal("---\na: 1\n  b: 2\n---\n").startswith("c.md:3: front matter is not valid YAML")


# --- the pieces ----------------------------------------------------------------------------


def test_seconds_are_floats() -> None:
    assert _seconds(2, WHERE) == 2.0 and isinstance(_seconds(2, WHERE), float)
    assert _seconds(0.5, WHERE) == 0.5
    with pytest.raises(NotationError) as info:
        _seconds(float("inf"), WHERE)
    assert info.value.loc == WHERE and info.value.message.endswith("not inf")


def test_a_lab_request_from_its_map() -> None:
    assert _lab_request({}, WHERE) == LabRequest()
    assert _lab_request({"nodes": 0}, WHERE) == LabRequest()
    assert _lab_request({"nodes": 1, "provider": "netns"}, WHERE) == LabRequest(
        nodes=("node-01",), provider="netns"
    )
    assert _lab_request({"nodes": 12}, WHERE).nodes[-2:] == ("node-11", "node-12")
    with pytest.raises(NotationError) as info:
        _lab_request({"nodes": "x"}, WHERE)
    assert info.value.loc == WHERE


def test_key_lines_and_children() -> None:
    import yaml

    node = yaml.compose("a: 1\nb:\n  c: 2\n  d: 3\n", Loader=yaml.SafeLoader)
    assert _key_lines(node, PATH) == {"a": Location(PATH, 2), "b": Location(PATH, 3)}
    assert _key_lines(_child(node, "b"), PATH) == {"c": Location(PATH, 4), "d": Location(PATH, 5)}
    assert _child(node, "z") is None
    assert _child(_child(node, "a"), "a") is None  # a scalar has no children
    assert _key_lines(_child(node, "a"), PATH) == {}
    assert _key_lines(None, PATH) == {}


def test_only_known_keys_pass() -> None:
    _only_known({"a": 1, "b": 2}, ("a", "b", "c"), "x", WHERE)
    lines = {"zzz": Location(PATH, 9)}
    with pytest.raises(NotationError) as info:
        _only_known({"a": 1, "zzz": 2}, ("a",), "x.y", WHERE, lines)
    assert str(info.value) == "c.md:9: unknown key `zzz` under x.y: (known: a)"
    with pytest.raises(NotationError) as info:
        _only_known({"b": 1}, ("a", "c"), "x", WHERE)
    assert str(info.value) == "c.md:5: unknown key `b` under x: did you mean `a`? (known: a, c)"


def test_a_bad_image_name_is_refused_where_the_lab_is() -> None:
    with pytest.raises(NotationError) as info:
        _images({"alpine": "Busybox"}, WHERE)
    assert str(info.value) == "c.md:5: verify.lab.images: 'Busybox' is not an image name"


def _reference_edits(a: str, b: str) -> int:
    """Optimal string alignment distance, by its recursive definition (slow, obvious)."""

    @cache
    def d(i: int, j: int) -> int:
        if i == 0 or j == 0:
            return i + j
        best = min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] != b[j - 1]))
        if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
            best = min(best, d(i - 2, j - 2) + 1)
        return best

    return d(len(a), len(b))


def test_edit_distances_agree_with_the_definition() -> None:
    words = ["".join(p) for n in range(5) for p in product("abc", repeat=n)]
    for a in words:
        for b in words[:40]:  # every word of up to three letters
            assert _edits(a, b) == _reference_edits(a, b), (a, b)


def test_near_misses_ignore_case_on_both_sides() -> None:
    assert _near("VERFIY", ("verify",)) == "verify"
    assert _near("verfiy", ("Verify",)) == "Verify"
    assert _near("Verify", ("verify",)) == "verify"
    assert _near("Nodes", ("images", "nodes")) == "nodes"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # keys brought by a YAML merge (`<<`) have no line of their own: the map's is named
        (
            "---\ndefaults: &d\n  verify: {timeout: 0}\n<<: *d\n---\n",
            "c.md:1: verify.timeout must be a positive number of seconds, not 0",
        ),
        (
            "---\nd: &d {verfiy: 1}\n<<: *d\n---\n",
            "c.md:1: unknown front-matter key `verfiy`: did you mean `verify`?",
        ),
        (
            "---\nverify:\n  <<: {colour: 1}\n---\n",
            "c.md:2: unknown key `colour` under verify: (known: lab, timeout, starts-from, "
            "elision)",
        ),
        (
            "---\nd: &d {lab: {}, starts-from: a.md}\nverify:\n  <<: *d\n---\n",
            "c.md:3: verify.starts-from and verify.lab together: the lab is the starting "
            "chapter's; remove lab",
        ),
        # every top-level key is looked at, whatever comes before it
        (
            "---\nverify: {}\nverfiy: 1\n---\n",
            "c.md:3: unknown front-matter key `verfiy`: did you mean `verify`?",
        ),
        (
            "---\n1: a\nverfiy: 1\n---\n",
            "c.md:3: unknown front-matter key `verfiy`: did you mean `verify`?",
        ),
        (
            "---\nverify:\n  lab: {images: {a: B}}\n---\n",
            "c.md:3: verify.lab.images: 'B' is not an image name",
        ),
    ],
)
def test_refusals_where_yaml_gives_no_line(text: str, message: str) -> None:
    assert refusal(text) == message


def test_a_character_yaml_cannot_read_names_the_first_line() -> None:
    assert refusal("---\na: \x07\n---\n").startswith(
        "c.md:2: front matter is not valid YAML: unacceptable character #x0007"
    )
