"""The checker of a :class:`~spec.checker.config.CheckConfig`: :class:`Checker` and
:func:`check`."""

from __future__ import annotations

import functools
import pickle
import threading

from ..rules import observe
from .alphabet import Op, alphabet
from .config import CheckConfig
from .reduction import Reduction
from .reports import CheckResult, Finding, script
from .workers import Expansion, ParallelChecker


class Checker(ParallelChecker):
    """The explorer with the invariants and :data:`~spec.checker.properties.PROPERTIES`
    checked, on the host and bound of *config*.

    :param config: the host and bound.
    :param coverage: count the rules fired (slower; always in one process).
    :param workers: how many processes expand a large level
        (:class:`~spec.checker.workers.ParallelChecker`); the result is the same.
    :param scheduler: the address of a Dask scheduler whose workers expand them instead.
    """

    def __init__(
        self,
        config: CheckConfig,
        *,
        coverage: bool = False,
        workers: int | None = None,
        scheduler: str | None = None,
    ) -> None:
        host = config.build()
        static = alphabet(config)
        self.reduction = Reduction(config, list(host.domains), static) if config.reduction else None
        super().__init__(
            host,
            static,
            config.depth,
            config.max_states,
            workers=1 if coverage else workers,
            key=self.reduction.key if self.reduction else None,
            remote=functools.partial(expand_remote, config),
            scheduler=None if coverage else scheduler,
            exact=config.exact,
            claim_calls=frozenset()
            if coverage or not self.reduction
            else self.reduction.claim_calls,
        )
        self.config = config
        self.coverage = coverage

    def actual_trace(self, state: int, last: Op | None = None) -> list[Op]:
        """The calls that reach *state* from the initial host, then *last*: the search's
        own trace (:meth:`trace`), mapped back through the permutations of a symmetry."""
        ops = self.trace(state)
        if self.reduction is None or not self.reduction.perms:
            return ops + ([last] if last is not None else [])
        trace = self.reduction.actual(self.host, self.codec, self.root, ops, last)
        self._current = self.codec.encode(self.host)
        return trace

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
            trace = self.actual_trace(state, op)
            finding = Finding(prop, message, trace)
            finding.script = script(self.config, finding)
            findings.append(finding)
        findings.sort(key=lambda f: (len(f.trace), f.property))
        reduced = self.reduction.describe() if self.reduction else "none (--no-reduction)"
        return CheckResult(self.config, stats, findings, self.soft_states, counts, reduced)


def check(
    config: CheckConfig,
    *,
    coverage: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
) -> CheckResult:
    """Explore *config* and return the result (see :class:`Checker`)."""
    return Checker(config, coverage=coverage, workers=workers, scheduler=scheduler).result()


_LOCAL = threading.local()  # a worker's checkers, by pickled config (one per thread)


def expand_remote(
    config: CheckConfig, keys: list[bytes], broken: list[bool], found: list[str], last: bool
) -> Expansion:
    """The task a Dask worker runs: :meth:`Checker.expand_keys` of a checker of *config*,
    built on the worker's first task of that config and kept for the next."""
    checkers: dict[bytes, Checker] = _LOCAL.__dict__.setdefault("checkers", {})
    name = pickle.dumps(config)
    checker = checkers.get(name)
    if checker is None:
        checker = checkers[name] = Checker(config, workers=1)
    return checker.expand_keys(keys, broken, found, last)
