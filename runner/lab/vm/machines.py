"""VM node life cycle, shared by the VM lab and the `docker-machine` command: the same steps
as runner/lab/nodes.py (reserve, provision, finish, state, stop, kill, start, remove), for a
node that is a QEMU virtual machine on the lab's bridge.

A node's files, under the lab folder: `nodes/<name>/disk.qcow2` (copy-on-write over the cached
image: kept across stop/start), `initrd` (its settings), `console.log`, `qemu.pid`, `tls/`.
The engine is reached over TLS on <ip>:2376 as any docker-machine VM; the shell over SSH with
the lab's key.
"""

from __future__ import annotations

import http.client
import io
import json
import shutil
import ssl
import subprocess
import threading
import time
import urllib.parse
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from runner.lab import cgroups, network, nodes, tls
from runner.lab.errors import LabFault
from runner.lab.state import LabPaths, LabState, NodeState, save_node
from runner.lab.vm import qemu
from runner.lab.vm.image import VmImage

BOOT_TIMEOUT = 300.0  # TCG on a loaded 2-core machine: a boot is ~15 s alone, far more in a crowd
STOP_TIMEOUT = 60.0
SSH_OPTIONS = (
    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
    "-o", "ServerAliveInterval=5",
)  # fmt: skip


class VmNodeError(LabFault):
    pass


def image_of(lab: LabState) -> VmImage:
    if lab.vm_image is None:
        raise VmNodeError(f"lab {lab.id} is not a VM lab")
    return VmImage.load(Path(lab.vm_image))


def ssh_key(paths: LabPaths) -> Path:
    return paths.dir / "ssh" / "id_ed25519"


def make_ssh_key(paths: LabPaths) -> None:
    key = ssh_key(paths)
    key.parent.mkdir(mode=0o700, exist_ok=True)
    proc = subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "book-lab", "-f", str(key)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise VmNodeError(f"ssh-keygen: {proc.stderr.strip()}")


def ssh_argv(paths: LabPaths, node: NodeState, tty: bool) -> list[str]:
    return [
        "ssh", *SSH_OPTIONS, "-i", str(ssh_key(paths)), *(["-t"] if tty else ["-T"]),
        f"docker@{node.ip}",
    ]  # fmt: skip


def scp_argv(paths: LabPaths) -> list[str]:
    return ["scp", "-q", *SSH_OPTIONS, "-i", str(ssh_key(paths))]


def tap(lab_id: str, node: NodeState) -> str:
    return f"bkl{lab_id}t{node.index}"


def mac(node: NodeState) -> str:
    octets = [int(x) for x in node.ip.split(".")]
    return "52:54:00:{:02x}:{:02x}:{:02x}".format(*octets[1:])


def vm_group(lab_id: str, node: NodeState) -> str:
    return nodes.node_group(lab_id, node) + "/vm"


def dockerd_args(labels: tuple[str, ...]) -> list[str]:
    # Not --debug (the netns lab's engines log at debug level): under TCG every log line costs.
    args = [
        "-H", "unix:///var/run/docker.sock",
        "-H", "tcp://0.0.0.0:2376",
        "--tlsverify",
        "--tlscacert=/etc/docker/ca.pem",
        "--tlscert=/etc/docker/server.pem",
        "--tlskey=/etc/docker/server-key.pem",
        "--storage-driver=overlay2",
        "--label=provider=qemu",
    ]  # fmt: skip
    return args + [f"--label={label}" for label in labels]


# --- the engine over TLS -------------------------------------------------------------------


def _tls_context(paths: LabPaths, node: NodeState) -> ssl.SSLContext:
    mdir = paths.machine_dir(node.name)
    ctx = ssl.create_default_context(cafile=str(mdir / "ca.pem"))
    ctx.load_cert_chain(str(mdir / "cert.pem"), str(mdir / "key.pem"))
    return ctx


def api(
    paths: LabPaths,
    node: NodeState,
    method: str,
    url: str,
    body: BinaryIO | None = None,
    timeout: float = 5.0,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    conn = http.client.HTTPSConnection(
        node.ip, 2376, context=_tls_context(paths, node), timeout=timeout
    )
    try:
        conn.request(method, url, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def ping(paths: LabPaths, node: NodeState, timeout: float = 10.0) -> bool:
    try:
        return api(paths, node, "GET", "/_ping", timeout=timeout)[0] == 200
    except (OSError, http.client.HTTPException):
        return False


def engine_version(paths: LabPaths, node: NodeState) -> str | None:
    try:
        status, body = api(paths, node, "GET", "/version", timeout=10.0)  # ls's default
    except (OSError, http.client.HTTPException):
        return None
    if status != 200:
        return None
    data: dict[str, Any] = json.loads(body)
    return str(data.get("Version"))


# --- life cycle ----------------------------------------------------------------------------


def provision(paths: LabPaths, lab: LabState, node: NodeState) -> None:
    """Certificates, disk, tap, and a booting VM (not yet waited for)."""
    node_dir = paths.node_dir(node.name)
    node_dir.mkdir(parents=True, exist_ok=True)
    tls.make_server(paths.certs, node_dir / "tls", node.name, node.ip, "book-lab")
    tls.copy_client(paths.certs, paths.machine_dir(node.name))
    shutil.copyfile(node_dir / "tls" / "server.pem", paths.machine_dir(node.name) / "server.pem")
    image = image_of(lab)
    proc = subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(image.rootfs),
         str(node_dir / "disk.qcow2")],
        capture_output=True, text=True,
    )  # fmt: skip
    if proc.returncode != 0:
        raise VmNodeError(f"qemu-img: cannot make the disk of {node.name}: {proc.stderr.strip()}")
    name = tap(lab.id, node)
    network.run(["ip", "tuntap", "add", "dev", name, "mode", "tap"])
    network.run(["ip", "link", "set", name, "master", lab.bridge, "up"])
    boot(paths, lab, node)


def boot(paths: LabPaths, lab: LabState, node: NodeState) -> None:
    node_dir = paths.node_dir(node.name)
    image = image_of(lab)
    files = {f"tls/{n}": (node_dir / "tls" / n).read_bytes() for n in tls_files()}
    files["authorized_keys"] = ssh_key(paths).with_suffix(".pub").read_bytes()
    files["node.env"] = qemu.node_env(node.name, node.ip, lab.prefixlen, dockerd_args(node.labels))
    qemu.write_initrd(image, node_dir / "initrd", files)
    (node_dir / "console.log").unlink(missing_ok=True)
    (node_dir / "booted").unlink(missing_ok=True)
    qemu.start(
        qemu.Launch(
            name=f"bkl{lab.id}-{node.index}",
            image=image,
            accel=lab.accel or "tcg",
            disk=node_dir / "disk.qcow2",
            initrd=node_dir / "initrd",
            tap=tap(lab.id, node),
            mac=mac(node),
            console=node_dir / "console.log",
            pidfile=node_dir / "qemu.pid",
            cgroup=vm_group(lab.id, node),
        )
    )


def tls_files() -> tuple[str, ...]:
    return ("ca.pem", "server.pem", "server-key.pem")


def wait_ready(
    paths: LabPaths,
    node: NodeState,
    timeout: float = BOOT_TIMEOUT,
    abort: threading.Event | None = None,
) -> None:
    node_dir = paths.node_dir(node.name)
    deadline = time.monotonic() + timeout
    console = node_dir / "console.log"
    while not ping(paths, node):
        if abort is not None and abort.is_set():
            return  # Ctrl-C: the lab is being torn down
        alive = qemu.pid(node_dir / "qemu.pid") is not None
        died = qemu.ENGINE_DIED in qemu.console_tail(console, 40)
        if not alive or died or time.monotonic() > deadline:
            what = (
                "stopped"
                if not alive
                else "booted but its engine exited"
                if died
                else f"did not answer within {timeout:.0f} s"
            )
            raise VmNodeError(
                f"VM {node.name} {what} before its engine answered on {node.ip}:2376; "
                f"last console lines:\n{qemu.console_tail(node_dir / 'console.log')}"
            )
        time.sleep(0.25)
    (node_dir / "booted").touch()


def finish(
    paths: LabPaths, node: NodeState, archive: Path | None, abort: threading.Event | None = None
) -> None:
    marker = paths.node_dir(node.name) / "images-loaded"
    # Read now, not after the boot: another checkout's lab may replace the cached archive
    # (its image definitions differ) while this VM boots.
    data = archive.read_bytes() if archive is not None and not marker.exists() else None
    wait_ready(paths, node, abort=abort)
    if abort is not None and abort.is_set():
        return
    if data is None:
        return  # loaded at the first boot: they are on the node's disk
    status, body = api(
        paths, node, "POST", "/images/load?quiet=1", body=io.BytesIO(data), timeout=120.0,
        headers={"Content-Type": "application/x-tar", "Content-Length": str(len(data))},
    )  # fmt: skip
    if status != 200 or b'"error' in body:
        raise VmNodeError(f"loading the lab images into {node.name} failed: {body[:300]!r}")
    marker.touch()
    tag_images(paths, node, nodes.image_names(paths))


def tag_images(paths: LabPaths, node: NodeState, names: dict[str, str]) -> None:
    """Lab images under the names a chapter uses (Lab.tag_images), over TLS."""
    for target, source in sorted(names.items()):
        last = target.rsplit("/", 1)[-1]
        repo, _, tag = target.rpartition(":") if ":" in last else (target, "", "")
        query = urllib.parse.urlencode({"repo": repo, "tag": tag or "latest"})
        url = f"/images/{urllib.parse.quote(source)}/tag?{query}"
        status, body = api(paths, node, "POST", url, timeout=30.0)
        if status == 404:
            raise VmNodeError(f"images: {source!r} is not a lab image; see runner/lab/README.md")
        if status != 201:
            raise VmNodeError(f"tagging {source} as {target} on {node.name}: {body[:300]!r}")


def running(paths: LabPaths, node: NodeState) -> bool:
    return qemu.pid(paths.node_dir(node.name) / "qemu.pid") is not None


def state(paths: LabPaths, node: NodeState) -> str:
    """docker-machine's STATE for a VM: Running (its engine has answered since this boot),
    Starting (the VM boots), Stopped, or Error (the VM is gone while it should run). No
    request to the engine: a busy emulated VM may answer slowly, and is still running."""
    if running(paths, node):
        return "Running" if (paths.node_dir(node.name) / "booted").exists() else "Starting"
    return "Stopped" if node.desired == "stopped" else "Error"


def error(paths: LabPaths, node: NodeState) -> str:
    return "VM is gone (QEMU ended)" if state(paths, node) == "Error" else ""


def _desire(paths: LabPaths, node: NodeState, desired: str) -> NodeState:
    new = replace(node, desired=desired)
    save_node(paths, new)
    return new


def stop(paths: LabPaths, lab: LabState, node: NodeState) -> NodeState:
    """A clean power-off: the guest's init stops the engine (and its containers), syncs and
    powers off; QEMU then ends. Killed only if it does not within STOP_TIMEOUT."""
    node = _desire(paths, node, "stopped")
    pidfile = paths.node_dir(node.name) / "qemu.pid"
    if qemu.pid(pidfile) is None:
        return node
    subprocess.run(
        [*ssh_argv(paths, node, tty=False), "poweroff"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    if not qemu.wait_gone(pidfile, STOP_TIMEOUT):
        cgroups.kill_all(vm_group(lab.id, node))
    return node


def kill(paths: LabPaths, lab: LabState, node: NodeState) -> NodeState:
    """A hard power-off: QEMU is killed, the guest gets no say."""
    node = _desire(paths, node, "stopped")
    if not cgroups.kill_all(nodes.node_group(lab.id, node)):
        raise VmNodeError(f"the VM of {node.name} survived SIGKILL")
    return node


def start(paths: LabPaths, lab: LabState, node: NodeState) -> NodeState:
    cgroups.kill_all(nodes.node_group(lab.id, node))
    node = _desire(paths, node, "running")
    boot(paths, lab, node)
    wait_ready(paths, node)
    return node


def remove(paths: LabPaths, lab: LabState, node: NodeState) -> None:
    _desire(paths, node, "stopped")
    group = nodes.node_group(lab.id, node)
    cgroups.kill_all(group)
    cgroups.remove_tree(group)
    network.run(["ip", "link", "del", tap(lab.id, node)], check=False)
    shutil.rmtree(paths.node_dir(node.name), ignore_errors=True)
    shutil.rmtree(paths.machine_dir(node.name), ignore_errors=True)


def create(
    paths: LabPaths,
    lab: LabState,
    name: str,
    driver: str,
    archive: Path | None,
    labels: tuple[str, ...] = (),
) -> NodeState:
    node = nodes.reserve(paths, lab, name, driver, labels)
    try:
        provision(paths, lab, node)
        finish(paths, node, archive)
    except BaseException:
        remove(paths, lab, node)
        raise
    return node


def log_tail(paths: LabPaths, node: NodeState) -> str:
    """The engine log's tail over SSH when the VM runs, else its console's."""
    if running(paths, node):
        proc = subprocess.run(
            [*ssh_argv(paths, node, tty=False), "tail -n 20 /var/log/docker.log"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        if proc.returncode == 0:
            return proc.stdout
    return qemu.console_tail(paths.node_dir(node.name) / "console.log")
