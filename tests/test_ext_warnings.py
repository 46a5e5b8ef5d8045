"""Bad input and coverage problems give located, typed warnings; the build goes on.

* tests/roots/test-claims-bad: every directive with a bad argument or option, in reST
  and in MyST; each gives one warning at its file and line, no traceback, and the rest
  of the page is still rendered.
* tests/roots/test-claims-coverage: a rule rendered twice, citations of IDs the model
  does not declare, and (with ``claims_require_complete``) everything rendered nowhere.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sphinx.testing.util import SphinxTestApp
from sphinx.util.console import strip_colors

import spec

pytest_plugins = ["sphinx.testing.fixtures"]

ROOTS = Path(__file__).parent / "roots"
MakeApp = Callable[..., SphinxTestApp]


@pytest.fixture(scope="session")
def rootdir() -> Path:
    return ROOTS


def build(make_app: MakeApp, tmp: Path, root: str, **confoverrides: object) -> SphinxTestApp:
    srcdir = tmp / root
    shutil.copytree(ROOTS / f"test-{root}", srcdir)
    app = make_app("html", srcdir=srcdir, freshenv=True, confoverrides=confoverrides)
    app.build()
    return app


def line_of(path: Path, marker: str) -> int:
    """The line of the directive (``..`` or ```` ``` ````) above the first *marker*."""
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, text in enumerate(lines) if marker in text)
    while not lines[index].lstrip().startswith(("..", "```")):
        index -= 1
    return index + 1


def warnings_of(app: SphinxTestApp) -> list[str]:
    """One string per warning (a docutils error spans several lines)."""
    text = strip_colors(app.warning.getvalue())
    return [w for w in re.split(r"\n(?=\S+: (?:WARNING|ERROR): |WARNING: )", text) if w.strip()]


BAD_INPUT = [
    # (file, marker in the source, level, message)
    ("index.rst", ":design: v9", "WARNING", "claims:state-diagram: unknown design 'v9'"),
    ("index.rst", ":align: middle", "ERROR", 'invalid option value: (option: "align"'),
    ("index.rst", "no-such-rule", "WARNING", "claims:rule: the model declares no rule"),
    ("index.rst", ".. claims:rule::\n", "ERROR", "1 argument(s) required, 0 supplied"),
    ("index.rst", "inv-typo", "WARNING", "the model declares no invariant 'inv-typo'"),
    ("index.rst", ":scope: galaxy", "WARNING", "unknown scope 'galaxy'"),
    ("index.rst", ":prefix: zzz-", "WARNING", "claims:rules: no rule matches :prefix: zzz-"),
    ("index.rst", ":design: v99", "WARNING", "claims:rules: unknown design 'v99'"),
    ("index.rst", ":designs: v6 v98", "WARNING", "claims:design-diff: unknown design 'v98'"),
    ("index.rst", "no_such_option", "WARNING", "unknown option 'no_such_option'"),
    ("index.rst", ":series: v97", "WARNING", "claims:rename-table: unknown series 'v97'"),
    ("index.rst", "NO_SUCH_NAME", "WARNING", "the model registers no C name 'NO_SUCH_NAME'"),
    ("index.rst", ":kind: class", "WARNING", "claims:c-api: unknown kind 'class'"),
    # an ID with a typo: the message names the declared IDs it is closest to
    (
        "index.rst",
        "set-duplicat-node",
        "WARNING",
        "the model declares no rule 'set-duplicat-node'; did you mean set-duplicate-node",
    ),
    (
        "index.rst",
        "domain_set_claim_entrys",
        "WARNING",
        "no C name 'domain_set_claim_entrys'; did you mean domain_set_claim_entries",
    ),
    ("myst.md", ":design: v96", "WARNING", "claims:state-diagram: unknown design 'v96'"),
    ("myst.md", "no-such-myst-rule", "WARNING", "the model declares no rule 'no-such-myst-rule'"),
]


def test_bad_input_gives_one_located_warning_each_and_the_build_goes_on(
    make_app: MakeApp, tmp_path: Path
) -> None:
    app = build(make_app, tmp_path, "claims-bad")
    found = warnings_of(app)
    for filename, marker, level, message in BAD_INPUT:
        path = app.srcdir / filename
        if marker.endswith("\n"):  # the bare directive line itself
            lines = path.read_text(encoding="utf-8").splitlines()
            line = lines.index(marker.rstrip("\n")) + 1
        else:
            line = line_of(path, marker)
        prefix = f"{path}:{line}: {level}: "
        matching = [w for w in found if w.startswith(prefix) and message in w]
        assert len(matching) == 1, (prefix, message, found)
    assert len(found) == len(BAD_INPUT), found
    everything = app.status.getvalue() + app.warning.getvalue()
    assert "Traceback" not in everything and "Exception" not in everything
    # the input warnings are typed, so a project can silence that kind on purpose
    assert all(w.rstrip().endswith("[claims.input]") for w in found if "WARNING" in w)
    page = (app.outdir / "index.html").read_text(encoding="utf-8")
    assert 'id="set-duplicate-node"' in page  # what follows the bad input is rendered
    assert 'id="inv-global"' in page  # the good label of a half-bad list too


def test_an_unknown_default_design_is_reported_and_replaced(
    make_app: MakeApp, tmp_path: Path
) -> None:
    app = build(make_app, tmp_path, "claims-coverage", claims_default_design="v95")
    assert "claims_default_design = 'v95' is not a design preset" in app.warning.getvalue()
    assert app.config.claims_default_design in spec.DESIGNS


def test_coverage_warns_of_duplicates_and_unknown_citations(
    make_app: MakeApp, tmp_path: Path
) -> None:
    app = build(make_app, tmp_path, "claims-coverage")
    second = app.srcdir / "second.rst"
    text = app.warning.getvalue()
    duplicate = "rule 'set-duplicate-node' is rendered more than once (first at document 'first'"
    assert text.count(duplicate) == 2
    assert f"{second}:4: WARNING: {duplicate}" in text
    assert f"{second}:6: WARNING: {duplicate}" in text
    assert ":claims:rule:`not-a-rule` cites a rule the model does not declare [" in text
    # a near miss names the declared IDs it is closest to; nothing close, no guess
    nope = ":claims:inv:`inv-nope` cites an invariant the model does not declare"
    assert f"{nope}; did you mean inv-node, " in text
    # an ID the model declares but no page renders: the reference cannot resolve
    assert "claims:rule reference target not found: set-unknown-node" in text
    # without claims_require_complete, what is rendered nowhere is not reported
    assert "rendered on no page" not in text
    assert len(warnings_of(app)) == 5
    # references go to the first rendering; a page never holds the same anchor twice
    index = (app.outdir / "second.html").read_text(encoding="utf-8")
    assert 'id="set-duplicate-node"' in (app.outdir / "first.html").read_text(encoding="utf-8")
    assert index.count('id="set-duplicate-node"') == 1


def test_require_complete_reports_everything_the_pages_leave_out(
    make_app: MakeApp, tmp_path: Path
) -> None:
    app = build(make_app, tmp_path, "claims-coverage", claims_require_complete=True)
    text = strip_colors(app.warning.getvalue())
    missing = set(re.findall(r"(?:rule|invariant|C name) '([^']+)' is declared in the model", text))
    expected = (set(spec.RULES) - {"set-duplicate-node"}) | (set(spec.INVARIANTS) - {"inv-global"})
    assert missing == expected | set(spec.C_NAMES)
    assert text.count("but rendered on no page [claims.coverage]") == len(expected) + len(
        spec.C_NAMES
    )


def test_coverage_warnings_are_typed(make_app: MakeApp, tmp_path: Path) -> None:
    app = build(make_app, tmp_path, "claims-coverage", suppress_warnings=["claims.coverage"])
    assert warnings_of(app) == [
        w for w in warnings_of(app) if "reference target not found: set-unknown-node" in w
    ]
    assert len(warnings_of(app)) == 1
