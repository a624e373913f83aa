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


_NEEDS = re.compile(r"[:;!?«»]|\d [a-zA-Z%]")
# A number and its unit stay on one line: « 40 s », « 250 ms », « 2 min », « 512 Mo ».
_UNIT = re.compile(r"(?<=\d) (?=(?:ms|s|min|h|Ko|Mo|Go|Kio|Mio|Gio|%)(?![\w-]))")


def french_spaces(text: str) -> str:
    """Plain text with French spacing: a blank before « : ; ! ? » becomes non-breaking (none
    is added where the author wrote none: `12:45`, `http://`); « » always get one inside."""
    if not _NEEDS.search(text):
        return text  # most text between two tags: nothing to do, and pages are long
    text = _UNIT.sub(NBSP, text)
    text = _BEFORE_COLON.sub(NBSP + ":", text)
    text = _BEFORE_TIGHT.sub(lambda m: NNBSP + m.group(1), text)
    text = _AFTER_OPEN.sub("«" + NBSP, text)
    return _BEFORE_CLOSE.sub(NBSP + "»", text)


# One pass: a literal element whole (its text stays as written), a tag (attributes untouched:
# `data-copy` holds commands), or text between tags, the only part respaced.
_PIECE = re.compile(
    r"(?P<literal><(?P<name>pre|code|kbd|samp|script|style|textarea)\b[^>]*>.*?</(?P=name)\s*>)"
    r"|(?P<comment><!--.*?-->)|(?P<tag><[^>]*>)|(?P<text>[^<]+)",
    re.S | re.I,
)


def _piece(match: re.Match[str]) -> str:
    text = match.group("text")
    return french_spaces(text) if text is not None else match.group(0)


def french_html(html: str) -> str:
    """`french_spaces` on the text of an HTML document, literal elements left alone."""
    return _PIECE.sub(_piece, html)
