"""The playground part of the browser check (check_site.py calls it): every example of
every page runs in Pyodide, in headless Chromium, and gives the doctest's output.

On each page with examples, every Run control (``.claims-try``) is activated in page
order, each after the last has finished, so that Pyodide loads once per page and each
block runs once. What each example showed (``.claims-try-output``: its source, what it
printed, the last line of its traceback) is compared with what Sybil expects of the
page's source (docs/conftest.py's parsers, and Sybil's output checker with the flags
and the example's own doctest options): the sources must be the same examples in the
same order, and each output must match, or the differences are listed and the check
fails. One page is also driven from the keyboard: Run, Edit, an edited run, an error,
Stop, Reset, at a phone's width in dark mode.

The figures printed: examples run, examples equal, the time from the first click to
Pyodide ready (the first page, and the median over pages), and the median time of one
block of examples after that (in the worker). Each ``claims:scenario`` is replayed too:
its report must be the build's, and its pictures redrawn.
"""

from __future__ import annotations

import ast
import doctest
import importlib.util
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TIMEOUT_MS = 180_000

RUN_ALL_JS = """async (timeout) => {
  // click a Run button and wait until its run is over (or the timeout)
  const runOnce = async (button) => {
    const bar = button.closest('.claims-try-bar');
    bar.dataset.state = '';
    button.click();
    const start = performance.now();
    while (!['done', 'failed'].includes(bar.dataset.state)) {
      if (performance.now() - start > timeout) break;
      await new Promise(r => setTimeout(r, 20));
    }
    return bar;
  };
  const shown = [];
  for (const button of document.querySelectorAll('button.claims-try')) {
    const bar = await runOnce(button);
    const status = bar.querySelector('.claims-try-status').textContent;
    const output = bar.nextElementSibling.nextElementSibling;
    if (bar.dataset.state !== 'done') { shown.push({failed: status || 'timed out'}); continue; }
    for (const item of output.querySelectorAll('.claims-try-example')) {
      const part = (cls) => {
        const el = item.querySelector(cls);
        return el ? el.textContent : null;
      };
      shown.push({source: part('.claims-try-source'), output: part('.claims-try-got') || '',
                  error: part('.claims-try-error')});
    }
  }
  const data = JSON.parse(document.getElementById('claims-playground-data').textContent);
  const scenarios = [];
  for (const button of document.querySelectorAll('button.claims-try-scenario')) {
    const bar = await runOnce(button);
    const id = bar.previousElementSibling.id;
    const output = bar.nextElementSibling.nextElementSibling;
    const svgs = Array.from(output.nextElementSibling.querySelectorAll('svg'));
    scenarios.push({id, state: bar.dataset.state, report: output.textContent,
                    expected: data.scenarios[id].report + '\\n', pictures: svgs.length,
                    sized: svgs.every(s => s.getBoundingClientRect().width > 0)});
  }
  const f = window.claimsPlayground || {};
  return {shown, scenarios,
          ready: f.ready !== null && f.requested !== null ? f.ready - f.requested : null,
          runs: f.runs || []};
}"""


def load_sybils() -> Any:
    """The Sybil parsers of docs/conftest.py (its objects, not its pytest hooks)."""
    spec = importlib.util.spec_from_file_location("claims_docs_conftest", DOCS / "conftest.py")
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def unprompted(source: str) -> str:
    """An example's source as shown (``>>> ``/``... `` prompts) without the prompts."""
    return "\n".join(line[4:] for line in source.rstrip("\n").split("\n"))


def same_code(a: str, b: str) -> bool:
    """Whether two sources are the same code (comments and layout may differ)."""
    try:
        return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    except SyntaxError:
        return a.strip() == b.strip()


def expected_examples(source: Path, conftest: Any) -> list[doctest.Example]:
    """The doctest examples Sybil finds in the page *source*, in order."""
    found = []
    for sybil in conftest.SYBILS:
        if sybil.should_parse(source):
            for example in sybil.parse(source).examples():
                if isinstance(example.region.parsed, doctest.Example):
                    found.append(example.region.parsed)
    return found


def compare(
    want: list[doctest.Example], shown: list[dict[str, Any]], flags: int
) -> tuple[int, list[str]]:
    """How many of *shown* give their doctest's output, and the differences."""
    from sybil.evaluators.doctest import OutputChecker

    checker = OutputChecker()
    problems = [s["failed"] for s in shown if "failed" in s]
    shown = [s for s in shown if "failed" not in s]
    if len(want) != len(shown):
        problems.append(f"{len(shown)} examples ran, the doctests have {len(want)}")
    equal = 0
    for number, (example, got) in enumerate(zip(want, shown, strict=False), 1):
        source = unprompted(got["source"])
        if not same_code(source, example.source):
            problems.append(f"example {number}: ran {source!r}, the doctest is {example.source!r}")
            continue
        options = flags
        for option, on in example.options.items():
            options = options | option if on else options & ~option
        if options & doctest.SKIP:
            equal += 1
            continue
        if example.exc_msg is not None:
            ok = got["error"] is not None and checker.check_output(
                example.exc_msg, got["error"] + "\n", options
            )
            expected, actual = example.exc_msg, got["error"]
        else:
            actual = got["output"] + (got["error"] + "\n" if got["error"] else "")
            ok = got["error"] is None and checker.check_output(example.want, actual, options)
            expected = example.want
        if ok:
            equal += 1
        else:
            problems.append(
                f"example {number} ({source.splitlines()[0]}): expected {expected!r}, "
                f"got {actual!r}"
            )
    return equal, problems


@dataclass
class Figures:
    """What the playground check measured over the site."""

    run: int = 0
    equal: int = 0
    scenarios: int = 0
    scenarios_equal: int = 0
    ready_ms: list[float] = field(default_factory=list)
    block_ms: list[float] = field(default_factory=list)

    def lines(self) -> list[str]:
        ready = (
            f"{self.ready_ms[0] / 1000:.2f} s on the first page, median "
            f"{statistics.median(self.ready_ms) / 1000:.2f} s over {len(self.ready_ms)} pages"
            if self.ready_ms
            else "never"
        )
        block = f"{statistics.median(self.block_ms):.1f} ms" if self.block_ms else "none ran"
        return [
            f"playground: examples run: {self.run}, examples equal: {self.equal}; "
            f"scenarios replayed: {self.scenarios}, as in the build: {self.scenarios_equal}",
            f"playground: first click to Pyodide ready: {ready}",
            f"playground: median time of one block of examples after that: {block} "
            f"({len(self.block_ms)} blocks)",
        ]


def source_of(name: str) -> Path | None:
    """The page source of the built page *name* (``hypercalls/x.html``)."""
    stem = DOCS / name.removesuffix(".html")
    return next(
        (p for p in (stem.with_suffix(".rst"), stem.with_suffix(".md")) if p.exists()), None
    )


def check_examples(page: Any, base: str, pages: list[str], html_dir: Path, report: Any) -> Figures:
    """Run every example of every page in the browser; compare with the doctests."""
    conftest = load_sybils()
    figures = Figures()
    with_examples = [n for n in pages if "claims-playground-data" in (html_dir / n).read_text()]
    report.check(bool(with_examples), "the site has pages whose examples run in the browser")
    for name in pages:
        source = source_of(name)
        want = expected_examples(source, conftest) if source else []
        if name not in with_examples:
            report.check(
                not want,
                f"{name}: its {len(want)} doctest examples run in the browser",
                "the page has no playground",
            )
            continue
        page.goto(base + name, wait_until="load")
        result = page.evaluate(RUN_ALL_JS, TIMEOUT_MS)
        equal, problems = compare(want, result["shown"], conftest.FLAGS)
        figures.run += len([s for s in result["shown"] if "failed" not in s])
        figures.equal += equal
        if result["ready"] is not None:
            figures.ready_ms.append(result["ready"])
        figures.block_ms += result["runs"][1:]  # the first one's worker also had to start
        report.check(
            not problems,
            f"{name}: {len(want)} examples give the doctest's output in the browser",
            "; ".join(problems[:8]),
        )
        for scenario in result["scenarios"]:
            figures.scenarios += 1
            same = scenario["state"] == "done" and scenario["report"] == scenario["expected"]
            figures.scenarios_equal += same
            report.check(
                same,
                f"{name}: scenario {scenario['id']} replays in the browser as in the build",
                f"got {scenario['report']!r}, the build's replay {scenario['expected']!r}",
            )
            report.check(
                scenario["pictures"] > 0 and scenario["sized"],
                f"{name}: scenario {scenario['id']} is redrawn in the browser",
                f"{scenario['pictures']} pictures",
            )
    return figures


def _wait_state(page: Any, bar: Any) -> str:
    page.wait_for_function(
        "(bar) => ['done', 'failed'].includes(bar.dataset.state)",
        arg=bar.element_handle(),
        timeout=TIMEOUT_MS,
    )
    return str(bar.get_attribute("data-state"))


def check_controls(page: Any, url: str, report: Any) -> None:
    """Keyboard, edit, error, stop and reset on one page, 390 px wide, dark."""
    page.set_viewport_size({"width": 390, "height": 800})
    page.emulate_media(color_scheme="dark")
    page.goto(url, wait_until="load")
    run = page.locator("button.claims-try").first
    bar = page.locator(".claims-try-bar").first
    editor = page.locator(".claims-try-editor").first
    output = page.locator(".claims-try-output").first
    original = editor.input_value()
    run.focus()
    page.keyboard.press("Enter")
    report.check(_wait_state(page, bar) == "done", "playground: Enter on Run runs the example")
    report.check(output.get_attribute("aria-live") == "polite", "playground: the output is live")
    page.locator("button.claims-try-edit").first.focus()
    page.keyboard.press("Enter")
    report.check(editor.is_visible(), "playground: Edit shows the editor")
    editor.fill("1 + 1\nprint('edited')\n1 / 0\n")
    bar.evaluate("(b) => { b.dataset.state = ''; }")
    editor.press("Control+Enter")
    _wait_state(page, bar)
    text = output.inner_text()
    report.check(
        ">>> 1 + 1\n2\n>>> print('edited')\nedited\n>>> 1 / 0\nZeroDivisionError: division by zero"
        in text,
        "playground: an edited example runs; an error shows as its traceback's last line",
        repr(text),
    )
    editor.fill("while True:\n    pass\n")
    bar.evaluate("(b) => { b.dataset.state = ''; }")
    run.click()
    page.wait_for_function(
        "() => document.querySelector('button.claims-try').textContent.includes('Stop')"
    )
    run.click()
    report.check(_wait_state(page, bar) == "failed", "playground: Stop ends an example that loops")
    page.locator("button.claims-try-reset").first.click()
    report.check(editor.input_value() == original, "playground: Reset puts the example back")
    bar.evaluate("(b) => { b.dataset.state = ''; }")
    run.click()
    report.check(_wait_state(page, bar) == "done", "playground: after Stop the next run works")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    report.check(width <= 390, "playground: the controls fit 390 px", f"page width {width}px")
    colours = page.evaluate(
        """() => { const s = getComputedStyle(document.querySelector('pre.claims-try-output'));
                   return [s.color, s.backgroundColor]; }"""
    )
    report.check(colours[0] != colours[1], "playground: dark mode output is legible", str(colours))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(color_scheme="light")
