"""The comparison of the browser check's playground part (tests/browser/pyodide_check.py):
what the browser showed against Sybil's doctest examples, with Sybil's rules. It needs no
browser: the browser's side is given as the check reads it from the page."""

from __future__ import annotations

import doctest
import importlib.util
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "pyodide_check", ROOT / "tests" / "browser" / "pyodide_check.py"
)
assert _spec is not None and _spec.loader is not None
pyodide_check = importlib.util.module_from_spec(_spec)
sys.modules["pyodide_check"] = pyodide_check
_spec.loader.exec_module(pyodide_check)

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
PAGE = """\
>>> host.claim_memory(d, [ClaimEntry(4, 0), ClaimEntry(4, 0)])
-EINVAL
>>> run_check("--depth 3")  # doctest: +ELLIPSIS
states ... found
>>> upstream.offline_page(3)
Traceback (most recent call last):
...
spec.invariants.InvariantViolation: after offline_page: inv-global ...
>>> for i in range(2):
...     print(i)
0
1
"""


def shown(source: str, output: str = "", error: str | None = None) -> dict[str, Any]:
    prompted = "\n".join(
        ("... " if i else ">>> ") + line for i, line in enumerate(source.splitlines())
    )
    return {"source": prompted + "\n", "output": output, "error": error}


WANT = doctest.DocTestParser().get_examples(PAGE)
GOOD = [
    shown("host.claim_memory(d, [ClaimEntry(4, 0), ClaimEntry(4, 0)])", "-EINVAL\n"),
    shown('run_check("--depth 3")', "states 5,988   found\n"),
    shown(
        "upstream.offline_page(3)",
        error="spec.invariants.InvariantViolation: after offline_page: inv-global: 4 > 3",
    ),
    shown("for i in range(2):\n    print(i)", "0\n1\n"),
]


def test_the_same_outputs_are_equal_under_sybils_rules() -> None:
    assert pyodide_check.compare(WANT, GOOD, FLAGS) == (4, [])


def test_each_difference_is_listed() -> None:
    bad = [
        shown("host.claim_memory(d, [ClaimEntry(4, 0), ClaimEntry(4, 0)])", "-ENOENT\n"),
        shown('run_check("--depth 3")', "", "NameError: name 'run_check' is not defined"),
        shown("upstream.offline_page(3)", "0\n"),
        shown("for i in range(3):\n    print(i)", "0\n1\n2\n"),
    ]
    equal, problems = pyodide_check.compare(WANT, bad, FLAGS)
    assert equal == 0
    assert problems[0] == (
        "example 1 (host.claim_memory(d, [ClaimEntry(4, 0), ClaimEntry(4, 0)])): "
        "expected '-EINVAL\\n', got '-ENOENT\\n'"
    )
    assert "NameError" in problems[1]
    assert "expected 'spec.invariants.InvariantViolation" in problems[2]
    assert problems[3].startswith("example 4: ran 'for i in range(3)")


def test_missing_examples_and_failed_runs_fail() -> None:
    equal, problems = pyodide_check.compare(WANT, [*GOOD[:2], {"failed": "timed out"}], FLAGS)
    assert equal == 2
    assert problems == ["timed out", "2 examples ran, the doctests have 4"]
