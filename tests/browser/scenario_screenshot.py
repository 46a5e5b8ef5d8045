"""Render one ``claims:scenario`` and save a screenshot of it (the README's picture).

Usage::

    python tests/browser/scenario_screenshot.py [OUT.png] [--theme light|dark]

It builds a one-page site (furo, the site's theme) whose only content is
:data:`SCENARIO`, opens it in the system's Chromium with the browser check's flags, and
saves the scenario's box to OUT (default ``docs/_static/scenario-example.png``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from io import StringIO
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

SCENARIO = """\
Scenario
========

.. claims:scenario::
   :draw: changed

   host = Host(nodes=[16, 16])
   d1 = host.create_domain()
   d2 = host.create_domain()
   host.claim_memory(d1, [ClaimEntry(8, 0), ClaimEntry(4, HOST)])
   page = host.alloc_domheap_pages(d1, order=2, node=0)
   host.claim_memory(d2, [ClaimEntry(12, 0)])
   host.claim_memory(d2, [ClaimEntry(6, 0), ClaimEntry(6, 1)])
"""

CONF = """\
import shutil, sys
from pathlib import Path
extensions = ["sphinx_claims"]
html_theme = "furo"
graphviz_dot = shutil.which("dot") or str(Path(sys.executable).parent / "graphviz-pure")
graphviz_output_format = "svg"
"""


def build(site: Path) -> Path:
    from sphinx.application import Sphinx

    (site / "conf.py").write_text(CONF)
    (site / "index.rst").write_text(SCENARIO)
    out = site / "_build"
    warnings = StringIO()
    app = Sphinx(site, site, out, out / ".doctrees", "html", status=None, warning=warnings)
    app.build()
    if warnings.getvalue():
        raise SystemExit(f"the scenario page has warnings:\n{warnings.getvalue()}")
    return out


def main(argv: list[str] | None = None) -> int:
    import check_site
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "out", type=Path, nargs="?", default=ROOT / "docs/_static/scenario-example.png"
    )
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)
    site = Path(tempfile.mkdtemp(prefix="claims-scenario-shot-"))
    try:
        html = build(site)
        with check_site.serve(html) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=args.chromium, args=check_site.FLAGS
            )
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(base + "index.html", wait_until="load")
            check_site.set_theme(page, args.theme)
            height = page.evaluate("() => document.documentElement.scrollHeight")
            page.set_viewport_size({"width": 1100, "height": height})
            box = page.locator(".claims-scenario").first.bounding_box()
            assert box is not None, "no scenario on the page"
            pad = 12
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=str(args.out),
                clip={
                    "x": box["x"] - pad,
                    "y": box["y"] - pad,
                    "width": box["width"] + 2 * pad,
                    "height": box["height"] + 2 * pad,
                },
            )
            browser.close()
    finally:
        shutil.rmtree(site, ignore_errors=True)
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
