"""In a real headless Chromium: the copy button puts the commands only on the clipboard."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.site.cdp import Browser
from tests.site.conftest import Build
from tests.site.fixtures.results import CID

CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]

# Resolves once Material's script has added the copy button to the block.
WAIT_FOR_BUTTON = """new Promise(done => {
  const look = () => document.querySelector('#%s button[data-clipboard-target]')
    ? done(true) : setTimeout(look, 20);
  look();
})"""
CENTRE = """(() => {
  const e = document.querySelector(%r);
  e.scrollIntoView({block: 'center'});
  const r = e.getBoundingClientRect();
  return [r.x + r.width / 2, r.y + r.height / 2];
})()"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(built: Build) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(built.site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(served: str, tmp_path: Path) -> Iterator[tuple[Browser, str]]:
    assert CHROMIUM is not None
    browser = Browser(CHROMIUM, tmp_path / "profile")
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        browser.send("Page.enable", session)
        browser.send(
            "Browser.grantPermissions",
            permissions=["clipboardReadWrite", "clipboardSanitizedWrite"],
            origin=served,
        )
        browser.send("Emulation.setFocusEmulationEnabled", session, enabled=True)
        yield browser, session
    finally:
        browser.close()


def _open(browser: Browser, session: str, url: str) -> None:
    browser.send("Page.navigate", session, url=url)
    browser.wait_event("Page.loadEventFired")


def _click(browser: Browser, session: str, selector: str) -> None:
    x, y = browser.evaluate(session, CENTRE % selector)
    for kind in ("mousePressed", "mouseReleased"):
        browser.send(
            "Input.dispatchMouseEvent", session, type=kind, x=x, y=y, button="left", clickCount=1
        )


def _copy(browser: Browser, session: str, block: str) -> str:
    browser.evaluate(session, "navigator.clipboard.writeText('avant')")
    browser.evaluate(session, WAIT_FOR_BUTTON % block)
    _click(browser, session, f"#{block} button[data-clipboard-target]")
    text = browser.evaluate(session, "navigator.clipboard.readText()")
    assert isinstance(text, str)
    return text


def test_copy_button_copies_commands_only(page: tuple[Browser, str], served: str) -> None:
    browser, session = page
    _open(browser, session, f"{served}/01-premiers-pas/")
    assert _copy(browser, session, "bloc-3") == (
        "docker inspect --format '{{.State.Status}}' <CID>\ndocker logs web"
    )  # no prompt, no output, no folded lines; the lab's value becomes a placeholder
    assert CID not in _copy(browser, session, "bloc-2")
    assert _copy(browser, session, "bloc-5") == "docker logs -f web"  # not `^C`
    # The folded lines open on a click (or a tap), in place.
    folded = "getComputedStyle(document.querySelector('#bloc-3 .vb-folded')).display"
    assert browser.evaluate(session, folded) == "none"
    _click(browser, session, "#bloc-3 label.vb-l--fold")
    assert browser.evaluate(session, folded) == "inline"
    # The `<script>` that a command printed is text on the page; it never ran.
    shown = browser.evaluate(session, "document.querySelector('#bloc-4 code').textContent")
    assert '<script>alert("pwned")</script>' in shown
    assert not any(e.get("method") == "Page.javascriptDialogOpening" for e in browser.events)

    _open(browser, session, f"{served}/02-machines/")
    assert _copy(browser, session, "bloc-1") == (
        "docker-machine ssh node-01\nhostname\nexit\necho retour"
    )
