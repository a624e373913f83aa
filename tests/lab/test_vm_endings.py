"""How a run on the `vm` lab ends, and what it leaves: nothing, whatever the ending.

Each test runs `python -m runner verify --provider vm` on a one-node chapter, as an author
would, and ends it another way: a failure and a timeout, SIGTERM, Ctrl-C. Afterwards no QEMU,
tap, bridge, overlay disk or rule of any lab it made may be left. A last test runs a vm lab
and a netns lab side by side, with the same node name.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from runner.lab import census
from runner.lab.netns import NetnsLab, NetnsProvider
from runner.lab.vm.provider import VmProvider
from tests.lab.conftest import VM_MARKS, shell, wait_for
from tests.lab.test_vm import BOUND

pytestmark = VM_MARKS
ROOT = Path(__file__).resolve().parents[2]
RUNNER = (sys.executable, "-m", "runner")
FRONT = "---\nverify:\n  lab: {nodes: [node-01]}\n---\n# Fin\n\n"


def labs() -> set[str]:
    return {r.lab for r in census.census()}


def left_by(before: set[str]) -> list[str]:
    """Every resource of a lab that did not exist before the run: what it left behind."""
    return [str(r) for r in census.census() if r.lab not in before]


def _pids(pattern: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    return found.stdout.split()


def verify(chapter: Path, results: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*RUNNER, "verify", "--provider", "vm", "--force", "--results", str(results), str(chapter)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_failure_and_a_timeout_end_the_run_and_leave_nothing(tmp_path: Path) -> None:
    chapter = tmp_path / "fin.md"
    chapter.write_text(
        FRONT
        + textwrap.dedent("""\
        ```console timeout="5"
        $ docker-machine ssh node-01 sleep 4343
        ```

        ```console
        $ docker-machine ssh node-01 uname -s
        Darwin
        ```

        ```console
        $ docker-machine ssh node-01 uname -s
        Linux
        ```
        """)
    )
    before = labs()
    proc = verify(chapter, tmp_path / "results")
    out, _ = proc.communicate(timeout=BOUND)
    assert proc.returncode == 1, out
    assert "timed out after 5 s" in out, out
    assert "Darwin" in out, out  # the failing block's diff is shown
    assert "1 passed" in out, out  # the session went on after the timeout
    assert left_by(before) == []
    assert _pids("sleep 4343") == []  # the ssh of the timed-out block is gone too


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_a_signal_during_a_block_on_a_vm_leaves_nothing(tmp_path: Path, sig: int) -> None:
    marker = f"{4400 + sig}.5"
    chapter = tmp_path / "fin.md"
    chapter.write_text(FRONT + f"```console\n$ docker-machine ssh node-01 sleep {marker}\n```\n")
    results = tmp_path / "results"
    before = labs()
    proc = verify(chapter, results)
    try:
        wait_for(lambda: bool(_pids(f"sleep {marker}")), "the block's ssh running", BOUND)
        assert any(r.kind == "vm" for r in census.census() if r.lab not in before)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, out
    assert left_by(before) == [], out
    assert not results.exists()  # nothing recorded for an interrupted run


def test_a_vm_lab_and_a_netns_lab_at_once_do_not_collide() -> None:
    providers = (VmProvider(), NetnsProvider())
    with ThreadPoolExecutor(2) as pool:
        vm, netns = pool.map(lambda p: p.up(("node-01",)), providers)
    labs_made: tuple[NetnsLab, NetnsLab] = (vm, netns)
    try:
        assert vm.state.id != netns.state.id
        ips = {shell(lab)("docker-machine ip node-01").stdout.strip() for lab in labs_made}
        assert len(ips) == 2  # same name, two machines on two networks
        assert shell(vm)("docker-machine ls --format '{{.DriverName}}'").stdout == "qemu\n"
        netns.down()
        name = shell(vm)("eval $(docker-machine env node-01) && docker info --format '{{.Name}}'")
        assert name.stdout.strip() == "node-01"  # the vm lab lives on without the other
    finally:
        for lab in labs_made:
            lab.down()
    assert [r for r in census.census() if r.lab in (vm.state.id, netns.state.id)] == []
