"""What the kernel gives the lab, probed (never assumed), as named capabilities for `requires=`.

- `ipvs`: Swarm's routing mesh (ingress load balancing on published ports) needs IPVS.
  Without it `--publish mode=host` and `--endpoint-mode dnsrr` still work.
- `overlay`: overlay networks need VXLAN.
- `overlayfs`: the engines' overlay2 storage driver (else they fall back to vfs).
"""

from __future__ import annotations

import os
from pathlib import Path

from runner.lab.base import Capability


def _module(name: str) -> tuple[bool, str]:
    """Loaded or built in (visible in /sys/module), or loadable (a .ko under /lib/modules)."""
    if Path(f"/sys/module/{name}").exists():
        return True, f"{name} is in the kernel"
    release = os.uname().release
    modules = Path("/lib/modules") / release
    builtin = modules / "modules.builtin"
    try:
        if f"/{name}.ko" in builtin.read_text():
            return True, f"{name} is built into kernel {release}"
    except OSError:
        pass
    if modules.is_dir() and any(modules.rglob(f"{name}.ko*")):
        return True, f"{name} is a loadable module of kernel {release}"
    return False, f"kernel {release} has no {name} (not built in, no module under {modules})"


def probe() -> dict[str, Capability]:
    caps: dict[str, Capability] = {}
    present, why = _module("ip_vs")
    if Path("/proc/net/ip_vs").exists():
        present, why = True, "/proc/net/ip_vs is present"
    caps["ipvs"] = Capability(
        "ipvs",
        present,
        why
        if present
        else why + ": Swarm's routing mesh does not answer on published ports; "
        "--publish mode=host and --endpoint-mode dnsrr work",
    )
    present, why = _module("vxlan")
    caps["overlay"] = Capability(
        "overlay", present, why if present else why + ": overlay networks cannot be created"
    )
    try:
        fs = Path("/proc/filesystems").read_text()
    except OSError:
        fs = ""
    has_ovl = "\toverlay\n" in fs
    caps["overlayfs"] = Capability(
        "overlayfs",
        has_ovl,
        "overlay filesystem available (storage driver overlay2)"
        if has_ovl
        else "no overlay filesystem: engines use the slower vfs storage driver",
    )
    return caps
