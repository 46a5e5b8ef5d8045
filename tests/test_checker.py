"""The bounded model checker: small bounds, the upstream bug, planted bugs, runnable traces."""

from __future__ import annotations

import doctest
import functools
import io
import re
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

import spec.alloc
import spec.checker.cluster
import spec.checker.workers
import spec.claims
import spec.hypercalls
import spec.install
import spec.offline
from spec import Host, get_design
from spec.checker import (
    PROPERTIES,
    CheckConfig,
    Checker,
    CheckResult,
    Codec,
    Explorer,
    Finding,
    Stats,
    alphabet,
    check,
    main,
    max_rss_kib,
    state_ops,
)
from spec.rules import RULES
from spec.state import Domain, HostState


def run_doctest(text: str) -> doctest.TestResults:
    """Run a trace script as a doctest, in a fresh namespace."""
    test = doctest.DocTestParser().get_doctest(text, {}, "trace", None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out = io.StringIO()
    runner.run(test, out=out.write)
    assert runner.failures == 0, out.getvalue()
    return runner.summarize(verbose=False)


@functools.cache
def checked(design: str, depth: int) -> CheckResult:
    """A result of the unpatched model, shared by the tests that read it."""
    return check(CheckConfig(design, depth=depth), coverage=True)


def by_property(result: CheckResult) -> dict[str, Finding]:
    return {f.property: f for f in result.findings}


def sources(finding: Finding) -> list[str]:
    return [op.source() for op in finding.trace]


# --- small bounds (these run in nox -s tests) -----------------------------------------


def test_v7_is_clean_at_a_small_bound_with_every_property_checked() -> None:
    result = checked("v7", 3)
    assert result.ok, result.report()
    assert result.stats.depth == 3
    assert result.stats.states > 5_000
    assert result.stats.transitions > 10 * result.stats.states // 2
    assert result.stats.levels[0] == 1 and sum(result.stats.levels) == result.stats.states
    report = result.report()
    assert "no violation" in report
    assert all(p in report for p in PROPERTIES if p != "exception")


def test_upstream_reproduces_the_offlining_bug_and_the_wrapped_claim() -> None:
    """7.1: offlining lowers free memory below the claims; the unsigned difference then
    wraps, and a later legacy claim succeeds although no free memory covers it."""
    found = by_property(checked("upstream", 3))
    assert set(found) == {"inv-global", "inv-host-satisfiable", "prop-claim-within-free"}
    assert sources(found["inv-global"]) == ["host.claim_pages(1, 8)", "host.offline_page(0)"]
    assert found["inv-global"].message == "outstanding_claims=8 > total_avail_pages=7"
    wrap = found["prop-claim-within-free"]
    assert sources(wrap) == [
        "host.claim_pages(1, 8)",
        "host.offline_page(0)",
        "host.claim_pages(2, 1)",
    ]
    assert "raised outstanding_claims from 8 to 9, above total_avail_pages=7" in wrap.message
    assert "18446744073709551615" in wrap.script  # the wrapped unclaimed memory
    for finding in found.values():
        run_doctest(finding.script)


def test_v7_recall_makes_the_same_bound_clean_and_v6_breaks_node_claims_too() -> None:
    assert checked("v7", 3).ok
    found = by_property(checked("v6", 2))
    assert {"inv-global", "inv-node"} <= set(found)  # v6 has no recall either


def test_v8_without_recall_breaks_the_invariants_and_the_legacy_claim_wraps() -> None:
    """v8 drops the recall: offlining breaks inv-global and inv-node as in upstream and
    v6, and XENMEM_claim_pages, whose check v8 leaves as upstream's unsigned difference,
    wraps; v8's SET adds instead and does not (claims-v8.md 6.5, tests/test_model_v8_set.py)."""
    found = by_property(checked("v8", 3))
    assert set(found) == {
        "inv-global",
        "inv-host-satisfiable",
        "inv-node",
        "prop-claim-within-free",
    }
    assert sources(found["inv-node"]) == [
        "host.claim_memory(1, [ClaimEntry(4, 0)])",
        "host.offline_page(0)",
    ]
    wrap = found["prop-claim-within-free"]
    assert sources(wrap) == [
        "host.claim_pages(1, 8)",
        "host.offline_page(0)",
        "host.claim_pages(2, 1)",
    ]
    assert "18446744073709551615" in wrap.script
    for finding in found.values():
        run_doctest(finding.script)


def test_v8_alphabet_pauses_and_the_states_keep_the_pause_count() -> None:
    """v8's alphabet pauses and unpauses (v7's does not); each count is a state of its
    own (the codec's restore is checked under v8 too, below)."""
    config = CheckConfig("v8", depth=2, exact=True)  # keeps every state's key
    methods = {op.method for op in alphabet(config)}
    assert {"pause_domain", "unpause_domain", "domctl_set_memory_claims"} <= methods
    assert "pause_domain" not in {op.method for op in alphabet(CheckConfig("v7"))}
    explorer = Checker(config)
    explorer.run()
    codec = Codec(explorer.host)
    pauses = {codec.unpack(key)[1][0][-1] for key in explorer.keys}  # domain 1's count
    assert pauses == {0, 1, 2, 3}


def test_recall_off_in_v7_is_found_by_the_checker() -> None:
    no_recall = get_design("v7").variant("v7-no-recall", offline_recall=False)
    found = by_property(check(CheckConfig(no_recall, depth=2)))
    assert "inv-global" in found and "inv-node" in found
    assert sources(found["inv-node"])[-1].startswith("host.offline_page(")


def test_the_trace_script_is_a_runnable_doctest() -> None:
    finding = checked("upstream", 2).findings[0]
    assert finding.script.startswith(">>> from spec import Host, ClaimEntry, HOST, LEGACY\n")
    assert ">>> host = Host(nodes=[4, 4], design='upstream', max_order=2" in finding.script
    assert ">>> _ = host.create_domain(max_pages=3)" in finding.script
    tests = run_doctest(finding.script)
    assert tests.attempted == 2 + 2 + len(finding.trace) + 1


def test_speed_is_counted_as_tlc_counts_it() -> None:
    # states/s: every call tried (TLC's "states generated"); distinct states/s beside it
    stats = Stats(states=12, transitions=100, depth=2, seconds=4.0)
    assert (stats.generated_per_second, stats.distinct_per_second) == (25.0, 3.0)
    line = stats.summary()
    assert line.startswith("100 states generated, 12 distinct states found, depth 2, 4.00 s: ")
    assert "25 states/s, 3 distinct states/s" in line


def test_without_getrusage_the_run_says_its_memory_was_not_measured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Pyodide (the site's examples in the browser) and Windows have no resource module
    monkeypatch.setitem(sys.modules, "resource", None)
    assert max_rss_kib() == 0
    out = io.StringIO()
    assert main(["--design", "v7", "--depth", "1"], out) == 0
    assert ", peak RSS not measured (no getrusage here)\n" in out.getvalue()
    monkeypatch.undo()
    assert max_rss_kib() > 0


def test_the_cli_exits_non_zero_on_a_violation_and_prints_the_trace() -> None:
    out = io.StringIO()
    assert main(["--design", "upstream", "--depth", "3"], out) == 1
    text = out.getvalue()
    assert "VIOLATION inv-global: outstanding_claims=8 > total_avail_pages=7" in text
    assert ">>> host.claim_pages(2, 1)\n0\n" in text
    assert re.search(
        r"\n[\d,]+ states generated, [\d,]+ distinct states found, depth 3, [\d.]+ s: "
        r"[\d,]+ states/s, [\d,]+ distinct states/s, peak RSS \d+ MiB",
        text,
    )
    out = io.StringIO()
    assert main(["--design", "v7", "--depth", "1"], out) == 0
    assert "no violation" in out.getvalue()
    expected = "inv-global,inv-host-satisfiable"
    assert main(["--design", "upstream", "--depth", "2", "--expect", expected], io.StringIO()) == 0
    assert main(["--design", "upstream", "--depth", "2", "--expect", "inv-global"], out) == 1
    assert "expected violations ['inv-global'], found" in out.getvalue()


def test_config_rejects_bad_bounds() -> None:
    with pytest.raises(ValueError, match="nodes"):
        CheckConfig(nodes=0)
    with pytest.raises(ValueError, match="depth"):
        CheckConfig(depth=-1)
    with pytest.raises(ValueError, match="max_pages"):
        CheckConfig(domains=2, max_pages=(None,))
    with pytest.raises(ValueError, match="profile"):
        CheckConfig(profile="deep")
    with pytest.raises(ValueError, match="design"):
        CheckConfig(design="v9")


def test_max_states_stops_early_and_says_so() -> None:
    result = check(CheckConfig("v7", depth=6, max_states=500))
    assert not result.stats.complete
    assert 500 <= result.stats.states < 2_000
    assert "stopped at --max-states" in result.report()


# --- the state encoding -----------------------------------------------------------------


@pytest.mark.parametrize("design", ["v7", "v8"])
def test_restoring_a_state_gives_the_host_that_replaying_its_trace_gives(design: str) -> None:
    """The codec keeps every field that matters: restoring any explored state into the
    working host equals replaying the shortest trace to it on a fresh host (unreduced: a
    reduced search restores a representative, tests/test_checker_reduction.py)."""
    config = CheckConfig(design, depth=2, reduction=False, exact=True)
    explorer = Checker(config)
    explorer.run()
    codec = Codec(explorer.host)
    for number in range(0, len(explorer.keys), 7):
        state = codec.unpack(explorer.keys[number])
        codec.restore(explorer.host, state)
        fresh = config.build()
        for op in explorer.trace(number):
            op.bind(fresh)()
        assert explorer.host.snapshot() == fresh.snapshot()
        assert codec.encode(fresh) == state
        assert Codec.pack(codec.encode(explorer.host)) == explorer.keys[number]


def test_alphabet_covers_every_hypercall_and_allocator_path() -> None:
    config = CheckConfig("v7")
    ops = alphabet(config)
    methods = {op.method for op in ops}
    assert methods >= {
        "claim_pages",
        "claim_memory",
        "get_claims",
        "domctl_claim_memory",
        "alloc_domheap_pages",
        "offline_page",
        "set_max_pages",
        "destroy_domain",
    }
    allocs = [op for op in ops if op.kind == "alloc"]
    assert {op.args[1] for op in allocs} >= {0, 1}
    assert any(op.args[0] is None for op in allocs)
    assert any(("no_refcount", True) in op.kwargs for op in allocs)
    assert any(("exact_node", True) in op.kwargs for op in allocs)
    assert len(alphabet(CheckConfig(profile="lean"))) < len(ops)
    host = config.build()
    page = host.alloc_domheap_pages(1, 0)
    assert page is not None
    host.offline_page(0)
    assert [op.source() for op in state_ops(host)] == [
        f"host.free_domheap_pages(host.allocated[{page.mfn}])",
        "host.online_page(0)",
    ]


def test_the_full_alphabet_fires_every_rule_of_v7_it_can_reach() -> None:
    """Every rule of v7 fires somewhere in a depth-3 exploration, except those that need
    a host switch no hypercall sets (LLC colouring, an XSM policy that denies, a failing
    xmalloc), and those of calls the v7 alphabet leaves out: pausing (only v8's SET looks
    at the pause count) and v8's domctls."""
    result = checked("v7", 3)
    v7_rules = {r for r, rule in RULES.items() if "v7" in rule.designs}
    unreachable = {
        "legacy-llc-coloring",
        "legacy-xsm",
        "domctl-llc-coloring",
        "domctl-xsm",
        "domctl-no-buffer",
        "memory-claims-absent",
        "pause-domain",
        "pause-overflow",
        "unpause-domain",
        "unpause-not-paused",
    }
    assert v7_rules - set(result.fired) == unreachable


# --- planted bugs: the checker must find each, with a trace that reproduces it ----------


MODEL_MODULES = (spec.claims, spec.install, spec.alloc, spec.offline, spec.hypercalls)


@pytest.fixture
def planted(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, object], None]:
    """Replace a model function by a buggy one in every module that uses it."""

    def plant(name: str, value: object) -> None:
        for module in MODEL_MODULES:
            if hasattr(module, name):
                monkeypatch.setattr(module, name, value)

    return plant


RELEASE_NODE_CLAIMS = spec.claims.domain_release_node_claims


def credit_twice(h: HostState, d: Domain, node: int, release: int) -> int:
    """A bug that breaks an invariant of the state: a node counter credited twice."""
    released = RELEASE_NODE_CLAIMS(h, d, node, release)
    h.claimed_pages[node] -= released
    return released


def redeem_without_step_3(h: HostState, d: Domain, node: int, request: int) -> None:
    """A bug that breaks a step property: redemption forgets its step 3."""
    redeem = min(d.outstanding_pages, request)
    redeem -= RELEASE_NODE_CLAIMS(h, d, node, redeem)
    spec.claims.domain_release_host_claims(h, d, redeem)


def test_planted_bug_redemption_without_step_3_is_found(planted: Callable[..., None]) -> None:
    planted("redeem_claims", redeem_without_step_3)
    found = by_property(check(CheckConfig("v7", depth=2)))
    assert "prop-redeem" in found
    bug = found["prop-redeem"]
    assert bug.trace[-1].method == "alloc_domheap_pages"
    assert "redeeming takes exactly" in bug.message
    run_doctest(bug.script)  # the script reproduces it against the buggy model


def test_planted_bug_node_claim_credited_twice_is_found(planted: Callable[..., None]) -> None:
    planted("domain_release_node_claims", credit_twice)
    found = by_property(check(CheckConfig("v7", depth=2)))
    assert "inv-sum-node" in found
    assert len(found["inv-sum-node"].trace) == 2  # a node claim, then any release of it
    run_doctest(found["inv-sum-node"].script)


def test_planted_bug_mutating_before_a_failing_check_is_found(
    planted: Callable[..., None],
) -> None:
    original = spec.claims.domain_set_claim_entries

    def release_first(h: HostState, d: Domain, claim_set: object) -> object:
        spec.claims.release_all_claims(h, d)  # phase 3 before the phase 1-2 checks
        return original(h, d, claim_set)  # type: ignore[arg-type]

    planted("domain_set_claim_entries", release_first)
    found = by_property(check(CheckConfig("v7", depth=2)))
    assert "prop-atomic" in found
    run_doctest(found["prop-atomic"].script)
    assert "but changed the state" in found["prop-atomic"].message


def test_planted_bug_node_check_ignoring_own_claim_is_found(
    planted: Callable[..., None],
) -> None:
    def no_credit(
        h: HostState, node: int, request: int, d: object, use_claims: bool, fire: object = None
    ) -> bool:
        return spec.claims.unclaimed(h.node_avail_pages[node], h.claimed_pages[node]) >= request

    planted("node_permits", no_credit)
    found = by_property(check(CheckConfig("v7", depth=2)))
    assert "prop-claim-honoured" in found
    honoured = found["prop-claim-honoured"]
    assert honoured.trace[-1].method == "alloc_domheap_pages"
    run_doctest(honoured.script)


def test_an_exception_in_the_model_is_a_finding(planted: Callable[..., None]) -> None:
    def broken(h: HostState, node: int, head: int) -> int:
        raise RuntimeError("planted")

    planted("reserve_offlined_page", broken)
    found = by_property(check(CheckConfig("v7", depth=1)))
    assert "exception" in found
    assert "RuntimeError('planted')" in found["exception"].message
    assert "RuntimeError: planted" in found["exception"].script


def test_the_explorer_is_generic() -> None:
    """lifecycle() drives the same explorer with labelled steps of its own."""
    from spec.checker import Op

    host = Host(nodes=[2], check_invariants=False)
    host.create_domain()
    steps = [Op("grab", (), call=lambda h: h.alloc_domheap_pages(1, 0))]
    explorer = Explorer(host, lambda h: steps, depth=5)
    stats = explorer.run()
    assert stats.levels == [1, 1, 1] and stats.depth == 2  # two pages, then nothing changes
    assert [op.source() for op in explorer.trace(2)] == ["grab", "grab"]


# --- distribution: a Dask cluster gives the serial search's result --------------------


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a local Dask cluster of two worker processes, for this module."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


def run_checker(
    config: CheckConfig, workers: int, scheduler: str | None = None
) -> tuple[Checker, CheckResult]:
    """Check *config* with *workers* processes (or the cluster at *scheduler*), sending
    every level of 2 states or more to the cluster (the default only sends large ones)."""
    checker = Checker(config, workers=workers, scheduler=scheduler)
    checker.parallel_min = 1
    return checker, checker.result()


def same_search(serial: tuple[Checker, CheckResult], parallel: tuple[Checker, CheckResult]) -> None:
    (one, a), (two, b) = serial, parallel
    assert two.workers >= 2 and one.workers == 1
    for name in ("states", "transitions", "depth", "levels", "complete"):
        assert getattr(a.stats, name) == getattr(b.stats, name), name
    assert one.seen == two.seen and one.keys == two.keys and one.parent == two.parent
    assert [op and op.source() for op in one.via] == [op and op.source() for op in two.via]
    assert one.broken == two.broken and a.soft_states == b.soft_states
    assert [(f.property, f.message, sources(f), f.script) for f in a.findings] == [
        (f.property, f.message, sources(f), f.script) for f in b.findings
    ]
    assert a.report().split("\n")[2:] == b.report().split("\n")[2:]  # all but the timings


@pytest.mark.parametrize(
    "config",
    [
        CheckConfig("upstream", depth=2),
        CheckConfig("v7", depth=2, max_states=200),
        CheckConfig("v6", depth=2, profile="lean", max_pages=(3, 3)),
    ],
    ids=["upstream", "v7-max-states", "v6-lean-symmetric"],
)
def test_a_dask_cluster_gives_the_serial_result(config: CheckConfig, scheduler: str) -> None:
    same_search(run_checker(config, 1), run_checker(config, 2, scheduler))


def test_the_default_local_cluster_gives_the_serial_result() -> None:
    pytest.importorskip("distributed")
    config = CheckConfig("v7", depth=2)
    same_search(run_checker(config, 1), run_checker(config, 2))


def test_the_cli_runs_on_a_given_scheduler(scheduler: str) -> None:
    arguments = ["--design", "upstream", "--depth", "2"]
    serial, remote = io.StringIO(), io.StringIO()
    assert main([*arguments, "--workers", "1"], serial) == 1
    assert main([*arguments, "--scheduler", scheduler], remote) == 1
    assert serial.getvalue().split("\n")[2:] == remote.getvalue().split("\n")[2:]


@pytest.mark.parametrize(
    ("name", "bug", "finding"),
    [
        ("domain_release_node_claims", credit_twice, "inv-sum-node"),
        ("redeem_claims", redeem_without_step_3, "prop-redeem"),
    ],
    ids=["invariant", "step-property"],
)
def test_a_cluster_of_threads_finds_planted_bugs_with_the_same_traces(
    planted: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    bug: Callable[..., object],
    finding: str,
) -> None:
    """Worker threads of this process see the planted bug (worker processes would not);
    tasks of 3 states make a level of 36 states 12 tasks, merged in order."""
    distributed = pytest.importorskip("distributed")
    planted(name, bug)
    monkeypatch.setattr(spec.checker.workers, "CHUNK", 3)
    config = CheckConfig("v7", depth=2)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        parallel = run_checker(config, 2, cluster.scheduler_address)
    same_search(run_checker(config, 1), parallel)
    assert finding in by_property(parallel[1])


def test_small_levels_and_one_worker_stay_in_the_process() -> None:
    checker = Checker(CheckConfig("v7", depth=2), workers=2)
    assert checker.parallel_min > 36  # its frontiers at depth 2: 1 and 36 states

    def remote(*args: object) -> list[object]:
        raise AssertionError("a small level was sent to the cluster")

    checker.remote = remote
    assert checker.result().ok and checker.cluster is None
    assert Checker(CheckConfig("v7", depth=1), workers=0).workers == 1


def test_without_dask_one_process_checks_and_more_workers_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(spec.checker.cluster, "available", lambda: False)
    assert Checker(CheckConfig("v7", depth=1)).workers == 1  # the default without dask
    assert main(["--design", "v7", "--depth", "1"], io.StringIO()) == 0
    for option in (["--workers", "2"], ["--scheduler", "tcp://127.0.0.1:1"]):
        with pytest.raises(SystemExit) as stop:
            main(["--depth", "1", *option], io.StringIO())
        assert stop.value.code == 2
        assert "dask.distributed is not installed" in capsys.readouterr().err


def test_the_checker_imports_without_dask() -> None:
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "from spec.checker import CheckConfig, check, cluster\n"
        "assert not cluster.available()\n"
        "print(check(CheckConfig('upstream', depth=2)).stats.states)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert int(run.stdout) > 100


@pytest.mark.parametrize("design", ["upstream", "v7"])
def test_fingerprints_find_what_comparing_whole_states_finds(design: str) -> None:
    """The default search remembers 128-bit fingerprints; ``exact`` compares the keys:
    the same states, transitions, levels and findings with the same traces."""
    fingerprinted = check(CheckConfig(design, depth=3))
    exact = check(CheckConfig(design, depth=3, exact=True))
    figures = [
        (r.stats.states, r.stats.transitions, r.stats.levels) for r in (fingerprinted, exact)
    ]
    assert figures[0] == figures[1]
    assert [(f.property, f.script) for f in fingerprinted.findings] == [
        (f.property, f.script) for f in exact.findings
    ]
    assert "\nstates told apart by 128-bit fingerprints (the chance" in fingerprinted.report()
    assert "\nstates told apart by their keys (--exact)\n" in exact.report()


def test_the_search_keeps_no_key_of_a_state_it_expanded_or_never_will() -> None:
    """What stays of each state is its fingerprint: the keys of expanded states are let
    go, and the last level's are never kept."""
    checker = Checker(CheckConfig("v7", depth=3), workers=1)
    checker.run()
    assert checker.keys.count(None) == len(checker.keys) == checker.stats.states
    assert len(checker.seen) == checker.stats.states
    assert {len(mark) for mark in checker.seen} == {16}
    stopped = Checker(CheckConfig("v7", depth=3, max_states=500), workers=1)
    stopped.run()  # the frontier that was not expanded keeps its keys
    assert 0 < len([key for key in stopped.keys if key is not None]) < stopped.stats.states
