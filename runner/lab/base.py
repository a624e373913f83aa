"""The one interface every lab provider implements. Providers know nothing of Markdown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from runner.lab.errors import LabError
from runner.records import LabInfo

__all__ = ["Capability", "Lab", "LabError", "NodeProblem", "Provider"]


@dataclass(frozen=True)
class Capability:
    name: str  # e.g. "ipvs", "overlay"
    present: bool
    reason: str  # why it is missing (or what was found), shown when a block is skipped


@dataclass(frozen=True)
class NodeProblem:
    node: str
    message: str  # e.g. "engine exited (status 1)"
    log_tail: str  # the last lines of the node's engine log


class Lab(Protocol):
    """A running lab. Created by a provider's `up()`, always ended with `down()`."""

    def session_env(self) -> dict[str, str]:
        """Variables for every verification session: PATH with the lab's `docker-machine`
        first, and whatever that command needs to find this lab. Never touches os.environ."""
        ...

    def capabilities(self) -> dict[str, Capability]: ...

    def info(self) -> LabInfo:
        """Provider, nodes, engine version, kernel: recorded with the results."""
        ...

    def tag_images(self, names: Mapping[str, str]) -> None:
        """Tag lab images under the names a chapter's text uses ({"alpine": "busybox"}) on
        every node, and on every node created later in this lab. Raises LabError for an image
        the lab does not have."""
        ...

    def problems(self) -> list[NodeProblem]:
        """Engines that died while the chapter ran (checked after a failed block)."""
        ...

    def down(self) -> None:
        """Remove every resource of this lab. Idempotent; safe after any failure."""
        ...


class Provider(Protocol):
    name: str

    def up(self, nodes: tuple[str, ...]) -> Lab:
        """A fresh lab with those nodes created (maybe none). Raises LabError, leaving nothing."""
        ...

    def clean_stale(self) -> list[str]:
        """Remove what killed runs left behind; returns what was removed."""
        ...
