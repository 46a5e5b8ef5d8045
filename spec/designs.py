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
from typing import Any, Final, Literal, get_args, get_origin, get_type_hints

from .abi import c_uint

HostCheck = Literal["upstream", "shortfall"]
ModeField = Literal["mode", "pad", "absent"]
LegacySelector = Literal["any-entry", "single-entry"]
KillRelease = Literal["claim-set", "legacy"]
SetReleaseOrder = Literal["nodes-first", "host-first"]


def _option(doc: str, source: str) -> Any:
    return field(metadata={"doc": doc, "source": source})


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

    def __post_init__(self) -> None:
        """Refuse a value no code of the model knows (a variant's typo would otherwise
        take some default branch)."""
        for name in ("name", "title"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"{name} must be a str, not {type(getattr(self, name)).__name__}")
        for f in fields(self):
            value, allowed = getattr(self, f.name), _ALLOWED.get(f.name)
            if allowed is bool and not isinstance(value, bool):
                raise TypeError(f"{f.name} must be a bool, not {type(value).__name__}")
            if isinstance(allowed, tuple) and value not in allowed:
                choices = ", ".join(repr(a) for a in allowed)
                raise ValueError(
                    f"{f.name}={value!r} is not a value of the option; choose {choices}"
                )
        modes = self.mode_values
        if not isinstance(modes, tuple) or len(modes) != 2:
            raise TypeError(f"mode_values must be a (SET, GET) pair, not {modes!r}")
        for value in modes:
            c_uint(value, "mode_values")
        if modes[0] == modes[1]:
            raise ValueError(f"mode_values={modes!r} gives SET and GET one value")

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


_ALLOWED: Final[dict[str, object]] = {
    name: bool if hint is bool else get_args(hint)
    for name, hint in get_type_hints(Design).items()
    if hint is bool or get_origin(hint) is Literal
}
"""The values each option may take: ``bool`` or the members of its ``Literal``."""

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
