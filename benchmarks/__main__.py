"""Run the benchmarks: the runner, output sizes, the lab, the site, authors and CI.

`python -m benchmarks [runner|output|lab|site|authoring]`."""

from __future__ import annotations

import importlib
import sys

SUITES = {
    "runner": "benchmarks.runner_bench",
    "output": "benchmarks.output_bench",
    "lab": "benchmarks.lab_bench",
    "site": "benchmarks.site_bench",
    "authoring": "benchmarks.authoring_bench",
}


def main(argv: list[str]) -> int:
    chosen = argv or list(SUITES)
    unknown = [name for name in chosen if name not in SUITES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)} (known: {', '.join(SUITES)})")
        return 2
    for name in chosen:
        print(f"\n== {name} ==", flush=True)
        importlib.import_module(SUITES[name]).run()
    return 0


sys.exit(main(sys.argv[1:]))
