"""Shared fixtures of the model tests (tests/test_model_*.py and tests/replay/).

``rejects`` runs a call that Xen must reject and checks the three things a rejection
promises (claims-model.md section 3, "all-or-nothing"): the errno, the rule that
decided it (``host.last_rules``) and an unchanged host state (``host.snapshot()``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

from spec import Host

Rejects = Callable[..., Any]

SHARED_SCOPE = {"tests/test_docs_sources.py": "tests/test_docs_citing.py"}
"""Modules run in the worker of another module: they share its module fixture (the built
site) through an import."""
ONE_BY_ONE = (
    "tests/test_checker_reduction.py",
    "tests/test_ext_rebuild.py",
    "tests/test_scenario_serve.py",
    "tests/test_docs_sybil.py",
)
"""Modules of slow tests with no costly shared fixture: each test is a work unit of its own,
handed out first (so the last minute is not one worker alone)."""

UNTRACED = {
    "tests/test_checker_reduction.py": (
        "test_reduction_keeps_every_finding[v6-1x4-3-domains]",
        "test_reduction_keeps_every_finding[v7-1x4-3-domains]",
        "test_reduction_keeps_every_finding[v8-1x4-3-domains]",
        "test_claim_calls_read_only_the_claim_part[v6]",
        "test_claim_calls_read_only_the_claim_part[v7]",
        "test_claim_calls_read_only_the_claim_part[v8]",
        "test_permuted_states_behave_alike_when_the_symmetry_holds",
    ),
    "tests/test_checker.py": (
        "test_fingerprints_find_what_comparing_whole_states_finds[v7]",
        "test_the_search_keeps_no_key_of_a_state_it_expanded_or_never_will",
    ),
}
"""Tests run without coverage's tracer (pytest-cov's ``no_cover``): each compares whole
searches of the checker, which the line tracer makes three to four times slower, and the
same searches under another design or a smaller bound, traced, reach the same lines (the
coverage report shows it)."""

# The browser checks need Chromium; `nox -s browser` runs them (and CI installs it).
collect_ignore = [] if os.environ.get("CLAIMS_REQUIRE_BROWSER") else ["test_browser.py"]


def _rejects(host: Host, call: Callable[[], Any], rc: int, *rules: str) -> Any:
    """Run *call*; assert it returns *rc*, fired exactly *rules* and changed nothing."""
    before = host.snapshot()
    result = call()
    got = result[0] if isinstance(result, tuple) else result
    assert got == rc, f"expected rc {rc}, got {got!r} (rules {host.last_rules})"
    if rules:
        assert host.last_rules == rules
    assert host.snapshot() == before, "a rejected call changed the host state"
    return result


@pytest.fixture
def rejects() -> Rejects:
    """``rejects(host, lambda: host.call(...), -errno.EX, "rule-id", ...)``."""
    return _rejects


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module, _, name = item.nodeid.partition("::")
        if name in UNTRACED.get(module, ()):
            item.add_marker(pytest.mark.no_cover)


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Inside pytest-cov's ``no_cover`` pause: take the stopped tracer off the thread too.
    In an xdist worker the pause stops recording but leaves the trace function installed,
    and every line still goes through it (pytest-cov 7.1)."""
    tracer = sys.gettrace() if item.get_closest_marker("no_cover") else None
    if tracer is not None:
        sys.settrace(None)
    try:
        yield
    finally:
        if tracer is not None:
            sys.settrace(tracer)


class Scheduling(LoadScopeScheduling):
    """``--dist loadscope`` (a module's tests in one worker, for its module fixtures), with
    the modules of :data:`SHARED_SCOPE` joined and those of :data:`ONE_BY_ONE` split."""

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        if module in ONE_BY_ONE:
            return nodeid
        return SHARED_SCOPE.get(module) or super()._split_scope(nodeid)

    def _assign_work_unit(self, node: Any) -> None:
        # before the first unit is handed out: the slow tests first (in collection order),
        # then the other units (by their number of tests, as loadscope orders them)
        if not any(self.assigned_work.values()):
            slow = [s for s in self.workqueue if s.split("::", 1)[0] in ONE_BY_ONE]
            for scope in reversed(slow):
                self.workqueue.move_to_end(scope, last=False)
        super()._assign_work_unit(node)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadScopeScheduling | None:
    if config.getvalue("dist") != "loadscope":
        return None
    return Scheduling(config, log)
