"""The walls between the parts of `runner`, as the modules a fresh interpreter loads.

Each part is imported with all its submodules in a new Python process; what ends up in
`sys.modules` must hold none of the part's forbidden modules. A wall broken through another
module (an import of an import) is caught as well as a direct one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Imports `package` and every module below it, then prints what the interpreter has loaded.
# Extra folders, if given, are added to the package's path first (only the test of the test
# below does that, to add a module that breaks a wall).
PROBE = """
import importlib, json, pkgutil, sys

package, extra = sys.argv[1], sys.argv[2:]
root = importlib.import_module(package)
names = [package]
if hasattr(root, "__path__"):
    root.__path__.extend(extra)

    def fail(name):
        raise ImportError(f"cannot import {name}")

    walked = pkgutil.walk_packages(root.__path__, package + ".", onerror=fail)
    names += [m.name for m in walked if m.name.rpartition(".")[2] != "__main__"]
for name in names:
    importlib.import_module(name)
print(json.dumps({"imported": names, "loaded": sorted(sys.modules)}))
"""

MARKDOWN = ("markdown_it", "markdown", "mistune", "commonmark")
RENDERING = ("mkdocs", "jinja2", "weasyprint")

# What the pure core (notation, matcher) must never load: no I/O, no sessions, no publishing.
PURE = (
    "runner.store",
    "tempfile",
    "pexpect",
    "subprocess",
    *RENDERING,
    "runner.lab",
    "runner.site",
    "runner.handouts",
)

# part -> modules (with everything below them) it must never load
WALLS: dict[str, tuple[str, ...]] = {
    "runner.notation": PURE,
    "runner.matcher": PURE,
    "runner.lab": (
        *MARKDOWN,
        *RENDERING,
        "runner.notation",
        "runner.matcher",
        "runner.site",
        "runner.handouts",
    ),
    "runner.handouts": ("mkdocs", "pexpect", "runner.lab", "runner.site"),
    "runner.site": ("pexpect", "runner.lab", "runner.handouts"),
    # What the site and the handouts share depends on neither, nor on the lab.
    "runner.publish": (
        "mkdocs",
        "weasyprint",
        "pexpect",
        "runner.lab",
        "runner.site",
        "runner.handouts",
    ),
}


def loaded_by(package: str, *extra: Path) -> tuple[list[str], list[str]]:
    """(modules imported on purpose, every module loaded) by a fresh interpreter."""
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, package, *map(str, extra)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert probe.returncode == 0, f"importing {package} failed:\n{probe.stderr}"
    answer = json.loads(probe.stdout)
    return answer["imported"], answer["loaded"]


def breaches(loaded: list[str], forbidden: tuple[str, ...]) -> list[str]:
    return [
        name
        for name in loaded
        if any(name == wall or name.startswith(wall + ".") for wall in forbidden)
    ]


@pytest.mark.parametrize("package", sorted(WALLS))
def test_part_loads_nothing_beyond_its_walls(package: str) -> None:
    imported, loaded = loaded_by(package)
    assert len(imported) >= 1 and package in loaded
    found = breaches(loaded, WALLS[package])
    assert not found, f"{package} loads what its wall forbids: {', '.join(found)}"


def test_every_submodule_is_imported() -> None:
    # The walk reaches modules of nested packages too (lab/docker_machine/), not only the top.
    imported, _ = loaded_by("runner.lab")
    assert "runner.lab.docker_machine.command" in imported
    assert "runner.lab.netns" in imported


def test_a_module_that_breaks_a_wall_is_caught(tmp_path: Path) -> None:
    # A throwaway module placed inside the pure core's package, importing the store (and so
    # tempfile) through another module: the same check as above must name both.
    (tmp_path / "breaks_the_wall.py").write_text("import runner.store\n", encoding="utf-8")
    imported, loaded = loaded_by("runner.notation", tmp_path)
    assert "runner.notation.breaks_the_wall" in imported
    found = breaches(loaded, WALLS["runner.notation"])
    assert "runner.store" in found
    assert "tempfile" in found
    # and the same probe without it keeps the wall
    _, clean = loaded_by("runner.notation")
    assert breaches(clean, WALLS["runner.notation"]) == []
