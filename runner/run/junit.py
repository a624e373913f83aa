"""JUnit XML: one test case per block, grouped by chapter."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from runner.records import ChapterRun


def write_junit(path: Path, runs: list[ChapterRun]) -> None:
    suites = ET.Element("testsuites")
    for run in runs:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=run.chapter,
            tests=str(len(run.blocks)),
            failures=str(run.count("failed")),
            errors=str(run.count("blocked")),
            skipped=str(run.count("skipped")),
            time=f"{run.duration:.3f}",
        )
        for block in run.blocks:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=run.chapter,
                name=f"block {block.index + 1} (line {block.line})",
                time=f"{block.duration:.3f}",
            )
            if block.status == "failed":
                failing = [c for c in block.commands if c.error]
                detail = "\n\n".join(f"$ {c.command}\n{c.error}" for c in failing)
                ET.SubElement(
                    case, "failure", message=(block.reason or "").split("\n")[0]
                ).text = detail
            elif block.status == "blocked":
                ET.SubElement(case, "error", message=block.reason or "blocked")
            elif block.status == "skipped":
                ET.SubElement(case, "skipped", message=block.reason or "")
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
