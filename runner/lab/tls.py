"""TLS the way docker-machine sets it up: a CA and a client certificate per lab
(`certs/ca.pem`, `cert.pem`, `key.pem`), a server certificate per node for its IP, and copies of
the client files in `machines/<name>/` (that folder is DOCKER_CERT_PATH).

EC P-256 keys rather than docker-machine's RSA 2048: the engine and the client accept both, and
EC keys are made in milliseconds, which keeps `lab up` fast.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path

from runner.lab.errors import LabFault

DAYS = "3650"


class TlsError(LabFault):
    pass


def _openssl(*args: str, stdin: str | None = None) -> None:
    proc = subprocess.run(["openssl", *args], capture_output=True, text=True, input=stdin)
    if proc.returncode != 0:
        raise TlsError(f"openssl {args[0]}: {proc.stderr.strip()}")


EC_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")


def make_ca_and_client(certs: Path, org: str) -> None:
    certs.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req", "-x509", *EC_KEY, "-keyout", str(certs / "ca-key.pem"),
        "-out", str(certs / "ca.pem"), "-days", DAYS, "-subj", f"/O={org}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    )  # fmt: skip
    (certs / "ca-key.pem").chmod(0o600)
    _sign(certs, certs / "cert.pem", certs / "key.pem", f"/O={org}", "extendedKeyUsage=clientAuth")


def _sign(certs: Path, cert: Path, key: Path, subject: str, *extensions: str) -> None:
    """A new key and its certificate signed by the lab CA, in one openssl call (OpenSSL 3)."""
    ext_args = []
    for ext in (
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        *extensions,
    ):
        ext_args += ["-addext", ext]
    _openssl(
        "req", "-x509", "-CA", str(certs / "ca.pem"), "-CAkey", str(certs / "ca-key.pem"),
        *EC_KEY, "-keyout", str(key), "-out", str(cert), "-days", DAYS, "-subj", subject,
        "-set_serial", str(secrets.randbits(62)), *ext_args,
    )  # fmt: skip
    key.chmod(0o600)


def make_server(certs: Path, out_dir: Path, name: str, ip: str, org: str) -> None:
    """server.pem/server-key.pem for a node answering at `ip` (and localhost inside it)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _sign(
        certs,
        out_dir / "server.pem",
        out_dir / "server-key.pem",
        # X.509 caps each subject field at 64 characters; names up to that fit in CN.
        f"/O={org}/CN={name}",
        "extendedKeyUsage=serverAuth",
        f"subjectAltName=IP:{ip},IP:127.0.0.1,DNS:localhost,DNS:{name}",
    )
    shutil.copyfile(certs / "ca.pem", out_dir / "ca.pem")


def copy_client(certs: Path, machine_dir: Path) -> None:
    machine_dir.mkdir(parents=True, exist_ok=True)
    for name in ("ca.pem", "cert.pem", "key.pem"):
        shutil.copyfile(certs / name, machine_dir / name)
    (machine_dir / "key.pem").chmod(0o600)
