"""The VM image: Debian's cloud kernel and a small root file system, built once and cached.

Made from packages, offline after the first time: the kernel and dropbear come from Debian's
archive (`apt-get download`, unpacked, never installed); busybox, bash, iptables and the
engine's binaries (dockerd, containerd, runc...) with their libraries are copied from this
machine, or the engine from a folder given as input (`EngineBundle`). The root file system is
a raw ext4 image (`mkfs.ext4 -d`, no mount, no loop device); each node boots a copy-on-write
qcow2 overlay of it, so a node keeps its disk across stop/start. No systemd: busybox init
runs three scripts (guest/rcS, guest/rcK, guest/inittab).

Cached under /var/cache/book-lab/vm/image-<key>/, where the key covers every input (kernel
package, engine version and binaries, host binaries, guest scripts): a change of any of them
builds a new image; an unchanged one costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from runner.lab.errors import LabFault
from runner.lab.images import BUSYBOX, CACHE_DIR
from runner.lab.state import flocked

VM_CACHE = CACHE_DIR / "vm"
GUEST = Path(__file__).parent / "guest"
BUILD_FORMAT = "5"  # bump when the layout below changes without any input changing
KERNEL_META = "linux-image-cloud-amd64"
DEBS = ("dropbear-bin", "libtomcrypt1", "libtommath1")
ENGINE_BINARIES = (
    "dockerd",
    "docker",
    "containerd",
    "containerd-shim-runc-v2",
    "runc",
    "docker-init",
    "docker-proxy",
)
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
IPTABLES_LINKS = (
    "iptables",
    "iptables-save",
    "iptables-restore",
    "ip6tables",
    "ip6tables-save",
    "ip6tables-restore",
)
# Module folders the guest needs (network, netfilter, IPVS, VXLAN, virtio, overlayfs) and
# their dependencies; the rest of the kernel's 90 MB of modules stays out.
MODULE_TREES = (
    "kernel/net",
    "kernel/drivers/net",
    "kernel/drivers/virtio",
    "kernel/drivers/block",
    "kernel/drivers/char/hw_random",
    "kernel/fs/overlayfs",
    "kernel/lib",
    "kernel/crypto",
    "kernel/arch/x86/crypto",
)
INITRD_MODULES = ("virtio_pci", "virtio_blk")  # what mounting the disk needs
DISK_BYTES = 8 << 30  # sparse: the image holds ~250 MB; the rest is room for engine data
SPACE_NEEDED = 600 << 20  # unpacking + image, checked before building


class ImageBuildError(LabFault):
    pass


@dataclass(frozen=True)
class EngineBundle:
    """The engine put into the image: its version and where each binary is on this machine."""

    version: str
    binaries: tuple[tuple[str, Path], ...]  # (name in the guest, file here)

    @classmethod
    def from_dir(cls, folder: Path, version: str) -> EngineBundle:
        """An engine generation unpacked in a folder (dockerd, docker, containerd...)."""
        found = []
        for name in ENGINE_BINARIES:
            path = folder / name
            if not path.is_file():
                raise ImageBuildError(f"engine folder {folder} has no {name}")
            found.append((name, path))
        return cls(version, tuple(found))


def engine_of(generation: str | None = None) -> EngineBundle:
    """A Docker Engine generation of the lab's engine cache (default: the lab's default
    generation, as the netns lab's), fetched when missing; never this machine's docker.io."""
    from runner.lab import engines

    found = engines.bundle(generation or engines.DEFAULT)
    return EngineBundle.from_dir(found.bin, found.dockerd_version)


CAPABILITY_MODULES = ("ip_vs", "vxlan", "overlay")


@dataclass(frozen=True)
class VmImage:
    dir: Path
    kernel_release: str
    engine_version: str
    modules: tuple[str, ...] = ()  # which of CAPABILITY_MODULES the image's kernel has

    @classmethod
    def load(cls, folder: Path) -> VmImage:
        data = json.loads((folder / "manifest.json").read_text())
        return cls(folder, data["kernel_release"], data["engine_version"], tuple(data["modules"]))

    @property
    def kernel(self) -> Path:
        return self.dir / "vmlinuz"

    @property
    def rootfs(self) -> Path:
        return self.dir / "rootfs.img"

    @property
    def initrd_modules(self) -> Path:
        return self.dir / "initrd-modules"


def _run(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env)
    if proc.returncode != 0:
        raise ImageBuildError(f"{' '.join(args)}: {(proc.stderr or proc.stdout).strip()[-500:]}")
    return proc.stdout


def kernel_package(cache: Path, meta: str = KERNEL_META) -> str:
    """The versioned kernel package behind `meta` (from apt's local lists), else the newest
    one already cached (offline)."""
    proc = subprocess.run(["apt-cache", "depends", meta], capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        word = line.strip()
        if word.startswith("Depends:") and "linux-image-" in word:
            return word.split()[-1]
    cached = sorted((cache / "debs").glob(f"linux-image-*-{meta.split('-', 2)[-1]}_*.deb"))
    if cached:
        return cached[-1].name.split("_")[0]
    raise ImageBuildError(
        f"no kernel package: apt knows no {meta} (Debian's cloud kernel) and none is "
        f"cached under {cache / 'debs'}; run `apt-get update` (main component enabled), "
        "then try again"
    )


def fetch_debs(packages: list[str], debs: Path) -> list[Path]:
    """Each package's .deb, downloaded once (`apt-get download`) and reused offline."""
    debs.mkdir(parents=True, exist_ok=True)
    found = []
    for pkg in packages:
        have = sorted(debs.glob(f"{pkg}_*.deb"))
        if not have and shutil.disk_usage(debs).free < SPACE_NEEDED:
            raise OSError(28, "No space left on device", str(debs))
        if not have:
            proc = subprocess.run(
                ["apt-get", "download", "-q", pkg], capture_output=True, text=True, cwd=debs
            )
            have = sorted(debs.glob(f"{pkg}_*.deb"))
            if proc.returncode != 0 or not have:
                raise ImageBuildError(
                    f"cannot download Debian package {pkg} ({proc.stderr.strip()[-300:]}); "
                    f"run `apt-get update`, check access to Debian's archive, or put "
                    f"{pkg}_*.deb in {debs}"
                )
        found.append(have[-1])
    return found


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{path}:{st.st_size}:{int(st.st_mtime)}"


def _host_files() -> list[Path]:
    return [BUSYBOX, Path("/usr/bin/bash"), Path("/usr/sbin/xtables-nft-multi")]


def cache_key(engine: EngineBundle, debs: list[Path]) -> str:
    h = hashlib.sha256(BUILD_FORMAT.encode())
    for f in sorted(GUEST.iterdir()):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    for deb in debs:
        h.update(deb.name.encode())
    h.update(engine.version.encode())
    for name, path in engine.binaries:
        h.update(f"{name}={_stamp(path)}".encode())
    for path in _host_files():
        h.update(_stamp(path).encode())
    return h.hexdigest()[:16]


def for_engine(
    generation: str | None = None, cache: Path = VM_CACHE, kernel_meta: str = KERNEL_META
) -> VmImage:
    """The cached image for a Docker Engine generation (default: the lab's default), built if
    missing; the engine fetched into the lab's engine cache first if need be."""
    return ensure(engine_of(generation), cache, kernel_meta)


def ensure(
    engine: EngineBundle | None = None, cache: Path = VM_CACHE, kernel_meta: str = KERNEL_META
) -> VmImage:
    """The cached image for `engine` (default: the lab's default generation), built if missing.
    Raises ImageBuildError saying what to do; a failed build leaves nothing in the cache."""
    engine = engine or engine_of()
    kpkg = kernel_package(cache, kernel_meta)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        with flocked(cache / "build.lock", timeout=600.0):
            for stale in cache.glob(".build-*"):  # what a killed build left (we hold the lock)
                shutil.rmtree(stale, ignore_errors=True)
            debs = fetch_debs([kpkg, *DEBS], cache / "debs")
            key = cache_key(engine, debs)
            final = cache / f"image-{key}"
            if not (final / "manifest.json").is_file():
                _build(cache, final, engine, debs)
            return VmImage.load(final)
    except (OSError, ValueError, KeyError) as exc:
        raise ImageBuildError(_os_message(cache, exc)) from exc


def _os_message(cache: Path, exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.errno == 28:  # ENOSPC
        return (
            f"the lab cache {cache} is full ({exc}): the VM image needs about "
            f"{SPACE_NEEDED >> 20} MB; free space there (old images: rm -r "
            f"{cache}/image-*) and try again"
        )
    return f"cannot build the VM image under {cache}: {exc}"


def _build(cache: Path, final: Path, engine: EngineBundle, debs: list[Path]) -> None:
    free = shutil.disk_usage(cache).free
    if free < SPACE_NEEDED:
        raise ImageBuildError(
            f"the lab cache {cache} has {free >> 20} MB free; the VM image needs about "
            f"{SPACE_NEEDED >> 20} MB: free space there (old images: rm -r {cache}/image-*) "
            "and try again"
        )
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=cache))
    try:
        unpacked = work / "debs"
        for deb in debs:
            _run(["dpkg-deb", "-x", str(deb), str(unpacked)])
        out = work / "image"
        out.mkdir()
        root = work / "root"
        release = _lay_out_root(root, unpacked, engine)
        mods = root / "usr/lib/modules" / release
        have = [m for m in CAPABILITY_MODULES if any(mods.rglob(f"{m}.ko*"))]
        shutil.copyfile(unpacked / "boot" / f"vmlinuz-{release}", out / "vmlinuz")
        _initrd_modules(root / "usr/lib/modules" / release, out / "initrd-modules")
        with open(out / "rootfs.img", "wb") as fh:
            fh.truncate(DISK_BYTES)
        _run(["mkfs.ext4", "-q", "-F", "-L", "booklab", "-d", str(root), str(out / "rootfs.img")])
        manifest = {"kernel_release": release, "engine_version": engine.version, "modules": have}
        (out / "manifest.json").write_text(json.dumps(manifest) + "\n")
        shutil.rmtree(final, ignore_errors=True)
        out.rename(final)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _copy(src: Path, dst: Path, mode: int | None = None) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.is_symlink() or dst.exists():
        dst.unlink()
    shutil.copyfile(src, dst)
    os.chmod(dst, mode if mode is not None else (src.stat().st_mode & 0o7777))


def _libraries(binary: Path, extra_lib: Path) -> set[Path]:
    """Shared libraries a binary loads (ldd), as paths on this machine or in `extra_lib`."""
    env = {"PATH": SYSTEM_PATH, "LD_LIBRARY_PATH": str(extra_lib)}
    proc = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, env=env)
    found = set()
    for line in proc.stdout.splitlines():
        parts = line.split()
        if parts and parts[0].startswith("/"):
            # The interpreter, by the path the binary names: a binary relinked against a newer
            # libc (runner/lab/engines.py) names the bundle's, and ldd shows it `=> /lib64/...`.
            found.add(Path(parts[0]))
        if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
            found.add(Path(parts[2]))
    return found


def _lay_out_root(root: Path, unpacked: Path, engine: EngineBundle) -> str:
    """The guest's file system (merged /usr, as Debian's) in `root`; returns the kernel
    release."""
    for d in ("usr/bin", "usr/sbin", "usr/lib/x86_64-linux-gnu", "usr/lib64", "etc/init.d"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for link, points_to in (("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib")):
        (root / link).symlink_to(points_to)
    (root / "lib64").symlink_to("usr/lib64")
    for d in ("dev", "proc", "sys", "run", "tmp", "mnt", "root", "var/lib/docker", "var/log"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "var/run").symlink_to("../run")
    (root / "tmp").chmod(0o1777)
    (root / "root").chmod(0o700)
    # busybox and every applet (in /usr/bin and /usr/sbin); real binaries below replace some.
    _copy(BUSYBOX, root / "usr/bin/busybox", 0o755)
    applets = _run([str(BUSYBOX), "--list"]).split()
    for applet in applets:
        for d in ("usr/bin", "usr/sbin"):
            target = root / d / applet
            if not target.exists() and applet != "busybox":
                target.symlink_to("/usr/bin/busybox")
    extra_lib = unpacked / "usr/lib/x86_64-linux-gnu"
    binaries: list[tuple[Path, Path]] = [
        (path, root / "usr/bin" / name) for name, path in engine.binaries
    ]
    binaries += [
        (Path("/usr/bin/bash"), root / "usr/bin/bash"),
        (Path("/usr/sbin/xtables-nft-multi"), root / "usr/sbin/xtables-nft-multi"),
        (unpacked / "usr/sbin/dropbear", root / "usr/sbin/dropbear"),
    ]
    libs: set[Path] = set()
    for src, dst in binaries:
        _copy(src.resolve(), dst, 0o755)
        libs |= _libraries(src, extra_lib)
    xtables = Path("/usr/lib/x86_64-linux-gnu/xtables")  # iptables' extensions (dlopened)
    if xtables.is_dir():
        for ext in xtables.glob("*.so"):
            libs |= _libraries(ext, extra_lib)
        shutil.copytree(xtables, root / "usr/lib/x86_64-linux-gnu/xtables", symlinks=True)
    for lib in libs:
        # /lib/x86_64-linux-gnu/x.so and /lib64/ld-linux...: both live under usr/ in the guest.
        rel = str(lib).lstrip("/")
        if lib.is_relative_to(unpacked):
            rel = str(lib.relative_to(unpacked))
        if rel.startswith(("lib/", "lib64/")):
            rel = "usr/" + rel
        _copy(lib.resolve(), root / rel, 0o755)
    for name in IPTABLES_LINKS:
        target = root / "usr/sbin" / name
        if target.is_symlink() or target.exists():
            target.unlink()
        target.symlink_to("xtables-nft-multi")
    (root / "usr/bin/sh").unlink()
    (root / "usr/bin/sh").symlink_to("busybox")
    terminfo = Path("/lib/terminfo")  # bash's line editing over ssh -t
    if terminfo.is_dir():
        shutil.copytree(terminfo, root / "usr/lib/terminfo", symlinks=True)
    _guest_files(root)
    return _modules(root, unpacked)


def _guest_files(root: Path) -> None:
    _copy(GUEST / "inittab", root / "etc/inittab", 0o644)
    _copy(GUEST / "rcS", root / "etc/init.d/rcS", 0o755)
    _copy(GUEST / "rcK", root / "etc/init.d/rcK", 0o755)
    _copy(GUEST / "profile", root / "etc/profile", 0o644)
    _copy(GUEST / "modules", root / "etc/booklab-modules", 0o644)
    _copy(GUEST / "sudo", root / "usr/local/bin/sudo", 0o755)
    # docker is root's alias: `docker-machine ssh` logs in as docker with root's rights, as
    # the netns lab's shell does.
    (root / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\ndocker:x:0:0:docker:/home/docker:/bin/bash\n"
    )
    (root / "etc/shadow").write_text("root:*:19000:0:99999:7:::\ndocker:*:19000:0:99999:7:::\n")
    (root / "etc/shadow").chmod(0o600)
    (root / "etc/group").write_text("root:x:0:\ntty:x:5:\ndocker:x:999:\n")
    (root / "etc/shells").write_text("/bin/sh\n/bin/bash\n/usr/bin/bash\n")
    home = root / "home/docker"
    home.mkdir(parents=True)
    home.chmod(0o755)
    (home / ".inputrc").write_text("set enable-bracketed-paste off\n")
    (home / ".bash_profile").write_text(". /etc/profile\n")
    (root / "root/.bash_profile").write_text(". /etc/profile\n")
    (root / "etc/os-release").write_text(
        'PRETTY_NAME="Book lab VM (Debian kernel, busybox)"\nNAME="book-lab"\nID=book-lab\n'
    )


def _modules(root: Path, unpacked: Path) -> str:
    (release_dir,) = (unpacked / "lib/modules").iterdir()
    release = release_dir.name
    dest = root / "usr/lib/modules" / release
    for tree in MODULE_TREES:
        src = release_dir / tree
        if src.is_dir():
            shutil.copytree(src, dest / tree, dirs_exist_ok=True)
    for name in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
        if (release_dir / name).is_file():
            shutil.copyfile(release_dir / name, dest / name)
    _run([str(BUSYBOX), "depmod", "-b", str(root), release])
    return release


def module_deps(modules_dir: Path) -> dict[str, list[str]]:
    """modules.dep as module name -> [relative path of the module, then of its dependencies]."""
    deps: dict[str, list[str]] = {}
    for line in (modules_dir / "modules.dep").read_text().splitlines():
        head, _, rest = line.partition(":")
        if not head:
            continue
        name = Path(head).name.split(".ko")[0].replace("-", "_")
        deps[name] = [head, *rest.split()]
    return deps


def _initrd_modules(modules_dir: Path, out: Path) -> None:
    """The disk drivers and their dependencies, with the order to insmod them."""
    deps = module_deps(modules_dir)
    order: list[str] = []

    def visit(path: str) -> None:
        name = Path(path).name.split(".ko")[0].replace("-", "_")
        for dep in deps.get(name, [path])[1:]:
            visit(dep)
        if path not in order:
            order.append(path)

    for wanted in INITRD_MODULES:
        if wanted not in deps:
            raise ImageBuildError(f"kernel module {wanted} not found under {modules_dir}")
        visit(deps[wanted][0])
    out.mkdir()
    lines = []
    for path in order:
        src = Path(path) if Path(path).is_absolute() else modules_dir / path
        _copy(src, out / src.name, 0o644)
        lines.append(src.name)
    (out / "order").write_text("\n".join(lines) + "\n")
