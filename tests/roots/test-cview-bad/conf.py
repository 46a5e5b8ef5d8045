"""Bad input to the C view, sequence and data-structure directives: located warnings."""

import os
import shutil
import sys
from pathlib import Path

extensions = ["sphinx_claims", "myst_parser"]
exclude_patterns = ["_build"]
graphviz_dot = (
    os.environ.get("GRAPHVIZ_DOT")
    or shutil.which("dot")
    or shutil.which("graphviz-pure")
    or str(Path(sys.executable).parent / "graphviz-pure")
)
graphviz_output_format = "svg"
