"""Which ``dot`` draws, and is it usable? Check once, warn once, never show raw DOT.

A project that leaves ``graphviz_dot`` at Sphinx's default (``dot``) on a system without
Graphviz gets the ``graphviz-pure`` program (the package of the ``sphinx`` extra) when
it is installed, on PATH or next to the running Python, and SVG output, the only format
it writes (:func:`default_dot`): adding ``sphinx_claims`` is then enough.

``sphinx.ext.graphviz`` logs a warning per diagram and then writes the raw DOT source
into the HTML when ``graphviz_dot`` cannot run (anchors.md 5.4). At ``builder-inited``
this module runs the configured program once and, if it fails, emits one clear warning
(type ``claims.graphviz``, so ``-W`` fails loudly). The diagrams of this extension are
then replaced, when the page is written, by the same facts as a list
(:func:`sphinx_claims.diagrams.resolve_diagrams`), so no page shows DOT source.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

from .util import GRAPHVIZ, WARNING_TYPE, logger

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

_usable: dict[str, bool] = {}
"""Whether each ``graphviz_dot`` value could render each output format (keyed by both)."""

PROBE: Final = "digraph probe { a -> b }"


def probe(dot: str, output_format: str = "svg") -> str | None:
    """Run *dot* on a tiny graph as Sphinx will (``-Tsvg``, or ``-Tcmapx`` for PNG's
    image maps); return why it failed, or ``None``."""
    if not dot:
        return "graphviz_dot is empty"
    if shutil.which(dot) is None:
        return f"{dot!r} is not an executable on PATH"
    flag = "-Tsvg" if output_format == "svg" else "-Tcmapx"
    try:
        done = subprocess.run(
            [dot, flag], input=PROBE.encode(), capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{dot!r} cannot be run: {exc}"
    if done.returncode != 0 or (flag == "-Tsvg" and b"<svg" not in done.stdout):
        stderr = done.stderr.decode(errors="replace").strip()
        return f"{dot!r} {flag} failed (exit {done.returncode}): {stderr[:200]}"
    return None


def pure_dot() -> str | None:
    """The ``graphviz-pure`` program: on PATH, else next to the running Python."""
    beside = Path(sys.executable).parent / "graphviz-pure"
    return shutil.which("graphviz-pure") or (str(beside) if beside.exists() else None)


def default_dot(app: Sphinx, config: Config) -> None:
    """``config-inited``: with ``graphviz_dot`` left at ``dot`` and no ``dot`` on PATH,
    draw with ``graphviz-pure`` in SVG."""
    if config.graphviz_dot != "dot" or shutil.which("dot") is not None:
        return
    pure = pure_dot()
    if pure is not None:
        config.graphviz_dot = pure
        config.graphviz_output_format = "svg"


def _key(dot: str, output_format: str) -> str:
    return f"{dot}\0{output_format}"


def usable(dot: str, output_format: str = "svg") -> bool:
    """Whether *dot* renders *output_format* (probed once per value and process)."""
    key = _key(dot, output_format)
    if key not in _usable:
        _usable[key] = probe(dot, output_format) is None
    return _usable[key]


def check(app: Sphinx) -> None:
    """``builder-inited``: warn once if the configured ``dot`` cannot render the diagrams."""
    if app.builder.format != "html":
        return
    dot = str(app.config.graphviz_dot)
    output_format = str(app.config.graphviz_output_format)
    problem = probe(dot, output_format)
    _usable[_key(dot, output_format)] = problem is None
    if problem is not None:
        logger.warning(
            "the claims diagrams cannot be drawn: %s. Install Graphviz (dot) or the "
            "graphviz-pure package, and set graphviz_dot and graphviz_output_format = "
            "'svg' in conf.py; until then the diagrams are shown as lists",
            problem,
            type=WARNING_TYPE,
            subtype=GRAPHVIZ,
        )
