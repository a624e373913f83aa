"""Pieces of the front-matter reader, checked directly (fast, pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.model import Location
from runner.notation.errors import NotationError
from runner.notation.frontmatter import _edits, _images, _near

WHERE = Location(Path("c.md"), 2)


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "", 0),
        ("", "abc", 3),
        ("abc", "", 3),
        ("verify", "verify", 0),
        ("verfiy", "verify", 1),  # a swap
        ("verif", "verify", 1),  # a deletion
        ("verrify", "verify", 1),  # an insertion
        ("verity", "verify", 1),  # a substitution
        ("tiemout", "timeout", 1),
        ("ab", "ba", 1),
        ("abcd", "badc", 2),
        ("kitten", "sitting", 3),
        ("ca", "abc", 3),  # optimal string alignment: no edit of a swapped pair
        ("lab", "nodes", 5),
    ],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert _edits(a, b) == distance
    assert _edits(b, a) == distance


def test_near_names() -> None:
    assert _near("verfiy", ("lab", "verify")) == "verify"
    assert _near("Verify", ("verify",)) == "verify"
    assert _near("verify", ("verify",)) is None  # the name itself is no near miss
    assert _near("vrfy", ("verify",)) == "verify"  # two edits
    assert _near("vrf", ("verify",)) is None  # three
    assert _near("LAB", ("lab", "verify")) == "lab"


def test_images() -> None:
    assert _images(None, WHERE) == ()
    assert _images({"b": "busybox", "alpine": "busybox:latest"}, WHERE) == (
        ("alpine", "busybox:latest"),
        ("b", "busybox"),
    )
    for bad in ([], {"a": 1}, {1: "a"}, "alpine"):
        with pytest.raises(NotationError) as info:
            _images(bad, WHERE)
        assert info.value.loc == WHERE
        assert info.value.message == "verify.lab.images maps names to lab images: {alpine: busybox}"
    with pytest.raises(NotationError, match=r"verify\.lab\.images: 'a b' is not an image name"):
        _images({"x": "a b"}, WHERE)
    with pytest.raises(NotationError, match=r"'-x' is not an image name"):
        _images({"-x": "busybox"}, WHERE)
