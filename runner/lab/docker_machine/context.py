"""What every docker-machine stand-in command shares: its lab context, errors, flag parsing."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from runner.lab import nodes
from runner.lab.state import LabPaths, LabState, NodeState, flocked, load_lab, load_nodes

PROG = "docker-machine"
VERSION = "docker-machine version 0.16.2 (book lab stand-in: engines in network namespaces)"


class CommandFailed(Exception):
    """Printed to stderr; exit status 1 (docker-machine's for every error)."""


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class Context:
    def __init__(self, storage: Path, typed: list[str]) -> None:
        self.paths = LabPaths(storage.parent)
        state = load_lab(self.paths)
        if state is None:
            raise CommandFailed(
                f"Error: no book lab at {storage.parent}: this docker-machine runs only "
                "inside a lab session (python -m runner lab up)"
            )
        self.lab: LabState = state
        self.typed = typed  # the command line as typed, for env's usage hint
        self.vm = state.provider == "vm"
        # The node life cycle (provision, finish, stop, kill, start, remove) of this lab's kind.
        self.ops: ModuleType = nodes
        if self.vm:
            from runner.lab.vm import machines

            self.ops = machines

    @property
    def driver_name(self) -> str:
        """What really runs the nodes, as docker-machine's DRIVER column says it."""
        return "qemu" if self.vm else "netns"

    def engine_version(self, node: NodeState) -> str | None:
        if self.vm:
            v: str | None = self.ops.engine_version(self.paths, node)
            return v
        from runner.lab import engine

        return engine.version(self.paths.node_dir(node.name))

    def node_error(self, node: NodeState) -> str:
        """ls's ERRORS column for a node in Error."""
        if self.vm:
            text: str = self.ops.error(self.paths, node)
            return text
        from runner.lab import engine

        status = engine.exit_status(self.paths.node_dir(node.name))
        return (
            f"engine exited (status {status})" if status is not None else "engine is gone (killed)"
        )

    def node(self, name: str) -> NodeState:
        try:
            return nodes.find(self.paths, name)
        except nodes.NodeError as exc:
            raise CommandFailed(str(exc)) from None

    def state(self, node: NodeState) -> str:
        st: str = self.ops.state(self.paths, node)
        return st

    def url(self, node: NodeState) -> str:
        return f"tcp://{node.ip}:2376"

    def locked(self) -> Any:
        if not self.paths.lab_json.exists():
            raise CommandFailed("Error: the lab is being removed")
        return flocked(self.paths.lock, timeout=120.0)

    def default_name(self, args: list[str]) -> list[str]:
        if args:
            return args
        if any(n.name == "default" for n in load_nodes(self.paths)):
            return ["default"]
        raise CommandFailed('Error: No machine name(s) specified and no "default" machine exists')


# --- commands -----------------------------------------------------------------------------


def split_flags(args: list[str], with_value: set[str]) -> tuple[dict[str, list[str]], list[str]]:
    flags: dict[str, list[str]] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest.extend(args[i + 1 :])
            break
        if a.startswith("-") and len(a) > 1:
            key, eq, value = a.lstrip("-").partition("=")
            if key in with_value and not eq:
                if i + 1 >= len(args):
                    raise CommandFailed(f"flag needs an argument: {a}")
                value = args[i + 1]
                i += 1
            flags.setdefault(key, []).append(value if (eq or key in with_value) else "true")
        else:
            rest.append(a)
        i += 1
    return flags, rest


def running(ctx: Context, name: str) -> NodeState:
    node = ctx.node(name)
    if ctx.state(node) != "Running":
        raise CommandFailed("Host is not running")
    return node


def load_hosts(ctx: Context, names: list[str]) -> list[NodeState]:
    """Every named machine, or every "does not exist" error at once, before any action (as
    docker-machine's runAction loads all its hosts first)."""
    found, missing = [], []
    for name in ctx.default_name(names):
        try:
            found.append(nodes.find(ctx.paths, name))
        except nodes.NodeError as exc:
            missing.append(str(exc))
    if missing:
        raise CommandFailed("\n".join(missing))
    return found


def each(ctx: Context, args: list[str], action: Callable[[NodeState], None]) -> None:
    targets = load_hosts(ctx, [a for a in args if a[:1] != "-"])
    errors = []
    for node in targets:
        try:
            action(node)
        except CommandFailed as exc:
            errors.append(str(exc))
    if errors:
        raise CommandFailed("\n".join(errors))
