"""The Python half of the playground: runs a page's examples in the reader's browser.

The site ships this file, as ``claims_playground.py``, in the archive with the model
(:mod:`sphinx_claims.playground`); Pyodide imports it in a Web Worker
(``claims-playground-worker.js``). It imports nothing but the standard library, so the
tests run it under CPython too.

A page's examples run as Sybil runs them (docs/conftest.py): in one namespace per page,
in page order, a code block as a whole, a doctest one example after another, each
compiled in ``'single'`` mode as :mod:`doctest` does, so that an expression statement
shows the repr of its value and a raising example does not stop the next. What an example
shows is what the doctest would show: what it printed and the reprs, or the last line of
the traceback, as :func:`traceback.format_exception_only` writes it (what doctest
compares with an expected exception).
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import runpy
import subprocess
import sys
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any

CODE = "code"
"""A block that runs as a whole, its output unseen: ``code-block:: python``, invisible set-up."""
DOCTEST = "doctest"
"""A block of ``>>>`` examples; the reader runs it and sees its output."""


@dataclass(frozen=True)
class Shown:
    """One example as the reader sees it run: its source, what it printed, its error."""

    source: str
    output: str
    error: str | None = None


def chunks(code: str) -> list[str]:
    """Split *code* into the examples a doctest of it would hold: one per line on which a
    top-level statement starts (``a = 1; a`` is one), with the comments and blank lines
    after it. Raises :class:`SyntaxError` when *code* does not parse."""
    body = ast.parse(code).body
    lines = code.splitlines(keepends=True)
    starts = sorted(
        {min([s.lineno, *(d.lineno for d in getattr(s, "decorator_list", []))]) for s in body}
    )
    if not starts:
        return []
    bounds = [1, *starts[1:], len(lines) + 1]
    return ["".join(lines[a - 1 : b - 1]) for a, b in pairwise(bounds)]


def error_line(error: BaseException) -> str:
    """The last line of *error*'s traceback (``spec.invariants.InvariantViolation: ...``)."""
    return traceback.format_exception_only(type(error), error)[-1].rstrip("\n")


def run_example(source: str, namespace: dict[str, Any]) -> Shown:
    """Run one example in *namespace* as doctest does; return what it showed."""
    out = io.StringIO()
    error = None
    hook = sys.displayhook
    sys.displayhook = sys.__displayhook__  # doctest's: the repr of a value on stdout
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            exec(compile(source, "<example>", "single", dont_inherit=True), namespace)
    except BaseException as exc:  # SystemExit too: the page keeps its Python
        error = error_line(exc)
    finally:
        sys.displayhook = hook
    return Shown(source, out.getvalue(), error)


def run_doctest(code: str, namespace: dict[str, Any]) -> list[Shown]:
    """Run the examples of *code* (:func:`chunks`) one after another in *namespace*."""
    try:
        examples = chunks(code)
    except SyntaxError as error:
        return [Shown(code, "", error_line(error))]
    return [run_example(source, namespace) for source in examples]


def run_code(code: str, namespace: dict[str, Any]) -> None:
    """Run a code block as a whole in *namespace* (Sybil's PythonEvaluator); what it
    prints or raises is not shown, as in the doctest run."""
    with contextlib.suppress(BaseException), contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, "<code block>", "exec", dont_inherit=True), namespace)


class Session:
    """The examples of one page and the namespace they run in.

    *blocks* are ``(kind, code)`` pairs in page order. Running block *index* first runs
    every block before it as the page has them, in a fresh namespace, unless the
    namespace already holds exactly that: the blocks before *index*, unedited (the
    reader running the examples in order runs each block once).
    """

    def __init__(self, blocks: Sequence[tuple[str, str]]) -> None:
        self.blocks = list(blocks)
        self.namespace: dict[str, Any] = {}
        self.upto: int | None = 0
        """How many of the page's blocks, unedited, the namespace has run (None: other code)."""

    def run(self, index: int, code: str) -> list[Shown]:
        """Run *code* as block *index* (the page's text or the reader's edit of it)."""
        if not 0 <= index < len(self.blocks):
            raise IndexError(f"the page has no block {index}")
        if self.upto != index:
            self.namespace = {}
            for kind, text in self.blocks[:index]:
                if kind == DOCTEST:
                    run_doctest(text, self.namespace)
                else:
                    run_code(text, self.namespace)
        shown = run_doctest(code, self.namespace)
        self.upto = index + 1 if code == self.blocks[index][1] else None
        return shown

    def run_json(self, index: int, code: str) -> str:
        """:meth:`run`, its result as JSON for the worker."""
        return json.dumps([asdict(s) for s in self.run(index, code)])

    def scenario_json(self, script: str, designs_json: str) -> str:
        """:func:`run_scenario`, its result as JSON for the worker."""
        return json.dumps(run_scenario(script, json.loads(designs_json)))


def run_scenario(script: str, designs: Sequence[str | None]) -> dict[str, Any]:
    """Replay a ``claims:scenario`` script under each of *designs* as the build does:
    the report of ``python -m spec replay`` and the memory pictures of every host after
    each step that ran (the extension's ``memory_svg``, shipped as ``claims_memory_svg``)."""
    import claims_memory_svg as svg  # type: ignore[import-not-found]

    from spec.replay import replay, report

    try:
        runs = [replay(script, d, "<scenario>", observe_host=svg.layout) for d in designs]
    except SyntaxError as error:
        return {"report": error_line(error), "pictures": []}
    pictures = []
    for r in runs:
        for index, step in enumerate(r.steps):
            if not (step.ran and step.shown):
                continue
            for name, layout in step.hosts:
                title = step.source.splitlines()[0]
                title += f" → {step.value}" if step.value is not None else ""
                title += f" ({r.design})" if r.design else ""
                uid = f"claims-try-svg-{r.design}-{index}-{name}"
                picture = svg.render_svg(layout, uid, title, stopped=step.error is not None)
                pictures.append({"title": title, "svg": picture})
    return {"report": report(runs), "pictures": pictures}


def start(blocks_json: str) -> Session:
    """A :class:`Session` of the ``[[kind, code], ...]`` the page holds."""
    return Session([(kind, code) for kind, code in json.loads(blocks_json)])


# --- processes ------------------------------------------------------------------------


def run_process(args: Sequence[str], **options: Any) -> subprocess.CompletedProcess[Any]:
    """``subprocess.run`` in a browser, which starts no process: ``[sys.executable, "-m",
    MODULE, *ARGS]`` runs the module in this Python (:func:`runpy.run_module` with
    ``sys.argv`` set and in *cwd*), its output captured, its exit status returned, as
    the pages' examples call ``python -m spec``. *env* is not applied: the module shares
    this Python and its ``sys.path``. Any other command raises :class:`OSError`."""
    argv = [str(a) for a in args]
    if len(argv) < 3 or argv[0] != sys.executable or argv[1] != "-m":
        raise OSError(f"the browser cannot start {argv[:1]}: only [sys.executable, '-m', ...]")
    out, err = io.StringIO(), io.StringIO()
    saved_argv, saved_cwd = sys.argv, os.getcwd()
    status: Any = 0
    try:
        sys.argv = [argv[2], *argv[3:]]
        if options.get("cwd") is not None:
            os.chdir(options["cwd"])
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                with warnings.catch_warnings():  # a new process would not have it imported
                    warnings.filterwarnings("ignore", "'.*' found in sys.modules", RuntimeWarning)
                    runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
            except SystemExit as stop:
                status = stop.code
            except BaseException:
                traceback.print_exc()
                status = 1
            if isinstance(status, str):
                print(status, file=sys.stderr)
                status = 1
    finally:
        sys.argv = saved_argv
        os.chdir(saved_cwd)
    code = 0 if status is None else int(status)
    captured = options.get("capture_output") or options.get("stdout") == subprocess.PIPE
    text = options.get("text") or options.get("universal_newlines")
    stdout, stderr = out.getvalue(), err.getvalue()
    if not captured:
        sys.stdout.write(stdout)
        sys.stderr.write(stderr)
    result = subprocess.CompletedProcess(
        argv,
        code,
        (stdout if text else stdout.encode()) if captured else None,
        (stderr if text else stderr.encode()) if captured else None,
    )
    if options.get("check"):
        result.check_returncode()
    return result


def install() -> None:
    """Make ``subprocess.run`` :func:`run_process` (in the browser only: the worker calls it)."""
    subprocess.run = run_process  # type: ignore[assignment]
