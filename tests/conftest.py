"""Shared fixtures of the model tests (tests/test_model_*.py and tests/replay/).

``rejects`` runs a call that Xen must reject and checks the three things a rejection
promises (claims-model.md section 3, "all-or-nothing"): the errno, the rule that
decided it (``host.last_rules``) and an unchanged host state (``host.snapshot()``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from spec import Host

Rejects = Callable[..., Any]

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
