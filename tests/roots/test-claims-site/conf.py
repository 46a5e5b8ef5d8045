"""A small site that uses every directive of sphinx_claims (rendering the whole model)."""

import os
import shutil
import sys
from pathlib import Path

project = "claims-test"
release = "0.0"
extensions = ["sphinx_claims", "myst_parser"]
nitpicky = True
exclude_patterns = ["_build"]
# The system dot if any, else the venv's graphviz-pure (next to this Python).
graphviz_dot = (
    os.environ.get("GRAPHVIZ_DOT")
    or shutil.which("dot")
    or shutil.which("graphviz-pure")
    or str(Path(sys.executable).parent / "graphviz-pure")
)
graphviz_output_format = "svg"
claims_require_complete = True
claims_base_url = "https://claims.example/"
