"""``spec.replay`` and ``python -m spec replay``: a script replayed under several designs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from test_cli import spec as run_cli

from spec import HOST, ClaimEntry, Host
from spec.replay import replay

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
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "from spec import" not in run.stdout  # imports are not shown
    i = lines.index("* host.claim_memory(d, [ClaimEntry(2, 0), ClaimEntry(1, HOST)])")
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
    assert "    v6  -EINVAL  [set-max-pages]" in lines  # v6 cannot cancel (NT3 TCCH)
    i = lines.index("* host.outstanding_claims")  # v6 kept the claim it could not cancel
    assert lines[i + 1 : i + 3] == ["    v6  1", "    v7  0"]
    assert lines[-1] == "3 step(s) differ between v6, v7"


def test_the_cli_exit_status_says_whether_a_run_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "stops.py"
    path.write_text("host = Host(nodes=[4])\nhost.destroy_domain(object())\n", encoding="utf-8")
    run = run_cli("replay", str(path), "--design", "v7")
    assert run.returncode == 1
    assert run.stdout.splitlines()[-1].startswith("v7: stopped at line 2: TypeError")
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


def test_the_cli_replays_the_upstream_bug_to_the_end(tmp_path: Path) -> None:
    path = tmp_path / "bug.py"
    path.write_text(UPSTREAM_BUG, encoding="utf-8")
    run = run_cli("replay", str(path), "--design", "upstream", "--design", "v7")
    assert run.returncode == 0, run.stdout  # no run stopped
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
    assert lines[-1] == "3 step(s) differ between upstream, v7"
