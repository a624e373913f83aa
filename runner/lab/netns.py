"""The default, embedded lab: real Docker engines in network namespaces on one bridge.

provider = NetnsProvider(engine="26.1")     # a generation of runner.lab.engines
lab = provider.up(("node-01", "node-02"))   # LabError if this machine cannot
try:
    env = lab.session_env()                  # PATH + MACHINE_STORAGE_PATH for sessions
    ...
finally:
    lab.down()                               # idempotent, leaves nothing
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType, TracebackType

from runner.lab import capabilities, census, cgroups, engine, engines, images, network, nodes, tls
from runner.lab.base import Capability, NodeProblem
from runner.lab.errors import LabError, LabFault
from runner.lab.state import (
    ROOT,
    LabPaths,
    LabState,
    NodeState,
    flocked,
    global_lock,
    hold_owner_lock,
    lab_ids,
    load_lab,
    load_nodes,
    new_lab_id,
    save_lab,
)
from runner.records import LabInfo
from runner.store import atomic_write

# The engines themselves come from the lab's cache (runner.lab.engines), never from the host.
TOOLS = {
    "nsenter": "util-linux",
    "unshare": "util-linux",
    "setsid": "util-linux",
    "ip": "iproute2",
    "iptables": "iptables",
    "openssl": "openssl",
}
INSTALL = "apt-get install iproute2 iptables util-linux openssl busybox-static patchelf"
COMMAND_SCRIPT = """#!{python} -IS
# docker-machine stand-in of book lab {lab}: see runner/lab/docker_machine/command.py
import sys
sys.path.insert(0, {root!r})
from runner.lab.docker_machine.command import main
sys.exit(main(sys.argv))
"""


def preflight() -> None:
    """Raise LabError naming what is missing and what to run; creates nothing."""
    if os.geteuid() != 0:
        raise LabError(
            "the netns lab needs root (network namespaces, bridges, iptables, "
            "cgroups): run the runner as root, e.g. `sudo python -m runner ...`"
        )
    missing = sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})
    if not images.BUSYBOX.is_file():
        missing.append("busybox-static")
    if missing:
        raise LabError(
            f"missing Debian packages: {' '.join(missing)}; run as root: "
            f"apt-get update && {INSTALL}"
        )
    version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout
    if not version.startswith("OpenSSL 3"):
        raise LabError(
            f"the lab's certificates need OpenSSL 3 (found {version.strip()!r}): "
            "run `apt-get install openssl` on Debian 12 or later"
        )
    if cgroups.tracking_root() is None:
        raise LabError(
            "no cgroup hierarchy under /sys/fs/cgroup: mount cgroups "
            "(a normal systemd or container host has them)"
        )
    # Each node binds its own folder over /etc/docker: the mount point must exist, even on a
    # host without docker.io.
    Path("/etc/docker").mkdir(mode=0o755, exist_ok=True)
    if not Path("/proc/self/ns/net").exists():
        raise LabError("this kernel has no network namespaces (CONFIG_NET_NS)")


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Ctrl-C or SIGTERM during teardown is delivered after it, not in the middle of it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[signal.Signals] = []

    def defer(signum: int, _frame: FrameType | None) -> None:
        pending.append(signal.Signals(signum))

    old = {s: signal.signal(s, defer) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        for s in pending:
            os.kill(os.getpid(), s)


class NetnsLab:
    def __init__(self, paths: LabPaths, state: LabState, owner_fd: int | None) -> None:
        self.paths = paths
        self.state = state
        self._owner_fd = owner_fd
        self._caps = self._probe_capabilities()
        self._final_info: LabInfo | None = None  # what info() said just before teardown
        self._down = False

    def _probe_capabilities(self) -> dict[str, Capability]:
        return capabilities.probe()

    # --- Lab protocol ---------------------------------------------------------------------

    def session_env(self) -> dict[str, str]:
        base = os.environ.get("PATH", engine.CLEAN_PATH)
        client = nodes.engine_client(self.state)
        # The docker client of the nodes' engine generation, before any the host has.
        first = f"{self.paths.bin}:{client}" if client is not None else str(self.paths.bin)
        return {"PATH": f"{first}:{base}", "MACHINE_STORAGE_PATH": str(self.paths.storage)}

    def capabilities(self) -> dict[str, Capability]:
        return dict(self._caps)

    def info(self) -> LabInfo:
        if self._final_info is not None:
            return self._final_info
        found = load_nodes(self.paths)
        return LabInfo(
            provider="netns",
            nodes=tuple(n.name for n in found),
            engine_version=self.state.engine_version,
            engine=self.state.engine,
            components=self._components(),
            kernel=os.uname().release,
            capabilities={k: c.present for k, c in self._caps.items()},
            # Only nodes a chapter created with `-d DRIVER`; the lab's own are plain netns.
            stands_in_for={n.name: n.driver for n in found if n.driver != "netns"},
        )

    def _components(self) -> dict[str, str]:
        found = engines.cached(self.state.engine) if self.state.engine else None
        return engines.components(found) if found is not None else {}

    def tag_images(self, names: Mapping[str, str]) -> None:
        with flocked(self.paths.lock):
            atomic_write(self.paths.image_names, json.dumps(dict(names), sort_keys=True))
            running = [n for n in load_nodes(self.paths) if n.desired == "running"]
        try:
            for node in running:
                self._tag_node(node, dict(names))
        except LabFault as exc:
            raise LabError(str(exc)) from exc

    def _tag_node(self, node: NodeState, names: dict[str, str]) -> None:
        nodes.tag_images(self.paths, node, names)

    def problems(self) -> list[NodeProblem]:
        out = []
        for node in load_nodes(self.paths):
            if node.desired != "running" or nodes.state(self.paths, node) != "Error":
                continue
            node_dir = self.paths.node_dir(node.name)
            status = engine.exit_status(node_dir)
            deadline = time.monotonic() + 1.0
            while status is None and time.monotonic() < deadline:
                time.sleep(0.02)  # the supervising shell is writing how dockerd ended
                status = engine.exit_status(node_dir)
            message = (
                f"engine of {node.name} exited (status {status})"
                if status is not None
                else f"engine of {node.name} is gone (killed, no exit status)"
            )
            out.append(NodeProblem(node.name, message, engine.log_tail(node_dir)))
        return out

    def down(self) -> None:
        if self._down:
            return
        with _signals_deferred():
            if self._final_info is None:
                self._final_info = self.info()
            try:
                with flocked(self.paths.lock, timeout=30.0):
                    census.teardown(self.state.id, self.paths.dir.parent)
            except (FileNotFoundError, TimeoutError):
                census.teardown(self.state.id, self.paths.dir.parent)
            if self._owner_fd is not None:
                os.close(self._owner_fd)
                self._owner_fd = None
            with contextlib.suppress(TimeoutError), global_lock(timeout=5.0):
                census.tidy_root(self.paths.dir.parent)
            self._down = True

    # --- conveniences ---------------------------------------------------------------------

    def release_owner(self) -> None:
        if self._owner_fd is not None:
            os.close(self._owner_fd)
            self._owner_fd = None

    def __enter__(self) -> NetnsLab:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.down()

    def nodes(self) -> list[NodeState]:
        return load_nodes(self.paths)

    def docker_host(self, name: str) -> str:
        """unix:// address of a node's engine socket, for the lab's own checks and tests."""
        return f"unix://{engine.socket_path(self.paths.node_dir(name))}"


class NetnsProvider:
    name = "netns"
    lab_class: type[NetnsLab] = NetnsLab

    def __init__(
        self, root: Path = ROOT, manual: bool = False, engine: str = engines.DEFAULT
    ) -> None:
        self.root = root
        self.manual = manual  # a lab made by `lab up` by hand: no owner process holds it
        self.engine = engine  # the Docker Engine generation of every node

    def clean_stale(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        return census.clean_stale(self.root)

    def _preflight(self) -> None:
        preflight()

    def _configure(self, state: LabState) -> LabState:
        """What a provider built on this one records in lab.json beside the common state."""
        return state

    def up(self, nodes_wanted: tuple[str, ...]) -> NetnsLab:
        self._preflight()
        for name in nodes_wanted:
            problem = nodes.name_problem(name)
            if problem is not None:
                raise LabError(f"node name {name!r}: {problem}")
        if len(set(nodes_wanted)) != len(nodes_wanted):
            raise LabError(f"node names repeat: {', '.join(nodes_wanted)}")
        try:
            self.clean_stale()
        except TimeoutError as exc:
            raise LabError(f"{exc}: another lab is being made or removed; try again") from exc
        try:
            archive = images.archive()
        except (images.ImageError, OSError) as exc:
            raise LabError(f"cannot build the lab images: {exc}") from exc
        bundle = engines.bundle(self.engine)  # EngineError (a LabError) when it cannot be had
        try:
            lab = self._register(bundle)
        except TimeoutError as exc:
            raise LabError(f"{exc}: another lab is being made or removed; try again") from exc
        try:
            self._populate(lab, nodes_wanted, archive)
            if self.manual:
                lab.release_owner()  # from now on only `lab down` ends it
        except (LabFault, OSError, subprocess.CalledProcessError) as exc:
            lab.down()
            raise LabError(f"the lab could not be created (nothing was left): {exc}") from exc
        except BaseException:
            lab.down()
            raise
        return lab

    def _register(self, bundle: engines.Bundle) -> NetnsLab:
        with global_lock():
            self.root.mkdir(parents=True, exist_ok=True)
            taken = []
            for other in lab_ids(self.root):
                st = load_lab(LabPaths.of(other, self.root))
                if st is not None:
                    taken.append(st.subnet)
            lab_id = new_lab_id()
            while (self.root / lab_id).exists():
                lab_id = new_lab_id()
            paths = LabPaths.of(lab_id, self.root)
            paths.dir.mkdir()
            owner_fd: int | None = None
            try:
                subnet = network.choose_subnet(taken)
                state = self._configure(
                    LabState(
                        id=lab_id,
                        subnet=subnet,
                        owner_pid=os.getpid(),
                        manual=self.manual,
                        created=time.time(),
                        engine=bundle.generation,
                        engine_dir=str(bundle.dir),
                    )
                )
                save_lab(paths, state)
                # Held while the lab is made, even by hand: `lab down` leaves it alone meanwhile.
                owner_fd = hold_owner_lock(paths)
                lab = self.lab_class(paths, state, owner_fd)
                network.create_bridge(state.bridge, state.gateway, state.prefixlen)
            except BaseException as exc:
                if owner_fd is not None:
                    os.close(owner_fd)
                census.teardown(lab_id, self.root)
                if isinstance(exc, network.NetError):
                    raise LabError(
                        f"cannot create the lab bridge (needs bridge, veth and "
                        f"iptables support in the kernel): {exc}"
                    ) from exc
                raise
        return lab

    # What a provider built on this one (the vm provider) changes: how a node is made.
    driver = "netns"  # the DRIVER `docker-machine ls` shows

    def _prepare(self, paths: LabPaths) -> None:
        """Before any node: what every node of the lab shares besides TLS (vm: an SSH key)."""

    def _provision(self, paths: LabPaths, state: LabState, node: NodeState) -> None:
        nodes.provision(paths, state, node)

    def _finish(
        self, paths: LabPaths, node: NodeState, archive: Path, abort: threading.Event
    ) -> None:
        nodes.finish(paths, node, archive, abort)

    def _engine_version(self, lab: NetnsLab, made: list[NodeState]) -> str | None:
        version = engine.version(lab.paths.node_dir(made[0].name)) if made else None
        if version is None:  # no node yet: the bundle's own `dockerd --version`
            found = engines.cached(lab.state.engine) if lab.state.engine else None
            version = found.dockerd_version if found is not None else None
        return version

    def _populate(self, lab: NetnsLab, wanted: tuple[str, ...], archive: Path) -> None:
        paths = lab.paths
        tls.make_ca_and_client(paths.certs, "book-lab")
        self._prepare(paths)
        paths.bin.mkdir(parents=True, exist_ok=True)
        script = paths.bin / "docker-machine"
        root = str(Path(__file__).resolve().parents[2])
        script.write_text(COMMAND_SCRIPT.format(python=sys.executable, lab=lab.state.id, root=root))
        script.chmod(0o755)
        with flocked(paths.lock):
            reserved = [nodes.reserve(paths, lab.state, name, self.driver) for name in wanted]
        workers = max(1, min(8, len(reserved)))
        abort = threading.Event()
        pool = ThreadPoolExecutor(workers)
        try:
            list(pool.map(lambda n: self._provision(paths, lab.state, n), reserved))
            list(pool.map(lambda n: self._finish(paths, n, archive, abort), reserved))
        except BaseException:
            # Ctrl-C: the workers stop waiting for their engines, and we wait for them (a
            # second Ctrl-C is held meanwhile) so that the teardown after us misses nothing
            # they were still creating.
            abort.set()
            with _signals_deferred():
                pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        version = self._engine_version(lab, reserved)
        # Complete only now: until this is saved, a dead owner means a half-made lab.
        lab.state = LabState(**{**lab.state.__dict__, "engine_version": version, "complete": True})
        save_lab(paths, lab.state)


def attach(lab_id: str, root: Path = ROOT) -> NetnsLab:
    """A handle on an existing lab (for `python -m runner lab`), not owning it."""
    paths = LabPaths.of(lab_id, root)
    state = load_lab(paths)
    if state is None:
        raise LabError(f"no lab {lab_id} under {root}")
    return NetnsLab(paths, state, None)
