"""Run every example of the design site with Sybil, and check that they fire every rule.

* ``*.rst`` pages: ``>>>`` doctests, ``.. code-block:: python`` and
  ``.. invisible-code-block: python`` blocks (set-up the reader does not need).
* ``*.md`` (MyST) pages: fenced ``python`` blocks (doctests when they hold ``>>>``) and
  ``% invisible-code-block: python`` comments.

Each page runs in a namespace of its own. While an example runs, :func:`spec.observe`
counts the rules of :data:`spec.RULES` the model fires. When the whole site ran, a
rule that no example fired fails the session (issue 5: every rule is exercised by a doc
example), and the terminal summary prints the coverage figure. A run of only some pages
(``pytest docs/protection.rst``, ``-k``) prints the figure but does not enforce it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator
from doctest import ELLIPSIS, NORMALIZE_WHITESPACE
from pathlib import Path

import pytest
from sybil import Sybil
from sybil.parsers import myst, rest

import spec

DOCS = Path(__file__).resolve().parent
FLAGS = ELLIPSIS | NORMALIZE_WHITESPACE
EXCLUDES = ["_build/*", "_build/**/*"]

rest_sybil = Sybil(
    parsers=[
        rest.DocTestParser(optionflags=FLAGS),
        rest.PythonCodeBlockParser(),
        rest.SkipParser(),
    ],
    patterns=["*.rst"],
    excludes=EXCLUDES,
    name="docs-rst",
)
myst_sybil = Sybil(
    parsers=[
        myst.PythonCodeBlockParser(doctest_optionflags=FLAGS),
        myst.SkipParser(),
    ],
    patterns=["*.md"],
    excludes=EXCLUDES,
    name="docs-myst",
)
SYBILS = rest_sybil + myst_sybil
pytest_collect_file = SYBILS.pytest()

FIRED: Counter[str] = Counter()
"""Rule IDs fired by the doc examples of this session, with how often."""


def _is_doc_item(item: pytest.Item) -> bool:
    path = Path(str(item.path)).resolve()
    return DOCS in path.parents and "_build" not in path.relative_to(DOCS).parts


def expected_examples() -> int:
    """How many examples a run of the whole site collects."""
    total = 0
    for path in sorted(DOCS.rglob("*")):
        for sybil in SYBILS:
            if path.is_file() and sybil.should_parse(path):
                total += len(list(sybil.parse(path).examples()))
    return total


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Count the rules the model fires while a doc example runs."""
    if not _is_doc_item(item):
        yield
        return
    with spec.observe() as fired:
        yield
    FIRED.update(fired)


class Coverage:
    """What the session selected and ran of the site's examples."""

    selected = 0
    expected = 0


def pytest_collection_finish(session: pytest.Session) -> None:
    Coverage.selected = sum(1 for item in session.items if _is_doc_item(item))
    Coverage.expected = expected_examples() if Coverage.selected else 0


def coverage_line() -> str:
    rules = spec.RULES
    hit = sum(1 for rule_id in rules if FIRED[rule_id])
    return f"rule coverage: {hit}/{len(rules)} ({100 * hit // len(rules)}%)"


def missing_rules() -> list[str]:
    return [rule_id for rule_id in spec.RULES if not FIRED[rule_id]]


def whole_site_ran() -> bool:
    return Coverage.selected > 0 and Coverage.selected == Coverage.expected


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session when the whole site ran and some rule was never fired.

    Under pytest-xdist each worker runs some of the examples: it hands what it counted to
    the controller (:func:`pytest_testnodedown`), which judges the whole run."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["claims_rules"] = (dict(FIRED), Coverage.selected, Coverage.expected)
        return
    if whole_site_ran() and missing_rules() and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """pytest-xdist: add a worker's counts to the controller's."""
    fired, selected, expected = getattr(node, "workeroutput", {}).get("claims_rules", ({}, 0, 0))
    FIRED.update(fired)
    Coverage.selected = max(Coverage.selected, selected)  # every worker collects every item
    Coverage.expected = max(Coverage.expected, expected)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not Coverage.selected:
        return
    terminalreporter.section("rules exercised by the doc examples")
    line = coverage_line()
    if not whole_site_ran():
        terminalreporter.write_line(
            f"{line}: not enforced, {Coverage.selected} of {Coverage.expected} doc "
            "examples were selected"
        )
        return
    missing = missing_rules()
    if missing:
        terminalreporter.write_line(f"{line}: FAILED, no doc example fires these rules:", red=True)
        for rule_id in missing:
            terminalreporter.write_line(f"  {rule_id}")
    else:
        terminalreporter.write_line(line, green=True)
