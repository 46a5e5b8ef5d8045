"""A site whose pages hold every kind of example the playground lists (tests/test_playground.py)."""

import os
import shutil
import sys
from pathlib import Path

project = "claims-playground-test"
extensions = ["sphinx_claims", "myst_parser"]
exclude_patterns = ["_build"]
graphviz_dot = (
    os.environ.get("GRAPHVIZ_DOT")
    or shutil.which("dot")
    or shutil.which("graphviz-pure")
    or str(Path(sys.executable).parent / "graphviz-pure")
)
graphviz_output_format = "svg"
claims_playground_files = ["tests/roots/test-playground/*.md"]
