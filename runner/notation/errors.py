from __future__ import annotations

from runner.model import Location


class NotationError(Exception):
    """Malformed notation in a chapter. Reported before any command runs (exit status 2)."""

    def __init__(self, loc: Location, message: str) -> None:
        super().__init__(f"{loc}: {message}")
        self.loc = loc
        self.message = message
