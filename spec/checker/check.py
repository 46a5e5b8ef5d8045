"""The checker of a :class:`~spec.checker.config.CheckConfig`: :class:`Checker` and
:func:`check`."""

from __future__ import annotations

from ..rules import observe
from .alphabet import alphabet
from .config import CheckConfig
from .reports import CheckResult, Finding, script
from .workers import ParallelChecker


class Checker(ParallelChecker):
    """The explorer with the invariants and :data:`~spec.checker.properties.PROPERTIES`
    checked, on the host and bound of *config*.

    :param config: the host and bound.
    :param coverage: count the rules fired (slower; always in one process).
    :param workers: how many processes expand a large level
        (:class:`~spec.checker.workers.ParallelChecker`); the result is the same.
    """

    def __init__(
        self, config: CheckConfig, *, coverage: bool = False, workers: int | None = None
    ) -> None:
        super().__init__(
            config.build(),
            alphabet(config),
            config.depth,
            config.max_states,
            workers=1 if coverage else workers,
        )
        self.config = config
        self.coverage = coverage

    def result(self) -> CheckResult:
        """Explore and return the findings with their traces."""
        if self.coverage:
            with observe() as fired:
                stats = self.run()
            counts = dict(fired)
        else:
            stats = self.run()
            counts = {}
        findings = []
        for prop, (message, state, op) in self.found.items():
            trace = self.trace(state) + ([op] if op is not None else [])
            finding = Finding(prop, message, trace)
            finding.script = script(self.config, finding)
            findings.append(finding)
        findings.sort(key=lambda f: (len(f.trace), f.property))
        return CheckResult(self.config, stats, findings, self.soft_states, counts)


def check(
    config: CheckConfig, *, coverage: bool = False, workers: int | None = None
) -> CheckResult:
    """Explore *config* and return the result (see :class:`Checker`)."""
    return Checker(config, coverage=coverage, workers=workers).result()
