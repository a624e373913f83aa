"""Tasks of the verified book. `nox -s verify` is the main job; `nox -s tests` the test suite.

Each session installs what it needs: the Python packages from pyproject.toml into its own
virtualenv and, where a part needs them, Debian packages (installed when missing if we are
root, else refused with the exact command to run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests"]

PYTHON = "3.11"
# Material's banner about MkDocs 2 is not ours to print on every build.
QUIET_MKDOCS = {"NO_MKDOCS_2_WARNING": "1"}

# Debian packages, by the part that needs them.
LAB_PACKAGES = ["docker.io", "busybox-static", "iproute2", "iptables", "util-linux", "openssl"]
PDF_PACKAGES = ["libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core", "poppler-utils"]
BROWSER_PACKAGES = ["chromium"]


def _missing_debian(packages: list[str]) -> list[str]:
    if shutil.which("dpkg-query") is None:
        return []  # not Debian: the parts that need them say what is missing
    missing = []
    for name in packages:
        probe = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True
        )
        if "install ok installed" not in probe.stdout:
            missing.append(name)
    return missing


def ensure_debian(session: nox.Session, packages: list[str]) -> None:
    """Install the Debian packages a session needs, or say exactly what to run."""
    missing = _missing_debian(packages)
    if not missing:
        return
    command = "apt-get update && apt-get install -y " + " ".join(missing)
    if os.geteuid() != 0:
        session.error(f"missing Debian packages: {' '.join(missing)}; run as root: {command}")
    session.log(f"installing Debian packages: {' '.join(missing)}")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    session.run("apt-get", "update", "-qq", external=True, env=env)
    session.run("apt-get", "install", "-y", "-qq", *missing, external=True, env=env)


def install(session: nox.Session, *extras: str) -> None:
    spec = f".[{','.join(extras)}]" if extras else "."
    session.install("-e", spec)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the whole test suite: notation, matcher, real bash sessions, real lab, real site."""
    ensure_debian(session, LAB_PACKAGES + PDF_PACKAGES + BROWSER_PACKAGES)
    install(session, "test")
    # pytest exits 5 when it collects nothing: nox then fails with that code, as it should.
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def verify(session: nox.Session) -> None:
    """Verify every chapter on the default lab, then build the site and the handouts."""
    ensure_debian(session, LAB_PACKAGES + PDF_PACKAGES)
    install(session)
    session.run("python", "-m", "runner", "verify", *(session.posargs or ["docs"]))
    session.run("mkdocs", "build", "--strict", env=QUIET_MKDOCS)
    session.run("python", "-m", "runner", "handouts")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the site from the stored results (no lab, no Docker needed)."""
    install(session)
    session.run("mkdocs", "build", "--strict", env=QUIET_MKDOCS)


@nox.session(python=PYTHON)
def serve(session: nox.Session) -> None:
    """Preview the site with live reload, from the stored results."""
    install(session)
    session.run("mkdocs", "serve", *session.posargs, env=QUIET_MKDOCS)


@nox.session(python=PYTHON)
def handouts(session: nox.Session) -> None:
    """Write the workshop handouts (one A4 PDF per chapter and a booklet) into handouts/."""
    ensure_debian(session, PDF_PACKAGES)
    install(session)
    session.run("python", "-m", "runner", "handouts", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff and mypy over the package, the tests and this file."""
    install(session, "lint")
    session.run("ruff", "check", "runner", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "runner", "tests", "benchmarks", "noxfile.py")
    session.run("mypy")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks, each against a baseline measured in the same run."""
    ensure_debian(session, LAB_PACKAGES)
    install(session, "bench")
    session.run("python", "-m", "benchmarks", *session.posargs)


MUTMUT = "mutmut==3.8.1"  # pinned: its configuration keys and result files change between majors


@nox.session(python=PYTHON)
def mutate(session: nox.Session) -> None:
    """Mutation testing of the pure core (notation, matcher) and the results store (records,
    store) by their fast tests; configured under [tool.mutmut] in pyproject.toml. Every run
    starts afresh; the last line is the score."""
    install(session, "test")
    session.install(MUTMUT)
    shutil.rmtree("mutants", ignore_errors=True)
    session.run("mutmut", "run", "--max-children", str(os.cpu_count() or 2))
    session.run("mutmut", "export-cicd-stats")
    stats = json.loads(Path("mutants/mutmut-cicd-stats.json").read_text(encoding="utf-8"))
    # A mutant that makes the tests hang is caught too; one no test reaches is not.
    killed, total = stats["killed"] + stats["timeout"], stats["total"]
    survivors = session.run("mutmut", "results", silent=True)  # the mutants no test killed
    print(str(survivors).rstrip())
    print(f"mutation score: {killed}/{total} killed ({100 * killed / max(total, 1):.1f} %)")
