"""Just enough of bash's lexing to tell whether a command line is unfinished (pure).

Bash keeps reading while a quote or a here-document is open, after a trailing backslash, and
after a trailing `|`, `&&` or `||`; transcripts show those continuation lines behind `> `.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEREDOC = re.compile(r"<<(-?)[ \t]*(?:'([^']+)'|\"([^\"]+)\"|\\?([A-Za-z_][\w.-]*))")


@dataclass
class LineReader:
    quote: str | None = None  # the open quote, if any
    heredocs: list[tuple[str, bool]] = field(default_factory=list)  # (word, strip tabs) to read
    continued: bool = False  # the last line asked for more (backslash, pipe, &&, ||)

    @property
    def unfinished(self) -> bool:
        return self.quote is not None or bool(self.heredocs) or self.continued

    @property
    def in_heredoc(self) -> bool:
        return self.quote is None and bool(self.heredocs) and not self.continued

    def feed(self, line: str) -> None:
        if self.in_heredoc:
            word, strip_tabs = self.heredocs[0]
            if (line.lstrip("\t") if strip_tabs else line) == word:
                self.heredocs.pop(0)
            return
        self.continued = False
        pending: list[tuple[str, bool]] = []
        i = 0
        n = len(line)
        while i < n:
            ch = line[i]
            if self.quote == "'":
                if ch == "'":
                    self.quote = None
            elif ch == "\\":
                if i == n - 1:
                    self.continued = True
                i += 2
                continue
            elif self.quote == '"':
                if ch == '"':
                    self.quote = None
            elif ch in "'\"":
                self.quote = ch
            elif ch == "#" and (i == 0 or line[i - 1] in " \t;|&("):
                break  # a comment runs to the end of the line
            elif line.startswith("<<", i) and not line.startswith("<<<", i):
                match = _HEREDOC.match(line, i)
                if match:
                    word = match.group(2) or match.group(3) or match.group(4) or ""
                    pending.append((word, match.group(1) == "-"))
                    i = match.end()
                    continue
            i += 1
        self.heredocs += pending
        stripped = line.rstrip()
        if self.quote is None and re.search(r"(\|\||&&|\|)$", stripped):
            self.continued = True
