"""Facts about the verifying machine that readers compare with their own: the Docker client
and docker-machine the sessions run, and the host's operating system."""

from __future__ import annotations

import platform
import re
import subprocess
from dataclasses import dataclass

_VERSION = re.compile(r"version\s+v?([0-9][^\s,]*)")


def _version_of(argv: list[str], env: dict[str, str]) -> str | None:
    """`Docker version 28.2.2, build e6534b4` -> `28.2.2`; None when absent or unreadable."""
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = _VERSION.search(done.stdout)
    return found.group(1) if done.returncode == 0 and found else None


def host_os() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", "")
    except OSError:
        return platform.system()


@dataclass(frozen=True)
class HostFacts:
    client_version: str | None
    machine_version: str | None
    host_os: str


def tool_versions(env: dict[str, str]) -> HostFacts:
    """The versions a session with `env` would run, and the host's system."""
    return HostFacts(
        client_version=_version_of(["docker", "--version"], env),
        machine_version=_version_of(["docker-machine", "--version"], env),
        host_os=host_os(),
    )
