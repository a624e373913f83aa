"""Fixtures for the lab tests: real engines, so every test here is marked `lab`.

Labs are shared per module where tests only add to them (a 4-node swarm); tests that break
a lab (stopping the leader, killing engines) get their own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest

from runner.lab import census
from runner.lab.netns import NetnsLab, NetnsProvider

Run = Callable[..., subprocess.CompletedProcess[str]]

# The vm lab's tests: marked `vm` (slow under TCG), skipped only where QEMU cannot run at all.
VM_MARKS = [
    pytest.mark.vm,
    pytest.mark.skipif(
        shutil.which("qemu-system-x86_64") is None or os.geteuid() != 0,
        reason="QEMU cannot run here: needs root and Debian's qemu-system-x86 "
        "(apt-get install qemu-system-x86 qemu-utils)",
    ),
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/lab/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.lab)


def shell(lab: NetnsLab) -> Run:
    """Run a bash command line in a session of `lab`, the way chapters run them."""

    def run(
        command: str, check: bool = True, timeout: float = 120.0, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full = {**os.environ, **lab.session_env(), **(env or {})}
        for key in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_MACHINE_NAME"):
            if key not in (env or {}):
                full.pop(key, None)
        proc = subprocess.run(
            ["bash", "-c", command], env=full, capture_output=True, text=True, timeout=timeout
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{command!r} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    return run


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll until true; the timeout only bounds a hang, it asserts no speed."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {timeout:.0f} s")
        time.sleep(0.2)


def lab_resources(lab_id: str) -> list[str]:
    return [str(r) for r in census.census() if r.lab == lab_id]


@pytest.fixture(scope="module")
def provider() -> NetnsProvider:
    return NetnsProvider()


@pytest.fixture(scope="module")
def lab4(provider: NetnsProvider) -> Iterator[NetnsLab]:
    lab = provider.up(("node-01", "node-02", "node-03", "node-04"))
    try:
        yield lab
    finally:
        lab.down()
        assert lab_resources(lab.state.id) == []
