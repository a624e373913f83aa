"""The lab: real Docker engines for the chapters, behind a docker-machine compatible command.

    from runner.lab import default_provider
    provider = default_provider()          # "netns" unless asked otherwise
    lab = provider.up(("node-01", "node-02"))
    try:
        env = lab.session_env()             # give to every verification session
    finally:
        lab.down()

Kept import-light: the docker-machine command imports this package for every command.
"""

from __future__ import annotations

from runner.lab.base import Capability, Lab, NodeProblem, Provider
from runner.lab.errors import LabError

PROVIDERS = ("netns", "machine")


def default_provider(name: str = "netns", engine: str | None = None) -> Provider:
    """The lab provider by name: "netns" (embedded, the default) or "machine" (the real
    docker-machine binary, with the driver from BOOK_LAB_MACHINE_DRIVER, default virtualbox).
    `engine`: the Docker Engine generation of the nodes (runner.lab.engines); the machine
    provider's engines are whatever its driver installs."""
    if name == "netns":
        from runner.lab.netns import NetnsProvider

        return NetnsProvider() if engine is None else NetnsProvider(engine=engine)
    if name == "machine":
        from runner.lab.machine import MachineProvider

        return MachineProvider()
    raise LabError(f"unknown lab provider {name!r}: use one of {', '.join(PROVIDERS)}")


__all__ = [
    "PROVIDERS",
    "Capability",
    "Lab",
    "LabError",
    "NodeProblem",
    "Provider",
    "default_provider",
]
