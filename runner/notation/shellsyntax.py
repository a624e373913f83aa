"""Just enough of bash's lexing to tell whether a command line is unfinished (pure).

Bash keeps reading while a quote, a `$(`, a here-document or a compound command (`for ...
done`, `if ... fi`, `case ... esac`, `{ ... }`) is open, after a trailing backslash, and after
a trailing `|`, `&&` or `||`; transcripts show those continuation lines behind `> `.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEREDOC = re.compile(r"<<(-?)[ \t]*(?:'([^']+)'|\"([^\"]+)\"|\\?([A-Za-z_][\w.-]*))")
_WORD = re.compile(r"[^\s;&|()<>'\"`$\\]+")
# Reserved words that open or close a compound command, when they start a command.
_OPENS = {"if": "fi", "case": "esac", "for": "done", "while": "done", "until": "done",
          "select": "done", "{": "}"}  # fmt: skip
_CLOSES = {"fi", "esac", "done", "}"}
# After these, the next word starts a command again.
_KEEPS_COMMAND = {"do", "then", "else", "elif", "if", "while", "until", "!", "{", "time"}
_SEPARATORS = ";&|("


@dataclass
class LineReader:
    # Open contexts, innermost last: "'", '"', "$'" (ANSI-C), "`", "(" (subshell or `$(`).
    stack: list[str] = field(default_factory=list)
    compound: list[str] = field(default_factory=list)  # closers awaited: "done", "fi", ...
    heredocs: list[tuple[str, bool]] = field(default_factory=list)  # (word, strip tabs) to read
    continued: bool = False  # the last line asked for more (backslash, pipe, &&, ||)

    @property
    def unfinished(self) -> bool:
        return bool(self.stack or self.compound or self.heredocs) or self.continued

    @property
    def continued_only(self) -> bool:
        """Only a trailing backslash or operator keeps it open (no quote, heredoc, compound)."""
        return self.continued and not (self.stack or self.compound or self.heredocs)

    @property
    def in_heredoc(self) -> bool:
        return bool(self.heredocs) and not self.stack and not self.continued

    def feed(self, line: str) -> None:
        if self.in_heredoc:
            word, strip_tabs = self.heredocs[0]
            if (line.lstrip("\t") if strip_tabs else line) == word:
                self.heredocs.pop(0)
            return
        self.continued = False
        pending: list[tuple[str, bool]] = []
        at_command = not self.stack  # a new line in a compound starts a command
        i, n = 0, len(line)
        code_end = n  # where a comment starts: a `|` before it still continues the line
        while i < n:
            ch = line[i]
            top = self.stack[-1] if self.stack else None
            if top == "'":
                if ch == "'":
                    self.stack.pop()
            elif top == "$'":
                if ch == "\\":
                    i += 1
                elif ch == "'":
                    self.stack.pop()
            elif top in ('"', "`"):
                if ch == "\\":
                    i += 1
                elif ch == top:
                    self.stack.pop()
                elif ch == "$" and line.startswith("$(", i):
                    self.stack.append("(")
                    i += 1
                elif ch == "`":
                    self.stack.append("`")
            elif ch == "\\":
                if i == n - 1:
                    self.continued = True
                i += 2
                continue
            elif ch in "'\"`":
                self.stack.append(ch)
                at_command = False
            elif line.startswith("$'", i):
                self.stack.append("$'")
                i += 1
                at_command = False
            elif ch == "(":
                self.stack.append("(")
                at_command = True
            elif ch == ")":
                if top == "(":
                    self.stack.pop()
                at_command = False
            elif ch == "#" and (i == 0 or line[i - 1] in " \t;|&("):
                code_end = i
                break  # a comment runs to the end of the line
            elif line.startswith("<<<", i):  # a here-string: no document follows
                i += 3
                continue
            elif line.startswith("<<", i):
                match = _HEREDOC.match(line, i)
                if match:
                    word = match.group(2) or match.group(3) or match.group(4) or ""
                    pending.append((word, match.group(1) == "-"))
                    i = match.end()
                    continue
            elif ch in _SEPARATORS:
                at_command = True
            elif not ch.isspace():
                word_match = _WORD.match(line, i)
                if word_match is not None:
                    word = word_match.group(0)
                    if at_command and not self.stack:
                        self._reserved(word)
                    at_command = at_command and word in _KEEPS_COMMAND
                    i = word_match.end()
                    continue
                at_command = False
            i += 1
        self.heredocs += pending
        stripped = line[:code_end].rstrip()
        if not self.stack and re.search(r"(\|\||&&|\|)$", stripped):
            self.continued = True

    def _reserved(self, word: str) -> None:
        if word in _OPENS:
            self.compound.append(_OPENS[word])
        elif word in _CLOSES and self.compound and self.compound[-1] == word:
            self.compound.pop()
