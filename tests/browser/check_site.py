"""Open the built site in headless Chromium and check what a reader meets (``nox -s browser``).

Usage::

    python tests/browser/check_site.py [--html docs/_build/html]
        [--screenshots docs/_build/screenshots] [--chromium /usr/bin/chromium]

The site is served from a local HTTP server on 127.0.0.1 and opened in the system's
Chromium (Debian's ``chromium`` package; no browser is downloaded), driven by Playwright,
with the flags :data:`FLAGS` and a fresh user-data directory. The checks:

* **offline**: no built HTML, CSS or SVG file loads a resource from another host
  (``<script src>``, ``<link href>``, ``<img src>``, ``url(...)``, ...), and while the
  pages are open every request to a host other than the local server is refused and
  reported;
* on **every page**: no console error and no uncaught exception; every diagram (Graphviz
  ``<object>`` or ``<img>``) loads as an SVG document with a non-zero size, and every
  inline SVG picture (``claims:scenario``) has a non-zero size; no raw DOT text is shown;
* **search**: typing the query (default "claim set") in the search box and pressing
  Enter lists the page about installing claim sets;
* **rule anchors**: for every rule of :data:`spec.RULES`, the page that renders it has an
  element whose id is the rule ID, opening ``page.html#<id>`` scrolls that rule into
  view, and the ``rule/<id>.html`` permalink lands there too;
* **screenshots**: light and dark (``prefers-color-scheme`` and furo's ``data-theme``)
  of the pages of :data:`SCREENSHOT_PAGES` (the index, redeeming, differences and the
  three v8 pages), saved under ``--screenshots``.

It prints one line per failed check and closes with ``N passed, N failed``; the exit
status is 1 when a check failed.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
"""Chromium's flags: no sandbox (root in CI), no GPU, and nothing that calls home."""

SCREENSHOT_PAGES = (
    "index",
    "redeeming",
    "differences",
    "what-v8-changes",
    "hypercalls/XEN_DOMCTL_set_memory_claims",
    "hypercalls/XEN_DOMCTL_get_memory_claims",
)
MAX_SCREENSHOT_HEIGHT = 16000

RESOURCE = re.compile(
    r"""<(?:script|img|iframe|source|audio|video|embed|input)\b[^>]*\bsrc\s*=\s*["']?([^"'\s>]+)"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?([^"'\s>]+)"""
    r"""|<object\b[^>]*\bdata\s*=\s*["']?([^"'\s>]+)"""
    r"""|<image\b[^>]*\bhref\s*=\s*["']?([^"'\s>]+)"""
    r"""|url\(\s*["']?([^"')\s]+)"""
    r"""|@import\s+["']([^"']+)""",
    re.IGNORECASE,
)
"""Attributes and CSS that make a browser fetch something (``<a href>`` does not)."""

REDIRECT = re.compile(r'<meta\s+http-equiv="refresh"', re.IGNORECASE)
LINK_NOT_FETCHED = re.compile(r'\brel\s*=\s*["\']?(?:canonical|alternate|author|license)\b')


def is_external(url: str) -> bool:
    """Whether loading *url* leaves the site (a scheme-relative or absolute http(s) URL)."""
    return url.startswith("//") or bool(re.match(r"(?i)https?:", url))


def external_resources(html_dir: Path) -> list[tuple[str, str]]:
    """``(file, url)`` for every resource of the built site that comes from another host."""
    found = []
    for path in sorted(html_dir.rglob("*")):
        if path.suffix not in {".html", ".css", ".svg", ".js"} or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        for match in RESOURCE.finditer(text):
            url = next(g for g in match.groups() if g is not None)
            tag = match.group(0)
            whole_tag = text[match.start() : text.find(">", match.start()) + 1]
            if match.group(2) is not None and LINK_NOT_FETCHED.search(whole_tag):
                continue
            if is_external(url) and not (path.suffix == ".js" and not tag.startswith("url(")):
                found.append((str(path.relative_to(html_dir)), url))
    return found


@dataclass
class Report:
    """Checks that passed and failed, each with a one-line description."""

    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed.append(what)
        else:
            self.failed.append(f"{what}: {detail}" if detail else what)
            print(f"FAILED {what}{': ' + detail if detail else ''}", flush=True)
        return ok

    def summary(self) -> str:
        return f"{len(self.passed)} passed, {len(self.failed)} failed"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)  # a browser that went away is fine


@contextmanager
def serve(html_dir: Path) -> Iterator[str]:
    """Serve *html_dir* on a free port of 127.0.0.1; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


PICTURES_JS = """() => {
  const out = [];
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const size = (el) => { const r = el.getBoundingClientRect(); return [r.width, r.height]; };
  for (const el of document.querySelectorAll('object')) {
    const doc = el.contentDocument;
    const root = doc && doc.documentElement;
    out.push({kind: 'object', src: el.getAttribute('data'), size: size(el),
              svg: !!root && root.localName === 'svg' && root.namespaceURI === SVG_NS,
              inner: root && root.localName === 'svg' ? size(root) : [0, 0]});
  }
  for (const el of document.querySelectorAll('img')) {
    const src = el.getAttribute('src') || '';
    out.push({kind: 'img', src: src, size: size(el),
              svg: /\\.svg(\\?|#|$)/i.test(src) && el.complete && el.naturalWidth > 0,
              inner: [el.naturalWidth, el.naturalHeight]});
  }
  for (const el of document.querySelectorAll('article svg')) {
    if (el.closest('a.headerlink, button, .icon, .theme-toggle')) continue;
    if (el.parentElement && el.parentElement.closest('svg')) continue;
    if (el.querySelector('symbol') && !el.querySelector('rect, path, text, g')) continue;
    const panel = el.closest('.claims-tab-panel');  // a picture in a tab: show its tab
    if (panel) {
      const panels = Array.from(panel.parentElement.querySelectorAll(':scope > .claims-tab-panel'));
      panel.parentElement.querySelectorAll(':scope > input')[panels.indexOf(panel)].checked = true;
    }
    out.push({kind: 'svg', src: el.getAttribute('class') || 'inline svg', size: size(el),
              svg: true, inner: size(el)});
  }
  return out;
}"""


OBJECTS_LOADED_JS = """async () => {
  // each <object> has loaded its data (or failed to): wait for its load or error event
  const done = (o) => o.contentDocument && o.contentDocument.readyState === 'complete' &&
                      o.contentDocument.URL === o.data;
  // (the page's load event waits for them; a failed one has no contentDocument)
  await Promise.all(Array.from(document.querySelectorAll('object')).map(o =>
    done(o) || !o.contentDocument ? null :
    new Promise(resolve => {
      o.addEventListener('load', resolve, {once: true});
      o.addEventListener('error', resolve, {once: true});
      setTimeout(resolve, 10000);
    })));
}"""


def _load_all(page: Any) -> None:
    """Wait for the page and its <object> documents to load (or fail)."""
    page.wait_for_load_state("load")
    page.evaluate(OBJECTS_LOADED_JS)


def check_page(page: Any, url: str, name: str, report: Report, errors: list[str]) -> None:
    """Console errors, pictures and raw DOT on one page."""
    errors.clear()
    page.goto(url, wait_until="load")
    _load_all(page)
    report.check(not errors, f"{name}: no console errors", "; ".join(errors))
    for item in page.evaluate(PICTURES_JS):
        what = f"{name}: {item['kind']} {item['src']}"
        width, height = item["size"]
        inner_w, inner_h = item["inner"]
        report.check(item["svg"], f"{what} renders as SVG")
        report.check(
            width > 0 and height > 0 and inner_w > 0 and inner_h > 0,
            f"{what} has a size",
            f"{width}x{height} (content {inner_w}x{inner_h})",
        )
    text = page.evaluate("() => document.body.innerText")
    report.check(re.search(r"\b(di)?graph\s+\w*\s*\{", text) is None, f"{name}: no raw DOT source")


def check_search(page: Any, base: str, query: str, target: str, report: Report) -> None:
    """Type *query* in the search box of the index page; *target* must be among the hits."""
    page.goto(base + "index.html", wait_until="load")
    box = page.locator("input[name=q]:visible").first
    box.fill(query)
    box.press("Enter")
    page.wait_for_url(re.compile(r"search\.html\?q="), timeout=15000)
    page.wait_for_function(
        """() => { const s = document.querySelector(
                     '#search-results .search-summary, #search-results p');
                   return s && /found|did not match/i.test(s.textContent); }""",
        timeout=20000,
    )
    hits = page.evaluate(
        "() => Array.from(document.querySelectorAll('#search-results ul.search li a'))"
        ".map(a => a.getAttribute('href'))"
    )
    found = [h for h in hits if h and h.split("#")[0].split("?")[0].endswith(target)]
    report.check(bool(found), f"search {query!r} finds {target}", f"hits: {hits[:10]}")


RULE_IN_VIEW_JS = """(id) => {
  const el = document.getElementById(id);
  if (!el) return null;
  const r = el.getBoundingClientRect();
  return {top: r.top, height: r.height, view: window.innerHeight, text: el.textContent,
          atEnd: Math.ceil(window.scrollY + window.innerHeight) >=
                 document.documentElement.scrollHeight - 2};
}"""


SETTLE_JS = """async () => {
  // furo scrolls smoothly to a fragment: wait until the scroll position stops moving
  let last = -1, still = 0;
  for (let i = 0; i < 100 && still < 3; i++) {
    await new Promise(r => setTimeout(r, 60));
    still = window.scrollY === last ? still + 1 : 0;
    last = window.scrollY;
  }
}"""


def rule_in_view(state: dict[str, Any] | None, rule_id: str) -> tuple[bool, str]:
    if state is None:
        return False, "no element with that id"
    top, view = state["top"], state["view"]
    # the rule's heading is at the top of the window, or the page cannot scroll further
    ok = (
        rule_id in state["text"]
        and -2 <= top < view - state["height"]
        and (top < view / 3 or state["atEnd"])
    )
    return ok, f"top={top:.0f} of {view}px"


INSTANT_SCROLL_JS = """document.addEventListener('DOMContentLoaded', () => {
  if (!document.head) return;  // an SVG document in an <object>
  const style = document.createElement('style');
  style.textContent = 'html { scroll-behavior: auto !important; }';
  document.head.appendChild(style);
});"""
"""furo scrolls smoothly to a fragment; the anchor checks make it instant to save time."""


def check_rules(page: Any, base: str, pages: list[str], html_dir: Path, report: Report) -> None:
    """Each rule ID is an anchor that scrolls to the rule; so does its permalink."""
    page.add_init_script(INSTANT_SCROLL_JS)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from spec import RULES

    where: dict[str, str] = {}
    for name in pages:
        if name.startswith("rule/"):
            continue
        html = Path(html_dir, name).read_text()
        for rule_id in RULES:
            if f'id="{rule_id}"' in html:
                where.setdefault(rule_id, name)
    for rule_id in RULES:
        if not report.check(rule_id in where, f"rule {rule_id} has an anchor on some page"):
            continue
        page.goto(f"{base}{where[rule_id]}#{rule_id}", wait_until="load")
        page.evaluate(SETTLE_JS)
        ok, detail = rule_in_view(page.evaluate(RULE_IN_VIEW_JS, rule_id), rule_id)
        report.check(ok, f"{where[rule_id]}#{rule_id} scrolls to the rule", detail)
        permalink = f"rule/{rule_id}.html"
        if Path(html_dir, permalink).exists():
            page.goto(base + permalink, wait_until="load")
            page.wait_for_url(re.compile(re.escape(f"#{rule_id}") + "$"), timeout=10000)
            page.wait_for_load_state("load")
            page.evaluate(SETTLE_JS)
            ok, detail = rule_in_view(page.evaluate(RULE_IN_VIEW_JS, rule_id), rule_id)
            report.check(ok, f"{permalink} lands on the rule", detail)


def screenshot(page: Any, path: Path) -> None:
    """A whole-page screenshot (Playwright's full_page hangs with Debian's Chromium)."""
    height = page.evaluate("() => document.documentElement.scrollHeight")
    width = page.viewport_size["width"] if page.viewport_size else 1280
    page.set_viewport_size({"width": width, "height": min(height, MAX_SCREENSHOT_HEIGHT)})
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": width, "height": 900})


def set_theme(page: Any, theme: str) -> None:
    """Light or dark: the media feature and furo's own switch (``data-theme``)."""
    page.emulate_media(color_scheme=theme)
    page.evaluate(
        "(t) => { localStorage.setItem('theme', t); document.body.dataset.theme = t; }", theme
    )


def check_site(
    html_dir: Path,
    screenshots: Path | None,
    chromium: str,
    query: str = "claim set",
    target: str = "installation.html",
) -> Report:
    """Run every check on the site built in *html_dir*."""
    from playwright.sync_api import sync_playwright

    report = Report()
    for file, url in external_resources(html_dir):
        report.check(False, f"{file}: loads nothing from another host", url)
    report.check(True, "the built files load nothing from another host")
    pages, redirects = [], []
    for path in sorted(html_dir.rglob("*.html")):
        name = str(path.relative_to(html_dir))
        (redirects if REDIRECT.search(path.read_text()) else pages).append(name)
    report.check(
        all(r.startswith("rule/") for r in redirects),
        "the only redirect pages are the rule permalinks (checked with the rules)",
        str([r for r in redirects if not r.startswith("rule/")]),
    )
    profile = Path(tempfile.mkdtemp(prefix="claims-chromium-"))
    try:
        with serve(html_dir) as base, sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=chromium,
                args=FLAGS,
                headless=True,
                viewport={"width": 1280, "height": 900},
                color_scheme="light",
            )
            outside: list[str] = []
            local = urlsplit(base).netloc

            def route(r: Any) -> None:
                parts = urlsplit(r.request.url)
                if parts.scheme in {"data", "blob", "about"} or parts.netloc == local:
                    r.continue_()
                else:
                    outside.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            page = context.pages[0] if context.pages else context.new_page()
            errors: list[str] = []
            page.on(
                "console",
                lambda m: errors.append(m.text) if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
            for name in pages:
                check_page(page, base + name, name, report, errors)
            check_search(page, base, query, target, report)
            rules_page = context.new_page()
            errors.clear()
            rules_page.on(
                "console",
                lambda m: errors.append(m.text) if m.type == "error" else None,
            )
            rules_page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
            check_rules(rules_page, base, pages, html_dir, report)
            report.check(not errors, "rule anchors and permalinks: no console errors", str(errors))
            rules_page.close()
            if screenshots is not None:
                screenshots.mkdir(parents=True, exist_ok=True)
                for name in SCREENSHOT_PAGES:
                    if not (html_dir / f"{name}.html").exists():
                        report.check(False, f"screenshot of {name}", "the page is missing")
                        continue
                    for theme in ("light", "dark"):
                        page.goto(f"{base}{name}.html", wait_until="load")
                        set_theme(page, theme)
                        _load_all(page)
                        path = screenshots / f"{Path(name).name}-{theme}.png"
                        screenshot(page, path)
                        report.check(path.stat().st_size > 0, f"screenshot {path.name}")
            report.check(not outside, "nothing was fetched from another host", str(outside[:5]))
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return report


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=root / "docs" / "_build" / "html")
    parser.add_argument(
        "--screenshots", type=Path, default=root / "docs" / "_build" / "screenshots"
    )
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--query", default="claim set")
    parser.add_argument("--target", default="installation.html")
    args = parser.parse_args(argv)
    if not (args.html / "index.html").exists():
        print(f"no site in {args.html}: build it first (nox -s docs)", file=sys.stderr)
        return 2
    if not Path(args.chromium).exists():
        print(f"no Chromium at {args.chromium}: apt-get install -y chromium", file=sys.stderr)
        return 2
    report = check_site(args.html, args.screenshots, args.chromium, args.query, args.target)
    print(report.summary())
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
