"""Chapters run with `-j N` take turns on the vm lab (its VMs are CPU-bound under TCG)."""

from __future__ import annotations

import threading

import pytest

from runner.cli import Together
from runner.run.batch import Cancelled


def test_a_second_vm_chapter_waits_until_the_first_releases_the_slot() -> None:
    together = Together()
    said: list[str] = []
    together.take_vm_slot(None, lambda: said.append("first"))
    assert said == []  # the slot was free: nothing to say
    got = threading.Event()

    def second() -> None:
        together.take_vm_slot(None, lambda: said.append("second waits"))
        got.set()

    thread = threading.Thread(target=second)
    thread.start()
    assert not got.wait(1.0)  # still held by the first
    assert said == ["second waits"]
    together.vm_slot.release()
    thread.join()
    assert got.is_set()


def test_waiting_for_the_slot_ends_when_the_run_is_cancelled() -> None:
    together = Together()
    together.take_vm_slot(None, lambda: None)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled, match="waiting for the vm lab"):
        together.take_vm_slot(cancel, lambda: None)
