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

PROVIDERS = ("netns", "vm", "machine")
# Cheapest first: what `choose_provider` tries when a chapter names none.
BY_COST = ("netns", "vm")


def default_provider(name: str = "netns", engine: str | None = None) -> Provider:
    """The lab provider by name: "netns" (embedded, the default), "vm" (QEMU virtual
    machines) or "machine" (the real docker-machine binary, with the driver from
    BOOK_LAB_MACHINE_DRIVER, default virtualbox). `engine`: the Docker Engine generation of
    the nodes (runner.lab.engines); the machine provider's engines are whatever its driver
    installs."""
    if name == "netns":
        from runner.lab.netns import NetnsProvider

        return NetnsProvider() if engine is None else NetnsProvider(engine=engine)
    if name == "vm":
        from runner.lab.vm.provider import VmProvider

        return VmProvider() if engine is None else VmProvider(engine=engine)
    if name == "machine":
        from runner.lab.machine import MachineProvider

        return MachineProvider()
    raise LabError(f"unknown lab provider {name!r}: use one of {', '.join(PROVIDERS)}")


def offers(name: str) -> dict[str, bool]:
    """What a provider would give here, before making any lab: netns the host kernel's
    capabilities; vm its image kernel's (when this machine can run VMs at all)."""
    if name == "netns":
        from runner.lab import capabilities

        return {k: c.present for k, c in capabilities.probe().items()}
    if name == "vm":
        from runner.lab.vm.provider import available

        have = available()
        return {"ipvs": have, "overlay": have, "overlayfs": have}
    return {}


def choose_provider(requires: set[str]) -> str:
    """The cheapest provider having every capability in `requires`; netns when none has
    (its blocks are then skipped with the reason)."""
    if not requires:
        return BY_COST[0]  # nothing to probe
    for name in BY_COST:
        caps = offers(name)
        if all(caps.get(r, False) for r in requires):
            return name
    return "netns"


__all__ = [
    "BY_COST",
    "PROVIDERS",
    "Capability",
    "Lab",
    "LabError",
    "NodeProblem",
    "Provider",
    "choose_provider",
    "default_provider",
    "offers",
]
