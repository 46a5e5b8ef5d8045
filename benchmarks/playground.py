"""The playground's figures (issue 19): what it adds to the site, how long the reader waits.

Usage (the browser session's environment has Playwright; build the site first)::

    nox -s docs && nox -s browser --install-only
    .nox/browser/bin/python benchmarks/playground.py [--html docs/_build/html]

Prints the bytes the playground adds to the built site (Pyodide's files, the model
archive, the script, worker and style sheet, and the example lists in the pages), then
runs every example of every page in headless Chromium as ``nox -s browser`` does
(tests/browser/pyodide_check.py), with the baseline beside it in the same process: the
same blocks, run by the same runtime (sphinx_claims/playground_runtime.py) under this
CPython, in the same order.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "browser")]

import check_site  # noqa: E402
import pyodide_check  # noqa: E402

from sphinx_claims import playground  # noqa: E402
from sphinx_claims.playground_runtime import DOCTEST, Session  # noqa: E402

DATA = re.compile(rf'<script type="application/json" id="{playground.DATA_ID}">(.*?)</script>')


def added_bytes(html: Path) -> dict[str, int]:
    """Bytes of the built site that are there for the playground."""
    static = html / "_static"
    pages = sum(
        len(match.group(0).encode())
        for page in html.rglob("*.html")
        for match in DATA.finditer(page.read_text())
    )
    return {
        "Pyodide (_static/pyodide/)": sum(p.stat().st_size for p in (static / "pyodide").iterdir()),
        "model archive": (static / playground.OUT_DIR / playground.ARCHIVE).stat().st_size,
        "script, worker, style sheet": sum(
            p.stat().st_size for p in static.glob("claims-playground*") if p.is_file()
        ),
        "example lists in the pages": pages,
    }


def cpython_blocks(html: Path) -> list[float]:
    """Milliseconds of each doctest block of each page under this CPython, page order."""
    times = []
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        for page in sorted(html.rglob("*.html")):
            match = DATA.search(page.read_text())
            if not match:
                continue
            blocks = json.loads(match.group(1).replace("<\\/", "</"))["blocks"]
            session = Session([(kind, code) for kind, code in blocks])
            for index, (kind, code) in enumerate(blocks):
                if kind == DOCTEST:
                    start = time.perf_counter()
                    session.run(index, code)
                    times.append((time.perf_counter() - start) * 1000)
    finally:
        os.chdir(cwd)
    return times


def browser_figures(html: Path, chromium: str) -> pyodide_check.Figures:
    from playwright.sync_api import sync_playwright

    report = check_site.Report()
    pages = sorted(str(p.relative_to(html)) for p in html.rglob("*.html"))
    pages = [p for p in pages if not check_site.REDIRECT.search((html / p).read_text())]
    profile = tempfile.mkdtemp(prefix="claims-bench-")
    try:
        with check_site.serve(html) as base, sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=chromium, args=check_site.FLAGS, headless=True
            )
            figures = pyodide_check.check_examples(context.new_page(), base, pages, html, report)
            context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if report.failed:
        print(f"{len(report.failed)} checks failed (run nox -s browser)", file=sys.stderr)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=ROOT / "docs" / "_build" / "html")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    if not (args.html / "_static" / "pyodide").is_dir():
        print(f"no playground in {args.html}: build it with nox -s docs (needs npm)")
        return 2
    sizes = added_bytes(args.html)
    total = sum((args.html / p).stat().st_size for p in args.html.rglob("*") if p.is_file())
    print("| added to the site | bytes |\n|---|---|")
    for what, size in sizes.items():
        print(f"| {what} | {size:,} |")
    added = sum(sizes.values())
    share = f"{100 * added / total:.0f} % of the built site's {total:,}"
    print(f"| **total** | **{added:,}** ({share}) |")
    cpython = cpython_blocks(args.html)
    figures = browser_figures(args.html, args.chromium)
    for line in figures.lines():
        print(line)
    if figures.block_ms and cpython:
        browser, base = statistics.median(figures.block_ms), statistics.median(cpython)
        print(
            f"median block: Pyodide {browser:.1f} ms, CPython {base:.1f} ms "
            f"(baseline, same blocks, {len(cpython)} of them): {browser / base:.1f} x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
