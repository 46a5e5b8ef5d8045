"""The host the checker explores and its bound (:class:`CheckConfig`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..designs import Design, get_design
from ..host import Host


@dataclass(frozen=True)
class CheckConfig:
    """The host to explore and the bound.

    :param design: a preset name or a :class:`~spec.designs.Design`.
    :param nodes: the number of NUMA nodes.
    :param pages: the pages of each node.
    :param domains: how many domains the host starts with.
    :param depth: the largest number of calls in a sequence.
    :param max_pages: ``max_pages`` of each domain (None: unlimited); default: the first
        domain unlimited, the others ``pages - 1``.
    :param max_states: stop when this many distinct states are found (0: no limit).
    :param profile: ``full`` (every value of :func:`alphabet`) or ``lean`` (fewer values
        of the calls that succeed, for deep bounds).
    :param reduction: explore one state of each class of equivalent states
        (:mod:`spec.checker.reduction`); the findings and their trace lengths are the same.
    :param exact: compare states by their keys and keep every key, instead of 128-bit
        fingerprints (:func:`~spec.checker.codec.fingerprint`): several times the memory.
    """

    design: str | Design = "v7"
    nodes: int = 2
    pages: int = 4
    domains: int = 2
    depth: int = 4
    max_pages: tuple[int | None, ...] | None = None
    max_states: int = 0
    profile: str = "full"
    reduction: bool = True
    exact: bool = False

    def __post_init__(self) -> None:
        for name in ("nodes", "pages", "domains"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
                raise ValueError(f"{name}={value!r} must be an int from 1 to 64")
        if isinstance(self.depth, bool) or not isinstance(self.depth, int) or self.depth < 0:
            raise ValueError(f"depth={self.depth!r} must be an int >= 0")
        if self.max_pages is not None and len(self.max_pages) != self.domains:
            raise ValueError(f"max_pages must give one value per domain ({self.domains})")
        if self.profile not in ("full", "lean"):
            raise ValueError(f"profile={self.profile!r} must be 'full' or 'lean'")
        get_design(self.design)

    @property
    def limits(self) -> tuple[int | None, ...]:
        """``max_pages`` of each domain."""
        if self.max_pages is not None:
            return self.max_pages
        return (None,) + (max(self.pages - 1, 1),) * (self.domains - 1)

    @property
    def max_order(self) -> int:
        """The smallest ``MAX_ORDER`` that holds a whole node (and order 1 requests)."""
        return max(1, math.ceil(math.log2(self.pages)))

    def host_source(self) -> list[str]:
        """The doctest lines that build the initial host."""
        design = get_design(self.design).name
        lines = [
            f"host = Host(nodes={[self.pages] * self.nodes}, design={design!r}, "
            f"max_order={self.max_order}, check_invariants=False)"
        ]
        for limit in self.limits:
            lines.append(
                "_ = host.create_domain()"
                if limit is None
                else f"_ = host.create_domain(max_pages={limit})"
            )
        return lines

    def build(self) -> Host:
        """The initial host."""
        host = Host(
            nodes=[self.pages] * self.nodes,
            design=self.design,
            max_order=self.max_order,
            check_invariants=False,
        )
        for limit in self.limits:
            host.create_domain(max_pages=limit)
        return host
