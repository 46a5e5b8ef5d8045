"""Hostile input, kind by kind (issue 18): each test is one break the hostile sweep found,
held fixed. The model's argument checks are rows of tests/test_bad_input.py; the
standing adversarial suite is tests/test_hostile_hypothesis.py. docs/guarantees.rst says
which test holds which promise.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sphinx.testing.util import SphinxTestApp
from sphinx.util.console import strip_colors

from spec import Host
from spec.replay import replay, replay_isolated
from spec.sandbox import Ended, isolated

pytest_plugins = ["sphinx.testing.fixtures"]

ROOT = Path(__file__).resolve().parent.parent
MakeApp = Callable[..., SphinxTestApp]


# --- 3. the command line ------------------------------------------------------------------


def spec_cli(
    *args: str, stdin: bytes | None = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m spec ARGS`` as a shell runs it (stdin None: closed)."""
    return subprocess.run(
        [sys.executable, "-m", "spec", *args],
        input=stdin.decode("latin-1") if stdin is not None else None,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def closed_stdin_replay() -> subprocess.CompletedProcess[str]:
    """``python -m spec replay - <&-``: standard input closed, not merely empty."""
    return subprocess.run(
        ["sh", "-c", f'exec "{sys.executable}" -m spec replay - <&-'],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


SCRIPTS = {
    "nul.py": b"host = Host([8])\n\x00\n",
    "binary.py": b"\xff\xfe\x00\x01",
    "latin1.py": b'x = "\xe9"\n',
}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("check", "--max-pages", "99999999999,1"), "--max-pages: 99999999999 does not fit"),
        (("check", "--max-pages=-1,1"), "--max-pages: must be at least 0, not -1"),
        (("check", "--workers", "0"), "--workers: must be at least 1, not 0"),
        (("check", "--max-states", "-5"), "--max-states: must be at least 0, not -5"),
        (("replay", "nul.py"), "nul.py: line 2: a NUL byte"),
        (("replay", "binary.py"), "binary.py: not UTF-8 text (byte 0: 0xff)"),
        (("replay", "latin1.py"), "latin1.py: not UTF-8 text (byte 5: 0xe9)"),
        (("replay", "."), ".: Is a directory"),
        (("replay", "--timeout", "0", "nul.py"), "--timeout: must be a number of seconds"),
        (("replay", "--timeout", "inf", "nul.py"), "--timeout: must be a number of seconds"),
    ],
)
def test_bad_command_lines_get_one_line_and_status_2(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    for name, data in SCRIPTS.items():
        (tmp_path / name).write_bytes(data)
    run = subprocess.run(
        [sys.executable, "-m", "spec", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert run.returncode == 2, run
    assert "Traceback" not in run.stderr
    assert message in run.stderr.splitlines()[-1]
    if args[0] == "replay" and "--timeout" not in args:
        assert len(run.stderr.splitlines()) == 1


def test_closed_stdin_is_a_message_not_a_traceback() -> None:
    run = closed_stdin_replay()
    assert (run.returncode, run.stderr) == (2, "python -m spec replay: standard input is closed\n")


@pytest.mark.parametrize("args", [("rules",), ("cite", "inv-global")])
def test_an_output_encoding_that_cannot_show_the_output(args: tuple[str, ...]) -> None:
    run = spec_cli(*args, env={"PYTHONIOENCODING": "ascii"})
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        "python -m spec: the output encoding ascii cannot show '\\u2264'; set "
        "PYTHONIOENCODING=utf-8"
    ]


# --- 4. scripts must not take over ------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("exit()", "SystemExit: the script called exit(); the replay stops here"),
        ("import sys; sys.exit(3)", "SystemExit: the script called exit(3)"),
        ("raise KeyboardInterrupt", "KeyboardInterrupt: the script interrupted itself"),
        ("raise SystemExit('bye')", "SystemExit: the script called exit('bye')"),
    ],
)
def test_an_exit_in_a_script_stops_the_run_at_its_line(line: str, error: str) -> None:
    code = f"host = Host([8])\n{line}\nhost.create_domain()\n"
    for run in (replay(code, "v7"), replay_isolated(code, "v7")):
        stop = run.stopped
        assert stop is not None and stop.lineno == 2 and stop.error is not None
        assert stop.error.startswith(error)
        assert run.steps[0].ran and not run.steps[-1].ran


def test_replay_reports_an_exit_and_goes_on_to_the_report(tmp_path: Path) -> None:
    script = tmp_path / "exit.py"
    script.write_text("host = Host([8])\nexit()\n")
    run = spec_cli("replay", str(script))
    assert run.returncode == 0  # both designs stop alike: no result differs (as diff)
    assert spec_cli("replay", str(script), "--design", "v7").returncode == 1  # one run stopped
    assert "v6: stopped at line 2: SystemExit: the script called exit()" in run.stdout
    assert "v7: stopped at line 2: SystemExit" in run.stdout


def test_an_endless_script_stops_at_its_line_under_the_time_limit(tmp_path: Path) -> None:
    script = tmp_path / "loop.py"
    script.write_text("host = Host([8])\nwhile True:\n    pass\n")
    run = spec_cli("replay", "--timeout", "0.3", "--design", "v7", str(script))
    assert run.returncode == 1
    assert (
        "v7: stopped at line 2: TimeLimit: the script ran past its time limit of 0.3 s"
        in run.stdout
    )


def test_a_script_that_ignores_the_time_limit_is_killed() -> None:
    code = "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True: pass\n"
    run = replay_isolated(code, "v7", timeout=0.2)
    assert run.failure is not None and "did not finish within 2.2 s and was ended" in run.failure
    assert not any(step.ran for step in run.steps)


def test_a_script_that_ends_its_process_gives_a_failure_not_a_silent_success() -> None:
    run = replay_isolated("import os\nos._exit(0)\n", "v7")
    assert run.failure == "the script gave no result: its process ended without giving a result"
    with pytest.raises(Ended, match=r"^ValueError: boom$"):
        isolated(lambda: (_ for _ in ()).throw(ValueError("boom")), 5)


COUNTER = """\
import spec
spec.RUNS = getattr(spec, "RUNS", 0) + 1
spec.RUNS
spec.RULES.clear()
"""


def test_runs_under_several_designs_cannot_change_each_other(tmp_path: Path) -> None:
    script = tmp_path / "state.py"
    script.write_text(COUNTER)
    run = spec_cli("replay", str(script))
    assert run.returncode == 0, run.stderr
    assert "    v6  1\n    v7  1\n" in run.stdout  # the v7 run does not see the v6 run's
    assert "0 step(s) with a different result, 0 decided by other rules" in run.stdout
    import spec

    replay_isolated(COUNTER, "v7")
    assert not hasattr(spec, "RUNS") and spec.RULES  # nor this process's modules


# --- 4 and 5: the extension --------------------------------------------------------------

PAGES = {
    "index.rst": """\
Index
=====

.. toctree::

   scripts
   roles
   rules

Text :claims:rule:`!set-install` and :claims:rule:`~set-install`.
""",
    "scripts.rst": """\
Scripts
=======

.. claims:scenario::

   host = Host(nodes=[8])
   exit()

.. claims:scenario::
   :caption: loops

   host = Host(nodes=[8])
   while True: pass

.. claims:scenario::

   import spec
   spec.RULES.clear()
   spec.designs.DESIGNS.clear()

.. claims:scenario::
   :design: v9
   :expect-error: v6, bogus
   :caption: <script>alert(1)</script> & "q"

   host = Host(nodes=[8])
   d = host.create_domain()
   host.claim_pages(d, 4)
""",
    "roles.rst": """\
Roles
=====

A paragraph
over lines, citing :claims:rule:`no-such-rule` on its third line,
and :claims:rule:`!no-such-either` with no link.
""",
    "rules.rst": """\
Rules
=====

.. claims:rules::
   :prefix: legacy-
""",
}


def build_site(make_app: MakeApp, tmp: Path, parallel: int = 0) -> SphinxTestApp:
    srcdir = tmp / "site"
    srcdir.mkdir()
    (srcdir / "conf.py").write_text(
        'extensions = ["sphinx_claims"]\nclaims_default_design = "v6"\n'
        "claims_scenario_timeout = 0.5\nnitpicky = True\n"
    )
    for name, text in PAGES.items():
        (srcdir / name).write_text(text)
    app = make_app("html", srcdir=srcdir, freshenv=True, parallel=parallel)
    app.build()
    return app


def claims_warnings(app: SphinxTestApp) -> list[str]:
    text = strip_colors(app.warning.getvalue())
    return [line for line in text.splitlines() if "WARNING" in line and "claims." in line]


@pytest.mark.parametrize("parallel", [0, 2])
def test_hostile_pages_build_every_page_with_located_warnings(
    make_app: MakeApp, tmp_path: Path, parallel: int
) -> None:
    app = build_site(make_app, tmp_path, parallel)
    out = Path(app.outdir)
    assert all((out / name.replace(".rst", ".html")).exists() for name in PAGES)
    assert "Traceback" not in app.warning.getvalue()
    warnings = claims_warnings(app)
    src = Path(app.srcdir)
    located = [w for w in warnings if "[claims.graphviz]" not in w]
    assert all(re.match(rf"{re.escape(str(src))}/\w+\.rst:\d+: WARNING", w) for w in located)
    expected = [
        "scripts.rst:7: WARNING: claims:scenario: the script stopped under v6 "
        "at line 2 (exit()): SystemExit: the script called exit()",
        "scripts.rst:13: WARNING: claims:scenario: the script stopped under v6 "
        "at line 2 (while True: pass): TimeLimit: the script ran past its time "
        "limit of 0.5 s",
        "scripts.rst:21: WARNING: claims:scenario: unknown design 'v9'",
        "scripts.rst:21: WARNING: claims:scenario: unknown expect-error design 'bogus'",
        "roles.rst:5: WARNING: :claims:rule:`no-such-rule` cites a rule the model does not",
    ]
    for text in expected:
        assert any(text in w for w in warnings), (text, warnings)
    assert not any("no-such-either" in w for w in warnings)  # `!`: no link, no citation
    rules = (out / "rules.html").read_text()
    assert 'id="legacy-dying"' in rules  # the scenario that cleared RULES changed nothing
    scripts = (out / "scripts.html").read_text()
    assert "<script>alert(1)</script>" not in scripts
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in scripts
    # an unknown :design: falls back to claims_default_design (v6), not to v7
    assert "Memory after host = Host(nodes=[8]) → host (v6)" in scripts
    index = (out / "index.html").read_text()
    assert "<code" in index and 'href="rules.html#set-install"' not in index


def test_a_role_with_tilde_links_its_id(make_app: MakeApp, tmp_path: Path) -> None:
    with_rule = dict(PAGES, **{"rules.rst": "Rules\n=====\n\n.. claims:rule:: set-install\n"})
    srcdir = tmp_path / "tilde"
    srcdir.mkdir()
    (srcdir / "conf.py").write_text('extensions = ["sphinx_claims"]\n')
    for name in ("index.rst", "rules.rst"):
        (srcdir / name).write_text(with_rule[name].replace("scripts\n   roles\n", ""))
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    index = (Path(app.outdir) / "index.html").read_text()
    assert index.count('title="rule set-install"') == 1  # `~` links, `!` does not
    assert "set-install</span></code></a>" in index
    assert "~set-install" not in index


def test_a_bad_scenario_time_limit_is_warned_about_and_replaced(
    make_app: MakeApp, tmp_path: Path
) -> None:
    srcdir = tmp_path / "limit"
    srcdir.mkdir()
    (srcdir / "conf.py").write_text(
        'extensions = ["sphinx_claims"]\nclaims_scenario_timeout = -1\n'
    )
    (srcdir / "index.rst").write_text("Index\n=====\n")
    app = make_app("html", srcdir=srcdir, freshenv=True)
    assert app.config.claims_scenario_timeout == 10.0
    assert "claims_scenario_timeout = -1 is not a number of seconds above 0" in strip_colors(
        app.warning.getvalue()
    )


def test_scenario_rule_links_carry_the_directive_location(
    make_app: MakeApp, tmp_path: Path
) -> None:
    """The fired rules of a scenario caption are links; the site renders none of them,
    so with -n each unresolved link warns, at the scenario, not at an unknown place."""
    srcdir = tmp_path / "caption"
    srcdir.mkdir()
    (srcdir / "conf.py").write_text('extensions = ["sphinx_claims"]\nnitpicky = True\n')
    (srcdir / "index.rst").write_text(
        "Index\n=====\n\n.. claims:scenario::\n\n   host = Host(nodes=[8])\n"
        "   d = host.create_domain()\n   host.claim_pages(d, 4)\n"
    )
    app = make_app("html", srcdir=srcdir, freshenv=True)
    app.build()
    text = strip_colors(app.warning.getvalue())
    refs = [line for line in text.splitlines() if "legacy-" in line and "WARNING" in line]
    assert refs and all(line.startswith(f"{srcdir}/index.rst:4: WARNING") for line in refs)


def test_a_huge_host_is_refused_at_its_stated_bound() -> None:
    with pytest.raises(ValueError, match="need 4294967295 boot buddies"):
        Host([2**52 - 1])
    assert Host([2**52 - 1], max_order=40).total_avail_pages == 2**52 - 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--port", "99999"), "argument --port: '99999' is not a port (0 to 65535)"),
        (("--port", "-5"), "argument --port: '-5' is not a port"),
        (("--root", "/nonexistent"), "--root /nonexistent: no docs/conf.py there"),
    ],
)
def test_the_preview_server_refuses_bad_arguments(args: tuple[str, ...], message: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "sphinx_claims.serve", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.splitlines()[-1].startswith(
        f"python -m sphinx_claims.serve: error: {message}"
    )


# --- the helpers of the command line and the sandbox, in this process ------------------


def test_the_argument_types_refuse_what_no_run_can_use() -> None:
    import argparse

    from spec.cli import check_bounds, natural, seconds

    assert natural(1)("3") == 3 and seconds("0.5") == 0.5
    for parse, text in [(natural(1), "0"), (natural(0), "x"), (seconds, "-1"), (seconds, "s")]:
        with pytest.raises(argparse.ArgumentTypeError):
            parse(text)
    check_bounds(["--max-pages", "unlimited,4", "--workers", "2", "--depth", "9"])


def test_read_script_refuses_what_is_not_a_script(tmp_path: Path) -> None:
    import io

    from spec.cli import UsageError, read_script, run

    good = io.TextIOWrapper(io.BytesIO(b"host = Host([8])\n"), encoding="utf-8")
    assert read_script("-", good) == ("host = Host([8])\n", "<stdin>")
    closed = io.StringIO()
    closed.close()
    for path, stdin in [("-", None), ("-", closed), (str(tmp_path / "none.py"), None)]:
        with pytest.raises(UsageError):
            read_script(path, stdin)
    err = io.StringIO()

    def interrupted() -> int:
        raise KeyboardInterrupt

    assert run(interrupted, err) == 130 and err.getvalue() == "python -m spec: interrupted\n"


def test_the_time_limit_stops_the_statement_running_in_this_process() -> None:
    run = replay("host = Host([8])\nwhile True: pass\n", "v7", timeout=0.2)
    assert run.stopped is not None and run.stopped.lineno == 2
    assert run.stopped.error == "TimeLimit: the script ran past its time limit of 0.2 s"
