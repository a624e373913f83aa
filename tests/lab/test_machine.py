"""The `machine` provider drives the real docker-machine binary, where there is one."""

from __future__ import annotations

import shutil

import pytest

from runner.lab import LabError, default_provider
from runner.lab.machine import MachineProvider

HAS_MACHINE = shutil.which("docker-machine") is not None


@pytest.mark.skipif(HAS_MACHINE, reason="docker-machine is installed: covered by the test below")
def test_without_docker_machine_the_provider_says_so() -> None:
    with pytest.raises(LabError, match="docker-machine is not installed"):
        default_provider("machine").up(("m1",))


@pytest.mark.machine
@pytest.mark.skipif(
    not HAS_MACHINE,
    reason="needs the docker-machine binary and a driver "
    "(BOOK_LAB_MACHINE_DRIVER, default virtualbox); not on this machine",
)
def test_real_docker_machine_node() -> None:
    provider = MachineProvider()
    lab = provider.up(("book-lab-m1",))
    try:
        assert lab.nodes() == ["book-lab-m1"]
        assert lab.info().provider == "machine"
        assert lab.problems() == []
    finally:
        lab.down()
    assert lab.nodes() == []


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(LabError, match="unknown lab provider"):
        default_provider("vagrant")
