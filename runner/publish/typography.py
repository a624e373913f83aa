"""French typography for what the site and the handouts publish (pure): the non-breaking
spaces that keep « : ; ! ? » on the line of the word before them, and « » around their words.

Applied to whole HTML pages, text only: never inside tags' attributes, nor in `pre`, `code`,
`kbd`, `samp`, `script`, `style` or `textarea`, where text is literal.
"""

from __future__ import annotations

import re

NBSP = "\u00a0"  # before « : » and inside « »
NNBSP = "\u202f"  # thin, before « ; ! ? »

_BEFORE_COLON = re.compile(r"[ \u00a0\u202f]+:(?=\s|$|[)»\]<])")
_BEFORE_TIGHT = re.compile(r"[ \u00a0\u202f]+([;!?])(?=\s|$|[)»\]<.!?])")
_AFTER_OPEN = re.compile(r"«[ \u00a0\u202f]*")
_BEFORE_CLOSE = re.compile(r"[ \u00a0\u202f]*»")


def french_spaces(text: str) -> str:
    """Plain text with French spacing: a blank before « : ; ! ? » becomes non-breaking (none
    is added where the author wrote none: `12:45`, `http://`); « » always get one inside."""
    text = _BEFORE_COLON.sub(NBSP + ":", text)
    text = _BEFORE_TIGHT.sub(lambda m: NNBSP + m.group(1), text)
    text = _AFTER_OPEN.sub("«" + NBSP, text)
    return _BEFORE_CLOSE.sub(NBSP + "»", text)


_LITERAL = ("pre", "code", "kbd", "samp", "script", "style", "textarea")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(/?)>|<!--.*?-->|<![^>]*>", re.S)


def french_html(html: str) -> str:
    """`french_spaces` on the text of an HTML document, literal elements left alone."""
    out: list[str] = []
    pos = 0
    literal: list[str] = []  # open literal elements, innermost last
    for match in _TAG.finditer(html):
        text = html[pos : match.start()]
        out.append(text if literal else french_spaces(text))
        out.append(match.group(0))
        pos = match.end()
        closing, name = match.group(1), (match.group(2) or "").lower()
        if name not in _LITERAL or match.group(3):
            continue
        if closing:
            if literal and literal[-1] == name:
                literal.pop()
        else:
            literal.append(name)
    tail = html[pos:]
    out.append(tail if literal else french_spaces(tail))
    return "".join(out)
