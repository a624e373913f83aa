"""Switching Docker Engine generation on a warm cache: a 4-node lab up on each engine of the
book against the default engine (the book's primary), measured in the same run. Goal: no
measurable cost (each within noise of the default)."""

from __future__ import annotations

from benchmarks.lab_bench import engines_run
from runner.lab.netns import preflight


def run() -> None:
    preflight()
    engines_run()
