"""Design options: every behavioural difference between the posted versions, by name.

Each option is one field of :class:`Design`; its metadata says what it changes, which
review point or source it comes from, and the value of each preset. The presets are
``upstream`` (legacy claims only, Xen master of 2026-08), ``v6`` ("Claim Sets Design
Version 2", 2026-04-14) and ``v7`` ("Claim Sets Design Version 3", 2026-05-08, the
default). Sources are the tags of claims-model.md section 0; differences are its
section 8.

>>> get_design("v7").host_check, get_design("v6").host_check
('upstream', 'shortfall')
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Final, Literal

HostCheck = Literal["upstream", "shortfall"]
ModeField = Literal["mode", "pad", "absent"]
LegacySelector = Literal["any-entry", "single-entry"]
KillRelease = Literal["claim-set", "legacy"]
SetReleaseOrder = Literal["nodes-first", "host-first"]
OfflineReassembly = Literal["pre-fix", "fixed"]


def _option(doc: str, source: str, **default: Any) -> Any:
    return field(metadata={"doc": doc, "source": source}, **default)


@dataclass(frozen=True, slots=True)
class Design:
    """One set of design options; the presets are in :data:`DESIGNS`.

    :param name: the preset's name (``"v7"``), or a name of your own for a variant.
    :param title: a human title for tables.
    """

    name: str
    title: str
    claim_memory_domctl: ModeField = _option(
        "Whether XEN_DOMCTL_claim_memory exists and what its last 32-bit field is: "
        "'mode' (SET or GET, v7), 'pad' (must be 0, so there is no GET, v6) or "
        "'absent' (no such domctl: -ENOSYS, upstream).",
        "[V7] public/domctl.h; [V6] 9557995cda; [UP] domctl.c",
    )
    legacy_selector: LegacySelector = _option(
        "Where the LEGACY selector may appear in a claim set: in any entry, giving the "
        "whole set legacy semantics (v7), or only as the single entry of a one-entry "
        "set; elsewhere it is an unknown node (-ENOENT) (v6).",
        "[V7] domain_set_claim_entries; [V6] 9557995cda; review [J7] (Q11)",
    )
    node_sum_overflow_check: bool = _option(
        "Whether a claim set whose node entries add up past UINT_MAX is rejected "
        "with -EINVAL while the entries are read (v6). v7 sums in uint64 and relies "
        "on the max_pages check (Q17).",
        "[V6] 9557995cda; [V7]",
    )
    release_shortcut: bool = _option(
        "Whether a claim set whose entries are all zero releases the domain's claims "
        "without the max_pages and availability checks (v7), so that cancelling always "
        "works, even after max_pages was lowered below tot_pages. v6 runs the checks and "
        "can refuse the release with -EINVAL.",
        "[V7] domain_set_claim_entries; [V6] domain_install_claim_set; [NT3] TCCH",
    )
    host_check: HostCheck = _option(
        "The host-level allocation check. 'upstream': fail if unclaimed memory is "
        "short and the domain's total claim is smaller than the request. "
        "'shortfall': a claim holder passes if unclaimed memory plus its own claims "
        "cover the request (Q1).",
        "[UP] alloc_heap_pages; [V6] 5d1e06a0fc claims_permit_request; [D2] edge-cases.rst",
    )
    offline_recall: bool = _option(
        "Whether offlining a free page recalls claims (node claims of that node first, "
        "then host-wide claims, domains in ascending domid) so that claims never exceed "
        "free memory (Q13). Without it the unsigned free-minus-claimed difference can "
        "wrap and later claims always succeed ([OFF]).",
        "[V7] reserve_offlined_page; [OFF]; [UP]",
    )
    kill_release: KillRelease = _option(
        "How domain_kill releases a dying domain's claims: with the claim set {HOST, 0} "
        "through domain_set_claim_entries, its release-all path (v7), or with "
        "domain_set_outstanding_pages(d, 0) (upstream; v6 leaves domain.c as it is). "
        "The state after it is the same; the rules that decide it differ.",
        "[V7] domain.c domain_kill; [V6] cover letter diffstat; [UP] domain.c domain_kill",
    )
    set_release_order: SetReleaseOrder = _option(
        "The order in which installing a claim set releases the domain's old claims "
        "(phase 3): its node claims in ascending node order, then its host-wide claim "
        "(v7), or the host-wide claim first, then the node claims (v6). The state after "
        "it is the same; the rule that decides it differs. A legacy release (a claim of "
        "0 pages, domain_kill) releases node claims first in both; upstream has no claim "
        "sets.",
        "[V7] domain_set_claim_entries; [V6] domain_install_claim_set, "
        "domain_set_outstanding_pages",
    )
    mode_values: tuple[int, int] = field(
        default=(0, 1),
        metadata={
            "doc": "Values of XEN_DOMCTL_CLAIM_MEMORY_SET and _GET. The v7 code has "
            "SET 0 and GET 1; the Design Version 3 prose has them swapped (Q2).",
            "source": "[V7] public/domctl.h; [D3] DOMCTL_claim_memory.rst",
        },
    )
    offline_reassembly: OfflineReassembly = _option(
        "The loop of reserve_offlined_page() that puts back the rest of a buddy around "
        "offlined frames, by the upstream tree the design is based on. 'fixed' (upstream "
        "since June 2026): each piece grows from its first frame while it stays aligned, "
        "within the buddy and free of offlined frames, so the pieces are the largest "
        "aligned buddies. 'pre-fix' (the base of v6 and v7): a piece grows without the "
        "alignment check and stops one step before it would reach the end of the buddy, "
        "so pieces can be misaligned or needlessly split (M1).",
        "[UPc] 71c6a62317 (alignment), 5cb7ff13ee (off-by-one); [UP] reserve_offlined_page",
        default="fixed",
    )
    known_violations: frozenset[str] = _option(
        "The hard invariants that a documented bug of the design breaks. Without a "
        "recall, offlining free memory can leave claims above it (inv-global, for node "
        "claims inv-node, and with them inv-host-satisfiable; Q13). A host whose checks "
        "are on reports these on the step (Host.violations(), the replay's and "
        "scenario's notes) and goes on as Xen does; any other broken invariant raises. "
        "v7 claims to keep every invariant, so it raises.",
        "[OFF]; [UP] reserve_offlined_page; [V6] (no recall); [V7] reserve_offlined_page",
        default=frozenset(),
    )

    @classmethod
    def options(cls) -> list[tuple[str, str, str]]:
        """Return ``(name, doc, source)`` of every option, in declaration order."""
        return [
            (f.name, f.metadata["doc"], f.metadata["source"])
            for f in fields(cls)
            if "doc" in f.metadata
        ]

    def value(self, option: str) -> object:
        """Return the value this design gives *option*."""
        if option not in {name for name, _, _ in self.options()}:
            raise ValueError(f"option={option!r} is not a design option")
        return getattr(self, option)

    def variant(self, name: str, **changes: Any) -> Design:
        """Return a copy named *name* with some options changed."""
        return replace(self, name=name, title=name, **changes)


DESIGNS: Final[dict[str, Design]] = {
    "upstream": Design(
        name="upstream",
        title="Upstream (legacy claims only)",
        claim_memory_domctl="absent",
        legacy_selector="single-entry",
        node_sum_overflow_check=False,
        release_shortcut=True,
        host_check="upstream",
        offline_recall=False,
        kill_release="legacy",
        set_release_order="nodes-first",
        offline_reassembly="fixed",
        known_violations=frozenset({"inv-global", "inv-host-satisfiable"}),
    ),
    "v6": Design(
        name="v6",
        title="v6 (Design Version 2)",
        claim_memory_domctl="pad",
        legacy_selector="single-entry",
        node_sum_overflow_check=True,
        release_shortcut=False,
        host_check="shortfall",
        offline_recall=False,
        kill_release="legacy",
        set_release_order="host-first",
        offline_reassembly="pre-fix",
        known_violations=frozenset({"inv-global", "inv-node", "inv-host-satisfiable"}),
    ),
    "v7": Design(
        name="v7",
        title="v7 (Design Version 3)",
        claim_memory_domctl="mode",
        legacy_selector="any-entry",
        node_sum_overflow_check=False,
        release_shortcut=True,
        host_check="upstream",
        offline_recall=True,
        kill_release="claim-set",
        set_release_order="nodes-first",
        offline_reassembly="pre-fix",
        known_violations=frozenset(),
    ),
}
"""The presets, oldest first; ``v7`` is the default."""

DEFAULT_DESIGN: Final = "v7"


def get_design(design: str | Design) -> Design:
    """Return the :class:`Design` for a preset name, or *design* itself.

    :raises ValueError: *design* names no preset.
    :raises TypeError: *design* is neither a name nor a :class:`Design`.
    """
    if isinstance(design, Design):
        return design
    if not isinstance(design, str):
        raise TypeError(f"design must be a preset name or a Design, not {type(design).__name__}")
    try:
        return DESIGNS[design]
    except KeyError:
        raise ValueError(
            f"design={design!r} is not a preset; choose one of {', '.join(DESIGNS)}"
        ) from None
