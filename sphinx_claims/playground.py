"""The playground: every doctest on the site runs, and can be edited, in the reader's browser.

The HTML builder ships Pyodide (the ``pyodide`` npm package, which ``npm ci`` installs
from the repository's ``package-lock.json``) in ``_static/pyodide/``, and the model
with it: ``_static/claims-playground/model.zip`` holds the model package as the build
imported it, this extension's :mod:`~sphinx_claims.playground_runtime` (as
``claims_playground.py``) and the files of ``claims_playground_files``. Nothing comes
from another host, and nothing loads before the reader first runs an example.

Each page's examples are listed in page order, as Sybil finds them (docs/conftest.py):
doctest blocks (``>>>``, in reST and in MyST ``python`` fences), Python code blocks, and
invisible set-up blocks (``.. invisible-code-block: python`` and MyST's
``% invisible-code-block: python``). A doctest block gets the class
``claims-try-block`` and an id; the list goes in the page as JSON, read by
``claims-playground.js``, which adds the controls (``claims-try``) and starts the
worker on the first run. A ``claims:scenario`` figure gets an id and its script, designs
and the report of its build-time replay in the list: the reader can run the script again,
edited or not, and the browser redraws its pictures with the extension's
:mod:`~sphinx_claims.memory_svg`, shipped as ``claims_memory_svg.py``.

Options (``conf.py``):

``claims_playground_pyodide``
    the directory of the ``pyodide`` npm package (default: ``node_modules/pyodide``
    beside the model package's directory). When it lacks a file the site needs, the
    site is built without the playground, and the build says so in one line.
``claims_playground_files``
    glob patterns, relative to the directory that holds the model package, of the
    files the examples read besides the model (this site: its own sources, which two
    pages read code blocks from).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import textwrap
import zipfile
from dataclasses import dataclass
from doctest import DocTestParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from docutils import nodes

from . import model
from .util import logger

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.util.typing import ExtensionMetadata

PYODIDE_FILES: Final = (
    "pyodide.js",
    "pyodide.asm.js",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
    "package.json",
)
"""What the site copies of the npm package: the loader, the interpreter, the standard
library, the lock file Pyodide reads at start-up, and the package's name and licence."""
RUNTIME: Final = Path(__file__).with_name("playground_runtime.py")
RUNTIME_NAME: Final = "claims_playground.py"
PICTURES: Final = Path(__file__).with_name("memory_svg.py")
PICTURES_NAME: Final = "claims_memory_svg.py"
"""The scenario pictures' code, pure Python: the browser redraws a scenario with it."""
OUT_DIR: Final = "claims-playground"
ARCHIVE: Final = "model.zip"
DATA_ID: Final = "claims-playground-data"
INVISIBLE: Final = "invisible-code-block: python"
PYTHON: Final = frozenset({"python", "py", "python3", "pycon", "default"})
_ZIP_TIME: Final = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Shipment:
    """What a build ships for the playground: Pyodide's directory and the archive."""

    pyodide: Path
    archive: bytes

    @property
    def version(self) -> str:
        """Changes with the archive, so a browser does not keep a stale model."""
        return hashlib.sha256(self.archive).hexdigest()[:12]


_shipments: dict[int, Shipment] = {}
"""The shipment of each Sphinx application being built, by ``id(app)``."""


def pyodide_dir(app: Sphinx) -> Path:
    configured = str(app.config.claims_playground_pyodide or "")
    if configured:
        return Path(app.confdir, configured)
    return model.directory().parent / "node_modules" / "pyodide"


def build_archive(root: Path, package: Path, patterns: list[str]) -> bytes:
    """The zip the browser unpacks: the model *package* (every file but the bytecode),
    the runtime and the files of *patterns* under *root*, with fixed times, so that the
    same files give the same bytes."""
    members = {RUNTIME_NAME: RUNTIME.read_bytes(), PICTURES_NAME: PICTURES.read_bytes()}
    for path in sorted(package.rglob("*")):  # its data too (spec/changelog.toml)
        if path.is_file() and "__pycache__" not in path.parts:
            members[path.relative_to(root).as_posix()] = path.read_bytes()
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            if path.is_file() and "_build" not in path.parts:
                members[path.relative_to(root).as_posix()] = path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, members[name])
    return buffer.getvalue()


def _builder_inited(app: Sphinx) -> None:
    """Ship the playground with HTML when Pyodide is installed; else say so, once."""
    _shipments.pop(id(app), None)
    if app.builder.format != "html":
        return
    where = pyodide_dir(app)
    missing = [name for name in PYODIDE_FILES if not (where / name).is_file()]
    if missing:
        logger.info(
            "sphinx_claims: no Pyodide in %s (npm ci installs it): the site is built "
            "without the playground",
            where,
        )
        return
    package = model.directory()
    archive = build_archive(package.parent, package, list(app.config.claims_playground_files))
    _shipments[id(app)] = Shipment(where, archive)


def _invisible_code(comment: nodes.comment) -> str | None:
    text = comment.astext()
    if not text.startswith(INVISIBLE):
        return None
    return textwrap.dedent(text[len(INVISIBLE) :].strip("\n")) + "\n"


def _is_python(block: nodes.Element) -> bool:
    language = block.get("language") or next((c for c in block["classes"] if c in PYTHON), None)
    return language in PYTHON


def doctest_code(text: str) -> str:
    """The code of a doctest block: its examples' sources, without prompts or output."""
    return "".join(example.source for example in DocTestParser().get_examples(text))


def page_blocks(
    doctree: nodes.document, any_language: bool = False
) -> list[tuple[str, str, nodes.Element | None]]:
    """``(kind, code, node)`` of the page's examples in page order (the node of a
    doctest block, None for set-up code). Sybil's reST parser finds ``>>>`` in a literal
    block of *any_language*; its MyST parser only in ``python`` fences."""
    found: list[tuple[str, str, nodes.Element | None]] = []
    for node in doctree.findall(
        lambda n: isinstance(n, nodes.comment | nodes.doctest_block | nodes.literal_block)
    ):
        if isinstance(node, nodes.comment):
            code = _invisible_code(node)
            if code is not None:
                found.append(("code", code, None))
            continue
        assert isinstance(node, nodes.Element)
        text = node.astext()
        if text.lstrip().startswith(">>>") and (
            any_language or isinstance(node, nodes.doctest_block) or _is_python(node)
        ):
            found.append(("doctest", doctest_code(text), node))
        elif isinstance(node, nodes.literal_block) and node.get("language") == "python":
            found.append(("code", text.rstrip("\n") + "\n", None))
    return found


def _doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Mark the page's doctest blocks and add the list of its examples as JSON."""
    shipment = _shipments.get(id(app))
    if shipment is None:
        return
    blocks = page_blocks(doctree, app.env.doc2path(docname).suffix == ".rst")
    scenarios: dict[str, dict[str, Any]] = {}
    ran = (box for box in doctree.findall(nodes.container) if "script" in box.attributes)
    for number, box in enumerate(ran):  # the claims:scenario figures (scenario.py)
        ident = f"claims-try-scenario-{number}"
        box["ids"].append(ident)
        scenarios[ident] = {k: box[k] for k in ("script", "designs", "report")}
    if not scenarios and not any(kind == "doctest" for kind, _, _ in blocks):
        return
    tries: dict[str, int] = {}
    for index, (_, _, node) in enumerate(blocks):
        if node is not None:
            ident = f"claims-try-{index}"
            node["ids"].append(ident)
            node["classes"].append("claims-try-block")
            tries[ident] = index
    data = {
        "version": shipment.version,
        "blocks": [[kind, code] for kind, code, _ in blocks],
        "tries": tries,
        "scenarios": scenarios,
    }
    text = json.dumps(data).replace("</", "<\\/")
    script = f'<script type="application/json" id="{DATA_ID}">{text}</script>'
    doctree += nodes.raw("", script, format="html")


def _page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """The script and style sheet, on the pages that have examples only."""
    if DATA_ID in str(context.get("body", "")):
        app.add_js_file("claims-playground.js", loading_method="defer")
        app.add_css_file("claims-playground.css")


def _build_finished(app: Sphinx, exception: BaseException | None) -> None:
    """Copy Pyodide and write the archive into ``_static``."""
    shipment = _shipments.pop(id(app), None)
    if shipment is None or exception is not None:
        return
    static = Path(app.outdir, "_static")
    target = static / "pyodide"
    target.mkdir(parents=True, exist_ok=True)
    for name in PYODIDE_FILES:
        source, copy = shipment.pyodide / name, target / name
        if not copy.is_file() or copy.stat().st_size != source.stat().st_size:
            shutil.copy2(source, copy)
    out = static / OUT_DIR
    out.mkdir(parents=True, exist_ok=True)
    (out / ARCHIVE).write_bytes(shipment.archive)


def setup(app: Sphinx) -> ExtensionMetadata:
    """Register the playground's options and events (the static files are the
    extension's ``static/``, which :mod:`.scenario` adds to ``html_static_path``)."""
    app.add_config_value(
        "claims_playground_pyodide",
        "",
        "html",
        types=frozenset({str}),
        description="directory of the pyodide npm package (default: node_modules/pyodide)",
    )
    app.add_config_value(
        "claims_playground_files",
        [],
        "html",
        types=frozenset({list, tuple}),
        description="glob patterns of files the examples read, shipped with the model",
    )
    app.connect("builder-inited", _builder_inited)
    app.connect("doctree-resolved", _doctree_resolved)
    app.connect("html-page-context", _page_context)
    app.connect("build-finished", _build_finished)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
