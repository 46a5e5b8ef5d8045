"""What a check found (:class:`Finding`, :class:`CheckResult`), the report
``python -m spec check`` prints, and each finding's trace as a runnable doctest."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..abi import ULONG_MAX
from ..designs import get_design
from ..host import Host
from ..invariants import INVARIANTS
from .alphabet import Op, alphabet
from .config import CheckConfig
from .properties import PROPERTIES
from .search import Stats


@dataclass
class Finding:
    """A property or invariant that does not hold, with the shortest trace to it.

    :param property: an invariant label (``inv-global``) or a :data:`PROPERTIES` ID.
    :param message: what was seen.
    :param trace: the calls from the initial state; for a step property the last call
        is the one that broke it.
    :param script: the trace as a doctest that reproduces it.
    """

    property: str
    message: str
    trace: list[Op]
    script: str = ""


@dataclass
class CheckResult:
    """The outcome of :func:`check`."""

    config: CheckConfig
    stats: Stats
    findings: list[Finding]
    soft_states: int = 0
    fired: dict[str, int] = field(default_factory=dict)
    reduction: str = ""

    @property
    def ok(self) -> bool:
        """Whether nothing was found."""
        return not self.findings

    def report(self) -> str:
        """The text ``python -m spec check`` prints."""
        c = self.config
        design = get_design(c.design).name
        lines = [
            f"design {design}: {c.nodes} nodes x {c.pages} pages, {c.domains} domains "
            f"(max_pages {', '.join('unlimited' if m is None else str(m) for m in c.limits)})"
            f", depth {c.depth}, {c.profile} alphabet of {len(alphabet(c))} calls "
            "(+ a free per allocated buddy, an online per offlined frame)",
            self.stats.summary(),
            self.stats.store(),
            f"reduction: {self.reduction}",
            "states per level: " + " ".join(str(n) for n in self.stats.levels),
            f"checked: {len([i for i in INVARIANTS.values() if not i.soft])} invariants in every "
            f"state, properties {', '.join(p for p in PROPERTIES if p != 'exception')} on "
            "every step",
            f"soft inv-maxpages broken (allowed) in {self.soft_states} states",
        ]
        if self.ok:
            lines.append("no violation")
        else:
            lines.append(f"{len(self.findings)} violations; the shortest trace to each:")
        groups: dict[str, list[Finding]] = {}
        for finding in self.findings:  # findings with the same trace share one script
            groups.setdefault(finding.script, []).append(finding)
        for text, group in groups.items():
            lines.append("")
            lines += [f"VIOLATION {f.property}: {f.message}" for f in group]
            lines.append(text)
        return "\n".join(lines)


def _doctest(source: str, value: object) -> list[str]:
    lines = [f">>> {source}"]
    if value is not None:
        lines.append(repr(value))
    return lines


def script(config: CheckConfig, finding: Finding) -> str:
    """Replay *finding*'s trace on a fresh host and write it as a doctest.

    The outputs are the ones the model gives now, so the script passes as a doctest
    exactly when the model still behaves as the checker saw it.
    """
    lines = [
        ">>> from spec import Host, ClaimEntry, HOST, LEGACY",
        *(f">>> {line}" for line in config.host_source()),
    ]
    host = config.build()
    step_property = finding.property in PROPERTIES
    for i, op in enumerate(finding.trace):
        last = i == len(finding.trace) - 1
        if last and step_property:
            lines += _before_last(host, finding, op)
        try:
            result = op.bind(host)()
        except Exception as error:  # the finding is this exception
            lines += [
                f">>> {op.source()}",
                "Traceback (most recent call last):",
                "...",
                f"{type(error).__name__}: {error}",
            ]
            break
        lines += _doctest(op.source(), result)
        if last and step_property:
            lines += _after_last(host, finding)
    if not step_property:
        lines += _doctest(
            "[label for label, _ in host.violations()]",
            [label for label, _ in host.violations()],
        )
    return "\n".join(lines)


def _counters(host: Host) -> tuple[str, object]:
    return (
        "host.outstanding_claims, host.total_avail_pages, host.claimed_pages, "
        "host.node_avail_pages",
        (
            host.outstanding_claims,
            host.total_avail_pages,
            host.claimed_pages,
            host.node_avail_pages,
        ),
    )


def _before_last(host: Host, finding: Finding, op: Op) -> list[str]:
    prop = finding.property
    if prop in ("prop-atomic", "prop-get-read-only"):
        return [">>> before = host.snapshot()"]
    if prop == "prop-claim-within-free":
        free = (host.total_avail_pages - host.outstanding_claims) & ULONG_MAX
        return [
            *_doctest(*_counters(host)),
            ">>> # unclaimed memory as Xen computes it, in unsigned long:",
            *_doctest("(host.total_avail_pages - host.outstanding_claims) % 2**64", free),
        ]
    if prop == "prop-claim-honoured":
        domid = op.args[0]
        d = host.domains[domid]
        return _doctest(
            f"host.domains[{domid}].outstanding_pages, host.domains[{domid}].claims",
            (d.outstanding_pages, d.claims),
        )
    return []


def _after_last(host: Host, finding: Finding) -> list[str]:
    prop = finding.property
    if prop in ("prop-atomic", "prop-get-read-only"):
        return _doctest("host.snapshot() == before", False) + _doctest(
            "host.last_rules", host.last_rules
        )
    if prop == "prop-claim-within-free":
        return _doctest(*_counters(host))
    return []
