"""The playground's Python half (sphinx_claims/playground_runtime.py), run under CPython: the
browser runs the same file under Pyodide (``nox -s browser`` checks every page there)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from doctest import DocTestParser
from pathlib import Path

import pytest

from sphinx_claims import playground_runtime as runtime
from sphinx_claims.playground import doctest_code
from sphinx_claims.playground_runtime import CODE, DOCTEST, Session, Shown

ROOT = Path(__file__).resolve().parent.parent
SETUP = "from spec import Host, ClaimEntry, HOST\n"
EXAMPLE = """\
>>> host = Host(nodes=[8, 8])
>>> d = host.create_domain()
>>> host.claim_memory(d, [ClaimEntry(4, 0), ClaimEntry(4, 0)])
-EINVAL
>>> for entry in [ClaimEntry(2, HOST)]:
...     print(host.claim_memory(d, [entry]))
0
>>> # a comment alone is no example
>>> host.outstanding_claims; host.last_rules
('release-node-first', 'set-install')
"""


def test_chunks_are_the_doctests_examples() -> None:
    code = doctest_code(EXAMPLE)
    sources = [e.source for e in DocTestParser().get_examples(EXAMPLE)]
    chunks = runtime.chunks(code)
    assert chunks == sources  # doctest, like Sybil, drops the comment-only example
    assert runtime.chunks("# a\nx = 1\n# b\n\ny = 2\n") == ["# a\nx = 1\n# b\n\n", "y = 2\n"]
    assert runtime.chunks("") == []
    with pytest.raises(SyntaxError):
        runtime.chunks("x = (")


def test_a_doctest_shows_what_the_doctest_would() -> None:
    namespace: dict[str, object] = {}
    runtime.run_code(SETUP, namespace)
    shown = runtime.run_doctest(doctest_code(EXAMPLE), namespace)
    assert [(s.output, s.error) for s in shown] == [
        ("", None),
        ("", None),
        ("-EINVAL\n", None),
        ("0\n", None),
        ("2\n('release-node-first', 'set-install')\n", None),
    ]


def test_an_error_is_its_tracebacks_last_line_and_the_next_example_runs() -> None:
    namespace: dict[str, object] = {}
    shown = runtime.run_doctest("print('a')\n1 / 0\nraise SystemExit(3)\nprint('b')\n", namespace)
    assert shown == [
        Shown("print('a')\n", "a\n"),
        Shown("1 / 0\n", "", "ZeroDivisionError: division by zero"),
        Shown("raise SystemExit(3)\n", "", "SystemExit: 3"),
        Shown("print('b')\n", "b\n"),
    ]
    (broken,) = runtime.run_doctest("x = (\n", namespace)
    assert broken.error is not None and broken.error.startswith("SyntaxError: ")
    runtime.run_code("raise ValueError('set-up errors are not shown')", namespace)


def test_a_session_runs_the_blocks_before_once_and_again_after_an_edit() -> None:
    blocks = [(CODE, SETUP + "calls = []\n"), (DOCTEST, "calls.append(1)\n"), (DOCTEST, "calls\n")]
    session = Session(blocks)
    assert session.run(1, blocks[1][1]) == [Shown("calls.append(1)\n", "")]
    assert session.run(2, "calls\n")[0].output == "[1]\n"  # in order: block 1 ran once
    assert session.run(2, "calls\n")[0].output == "[1]\n"  # again: a fresh namespace
    assert session.run(1, "calls.append(5)\n")[0].error is None  # an edit...
    assert session.run(2, "calls\n")[0].output == "[1]\n"  # ... is not what the page holds
    assert session.run(0, "calls = []; len(calls)\n")[0].output == "0\n"
    with pytest.raises(IndexError):
        session.run(3, "")
    assert '"output": "[1]\\n"' in runtime.start(
        '[["code", "x = [1]"], ["doctest", "x"]]'
    ).run_json(1, "x\n")


@pytest.fixture
def browser_subprocess() -> Iterator[None]:
    saved = subprocess.run
    runtime.install()
    try:
        yield
    finally:
        subprocess.run = saved  # type: ignore[assignment]


@pytest.mark.usefixtures("browser_subprocess")
def test_python_m_runs_in_this_python(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "spec", "cite", "set-duplicate"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert (run.returncode, run.stdout) == (2, "")
    assert "did you mean set-duplicate-node?" in run.stderr
    run = subprocess.run([sys.executable, "-m", "spec", "rules"], stdout=subprocess.PIPE)
    assert run.returncode == 0 and b"set-duplicate-node" in run.stdout
    with pytest.raises(subprocess.CalledProcessError):
        subprocess.run([sys.executable, "-m", "spec", "cite", "x"], check=True)
    assert "unknown rule" in capsys.readouterr().err  # not captured: it goes to stderr
    with pytest.raises(OSError, match="cannot start"):
        subprocess.run(["ls"])
    assert Path.cwd() != tmp_path


def test_a_scenario_replays_as_python_m_spec_replay_and_is_redrawn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from spec.replay import replay, report
    from sphinx_claims import memory_svg

    monkeypatch.setitem(sys.modules, "claims_memory_svg", memory_svg)  # as the archive has it
    script = "host = Host(nodes=[8])\nd = host.create_domain()\n"
    script += "host.claim_memory(d, [ClaimEntry(4, 0)])\n"
    got = runtime.run_scenario(script, ["v6", "v7"])
    assert got["report"] == report([replay(script, d) for d in ("v6", "v7")])
    assert [p["title"] for p in got["pictures"]] == [
        f"{line} → {value} ({d})"
        for d in ("v6", "v7")
        for line, value in zip(script.splitlines(), [f"host ({d})", "domain 1", "0"], strict=True)
    ]
    assert all(p["svg"].startswith("<svg") for p in got["pictures"])
    broken = runtime.run_scenario("host = (\n", [None])
    assert broken["pictures"] == [] and broken["report"].startswith("SyntaxError: ")


def test_where_python_cannot_fork_a_script_runs_in_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Pyodide has os.fork, which always fails: spec.sandbox runs the function here instead
    from spec import sandbox

    monkeypatch.setattr(sandbox, "CAN_FORK", False)
    seen: list[int] = []
    assert sandbox.isolated(lambda: seen.append(1) or len(seen), 5.0) == 1
    assert seen == [1]  # the change is this process's: no child ran it
    monkeypatch.undo()
    assert sandbox.isolated(lambda: seen.append(2) or len(seen), 5.0) == 2
    assert seen == [1]
