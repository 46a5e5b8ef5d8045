"""The checker's state-space reduction (spec.checker.reduction) loses no finding.

Equivalent states must behave alike under every call (the premise of each reduction,
checked directly on explored states), and reduced and unreduced searches must report the
same findings with traces of the same lengths, under every design.
"""

from __future__ import annotations

import doctest
import io
from dataclasses import replace

import pytest

from spec import DESIGNS
from spec.abi import PG_OFFLINE_OWNER_SHIFT, Page
from spec.checker import CheckConfig, Checker, CheckResult, Codec, State, check, main
from spec.checker.reduction import Reduction, permute_op
from spec.host import Host
from spec.invariants import violations


def outcome(result: CheckResult) -> list[tuple[str, int]]:
    return sorted((f.property, len(f.trace)) for f in result.findings)


def replays(script: str) -> None:
    test = doctest.DocTestParser().get_doctest(script, {}, "trace", None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out = io.StringIO()
    runner.run(test, out=out.write)
    assert runner.failures == 0, out.getvalue()


BOUNDS = {
    "2x4": {"depth": 2},  # domains 1 and 2 differ (unlimited, 3): no symmetry
    "2x4-same-limits": {"depth": 2, "max_pages": (3, 3)},
    "1x4-3-domains": {"nodes": 1, "domains": 3, "depth": 3},  # domains 2 and 3 alike
}


@pytest.mark.parametrize("bound", list(BOUNDS))
@pytest.mark.parametrize("design", list(DESIGNS))
def test_reduction_keeps_every_finding(design: str, bound: str) -> None:
    reduced = check(CheckConfig(design, **BOUNDS[bound]), workers=1)  # type: ignore[arg-type]
    full = check(CheckConfig(design, reduction=False, **BOUNDS[bound]), workers=1)  # type: ignore[arg-type]
    assert reduced.stats.complete and full.stats.complete
    assert outcome(reduced) == outcome(full)
    assert reduced.stats.states <= full.stats.states
    assert reduced.stats.transitions <= full.stats.transitions
    symmetric = bound != "2x4" and not DESIGNS[design].offline_recall
    assert ("symmetry of domains" in reduced.report()) == symmetric
    if symmetric:
        assert reduced.stats.states < 0.7 * full.stats.states
    for finding in reduced.findings:  # traces mapped back through the permutations
        replays(finding.script)


def states_of(config: CheckConfig) -> tuple[Checker, list[State]]:
    """Every state of a search that keeps them (``exact``)."""
    checker = Checker(replace(config, exact=True), workers=1)
    checker.run()
    return checker, [checker.codec.unpack(key) for key in checker.keys]


def run_op(host: Host, codec: Codec, state: State, op: object) -> tuple[object, State, list[str]]:
    codec.restore(host, state)
    result = op.bind(host)()  # type: ignore[attr-defined]
    return result, codec.encode(host), sorted(label for label, _ in violations(host))


@pytest.mark.parametrize("design", list(DESIGNS))
def test_a_dead_domains_max_pages_changes_nothing_else(design: str) -> None:
    """States that differ only in a dead domain's max_pages give, under every call, the
    same result, the same invariants and states that differ only there."""
    config = CheckConfig(design, depth=2, reduction=False)
    checker, states = states_of(config)
    reduction = Reduction(config, list(checker.host.domains), [])
    ops = checker.ops(checker.host)
    compared = 0
    for state in states:
        doms = list(state[1])
        dead = [i for i, d in enumerate(doms) if d[5] and not (d[1] or d[3] or d[8])]
        for i in dead:
            d = doms[i]
            doms[i] = (d[0] + 5, *d[1:])
            other = (state[0], tuple(doms), *state[2:])
            for op in ops:
                a, b = (
                    run_op(checker.host, checker.codec, state, op),
                    run_op(checker.host, checker.codec, other, op),
                )
                assert a[0] == b[0] and a[2] == b[2], op
                assert reduction.key(a[1]) == reduction.key(b[1]), op
                compared += 1
    assert compared > 1_000


@pytest.mark.parametrize("design", list(DESIGNS))
def test_claim_calls_read_only_the_claim_part(design: str) -> None:
    """In explored states that share a claim part (the counters and the domain records)
    and differ in the rest (free lists, buddies, offlining), each claim call returns the
    same, fires the same rules, leaves the same claim part and the rest as it was: what
    lets the search run it once per claim part."""
    config = CheckConfig(design, depth=2, reduction=False)
    checker, states = states_of(config)
    host, codec = checker.host, checker.codec
    claim_calls = Reduction(config, list(host.domains), checker.ops(host)).claim_calls
    groups: dict[State, list[State]] = {}
    for state in states:
        groups.setdefault(state[:2], []).append(state)
    shared = [group for group in groups.values() if len(group) > 1]
    compared = 0
    for group in shared:
        for op in claim_calls:
            outcomes = set()
            for state in group:
                result, after, _ = run_op(host, codec, state, op)
                assert after[2:] == state[2:], op
                outcomes.add((repr(result), after[:2], tuple(host.last_rules)))
            assert len(outcomes) == 1, op
            compared += len(group)
    assert len(shared) > 20 and compared > 5_000


def test_a_claim_call_that_changes_the_heap_stops_the_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The write half of the claim calls' contract is checked on every call run."""
    original = Host.claim_memory

    def offlines_too(self: Host, *args: object, **kwargs: object) -> object:
        self.offlined.add(0)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Host, "claim_memory", offlines_too)
    with pytest.raises(RuntimeError, match=r"claim_memory\(1, .* changed more than the claim"):
        Checker(CheckConfig("v7", depth=1), workers=1).run()
    assert Checker(CheckConfig("v7", depth=1, reduction=False), workers=1).run().states > 1


def test_permuted_states_behave_alike_when_the_symmetry_holds() -> None:
    """For upstream with equal limits: a call in the permuted state is the permuted call."""
    config = CheckConfig("upstream", depth=2, max_pages=(3, 3), reduction=False)
    checker, states = states_of(config)
    ops = checker.ops(checker.host)
    reduction = Reduction(config, list(checker.host.domains), ops)
    assert reduction.perms == [{1: 2, 2: 1}]
    (swap,) = reduction.perms
    host, codec = checker.host, checker.codec
    for state in states[::3]:
        for op in ops:
            result, after, broken = run_op(host, codec, state, op)
            twin = run_op(host, codec, reduction.permute(state, swap), permute_op(op, swap))
            if isinstance(result, Page):  # the same frames, owned by the other domain
                result = replace(result, owner=swap.get(result.owner, result.owner))
            if op.method == "offline_page" and result[1] >> PG_OFFLINE_OWNER_SHIFT:  # type: ignore[index]
                rc, status = result  # type: ignore[misc]
                owner = status >> PG_OFFLINE_OWNER_SHIFT
                owner = swap.get(owner, owner)
                low = status & ((1 << PG_OFFLINE_OWNER_SHIFT) - 1)
                result = (rc, low | owner << PG_OFFLINE_OWNER_SHIFT)
            assert (twin[0], twin[2]) == (result, broken), op
            assert twin[1] == reduction.permute(after, swap), op


def test_recall_or_different_limits_break_the_symmetry() -> None:
    host = CheckConfig("v7", max_pages=(3, 3)).build()
    assert Reduction(CheckConfig("v7", max_pages=(3, 3)), list(host.domains), []).perms == []
    default = CheckConfig("upstream")
    assert Reduction(default, list(default.build().domains), []).perms == []


def test_every_state_is_reached_by_its_mapped_trace() -> None:
    """The trace the checker reports for a state replays, on a fresh host, to a state of
    the same class (so each finding's script reproduces it)."""
    config = CheckConfig("v6", nodes=1, domains=3, depth=3, exact=True)
    checker = Checker(config, workers=1)
    checker.run()
    reduction = checker.reduction
    assert reduction is not None and reduction.perms
    mapped = 0
    for number in range(0, len(checker.keys), 11):
        trace = checker.actual_trace(number)
        mapped += trace != checker.trace(number)
        fresh = config.build()
        for op in trace:
            op.bind(fresh)()
        assert reduction.key(Codec(fresh).encode(fresh)) == checker.keys[number]
    assert mapped > 0  # some traces went through a permutation


def test_the_cli_turns_the_reduction_off() -> None:
    out = io.StringIO()
    assert main(["--design", "v7", "--depth", "2", "--workers", "1", "--no-reduction"], out) == 0
    assert "reduction: none (--no-reduction)" in out.getvalue()
    out = io.StringIO()
    assert main(["--design", "v7", "--depth", "2", "--workers", "1"], out) == 0
    assert "reduction: dead domains' max_pages" in out.getvalue()
