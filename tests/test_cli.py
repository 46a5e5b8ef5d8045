"""``python -m spec rules``, ``cite`` and ``check`` as a reviewer runs them."""

from __future__ import annotations

import io
import subprocess
import sys
from contextlib import redirect_stderr

import pytest

from spec import INVARIANTS, RULES
from spec import __version__ as spec_version
from spec.__main__ import main
from spec.rules import site_url


def spec(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m spec ARGS`` in this process (so coverage sees it)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stderr(err):
        try:
            code = main(list(args), out)
        except SystemExit as exit:  # argparse errors
            code = int(exit.code or 0)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def test_python_dash_m_spec_runs_as_a_program() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "spec", "cite", "set-duplicate-node"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.endswith("/rule/set-duplicate-node.html\n")


def test_rules_lists_every_rule_with_outcome_and_designs_then_the_invariants() -> None:
    run = spec("rules")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    for rule in RULES.values():
        line = next(line for line in lines if line.split()[:1] == [rule.id])
        assert rule.outcome in line
        assert ", ".join(d for d in ("upstream", "v6", "v7") if d in rule.designs) in line
    for label in INVARIANTS:
        assert any(line.startswith(label + " ") for line in lines)
    assert lines[-1] == f"{len(RULES)} rules, {len(INVARIANTS)} invariants"


def test_rules_of_one_design() -> None:
    run = spec("rules", "--design", "upstream")
    listed = {line.split()[0] for line in run.stdout.splitlines() if line and " " in line}
    assert "legacy-install" in listed
    assert "set-duplicate-node" not in listed  # upstream has no claim sets


def test_cite_prints_id_statement_designs_and_permalink() -> None:
    run = spec("cite", "set-duplicate-node")
    assert run.returncode == 0, run.stderr
    assert run.stdout == (
        "[set-duplicate-node] A node listed twice in one claim set is rejected.\n"
        "  Outcome: -EINVAL (in domain_set_claim_entries)\n"
        "  Holds in: v6, v7, v8\n"
        "  Source: [V7] page_alloc.c domain_set_claim_entries\n"
        f"  {site_url(spec_version)}/rule/set-duplicate-node.html\n"
    )


def test_cite_for_a_design_and_another_site() -> None:
    run = spec("cite", "set-duplicate-node", "--design", "v7", "--base-url", "https://x.example/")
    assert run.returncode == 0
    assert "  Holds in v7 (designs it holds in: v6, v7, v8)\n" in run.stdout
    assert run.stdout.endswith(
        f"  https://x.example/en/{spec_version}/rule/set-duplicate-node.html\n"
    )
    run = spec("cite", "set-duplicate-node", "--design", "upstream")
    assert run.returncode == 1  # cited for a design it does not hold in
    assert "Does NOT hold in upstream; it holds in: v6, v7, v8" in run.stdout


def test_cite_wraps_a_long_statement() -> None:
    run = spec("cite", "redeem-step-3")
    lines = run.stdout.splitlines()
    assert lines[0] == "[redeem-step-3]"
    assert all(len(line) <= 100 for line in lines)
    assert " ".join(line.strip() for line in lines[1:3]) == RULES["redeem-step-3"].statement


def test_invariants_are_citable() -> None:
    run = spec("cite", "inv-global")
    assert run.returncode == 0
    assert run.stdout.startswith(
        "[inv-global] Claims fit in free memory: outstanding_claims ≤ total_avail_pages\n"
    )
    assert "Holds in: upstream, v6, v7, v8" in run.stdout
    assert run.stdout.endswith(f"  {site_url(spec_version)}/rule/inv-global.html\n")
    assert "soft invariant" in spec("cite", "inv-maxpages").stdout


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [("set-duplicate", "set-duplicate-node"), ("inv-globl", "inv-global")],
)
def test_an_unknown_id_exits_non_zero_and_suggests_the_closest(typo: str, suggestion: str) -> None:
    run = spec("cite", typo)
    assert run.returncode == 2
    assert run.stdout == ""
    assert f"unknown rule or invariant ID {typo!r}; did you mean {suggestion}" in run.stderr


def test_usage_and_unknown_commands() -> None:
    assert spec().returncode == 2
    assert "check" in spec("--help").stdout
    run = spec("frobnicate")
    assert run.returncode == 2 and "unknown command 'frobnicate'" in run.stderr
    assert spec("cite").returncode == 2  # argparse: the ID is required
    assert spec("check", "--design", "v9").returncode == 2
    assert spec("check", "--nodes", "0").returncode == 2


def test_check_runs_from_the_command_line() -> None:
    run = spec("check", "--design", "upstream", "--depth", "2")
    assert run.returncode == 1
    assert "VIOLATION inv-global" in run.stdout
    assert ">>> host.offline_page(0)" in run.stdout
    run = spec(
        "check", "--design", "v7", "--nodes", "2", "--pages", "4", "--domains", "2", "--depth", "1"
    )
    assert run.returncode == 0 and "no violation" in run.stdout
    run = spec(
        "check",
        "--design",
        "v7",
        "--depth",
        "2",
        "--domains",
        "3",
        "--max-pages",
        "unlimited,3,1",
        "--profile",
        "lean",
    )
    assert run.returncode == 0
    assert "3 domains (max_pages unlimited, 3, 1)" in run.stdout
