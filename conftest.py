"""Run the examples in the model's docstrings and the README's ``python`` blocks with
Sybil (pytest's doctest plugin is off); tests/test_readme.py runs its console blocks."""

from doctest import ELLIPSIS, NORMALIZE_WHITESPACE

from sybil import Sybil
from sybil.parsers import myst
from sybil.parsers.rest import DocTestParser

FLAGS = ELLIPSIS | NORMALIZE_WHITESPACE
pytest_collect_file = (
    Sybil(
        parsers=[DocTestParser(optionflags=FLAGS)],
        patterns=["*.py"],
        path="spec",
        name="model-docstrings",
    )
    + Sybil(
        parsers=[myst.PythonCodeBlockParser(doctest_optionflags=FLAGS)],
        patterns=["README.md"],
        name="readme",
    )
).pytest()
