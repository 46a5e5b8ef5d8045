"""Sphinx configuration of the claims design site.

Build it with ``nox -s docs`` (or ``sphinx-build -W --keep-going -n -b html docs
docs/_build/html``). The site works offline: no asset comes from a CDN.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the model and the extension, also without an install

import spec  # noqa: E402

project = "Xen NUMA-aware memory claims"
author = "xen-claims-spec contributors"
copyright = "2026, xen-claims-spec contributors; design text CC-BY-4.0"
release = version = spec.__version__

extensions = [
    "sphinx.ext.graphviz",
    "myst_parser",
    "sphinx_copybutton",
    "sphinx_claims",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# Every cross reference must resolve, including the C domain roles.
nitpicky = True

# sphinx_claims: warn (so -W fails) when a rule or invariant of the model is rendered on
# no page; rules and invariants must each be rendered exactly once.
claims_require_complete = True
claims_default_design = "v7"

# Graphviz: SVG output. $GRAPHVIZ_DOT, else a system dot, else the extension picks the
# pip-installed graphviz-pure (sphinx_claims/dot.py).
graphviz_dot = os.environ.get("GRAPHVIZ_DOT") or "dot"
graphviz_output_format = "svg"

# MyST pages: fenced ``python`` blocks hold the doctests that Sybil runs.
myst_enable_extensions = ["deflist"]
myst_heading_anchors = 3

# HTML: furo reads well on a phone and follows the system's dark mode.
html_theme = "furo"
# The published site, for absolute links in claims.json and the rule/<id>.html pages
# (Read the Docs gives the canonical URL of the version being built).
html_baseurl = (
    os.environ.get("READTHEDOCS_CANONICAL_URL") or spec.rules.site_url(spec.__version__) + "/"
)
# every page shows the release it documents (citations link to one release)
html_title = f"Xen NUMA claims design {release}"
html_show_sourcelink = True
html_copy_source = True
html_theme_options = {
    "navigation_with_keys": True,
}
# site.css: a hypercall page titled by one long C name (``long-name``) gets a smaller title.
html_static_path = ["_static"]
html_css_files = ["site.css"]
# Copy the code of examples without the prompts and the output.
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True

# Link targets of the sources, usable as ``url-v6_`` on every reST page (from the
# development history's own links, with the line-broken ones joined).
rst_epilog = """
.. _url-kaindl-xen: https://github.com/bernhardkaindl/xen
.. _url-xen_git: https://xenbits.xen.org/gitweb/?p=xen.git
.. _url-xapi: https://xapi-project.github.io/new-docs/toolstack/features/NUMA
.. _url-fix1: https://lists.xenproject.org/archives/html/xen-devel/2026-01/msg00164.html
.. _url-v1: https://patchew.org/Xen/20250314172502.53498-1-alejandro.vallejo@cloud.com/
.. _url-v1m: https://lists.xenproject.org/archives/html/xen-devel/2025-06/msg00484.html
.. _url-v2: https://lists.xen.org/archives/html/xen-devel/2025-08/msg01076.html
.. _url-v3: https://patchew.org/Xen/cover.1757261045.git.bernhard.kaindl@cloud.com/
.. _url-v4: https://lists.xenproject.org/archives/html/xen-devel/2026-02/msg01387.html
.. _url-v4-03: https://patchwork.kernel.org/project/xen-devel/patch/6927e45bf7c2ce56b8849c16a2024edb86034358.1772098423.git.bernhard.kaindl@citrix.com/
.. _url-d1: https://bernhard-xen.readthedocs.io/en/claim-sets-v1-design/designs/claims
.. _url-d2: https://bernhard-xen.readthedocs.io/en/claim-sets-v2-design/designs/claims
.. _url-v5: https://patchwork.kernel.org/project/xen-devel/list/?series=1078053
.. _url-v6: https://patchwork.kernel.org/project/xen-devel/list/?series=1081139
.. _url-tv2: https://patchwork.kernel.org/project/xen-devel/list/?series=1083329
.. _url-u1: https://patchwork.kernel.org/project/xen-devel/list/?series=1084344
"""
