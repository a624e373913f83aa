"""The chapter notation: find console blocks and parse them.

Pure: no I/O beyond reading the chapter file.
"""

from runner.notation.chapter import DEFAULT_TIMEOUT, parse_chapter
from runner.notation.errors import NotationError

__all__ = ["DEFAULT_TIMEOUT", "NotationError", "parse_chapter"]
