"""Node life cycle, shared by the runner's lab and the `docker-machine` stand-in: reserve a
name and address, lay out network + certificates + engine, wait for it, load the images;
stop, kill, start, remove. The on-disk state under the lab folder is the only truth.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from dataclasses import replace
from pathlib import Path

from runner.lab import cgroups, engine, images, network, tls
from runner.lab.errors import LabFault
from runner.lab.state import LabPaths, LabState, NodeState, load_nodes, save_node
from runner.records import node_name_problem

NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-\.]*$")  # docker-machine's ValidateHostName
HOST_NAME_MAX = 64  # Linux: a node's UTS host name is its machine name
INVALID_NAME = "Invalid hostname specified. Allowed hostname chars are: 0-9a-zA-Z . -"


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a node (docker-machine's message first), or None."""
    if not NAME_RE.match(name):
        return INVALID_NAME
    problem = node_name_problem(name)
    if len(name) <= HOST_NAME_MAX and problem is not None:
        # docker-machine accepts `a..`; the host it makes could not take that name.
        return f"Invalid hostname specified. A book lab node is a Linux host: {problem}"
    if len(name) > HOST_NAME_MAX:
        # docker-machine itself has no limit; the host a VM would boot could not take it either.
        return (
            f"Invalid hostname specified. A book lab node is a Linux host: its name has at "
            f"most {HOST_NAME_MAX} characters (this one has {len(name)})"
        )
    return None


class NodeError(LabFault):
    """A node operation failed; the message is what docker-machine would print."""


def node_group(lab_id: str, node: NodeState) -> str:
    return cgroups.group_path(lab_id, str(node.index))


def engine_group(lab_id: str, node: NodeState) -> str:
    return node_group(lab_id, node) + "/engine"


def shell_group(lab_id: str, node: NodeState) -> str:
    return node_group(lab_id, node) + "/ssh"


def storage_driver() -> str:
    try:
        filesystems = Path("/proc/filesystems").read_text()
    except OSError:
        filesystems = ""
    return "overlay2" if "\toverlay\n" in filesystems else "vfs"


def find(paths: LabPaths, name: str) -> NodeState:
    for node in load_nodes(paths):
        if node.name == name:
            return node
    raise NodeError(f'Host does not exist: "{name}"')


def reserve(
    paths: LabPaths, lab: LabState, name: str, driver: str, labels: tuple[str, ...] = ()
) -> NodeState:
    """Claim the name and the next free address and record the node. The caller holds the
    lab lock (`state.flocked(paths.lock)`)."""
    problem = name_problem(name)
    if problem is not None:
        raise NodeError(f"Error creating machine: {problem}")
    nodes = load_nodes(paths)
    if any(n.name == name for n in nodes):
        raise NodeError(f'Host already exists: "{name}"')
    used = {n.index for n in nodes}
    index = next(i for i in range(len(used) + 1) if i not in used)
    if index > 150:
        raise NodeError("Error creating machine: this lab has no address left (150 nodes)")
    (paths.storage / "machines").mkdir(exist_ok=True)  # no parents: the lab may be gone
    paths.machine_dir(name).mkdir(exist_ok=True)
    node = NodeState(
        name=name,
        index=index,
        ip=network.node_ip(lab.subnet, index),
        driver=driver,
        desired="running",
        labels=labels,
    )
    save_node(paths, node)
    return node


def provision(paths: LabPaths, lab: LabState, node: NodeState) -> None:
    """Network, certificates and a started engine (not yet waited for)."""
    network.create_node_net(
        lab.id,
        lab.bridge,
        node.netns(lab.id),
        node.veth(lab.id),
        node.ip,
        lab.prefixlen,
        lab.gateway,
    )
    node_dir = paths.node_dir(node.name)
    tls.make_server(paths.certs, node_dir / "tls", node.name, node.ip, "book-lab")
    tls.copy_client(paths.certs, paths.machine_dir(node.name))
    shutil.copyfile(node_dir / "tls" / "server.pem", paths.machine_dir(node.name) / "server.pem")
    start_engine(paths, lab, node)


def start_engine(paths: LabPaths, lab: LabState, node: NodeState) -> None:
    args = engine.dockerd_args(node.ip, node_group(lab.id, node), node.labels, storage_driver())
    engine.start(
        node.name, paths.node_dir(node.name), node.netns(lab.id), engine_group(lab.id, node), args
    )


def finish(
    paths: LabPaths, node: NodeState, archive: Path | None, abort: threading.Event | None = None
) -> None:
    node_dir = paths.node_dir(node.name)
    engine.wait_ready(node.name, node_dir, abort=abort)
    if abort is not None and abort.is_set():
        return
    if archive is not None:
        engine.load_images(node.name, node_dir, archive)
        tag_images(paths, node, image_names(paths))


def image_names(paths: LabPaths) -> dict[str, str]:
    """The names the chapter's text uses for lab images (Lab.tag_images), kept with the lab
    so that nodes the chapter creates later get them too."""
    try:
        data = json.loads(paths.image_names.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return {str(k): str(v) for k, v in data.items()}


def tag_images(paths: LabPaths, node: NodeState, names: dict[str, str]) -> None:
    for target, source in sorted(names.items()):
        if not engine.tag_image(node.name, paths.node_dir(node.name), source, target):
            raise engine.EngineError(
                f"images: {source!r} is not a lab image (the lab has: "
                f"{', '.join(t for d in images.definitions() for t in d.tags)}); "
                "see runner/lab/README.md, Images"
            )


def state(paths: LabPaths, node: NodeState) -> str:
    """docker-machine's STATE: Running, Stopped, Starting (engine process there, not yet
    serving), or Error (engine gone while the node is meant to run)."""
    if engine.pid(paths.node_dir(node.name)) is not None:
        return "Running"
    if node.desired == "stopped":
        return "Stopped"
    return "Starting" if engine.starting(paths.node_dir(node.name)) else "Error"


def stop(paths: LabPaths, lab: LabState, node: NodeState) -> NodeState:
    node = _desire(paths, node, "stopped")
    engine.stop(paths.node_dir(node.name), node_group(lab.id, node))
    return node


def kill(paths: LabPaths, lab: LabState, node: NodeState) -> NodeState:
    node = _desire(paths, node, "stopped")
    engine.kill(node_group(lab.id, node))
    return node


def start(paths: LabPaths, lab: LabState, node: NodeState) -> NodeState:
    engine.kill(node_group(lab.id, node))  # what a dead engine left (shims, containers)
    # A machine boots with an empty /run (tmpfs): stale pid files and sockets of a killed
    # engine would make the new one wait for a containerd that is not there.
    shutil.rmtree(paths.node_dir(node.name) / "run", ignore_errors=True)
    node = _desire(paths, node, "running")
    start_engine(paths, lab, node)
    engine.wait_ready(node.name, paths.node_dir(node.name))
    return node


def _desire(paths: LabPaths, node: NodeState, desired: str) -> NodeState:
    new = replace(node, desired=desired)
    save_node(paths, new)
    return new


def remove(paths: LabPaths, lab: LabState, node: NodeState) -> None:
    """Everything of one node: processes, cgroups, namespace, veth, folders."""
    _desire(paths, node, "stopped")
    group = node_group(lab.id, node)
    engine.kill(group)
    cgroups.remove_tree(group)
    network.remove_node_net(node.netns(lab.id), node.veth(lab.id))
    shutil.rmtree(paths.node_dir(node.name), ignore_errors=True)
    shutil.rmtree(paths.machine_dir(node.name), ignore_errors=True)
