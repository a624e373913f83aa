"""Does a command only look, or does it change what a reader has? (pure, conservative)

Two uses: a `hidden` block may only check or wait, so a command known to change state is
refused there; and a chapter that `starts-from` another gets that chapter's commands minus
those known to only look (an unknown command is kept: running one too many is safe, hiding
one is not).
"""

from __future__ import annotations

import re
from typing import Literal

Effect = Literal["looks", "changes", "unknown"]

# `docker GROUP VERB` and `docker VERB` that only read.
_DOCKER_LOOKS = {
    "ps", "images", "inspect", "logs", "version", "info", "top", "stats", "history", "port",
    "diff", "events", "search",
}  # fmt: skip
_DOCKER_GROUP_LOOKS = {"ls", "ps", "inspect", "logs", "list", "df", "info"}
_MACHINE_LOOKS = {"ls", "ip", "url", "status", "inspect", "config", "active", "version", "env"}
_SHELL_LOOKS = {
    "cat", "ls", "echo", "printf", "hostname", "grep", "sort", "head", "tail", "wc", "test",
    "[", "[[", "true", "false", "sleep", "date", "uname", "id", "pwd", "which", "type", "ping",
    "nslookup", "dig", "host", "jq", "seq", "printenv", "uniq", "cut", "tr", "awk", "sed",
    "less", "more", "file", "stat", "du", "df", "free", "ip", "ss", "netstat", "nc", "time",
    "watch", "diff", "cmp", "md5sum", "sha256sum", "base64", "basename", "dirname", "whoami",
}  # fmt: skip
_SHELL_CHANGES = {
    "eval", "export", "cd", "pushd", "popd", "source", ".", "unset", "alias", "rm", "rmdir",
    "mkdir", "touch", "mv", "cp", "tee", "chmod", "chown", "ln", "kill", "pkill", "apt-get",
    "apt", "pip", "wget", "git", "systemctl", "service", "mount", "umount", "dd", "truncate",
    "shutdown", "reboot", "useradd", "docker-compose", "read", "set", "shopt", "ulimit",
    "umask",
}  # fmt: skip
_WRAPPERS = {"sudo", "time", "nohup", "command", "exec"}
_KEYWORDS = {"do", "done", "then", "else", "elif", "fi", "{", "}", "(", ")", "!", "esac"}
_SUBST = re.compile(r"\$\((?:[^()]|\([^()]*\))*\)|`[^`]*`")
_QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\\\]|\\\\.)*\"")
_SEPARATORS = re.compile(r"\|\||&&|[;|&\n]")
# `2>&1`, `>&2`, `<&3`, `>&-`: one descriptor made another, no file written; its `&` is no `&`.
_DUPLICATE = re.compile(r"\d*[<>]&(?:\d+|-)")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_REDIRECT = re.compile(r"(?<![<>&0-9])\d?>>?\s*(?!&|/dev/null\b)(\S+)")


def effect(command: str) -> Effect:
    """What typing `command` does, as far as can be told from its words."""
    # `$(...)` only feeds arguments (docker-machine ip, join-token -q): judge the outer words.
    text = _SUBST.sub("SUBST", command.replace("\\\n", " "))
    text = _QUOTED.sub("QUOTED", text)  # quoted `>`, `;` or `|` are text, not shell syntax
    text = _DUPLICATE.sub(" ", text)
    verdicts = [_simple(part) for part in _SEPARATORS.split(text)]
    verdicts = [v for v in verdicts if v is not None]
    if "changes" in verdicts:
        return "changes"
    if verdicts and all(v == "looks" for v in verdicts):
        return "looks"
    return "unknown"


def _simple(part: str) -> Effect | None:
    if _REDIRECT.search(part):
        return "changes"  # writes a file
    words = part.split()
    while words and words[0] in _KEYWORDS:
        words = words[1:]
    if not words:
        return None
    if words[0] in ("for", "select", "case"):
        return None  # the loop's head: its body is judged part by part
    if words[0] in ("while", "until", "if"):
        words = words[1:]
    if words and all(_ASSIGNMENT.match(w) for w in words):
        return "changes"  # sets a shell variable that later commands use
    while words and (_ASSIGNMENT.match(words[0]) or words[0] in _WRAPPERS):
        words = words[1:]
    if not words:
        return None
    name, args = words[0], [w for w in words[1:] if not w.startswith("-")]
    if name == "docker":
        return _docker(args, words)
    if name == "docker-machine":
        if args[:1] == ["ssh"]:
            rest = " ".join(words[words.index("ssh") + 2 :])
            return effect(rest) if rest else "looks"  # an interactive shell: judged line by line
        return "looks" if args[:1] and args[0] in _MACHINE_LOOKS else "changes"
    if name == "curl":
        writes = {"-X", "-d", "--data", "-o", "-O", "--request", "-T", "-F"}
        return "changes" if writes & set(words) else "looks"
    if name in _SHELL_LOOKS:
        return "looks"
    if name in _SHELL_CHANGES:
        return "changes"
    return "unknown"


def _docker(args: list[str], words: list[str]) -> Effect:
    if not args:
        return "looks"
    if args[0] in _DOCKER_LOOKS:
        return "looks"
    if args[0] == "swarm" and args[1:2] == ["join-token"]:
        return "changes" if "--rotate" in words else "looks"
    if len(args) > 1 and args[1] in _DOCKER_GROUP_LOOKS:
        return "looks"
    return "changes"
