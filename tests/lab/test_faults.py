"""Endings other than a clean pass: killed runners, dead engines, signals, missing rights or
tools, and two labs at the same time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from runner.lab import census, cli, engine
from runner.lab.netns import NetnsProvider
from runner.lab.state import LabPaths, lab_ids, load_lab
from tests.lab.conftest import lab_resources, shell, wait_for

ROOT = str(Path(__file__).resolve().parents[2])
HOLDER = textwrap.dedent("""
    import signal, sys, time
    sys.path.insert(0, {root!r})
    from runner.lab.netns import NetnsProvider
    # What the runner does: SIGTERM ends the run through the normal exit path.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with NetnsProvider().up(("k1", "k2")) as lab:
        print(lab.state.id, flush=True)
        time.sleep(600)
""")


def start_holder() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(root=ROOT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lab_id = proc.stdout.readline().strip()
    assert lab_id, proc.stderr.read() if proc.stderr else "no output"
    return proc, lab_id


def test_sigkilled_runner_lab_is_removed_by_next_start() -> None:
    proc, lab_id = start_holder()
    proc.kill()
    proc.wait()
    left = lab_resources(lab_id)
    assert any(" process " in r for r in left)  # SIGKILL left the engines running
    with NetnsProvider().up(()) as next_lab:  # the next start cleans what was left
        assert next_lab.state.id != lab_id
        assert lab_resources(lab_id) == []


def test_sigkilled_lab_up_leaves_no_half_made_lab(capsys: pytest.CaptureFixture[str]) -> None:
    """`lab up` killed while its engines start: not a by-hand lab, removed by the next start."""
    before = set(lab_ids())
    proc = subprocess.Popen(
        [sys.executable, "-m", "runner", "lab", "up", "--nodes", "4"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def engines_started() -> bool:
            return any(r.kind == "process" and r.lab not in before for r in census.census())

        wait_for(engines_started, "an engine of the new lab started")
    finally:
        proc.kill()
        proc.wait()
    (lab_id,) = set(lab_ids()) - before
    state = load_lab(LabPaths.of(lab_id))
    assert state is not None and state.manual and not getattr(state, "complete", False)
    assert any(" process " in r for r in lab_resources(lab_id))
    assert not census.lab_is_live(lab_id)
    assert cli.main(["status"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith(f"lab {lab_id}"))
    assert "stale" in line and "by hand" not in line
    with NetnsProvider().up(()) as next_lab:
        assert next_lab.state.id != lab_id
        assert lab_resources(lab_id) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_signal_to_runner_tears_the_lab_down(sig: int) -> None:
    proc, lab_id = start_holder()
    assert lab_resources(lab_id)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert lab_resources(lab_id) == []


def test_dead_engine_is_reported_with_its_log(provider: NetnsProvider) -> None:
    with provider.up(("e1", "e2")) as lab:
        run = shell(lab)
        # A running container: its shim outlives the engine, which must not hide the death.
        run("docker-machine ssh e2 docker run -d --name survivor busybox sleep 300")
        pid = engine.pid(lab.paths.node_dir("e2"))
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: bool(lab.problems()), "a problem reported")
        (problem,) = lab.problems()
        assert problem.node == "e2"
        assert "exited (status 137)" in problem.message
        assert "level=" in problem.log_tail  # the engine's own log lines
        row = run("docker-machine ls --filter name=e2 --format '{{.State}} {{.Error}}'").stdout
        assert row.startswith("Error engine exited (status 137)")
        # Stopping or killing a node on purpose is not a problem.
        run("docker-machine kill e1")
        assert [p.node for p in lab.problems()] == ["e2"]
        run("docker-machine start e2")
        assert lab.problems() == []


def test_not_root_is_an_environment_error_and_creates_nothing() -> None:
    before = sorted(os.listdir("/run/book-lab")) if os.path.isdir("/run/book-lab") else []
    proc = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {ROOT!r}); from runner.lab import cli; "
            "sys.exit(cli.main(['up', '--nodes', '1']))",
        ],
        capture_output=True,
        text=True,
        cwd="/",
    )
    assert proc.returncode == 2, proc.stderr
    assert "needs root" in proc.stderr
    after = sorted(os.listdir("/run/book-lab")) if os.path.isdir("/run/book-lab") else []
    assert set(after) <= set(before)


def test_missing_tools_name_the_packages_to_install() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {ROOT!r}); "
            "from runner.lab import cli; sys.exit(cli.main(['up', '--nodes', '1']))",
        ],
        capture_output=True,
        text=True,
        env={"PATH": "/nonexistent"},
    )
    assert proc.returncode == 2
    assert "iproute2" in proc.stderr and "apt-get install" in proc.stderr


def test_two_labs_at_once_do_not_collide(provider: NetnsProvider) -> None:
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda names: provider.up(names), [("x1", "x2"), ("x1", "x2")])
    try:
        assert a.state.id != b.state.id and a.state.subnet != b.state.subnet
        for lab in (a, b):
            ips = shell(lab)("docker-machine ip x1 x2").stdout.split()
            assert all(ip.startswith(lab.state.subnet.rsplit(".", 1)[0]) for ip in ips)
        a.down()
        out = shell(b)("eval $(docker-machine env x2) && docker info --format '{{.Name}}'")
        assert out.stdout.strip() == "x2"
    finally:
        a.down()
        b.down()
    assert lab_resources(a.state.id) == [] and lab_resources(b.state.id) == []


def test_cli_up_status_census_down(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["up", "--nodes", "1"]) == 0
    printed = capsys.readouterr().out
    lab_id = printed.split()[2]
    assert "export MACHINE_STORAGE_PATH=" in printed
    assert cli.main(["status"]) == 0
    assert f"lab {lab_id}" in capsys.readouterr().out
    assert cli.main(["census"]) == 1
    assert f"lab {lab_id}: netns" in capsys.readouterr().out
    assert cli.main(["down", lab_id]) == 0
    assert f"removed lab {lab_id}" in capsys.readouterr().out
    assert lab_resources(lab_id) == []
    status = cli.main(["census"])
    listed = capsys.readouterr().out
    assert f"lab {lab_id}" not in listed
    assert status == (0 if "no lab resource" in listed else 1)


def test_ctrl_c_during_teardown_does_not_cut_it_short() -> None:
    proc, lab_id = start_holder()
    proc.send_signal(signal.SIGTERM)  # teardown starts...
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # ...and an impatient Ctrl-C follows
    proc.wait(timeout=60)
    assert lab_resources(lab_id) == []
