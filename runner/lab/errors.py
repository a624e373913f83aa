"""The lab's exceptions, in one place, so that callers catch one base class."""

from __future__ import annotations


class LabError(Exception):
    """The lab cannot be had here (not root, no dockerd, no kernel support...).

    The message says what is missing and what to run. The CLI exits 2 on it.
    """


class LabFault(Exception):
    """A lab component failed while working (a node, an engine, the network, TLS, images).

    Its message is for the person at the terminal; the lab turns it into a LabError when it
    happens while the lab is being made."""
