"""The pages as readers see them, in a real headless Chromium, at a desktop (1400 px) and a
phone (390 px) width, in the light and the dark palette, after the page and its fonts loaded:
no console line cut or scrolling sideways, every mark readable (WCAG AA), nothing fetched from
another host, and no lab-only value on the clipboard. Run on the sample book and on the book
itself (built from its stored results, whatever their state)."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from runner.chapters import find_chapters
from runner.store import ResultStore
from tests.site.cdp import Browser
from tests.site.conftest import Build
from tests.site.test_copy_browser import _copy as copy_block

CHROMIUM = shutil.which("chromium")
ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]
WIDTHS = (1400, 390)
SCHEMES = ("default", "slate")  # Material's light and dark palettes

# Fonts loaded, then the palette's colour transitions over (computed styles lag behind them).
LOADED = """document.fonts.ready
  .then(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))))
  // a transition cut short by the next one (the palette switch) has ended too
  .then(() => Promise.all(document.getAnimations().map(a => a.finished.catch(() => null))))
  .then(() => 1)"""
# The rows of `docker node ls` tables: each taller than one line is a row that wrapped.
NODE_ROWS_WRAPPED = """(() => {
  const out = [];
  for (const code of document.querySelectorAll('.vb pre > code')) {
    const head = code.querySelector('.vb-l--head');
    if (!head || !head.textContent.includes('MANAGER STATUS')) continue;
    for (const row of code.querySelectorAll('.vb-l--head, .vb-l--row')) {
      const line = parseFloat(getComputedStyle(row).lineHeight);
      if (row.getBoundingClientRect().height > 1.5 * line) out.push(row.textContent.trim());
    }
  }
  return out;
})()"""
OVERFLOWING = """(() => {
  const out = [];
  for (const el of document.querySelectorAll('article pre, article pre > code')) {
    if (el.scrollWidth > el.clientWidth + 1) {
      const block = el.closest('[id]');
      out.push((block ? block.id : '?') + ': ' + el.textContent.trim().slice(0, 60));
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push('the page itself');
  return out;
})()"""
# Contrast of every mark the plugin draws, from the rendered styles: text colour composited
# over the backgrounds of the element and its ancestors (WCAG 2 relative luminance).
MARKS = (
    ".vb-mark__label, .vb-mark p, .vb-chapter p, .vb-chapter strong, .vb-chapter a, .vb-own,"
    " mark.vb-capture, .vb-l--note, .vb-l--key, .vb-l--exit, .vb-l--fold, .vb-more summary,"
    " .vb .go, .vb .gp, .vb-cmd, .labo > .admonition-title, .labo > p"
)
CONTRASTS = """(() => {
  const parse = c => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3]));
  const background = el => {
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.unshift(e);
    let colour = [255, 255, 255];
    for (const e of chain) {
      const b = parse(getComputedStyle(e).backgroundColor);
      if (b && b[3] > 0) colour = over(b, colour);
    }
    return colour;
  };
  const lum = c => {
    const a = c.map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2];
  };
  // What a reader sees: text in a closed <details> (« Mise en place ») keeps stale styles.
  return [...document.querySelectorAll(MARKS)]
      .filter(e => e.getClientRects().length && e.checkVisibility()).map(el => {
    const back = background(el);
    const fore = over(parse(getComputedStyle(el).color), back);
    const [l1, l2] = [lum(fore), lum(back)];
    return [el.className || el.tagName, el.textContent.trim().slice(0, 40),
            (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05)];
  });
})()""".replace("MARKS", repr(MARKS))


WAIT_FOR_BUTTONS = """new Promise(done => {
  const look = () => [...document.querySelectorAll('.vb')].every(
      b => b.querySelector('button[data-clipboard-target]')) ? done(true) : setTimeout(look, 20);
  look();
})"""
# Text under a block's copy button: every glyph run's box against the button's.
COVERED = """[...document.querySelectorAll('.vb')].flatMap(block => {
  const button = block.querySelector('button[data-clipboard-target]');
  if (!button) return [block.id + ': no copy button'];
  const b = button.getBoundingClientRect();
  const pre = block.querySelector('.highlight pre');
  const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
  const out = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (r.width && r.left < b.right && r.right > b.left && r.top < b.bottom && r.bottom > b.top)
        out.push(block.id + ': ' + node.textContent.trim().slice(0, 40));
    }
  }
  return out;
})"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def real_book(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The book itself, from its stored results (not strict: a chapter edited since its last
    verification is stale, and still has to read well)."""
    site = tmp_path_factory.mktemp("real") / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-f", str(ROOT / "mkdocs.yml"), "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return Build(ROOT, site, done.returncode, done.stdout + done.stderr)


@pytest.fixture(scope="module", params=["sample", "book"])
def site(request: pytest.FixtureRequest) -> Build:
    name = "built" if request.param == "sample" else "real_book"
    build: Build = request.getfixturevalue(name)
    return build


@pytest.fixture(scope="module")
def served(site: Build) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(site.site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(served: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Browser, str]]:
    assert CHROMIUM is not None
    chrome = Browser(CHROMIUM, tmp_path_factory.mktemp("profile"))
    try:
        target = chrome.send("Target.createTarget", url="about:blank")["targetId"]
        session = chrome.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        chrome.send("Page.enable", session)
        chrome.send("Network.enable", session)
        chrome.send(
            "Browser.grantPermissions",
            permissions=["clipboardReadWrite", "clipboardSanitizedWrite"],
            origin=served,
        )
        chrome.send("Emulation.setFocusEmulationEnabled", session, enabled=True)
        yield chrome, session
    finally:
        chrome.close()


def chapter_pages(site: Build) -> list[str]:
    """The URL paths of the pages that have console blocks."""
    return sorted(
        str(p.parent.relative_to(site.site)) + "/"
        for p in site.site.rglob("index.html")
        if 'class="vb vb--' in p.read_text(encoding="utf-8")
    )


def show(chrome: Browser, session: str, url: str, width: int, scheme: str) -> list[str]:
    """Open `url` at `width` in `scheme`; the hosts of every request the load made."""
    chrome.send(
        "Emulation.setDeviceMetricsOverride",
        session,
        width=width,
        height=900,
        deviceScaleFactor=1,
        mobile=width < 600,
    )
    chrome.events.clear()
    chrome.send("Page.navigate", session, url=url)
    chrome.wait_event("Page.loadEventFired")
    chrome.evaluate(session, LOADED)
    # Material's palette toggle does just this: the colours follow the body's attribute.
    chrome.evaluate(session, f"document.body.setAttribute('data-md-color-scheme', {scheme!r})")
    chrome.evaluate(session, LOADED)
    return [
        e["params"]["request"]["url"]
        for e in chrome.events
        if e.get("method") == "Network.requestWillBeSent"
    ]


def test_whole_lines_readable_marks_and_no_other_host(
    site: Build, served: str, browser: tuple[Browser, str]
) -> None:
    chrome, session = browser
    pages = chapter_pages(site)
    assert pages, "no page with console blocks"
    own = urlsplit(served).netloc
    problems: list[str] = []
    for path in pages:
        for width in WIDTHS:
            for scheme in SCHEMES:
                where = f"{path} at {width} px, {scheme}"
                urls = show(chrome, session, f"{served}/{path}", width, scheme)
                assert urls, f"{where}: no request seen (is the Network domain on?)"
                foreign = [
                    u
                    for u in urls
                    if urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc != own
                ]
                problems += [f"{where}: request to {u}" for u in foreign]
                cut = chrome.evaluate(session, OVERFLOWING)
                problems += [f"{where}: overflows: {c}" for c in cut]
                if width == 1400:  # the column holds a node table's row (about 100 characters)
                    wrapped = chrome.evaluate(session, NODE_ROWS_WRAPPED)
                    problems += [f"{where}: node table row wrapped: {r}" for r in wrapped]
                chrome.evaluate(session, WAIT_FOR_BUTTONS)
                covered = chrome.evaluate(session, COVERED)
                problems += [f"{where}: under the copy button: {c}" for c in covered]
                for kind, text, ratio in chrome.evaluate(session, CONTRASTS):
                    if ratio < 4.5:
                        problems.append(f"{where}: {kind} « {text} » contrast {ratio:.2f}:1")
    assert not problems, "\n".join(problems)


def captured_values(book: Path) -> set[str]:
    """Every value the stored runs captured that differs on a reader's machines."""
    store = ResultStore(folder=book / "verified", root=book)
    values: set[str] = set()
    for chapter in find_chapters([book / "docs"]):
        record = store.load(store.key(chapter))
        for run in (record.passing, record.latest):
            for block in run.blocks if run else ():
                for command in block.commands:
                    values.update(
                        v
                        for v in command.captures.values()
                        if len(v) >= 6 and v not in run.lab.nodes  # readers share node names
                    )
    return values


# A block in an engine tab other than the first is hidden until its tab is chosen, as a reader
# does: click that tab's radio (Material's content tabs).
SHOW_BLOCK = """(() => {
  const folded = document.getElementById(%r).closest('details');  // « Mise en place »
  if (folded) folded.open = true;
  const block = document.getElementById(%r).closest('.tabbed-block');
  if (!block) return;
  const set = block.closest('.tabbed-set');
  const index = [...block.parentElement.children].indexOf(block);
  set.querySelectorAll(':scope > input')[index].click();
})()"""


def test_the_copy_button_never_copies_a_lab_only_value(
    site: Build, served: str, browser: tuple[Browser, str]
) -> None:
    chrome, session = browser
    values = captured_values(site.book)
    assert values, "the stored runs captured nothing: this test would prove nothing"
    seen = 0
    for path in chapter_pages(site):
        show(chrome, session, f"{served}/{path}", 1400, "default")
        blocks = chrome.evaluate(session, "[...document.querySelectorAll('.vb')].map(b => b.id)")
        for block in blocks:
            chrome.evaluate(session, SHOW_BLOCK % (block, block))
            text = copy_block(chrome, session, block)  # a real click, as a reader copies
            assert text != "avant", f"{path}#{block}: the copy button copied nothing"
            leaked = [v for v in values if v in text]
            assert not leaked, f"{path}#{block} copies lab-only values {leaked}: {text!r}"
            seen += 1
    assert seen


TABLES_OVERFLOWING = """[...document.querySelectorAll(
    'article table, article .md-typeset__scrollwrap, article .md-typeset__table')]
  .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent.trim().slice(0, 60))"""


def test_the_report_reads_whole_on_a_phone(
    site: Build, served: str, browser: tuple[Browser, str]
) -> None:
    chrome, session = browser
    for width in WIDTHS:
        show(chrome, session, f"{served}/rapport-verification/", width, "default")
        assert chrome.evaluate(session, "document.querySelectorAll('article table').length") >= 3
        assert chrome.evaluate(session, TABLES_OVERFLOWING) == [], f"at {width} px"
        assert chrome.evaluate(session, OVERFLOWING) == [], f"at {width} px"
