"""The standing adversarial suite (issue 18): Hypothesis drives hostile values into the
model's calls, the command line and the Sphinx directives, and asserts the promises of
docs/guarantees.rst:

* a model call either succeeds with the invariants holding, or returns Xen's errno, or
  raises ``TypeError``/``ValueError`` naming one of its own parameters; a rejected call
  changes nothing;
* a command line exits 0, 1 or 2, never with a traceback, and says why on standard error
  when it exits 2;
* a site of hostile pages builds: every page is written, no traceback, every warning of
  the extension at a file and line, hostile text escaped in the HTML, and what a
  scenario does to the model's modules does not reach the build.

Each test is bounded (examples and a time limit per script) so that the whole suite
stays well under a minute on two cores.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sphinx.testing.util import SphinxTestApp
from sphinx.util.console import strip_colors

import spec
from spec import HOST, LEGACY, ClaimEntry, Host, Page
from spec.__main__ import main
from spec.abi import UINT64_MAX, UINT_MAX
from spec.cli import run

pytest_plugins = ["sphinx.testing.fixtures"]

MakeApp = Callable[..., SphinxTestApp]

# --- model calls ------------------------------------------------------------------------

# Symbolic values that need the host: resolved when the call is made.
REFS = (
    "<domain>",
    "<foreign domain>",
    "<page>",
    "<copy of page>",
    "<float page>",
    "<foreign page>",
)
plain = st.one_of(
    st.integers(-3, 20),
    st.sampled_from([2**31, UINT_MAX, UINT_MAX + 1, UINT64_MAX, UINT64_MAX + 1, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.binary(max_size=2),
    st.lists(st.integers(-1, 70), max_size=3),
    st.sampled_from([HOST, LEGACY, 0xFF, 64, (0, 1), {0: 1}, object()]),
)
entries = st.lists(
    st.builds(
        ClaimEntry,
        st.integers(0, 9) | st.just(UINT64_MAX),
        st.sampled_from([0, 1, 2, HOST, LEGACY, 0xFF]),
        st.just(0) | st.integers(0, UINT_MAX),
    ),
    max_size=4,
)
values = st.one_of(plain, st.sampled_from(REFS), entries)
METHODS = {
    "create_domain": 2,
    "set_max_pages": 2,
    "destroy_domain": 1,
    "claim_pages": 2,
    "claim_memory": 3,
    "get_claims": 2,
    "domctl_claim_memory": 4,
    "alloc_domheap_pages": 5,
    "free_domheap_pages": 1,
    "offline_page": 1,
    "online_page": 1,
    "pause_domain": 1,
    "unpause_domain": 1,
    "domctl_set_memory_claims": 4,
    "domctl_get_memory_claims": 4,
}
REQUIRED = {
    name: sum(
        p.default is inspect.Parameter.empty
        for p in inspect.signature(getattr(Host, name)).parameters.values()
        if p.name != "self"
    )
    for name in METHODS
}
calls = st.lists(
    st.sampled_from(sorted(METHODS)).flatmap(
        lambda name: st.tuples(
            st.just(name), st.lists(values, min_size=REQUIRED[name], max_size=METHODS[name])
        )
    ),
    min_size=1,
    max_size=8,
)


def hostile_host(design: str) -> tuple[Host, dict[str, Any]]:
    host = Host(nodes=[8, 8], design=design, check_invariants="full")
    d = host.create_domain(max_pages=6)
    page = host.alloc_domheap_pages(d, 0, node=1)
    assert page is not None
    host.claim_memory(d, [ClaimEntry(2, 0)])  # a claim where the design takes it so
    other = Host(nodes=[8, 8])
    foreign = other.create_domain()
    foreign_page = other.alloc_domheap_pages(foreign, 0, node=1)
    refs = {
        "<foreign page>": foreign_page,
        "<domain>": d,
        "<foreign domain>": foreign,
        "<page>": page,
        "<copy of page>": Page(page.mfn, page.order, page.node, page.owner),
        "<float page>": Page(float(page.mfn), 0, 1, 1),  # type: ignore[arg-type]
    }
    return host, refs


def everything(host: Host) -> tuple[object, ...]:
    return (host.snapshot(), host.next_domid, tuple(sorted(host.reserved)))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence=calls, design=st.sampled_from(["upstream", "v6", "v7", "v8"]))
def test_hostile_model_calls_are_refused_by_name_and_change_nothing(
    sequence: list[tuple[str, list[object]]], design: str
) -> None:
    host, refs = hostile_host(design)
    for name, raw in sequence:
        args = [refs.get(a, a) if isinstance(a, str) else a for a in raw]
        method = getattr(host, name)
        params = list(inspect.signature(method).parameters)
        before = everything(host)
        try:
            result = method(*args)
        except (TypeError, ValueError) as error:
            assert everything(host) == before, f"{name}{tuple(args)} changed the host"
            named = re.match(r"[a-z_]+", str(error))
            assert named and named.group() in params, f"{name}: {error!r} names no argument"
            continue
        assert host.violations() == []
        rc = result[0] if isinstance(result, tuple) else result
        if isinstance(rc, int) and not isinstance(rc, bool) and rc < 0:
            assert everything(host) == before, f"{name}{tuple(args)} failed but changed the host"


# --- command lines ----------------------------------------------------------------------

TOKENS = [
    "--design", "v7", "v6", "v9", "", "--workers", "0", "-1", "99999999999", "1",
    "--max-pages", "1,x", ",", "unlimited,3", "-2,1", "--max-states", "--depth", "--nodes",
    "--pages", "--domains", "--timeout", "nan", "inf", "0", "-", "script.py", "missing.py",
    "--base-url", "é", "Σ", "--expect", "--profile", "lean", "set-install", "inv-global",
    "--", "-h",
]  # fmt: skip
SCRIPT_LINES = [
    "host = Host(nodes=[8, 8])",
    "d = host.create_domain()",
    "host.claim_pages(d, 4)",
    "exit()",
    "raise KeyboardInterrupt",
    "while True: pass",
    "import spec; spec.RULES.clear()",
    "Host([2**52 - 1])",
    "1/0",
    "x = (",
    "print('Σ')",
]
command_lines = st.tuples(
    st.sampled_from(["check", "rules", "cite", "replay", "bogus"]),
    st.lists(st.sampled_from(TOKENS), max_size=5),
)
scripts = st.one_of(
    st.lists(st.sampled_from(SCRIPT_LINES), max_size=4).map(lambda ls: "\n".join(ls).encode()),
    st.binary(max_size=12),
)
BOUNDS = {  # appended last (argparse keeps the last value): every run stays small
    "check": ["--depth", "1", "--nodes", "1", "--pages", "1", "--domains", "1"],
    "replay": ["--timeout", "0.3"],
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line=command_lines, script=scripts, ascii_out=st.booleans())
def test_hostile_command_lines_exit_0_1_or_2_without_a_traceback(
    line: tuple[str, list[str]], script: bytes, ascii_out: bool, tmp_path_factory: Any
) -> None:
    command, tokens = line
    where = tmp_path_factory.mktemp("cli")
    (where / "script.py").write_bytes(script)
    argv = [command, *(str(where / t) if t.endswith(".py") else t for t in tokens)]
    argv += BOUNDS.get(command, [])
    buffer = io.BytesIO()
    out = io.TextIOWrapper(buffer, encoding="ascii" if ascii_out else "utf-8")
    err = io.StringIO()
    stdin = io.TextIOWrapper(io.BytesIO(script), encoding="utf-8")
    with contextlib.redirect_stderr(err), _stdin(stdin):
        try:
            code = run(lambda: main(argv, out), err)
        except SystemExit as exit:  # argparse: usage and one error line, status 2 (or help)
            code = exit.code if isinstance(exit.code, int) else 2
    out.flush()
    assert code in (0, 1, 2), (argv, code, err.getvalue())
    assert "Traceback" not in err.getvalue()
    if code == 2 and "-h" not in argv:
        assert err.getvalue().strip(), argv


@contextlib.contextmanager
def _stdin(stream: io.TextIOWrapper) -> Any:
    saved, sys.stdin = sys.stdin, stream
    try:
        yield
    finally:
        sys.stdin = saved


# --- directives -------------------------------------------------------------------------

DIRECTIVES = {
    "scenario": ["design", "draw", "expect-error", "caption"],
    "rule": [],
    "rules": ["prefix", "exclude-prefix", "function", "design"],
    "invariant": [],
    "invariants": ["scope"],
    "state-diagram": ["design", "caption", "alt", "align"],
    "accounting-diagram": ["caption", "alt", "no-derived"],
    "rename-table": ["series", "caption"],
    "design-diff": ["designs", "options", "differences", "caption"],
    "c-api": ["kind"],
}
ARGUMENTS = ["set-install", "inv-global", "no-such", "<b>x</b>", ""]
TEXT = st.sampled_from(
    ["v6", "v7", "v9", "v6, v7", "each", "bogus", "set-", "legacy-", "", "<script>x</script>",
     '"q" & <b>', "`x`", "|sub|", "inv-", "host, node", "Σ ≤ 0"]
)  # fmt: skip
ROLES = [
    ":claims:rule:`!set-install`",
    ":claims:rule:`~set-install`",
    ":claims:inv:`~inv-global`",
    ":claims:rule:`no-such-rule`",
    ":claims:rule:`<i>x</i>`",
    ":claims:inv:`!`",
]
directive = st.tuples(
    st.sampled_from(sorted(DIRECTIVES)),
    st.sampled_from(ARGUMENTS),
    st.dictionaries(
        st.sampled_from(["design", "caption", "bogus-option", "draw"]), TEXT, max_size=2
    ),
    st.lists(st.sampled_from(SCRIPT_LINES), max_size=3),
)
page = st.lists(
    st.one_of(directive, st.lists(st.sampled_from(ROLES), min_size=1, max_size=3)), max_size=4
)


def render(blocks: list[Any]) -> str:
    lines = ["Page", "====", ""]
    for block in blocks:
        if isinstance(block, list):  # a paragraph of roles over several lines
            lines += ["Some text", *(f"cites {role} here" for role in block), ""]
            continue
        name, argument, options, content = block
        arg = f" {argument}" if name in ("rule", "invariant") else ""
        lines.append(f".. claims:{name}::{arg}")
        lines += [f"   :{key}: {value}" for key, value in options.items()]
        if name == "scenario":
            lines += ["", *(f"   {line}" for line in content)]
        lines.append("")
    return "\n".join(lines) + "\n"


LOCATED = re.compile(r"^\S+\.rst:\d+: (WARNING|ERROR)")
"""A message at a page's file and line."""
UNLOCATED = ("[claims.graphviz]",)
"""Unlocated by nature: no dot to draw with (given once, when the build starts)."""


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a build a try: no shrinking
)
@given(pages=st.lists(page, min_size=1, max_size=3))
def test_a_site_of_hostile_pages_builds_every_page_with_located_warnings(
    pages: list[list[Any]], make_app: MakeApp, tmp_path_factory: Any
) -> None:
    srcdir = tmp_path_factory.mktemp("hostile-site")
    (srcdir / "conf.py").write_text(
        'extensions = ["sphinx_claims"]\nclaims_scenario_timeout = 0.3\nnitpicky = True\n'
    )
    names = [f"p{i}" for i in range(len(pages))]
    toctree = "".join(f"   {n}\n" for n in names)
    (srcdir / "index.rst").write_text(f"Index\n=====\n\n.. toctree::\n\n{toctree}")
    for name, blocks in zip(names, pages, strict=True):
        (srcdir / f"{name}.rst").write_text(render(blocks))
    rules = len(spec.RULES)
    app = make_app("html", srcdir=srcdir, freshenv=True)
    setup = len(app.warning.getvalue())  # Sphinx re-registering its nodes for a 2nd app
    app.build()
    out = Path(app.outdir)
    assert all((out / f"{n}.html").exists() for n in ["index", *names])
    log = strip_colors(app.warning.getvalue()[setup:])
    assert "Traceback" not in log and "Exception occurred" not in log
    for line in log.splitlines():
        if re.search(r"(WARNING|ERROR):", line) and not line.endswith(UNLOCATED):
            assert line.startswith(f"{srcdir}/") and LOCATED.match(line), line
    for name in names:
        assert "<script>x</script>" not in (out / f"{name}.html").read_text()
    assert len(spec.RULES) == rules  # a scenario's spec.RULES.clear() stayed in its process
