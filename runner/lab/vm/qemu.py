"""QEMU for the VM lab: the accelerator (KVM when a bounded probe shows it boots a kernel,
else TCG), each node's initramfs (written here, a few MB, with the node's own settings), and
the QEMU process itself, started detached inside the node's cgroup so that the lab's
teardown (and the next start after a SIGKILL) finds and ends it like any engine.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from runner.lab import cgroups
from runner.lab.errors import LabFault
from runner.lab.images import BUSYBOX
from runner.lab.vm.image import GUEST, VM_CACHE, VmImage

QEMU = "qemu-system-x86_64"
MEMORY_MB = 1024  # guest RAM; pages the guest frees go back to the host (free page reporting)
# TCG's translated-code cache: QEMU's default (1 GiB) fills with the engine's large Go binaries
# and counts in QEMU's resident memory (1.6 GB per node measured). Measured here, one node:
# 128 MB gives 526 MB RSS but `docker run --rm busybox true` in 15-28 s (the cache keeps being
# flushed); 512 MB gives 1007 MB RSS and 7-13 s. 384 MB keeps 4 nodes within 4 GiB.
TCG_CACHE_MB = 384
KVM_PROBE_SECONDS = 8.0
ENGINE_DIED = "book-lab: dockerd exited"  # written on the console by the guest's rcS


class VmError(LabFault):
    pass


@dataclass(frozen=True)
class Accel:
    name: str  # "kvm" or "tcg"
    why: str  # what the probe found, said in the lab's report


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def probe_accel(image: VmImage, cache: Path = VM_CACHE) -> Accel:
    """KVM if /dev/kvm opens and a guest under it reaches the kernel within a few seconds
    (nested virtualisation may accept KVM_CREATE_VM and then hang after the firmware); else
    TCG. Remembered per boot of this machine."""
    remembered = cache / "accel.json"
    with contextlib.suppress(OSError, ValueError, KeyError):
        data = json.loads(remembered.read_text())
        if data["boot_id"] == _boot_id():
            return Accel(data["name"], data["why"])
    accel = _probe(image)
    with contextlib.suppress(OSError):
        remembered.write_text(json.dumps({"boot_id": _boot_id(), **accel.__dict__}) + "\n")
    return accel


def _probe(image: VmImage) -> Accel:
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
        os.close(fd)
    except OSError as exc:
        return Accel("tcg", f"no usable /dev/kvm ({exc.strerror}): QEMU emulates (TCG)")
    # No initramfs: the kernel prints its banner, panics on the missing root and, with
    # -no-reboot, QEMU exits. Only the banner matters.
    # `timeout` outlives us: a probe guest hung under KVM dies even if the runner is SIGKILLed.
    cmd = [
        "timeout", "--signal=KILL", str(int(KVM_PROBE_SECONDS) + 2),
        QEMU, "-accel", "kvm", "-nodefaults", "-no-user-config", "-display", "none",
        "-m", "256", "-kernel", str(image.kernel), "-append", "console=ttyS0 panic=-1",
        "-serial", "stdio", "-no-reboot",
    ]  # fmt: skip
    # Its own process group: killing `timeout` alone would leave QEMU running, orphaned.
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + KVM_PROBE_SECONDS
    try:
        while time.monotonic() < deadline and b"Linux version" not in seen:
            ready, _, _ = select.select([proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                seen += chunk
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    if b"Linux version" in seen:
        return Accel("kvm", "KVM works (a probe guest booted its kernel)")
    return Accel(
        "tcg",
        f"/dev/kvm opens but a guest under KVM did not reach its kernel in "
        f"{KVM_PROBE_SECONDS:.0f} s (nested virtualisation not usable): QEMU emulates (TCG), "
        "several times slower",
    )


# --- the node's initramfs (newc cpio, uncompressed) ---------------------------------------


def _cpio_entry(name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)) -> bytes:
    fields = [0, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
    head = b"070701" + b"".join(b"%08X" % f for f in fields) + name.encode() + b"\0"
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


def write_initrd(image: VmImage, out: Path, node_files: dict[str, bytes]) -> None:
    """busybox, the early init, the disk drivers and the node's own files under /booklab."""
    parts = [_cpio_entry(d, 0o40755) for d in ("bin", "dev", "proc", "newroot", "modules")]
    parts.append(_cpio_entry("dev/console", 0o20600, rdev=(5, 1)))
    parts.append(_cpio_entry("bin/busybox", 0o100755, BUSYBOX.read_bytes()))
    parts.append(_cpio_entry("init", 0o100755, (GUEST / "init").read_bytes()))
    for f in sorted(image.initrd_modules.iterdir()):
        parts.append(_cpio_entry(f"modules/{f.name}", 0o100644, f.read_bytes()))
    dirs = sorted({str(Path("booklab", n).parent) for n in node_files} | {"booklab"})
    parts += [_cpio_entry(d, 0o40755) for d in dirs]
    for name, data in sorted(node_files.items()):
        parts.append(_cpio_entry(f"booklab/{name}", 0o100600, data))
    parts.append(_cpio_entry("TRAILER!!!", 0))
    out.write_bytes(b"".join(parts))


def node_env(name: str, ip: str, prefixlen: int, dockerd_args: list[str]) -> bytes:
    lines = {
        "NODE_NAME": name,
        "NODE_IP": ip,
        "NODE_PREFIX": str(prefixlen),
        "DOCKERD_ARGS": shlex.join(dockerd_args),
    }
    return "".join(f"{k}={shlex.quote(v)}\n" for k, v in lines.items()).encode()


# --- the QEMU process ----------------------------------------------------------------------


@dataclass(frozen=True)
class Launch:
    name: str  # shown by ps: bkl<lab>-<index>
    image: VmImage
    accel: str
    disk: Path
    initrd: Path
    tap: str
    mac: str
    console: Path
    pidfile: Path
    cgroup: str  # relative cgroup path the process joins


def start(launch: Launch) -> None:
    """Start QEMU detached (it daemonizes once the VM exists); raises VmError if it cannot."""
    launch.pidfile.unlink(missing_ok=True)
    procs = cgroups.ensure(launch.cgroup) / "cgroup.procs"
    cmd = [
        QEMU, "-name", f"{launch.name},process={launch.name}",
        "-accel", f"tcg,tb-size={TCG_CACHE_MB}" if launch.accel == "tcg" else launch.accel,
        "-machine", "pc",
        "-cpu", "max" if launch.accel == "tcg" else "host",
        "-smp", "1", "-m", str(MEMORY_MB),
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        "-kernel", str(launch.image.kernel), "-initrd", str(launch.initrd),
        "-append", "console=ttyS0 quiet panic=-1 tsc=reliable",
        "-drive", f"file={launch.disk},if=virtio,format=qcow2,discard=unmap",
        "-netdev", f"tap,id=n0,ifname={launch.tap},script=no,downscript=no",
        "-device", f"virtio-net-pci,netdev=n0,mac={launch.mac}",
        "-device", "virtio-rng-pci",
        "-device", "virtio-balloon-pci,free-page-reporting=on",
        "-serial", f"file:{launch.console}",
        "-daemonize", "-pidfile", str(launch.pidfile),
    ]  # fmt: skip
    # The shell joins the node's cgroup first: QEMU and whatever it forks stay in it.
    wrapper = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(procs), *cmd]
    proc = subprocess.run(wrapper, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise VmError(f"QEMU did not start the VM {launch.name}: {proc.stderr.strip()[-500:]}")


def pid(pidfile: Path) -> int | None:
    """The running QEMU's pid, or None."""
    try:
        value = int(pidfile.read_text().strip())
        stat = Path(f"/proc/{value}/stat").read_text()
    except (OSError, ValueError):
        return None
    return value if stat.rsplit(")", 1)[1].split()[0] != "Z" else None


def wait_gone(pidfile: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while pid(pidfile) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def console_tail(console: Path, lines: int = 20) -> str:
    try:
        text = console.read_bytes()[-8192:].decode("utf-8", "replace")
    except OSError:
        return "(no console output)"
    return "\n".join(text.splitlines()[-lines:]) or "(no console output)"
