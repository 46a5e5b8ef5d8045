"""``spec.replay`` and ``python -m spec replay``: a script replayed under several designs."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from test_cli import spec as run_cli

from spec import HOST, ClaimEntry, Host
from spec.replay import replay, results_differ

SCRIPT = """\
from spec import Host, ClaimEntry, HOST
host = Host(nodes=[8, 8])
d = host.create_domain(max_pages=4)
host.claim_memory(d, [ClaimEntry(2, 0), ClaimEntry(1, HOST)])
page = host.alloc_domheap_pages(d, 1)
host.set_max_pages(d, 1)
host.claim_memory(d, [ClaimEntry(0, HOST)])
host.outstanding_claims
"""


def test_a_step_records_value_rules_change_and_the_hosts_after_it() -> None:
    run = replay(SCRIPT, "v7")
    assert [s.shown for s in run.steps] == [False] + [True] * 7
    install, alloc, lower, release, total = run.steps[3:]
    assert (install.value, install.rules, install.changed) == (
        "0",
        ("release-node-first", "set-install"),
        True,
    )
    assert (release.value, release.rules) == ("0", ("release-node-first", "set-release-all"))
    assert alloc.value is not None and alloc.value.startswith("Page(mfn=")
    assert (total.value, total.changed, total.lineno) == ("0", False, 8)
    # by default a step observes each host's snapshot: the same calls made by hand agree
    host = Host(nodes=[8, 8], design="v7")
    d = host.create_domain(max_pages=4)
    host.claim_memory(d, [ClaimEntry(2, 0), ClaimEntry(1, HOST)])
    assert install.hosts == [("host", host.snapshot())]
    # Xen lets max_pages fall below what the domain owns: only the soft invariant breaks
    assert lower.soft == [
        "inv-maxpages: domain 1: domain_tot_pages=2 + outstanding_pages=1 > max_pages=1"
    ]
    assert run.stopped is None


def test_a_host_without_design_takes_the_replays_and_a_raise_stops_it() -> None:
    script = "host = Host(nodes=[4])\nhost.claim_pages(99, -1)\nhost.claim_pages(1, 1)\n"
    run = replay(script, "v6")
    assert run.steps[0].value == "host (v6)"
    stop = run.stopped
    assert stop is run.steps[1] and stop.error is not None
    assert stop.error.startswith("ValueError: nr_pages")
    assert not run.steps[2].ran


def test_a_broken_hard_invariant_stops_the_replay() -> None:
    script = "host = Host(nodes=[4], check_invariants=False)\nhost.outstanding_claims = 9\n"
    stop = replay(script).stopped
    assert stop is not None and stop.error is not None
    assert stop.error.startswith("invariant does not hold: inv-global")


def test_bad_arguments_are_refused_before_anything_runs() -> None:
    with pytest.raises(ValueError, match="design='v9' is not a preset"):
        replay(SCRIPT, "v9")
    with pytest.raises(SyntaxError):
        replay("host = (")


def test_the_cli_shows_the_designs_side_by_side_and_marks_the_differences(
    tmp_path: Path,
) -> None:
    path = tmp_path / "script.py"
    path.write_text(SCRIPT, encoding="utf-8")
    run = run_cli("replay", str(path))  # default: v6 and v7
    assert run.returncode == 1, run.stderr  # results differ, as diff says
    lines = run.stdout.splitlines()
    assert lines[0] == "* the result differs; ~ the same result, decided by other rules"
    assert "from spec import" not in run.stdout  # imports are not shown
    # the same result, other rules: the second mark
    i = lines.index("~ host.claim_memory(d, [ClaimEntry(2, 0), ClaimEntry(1, HOST)])")
    assert lines[i + 1 : i + 3] == [
        "    v6  0  [release-host-first, set-install]",
        "    v7  0  [release-node-first, set-install]",
    ]
    i = lines.index("* host.claim_memory(d, [ClaimEntry(0, HOST)])")
    assert lines[i + 1 : i + 3] == [
        "    v6  -EINVAL  [set-max-pages]",
        "    v7  0  [release-node-first, set-release-all]",
    ]
    assert "  host.set_max_pages(d, 1)" in lines  # the same in both: not marked
    i = lines.index("* host.outstanding_claims")  # v6 kept the claim it could not cancel
    assert lines[i + 1 : i + 3] == ["    v6  1", "    v7  0"]
    assert (
        lines[-1] == "2 step(s) with a different result, 1 decided by other rules, between v6, v7"
    )


def test_a_step_is_marked_as_the_site_marks_it() -> None:
    runs = [replay(SCRIPT, design) for design in ("v6", "v7")]
    steps = list(zip(*(r.steps for r in runs), strict=True))
    assert [results_differ(s) for s in steps] == [
        False,
        False,
        False,
        False,
        False,
        False,
        True,
        True,
    ]
    # tests/test_scenario.py checks that the site marks the same steps


def test_a_loop_is_shown_whole_with_what_it_did(tmp_path: Path) -> None:
    path = tmp_path / "loop.py"
    path.write_text(
        "host = Host(nodes=[8])\nd = host.create_domain()\n"
        "for _ in range(2):\n    host.alloc_domheap_pages(d)\nif False:\n    pass\n"
    )
    run = run_cli("replay", str(path), "--design", "v6", "--design", "v7")
    assert run.returncode == 0  # no result differs
    lines = run.stdout.splitlines()
    i = lines.index("  for _ in range(2):")
    assert lines[i + 1 : i + 4] == [
        "      host.alloc_domheap_pages(d)",
        "    v6  changed a host  [alloc-last-node]",
        "    v7  changed a host  [alloc-last-node]",
    ]
    i = lines.index("  if False:")
    assert lines[i + 2 : i + 4] == ["    v6  changed nothing", "    v7  changed nothing"]
    assert (
        lines[-1] == "0 step(s) with a different result, 0 decided by other rules, between v6, v7"
    )


def test_the_cli_exit_status_says_whether_a_result_differs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "stops.py"
    path.write_text("host = Host(nodes=[4])\nhost.destroy_domain(object())\n", encoding="utf-8")
    run = run_cli("replay", str(path), "--design", "v7")
    assert run.returncode == 1  # one design: 1 when the run stopped
    assert run.stdout.splitlines()[-1].startswith("v7: stopped at line 2: TypeError")
    run = run_cli("replay", str(path), "--design", "v6", "--design", "v7")
    assert run.returncode == 0  # both stop the same way: no result differs
    monkeypatch.setattr("sys.stdin", io.StringIO("x = (\n"))
    run = run_cli("replay", "-")
    assert (run.returncode, run.stdout) == (2, "")
    assert "python -m spec replay: <stdin>:1:" in run.stderr
    run = run_cli("replay", str(tmp_path / "missing.py"))
    assert run.returncode == 2 and "No such file" in run.stderr
    assert run_cli("replay", str(path), "--design", "v9").returncode == 2


UPSTREAM_BUG = """\
host = Host(nodes=[4])
d, e = host.create_domain(), host.create_domain()
host.claim_pages(d, 4)
host.offline_page(3)
host.claim_pages(e, 1000)
host.physinfo()
"""


def test_a_known_bug_of_the_design_is_noted_on_the_step_and_the_replay_goes_on() -> None:
    run = replay(UPSTREAM_BUG, "upstream")
    assert run.stopped is None and all(s.ran for s in run.steps)
    offline, claim, physinfo = run.steps[3:]
    assert (offline.value, offline.error) == ("(0, 2)", None)
    assert offline.known == [
        "inv-global: outstanding_claims=4 > total_avail_pages=3",
        "inv-host-satisfiable: Σ host-wide claims=4 > free pages left by node claims=3",
    ]
    assert (claim.value, claim.rules) == ("0", ("legacy-install",))  # the wrap lets it in
    assert claim.known[0] == "inv-global: outstanding_claims=1004 > total_avail_pages=3"
    assert physinfo.value == "(3, 1004)"
    v7 = replay(UPSTREAM_BUG, "v7")  # v7 recalls: nothing to note, the claim is refused
    assert [s.known for s in v7.steps] == [[]] * 6
    assert (v7.steps[4].value, v7.steps[5].value) == ("-ENOMEM", "(3, 3)")


def replay_cli(tmp_path: Path, script: str, *designs: str) -> subprocess.CompletedProcess[str]:
    """``python -m spec replay`` of *script*, written to a file, under *designs*."""
    path = tmp_path / "script.py"
    path.write_text(script, encoding="utf-8")
    return run_cli("replay", str(path), *(arg for d in designs for arg in ("--design", d)))


def test_the_cli_replays_the_upstream_bug_to_the_end(tmp_path: Path) -> None:
    run = replay_cli(tmp_path, UPSTREAM_BUG, "upstream", "v7")
    assert run.returncode == 1, run.stdout  # results differ, but no run stopped
    assert "stopped" not in run.stdout
    lines = run.stdout.splitlines()
    i = lines.index("* host.offline_page(3)")
    assert lines[i + 1] == (
        "    upstream  (0, 2)  [offline-free, offline-reserve, offline-no-recall]  (known "
        "bug: inv-global: "
        "outstanding_claims=4 > total_avail_pages=3; inv-host-satisfiable: Σ host-wide "
        "claims=4 > free pages left by node claims=3)"
    )
    assert lines[i + 2] == "    v7        (0, 2)  [offline-free, offline-reserve, recall-host]"
    i = lines.index("* host.claim_pages(e, 1000)")
    assert lines[i + 1].startswith("    upstream  0  [legacy-install]  (known bug: inv-global")
    assert lines[i + 2] == "    v7        -ENOMEM  [legacy-nomem]"
    assert (
        lines[-1]
        == "3 step(s) with a different result, 0 decided by other rules, between upstream, v7"
    )


def test_the_cli_compares_v7_and_v8(tmp_path: Path) -> None:
    run = replay_cli(tmp_path, SCRIPT, "v7", "v8")
    assert run.returncode == 1, run.stderr  # a result differs
    lines = run.stdout.splitlines()
    i = lines.index("* host.claim_memory(d, [ClaimEntry(0, HOST)])")
    assert lines[i + 1 : i + 3] == [
        "    v7  0  [release-node-first, set-release-all]",
        "    v8  -EINVAL  [set-zero-pages]",
    ]
    assert lines[-1].endswith("decided by other rules, between v7, v8")
