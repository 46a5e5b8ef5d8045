"""One kind of model fact per page, for the content-based rebuild tests
(tests/test_ext_rebuild.py): an edit of the model must re-read exactly the pages whose
rendered facts changed. Not nitpicky: the scenarios link rules no page here renders."""

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
