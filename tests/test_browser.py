"""The browser check (``tests/browser/check_site.py``, ``nox -s browser``) catches what it
claims to: resources from other hosts, console errors, pictures that do not render, rule
anchors that do not scroll, and a search that does not find the page.

The checks that need Chromium use the system's (``apt-get install -y chromium``, which
``.ci/run`` does). These tests run under ``nox -s browser``, which sets
``CLAIMS_REQUIRE_BROWSER=1``; ``nox -s tests`` leaves this file out (tests/conftest.py), so
no test is ever skipped for want of a browser.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("check_site", HERE / "browser" / "check_site.py")
assert _spec is not None and _spec.loader is not None
check_site = importlib.util.module_from_spec(_spec)
sys.modules["check_site"] = check_site
_spec.loader.exec_module(check_site)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()


def need_chromium() -> None:
    if not HAVE_CHROMIUM:
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")


def test_static_scan_finds_resources_from_other_hosts(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(
        '<link rel="stylesheet" href="https://cdn.example.org/x.css">'
        '<link rel="canonical" href="https://example.org/a.html">'
        '<script src="//cdn.example.org/x.js"></script>'
        '<script src="_static/local.js"></script>'
        '<a href="https://example.org/">a link is not fetched</a>'
        '<img src="http://example.org/i.png">'
    )
    (tmp_path / "s.css").write_text(
        "@import 'https://fonts.example.org/f.css'; a { background: url(img/ok.png) }"
    )
    (tmp_path / "d.svg").write_text('<svg><image href="https://example.org/p.png"/></svg>')
    found = check_site.external_resources(tmp_path)
    assert sorted(found) == [
        ("a.html", "//cdn.example.org/x.js"),
        ("a.html", "http://example.org/i.png"),
        ("a.html", "https://cdn.example.org/x.css"),
        ("d.svg", "https://example.org/p.png"),
        ("s.css", "https://fonts.example.org/f.css"),
    ]


GOOD = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>good</title></head>
<body><article>
<object data="d.svg" type="image/svg+xml"></object>
<img src="d.svg" alt="d">
<svg class="claims-memory" width="100" height="20"><rect width="100" height="20"/></svg>
</article></body></html>"""

BAD = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>bad</title>
<script src="https://cdn.example.org/lib.js"></script></head>
<body><article>
<object data="missing.svg" type="image/svg+xml" width="50" height="50"></object>
<svg class="claims-memory" width="0" height="0"></svg>
<pre>digraph claims { a -> b }</pre>
<script>console.error("boom"); undefined_function();</script>
</article></body></html>"""

LONG = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>rules</title>
<style>html { scroll-behavior: smooth }</style></head><body><article>
<div style="height: 3000px">filler</div>
<dl><dt id="set-duplicate-node">set-duplicate-node</dt><dd>A node listed twice.</dd></dl>
<div style="height: 3000px">filler</div>
<p id="not-a-rule">text</p>
</article></body></html>"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    need_chromium()
    from playwright.sync_api import sync_playwright

    site = tmp_path_factory.mktemp("site")
    (site / "d.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30">'
        '<rect width="40" height="30"/></svg>'
    )
    for name, text in {"good.html": GOOD, "bad.html": BAD, "long.html": LONG}.items():
        (site / name).write_text(text)
    with check_site.serve(site) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=check_site.FLAGS)
        context = browser.new_context(viewport={"width": 1000, "height": 800})
        context.route(
            "**/*",
            lambda r: r.continue_() if r.request.url.startswith(base) else r.abort(),
        )
        try:
            yield context.new_page(), base
        finally:
            browser.close()


def run_page(browser: tuple[Any, str], name: str) -> Any:
    page, base = browser
    errors: list[str] = []
    report = check_site.Report()
    handlers = [
        ("console", lambda m: errors.append(m.text) if m.type == "error" else None),
        ("pageerror", lambda e: errors.append(f"uncaught: {e}")),
    ]
    for event, handler in handlers:
        page.on(event, handler)
    try:
        check_site.check_page(page, base + name, name, report, errors)
    finally:
        for event, handler in handlers:
            page.remove_listener(event, handler)
    return report


def test_a_good_page_passes(browser: tuple[Any, str]) -> None:
    report = run_page(browser, "good.html")
    assert report.failed == []
    assert any("object d.svg renders as SVG" in p for p in report.passed)
    assert any("img d.svg has a size" in p for p in report.passed)
    assert any("svg claims-memory has a size" in p for p in report.passed)


def test_a_bad_page_fails_each_check(browser: tuple[Any, str]) -> None:
    failed = "\n".join(run_page(browser, "bad.html").failed)
    assert "no console errors" in failed and "boom" in failed
    assert "undefined_function" in failed  # the uncaught exception
    assert "object missing.svg renders as SVG" in failed
    assert "svg claims-memory has a size" in failed
    assert "no raw DOT source" in failed


def test_rule_anchor_scrolls_to_the_rule(browser: tuple[Any, str]) -> None:
    page, base = browser
    page.goto(base + "long.html#set-duplicate-node", wait_until="load")
    page.evaluate(check_site.SETTLE_JS)
    ok, detail = check_site.rule_in_view(
        page.evaluate(check_site.RULE_IN_VIEW_JS, "set-duplicate-node"), "set-duplicate-node"
    )
    assert ok, detail
    page.goto(base + "long.html", wait_until="load")  # no fragment: the rule is far below
    ok, _ = check_site.rule_in_view(
        page.evaluate(check_site.RULE_IN_VIEW_JS, "set-duplicate-node"), "set-duplicate-node"
    )
    assert not ok
    assert check_site.rule_in_view(page.evaluate(check_site.RULE_IN_VIEW_JS, "x"), "x")[0] is False
