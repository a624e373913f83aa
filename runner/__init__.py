"""Verify console transcripts in Markdown chapters, on real shells and a real Docker lab."""

__version__ = "0.1.0"
