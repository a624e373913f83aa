"""French wording shared by the site and the handouts: dates, durations, plurals, labs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from runner.records import LabInfo

_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip

_PROVIDERS = {
    "netns": "laboratoire local",
    "vm": "laboratoire de machines virtuelles locales (QEMU)",
    "machine": "docker-machine",
    "none": "sans laboratoire",
}


def parse_time(iso: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def date_fr(iso: str, with_time: bool = True) -> str:
    """'27 novembre 2026 à 12:45 UTC' from an ISO 8601 time; the raw text if unreadable."""
    moment = parse_time(iso)
    if moment is None:
        return iso
    moment = moment.astimezone(UTC)
    day = "1er" if moment.day == 1 else str(moment.day)
    text = f"{day} {_MONTHS[moment.month - 1]} {moment.year}"
    return f"{text} à {moment:%H:%M} UTC" if with_time else text


def duration_fr(seconds: float) -> str:
    # Round first, then pick the unit: 59.96 s is "1 min 00 s", not "60,0 s".
    if round(seconds * 1000) < 1000:
        return f"{seconds * 1000:.0f} ms"
    if round(seconds, 1) < 60:
        return f"{seconds:.1f} s".replace(".", ",")
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count <= 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def join_fr(items: list[str]) -> str:
    """'a, b et c'."""
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " et " + items[-1]


_BOUNDS = {
    ">=": "{v} et suivantes",
    ">": "postérieures à {v}",
    "<=": "{v} et antérieures",
    "<": "antérieures à {v}",
    "==": "{v}",
}


def engines_fr(text: str | None) -> str:
    """'les versions 26 et suivantes' from an `engines=">=26"` option as written."""
    parts, ops = [], []
    for part in (text or "").split(","):
        part = part.strip()
        op = next((o for o in (">=", "<=", "==", ">", "<") if part.startswith(o)), "==")
        value = part[len(op) :].strip() if part.startswith(op) else part
        parts.append(_BOUNDS[op].format(v=value))
        ops.append(op)
    if not parts:
        return ""
    if ops == ["=="]:
        return "la version " + parts[0]
    return "les versions " + ", ".join(parts)


def provider_fr(lab: LabInfo) -> str:
    return _PROVIDERS.get(lab.provider, lab.provider)


def lab_fr(lab: LabInfo) -> str:
    """'laboratoire local, 4 nœuds (node-01 à node-04)' or 'sans laboratoire'."""
    text = provider_fr(lab)
    if len(lab.nodes) > 2:
        text += f", {len(lab.nodes)} nœuds ({lab.nodes[0]} à {lab.nodes[-1]})"
    elif lab.nodes:
        text += f", {plural(len(lab.nodes), 'nœud')} ({' et '.join(lab.nodes)})"
    return text


_RELEASE = re.compile(r"v?(\d+(?:\.\d+)*)")


def release(version: str | None) -> str | None:
    """'20.10.24' from '20.10.24+dfsg1' or 'v20.10.24': the part readers recognise."""
    found = _RELEASE.match(version or "")
    return found.group(1) if found else (version or None)


def engine_fr(lab: LabInfo) -> str:
    version = release(lab.engine_version)
    return f"Docker {version}" if version else "sans Docker"


def client_fr(lab: LabInfo) -> str | None:
    version = release(lab.client_version)
    return f"client Docker {version}" if version else None


def wait_fr(seconds: float) -> str:
    """'environ 40 s', 'environ 2 min': a wait as a reader plans for it, never to the tenth."""
    if seconds < 60:
        return f"environ {max(5, round(seconds / 5) * 5)} s"
    minutes = round(seconds / 30) / 2
    text = f"{minutes:g}".replace(".", ",")
    return f"environ {text} min"


# What a missing lab capability (`requires=`) means for a reader.
_CAPABILITIES = {
    "ipvs": (
        "le noyau du laboratoire de vérification n'a pas IPVS, dont le routing mesh de Swarm a "
        "besoin pour répondre sur les ports publiés (VirtualBox l'a)"
    ),
    "overlay": "réseau overlay (VXLAN) indisponible",
}


def capability_fr(name: str) -> str:
    return _CAPABILITIES.get(name, f"capacité « {name} » absente du laboratoire de vérification")


def requires_fr(requires: tuple[str, ...], raw: str) -> str:
    """Why a `requires=` block was skipped, in French. `raw` is the runner's reason, one
    `name: why` per missing capability; when it names none, all of `requires` are listed."""
    missing = [name for name in requires if f"{name}:" in raw] or list(requires)
    return " ; ".join(capability_fr(name) for name in missing)


def blocked_fr(session: str) -> str:
    return (
        f"la session « {session} » a été perdue plus tôt dans cette vérification "
        "(voir le bloc en échec) ; ce bloc n'a pas été exécuté"
    )
