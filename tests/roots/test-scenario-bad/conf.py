"""Scenarios that stop: each must warn at the failing statement's line."""

import shutil
import sys
from pathlib import Path

extensions = ["sphinx_claims", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
graphviz_dot = shutil.which("dot") or str(Path(sys.executable).parent / "graphviz-pure")
graphviz_output_format = "svg"
