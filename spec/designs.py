"""Design options: every behavioural difference between the posted versions, by name.

Each option is one field of :class:`Design`; its metadata says what it changes, which
review point or source it comes from, and the value of each preset. The presets are
``upstream`` (legacy claims only, Xen master of 2026-08), ``v6`` ("Claim Sets Design
Version 2", 2026-04-14), ``v7`` ("Claim Sets Design Version 3", 2026-05-08, the
default) and ``v8`` (work in progress, from its review notes [V8]; not posted). Sources
are the tags of claims-model.md section 0; differences are its section 8 and, for v8,
claims-v8.md. Where the v8 notes leave a point open, the v8 preset takes the reading the
newest note supports and the option's other values are the other readings.

>>> get_design("v7").host_check, get_design("v6").host_check
('upstream', 'shortfall')
>>> get_design("v8").claims_install, get_design("v7").claims_install
('once', 'replace')
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Final, Literal, get_args, get_origin, get_type_hints

from .abi import c_uint

HostCheck = Literal["upstream", "shortfall"]
ModeField = Literal["mode", "pad", "absent"]
LegacySelector = Literal["any-entry", "single-entry", "none"]
KillRelease = Literal["claim-set", "legacy"]
SetReleaseOrder = Literal["nodes-first", "host-first"]
OfflineReassembly = Literal["pre-fix", "fixed"]
ClaimsInstall = Literal["replace", "once"]
EntryCheckOrder = Literal["fields-target-limit", "target-fields-limit", "fields-limit-target"]
ReservedTargetErrno = Literal["ENOENT", "EINVAL"]
ClaimAvailability = Literal["difference", "sums"]
GetHostEntry = Literal["always", "non-zero"]
GetBufferErrno = Literal["ERANGE", "ENOBUFS"]


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
        "'absent' (no such domctl: -ENOSYS, upstream; v8 replaced it by the two domctls "
        "of memory_claims_domctls).",
        "[V7] public/domctl.h; [V6] 9557995cda; [UP] domctl.c; [V8] 70871982022",
    )
    memory_claims_domctls: bool = _option(
        "Whether XEN_DOMCTL_set_memory_claims (91) and XEN_DOMCTL_get_memory_claims (92) "
        "exist (v8): SET checks pad, then releases when nr_entries is 0, before the LLC, "
        "dying and E2BIG checks; GET reports into a buffer of nr_entries entries. "
        "Host.claim_memory and Host.get_claims call them; without them, -ENOSYS.",
        "[V8] 70871982022, 71197950480, 70951762848",
    )
    set_requires_pause: bool = _option(
        "Whether SET needs the domain paused by its controller (controller_pause_count "
        "above 0), -EBUSY otherwise, so that no allocation races the install (v8). A new "
        "domain starts paused once; release (nr_entries 0) needs no pause.",
        "[V8] 70871982022, 71126705126; test 71042113688",
    )
    claims_install: ClaimsInstall = _option(
        "How SET treats a domain that already holds claims: 'replace' them atomically "
        "(v6, v7; availability then counts the domain's own claims as free) or install "
        "'once': -EINVAL while outstanding_pages is not 0, legacy claims included, with "
        "every entry validated before any availability check and zero-page entries "
        "refused (v8).",
        "[V7] domain_set_claim_entries; [V8] 71478241470, 71174423802, 70934657395",
    )
    entry_check_order: EntryCheckOrder = _option(
        "v8, open point: the order of the checks inside one entry of the validation "
        "loop. The sources fix only bit 31 before the range test and the range before "
        "node_online. 'fields-target-limit' (pad, zero pages, then the target checks, "
        "then the running max_pages total) is the order the notes list; "
        "'target-fields-limit' checks the target first; 'fields-limit-target' puts the "
        "max_pages -EINVAL before the target's -ENOENT. The first failing entry decides "
        "in all three.",
        "[V8] 71174423802, 71478241470",
    )
    reserved_target_errno: ReservedTargetErrno = _option(
        "The errno of an undefined target with bit 31 set (0x80000001): -ENOENT as any "
        "target that is no node (v6, v7, v8 Gen1 SCE-8) or -EINVAL as a reserved "
        "selector (newest v8 notes, Q16).",
        "[V7] domain_set_claim_entries; [V8] 71174423802, 71478241470, 71197995828",
    )
    claim_availability: ClaimAvailability = _option(
        "How SET compares a request with free memory. 'difference': against free minus "
        "claimed pages as C computes it in unsigned long, which wraps once claims exceed "
        "free memory (v6, v7). 'sums': the request plus the claimed pages against the "
        "free pages, in 64 bits, which cannot wrap (v8, open point: the notes describe "
        "sums; the exact formula of check_memory_for_claim_request is not in the index).",
        "[V7] domain_set_claim_entries; [V8] 71174423802, 71478241470",
    )
    free_buddy_clamp: bool = _option(
        "Whether get_free_buddy clamps a node's unclaimed pages at 0 when its claims "
        "exceed its free pages (v8, as offlining can do that), instead of the unsigned "
        "difference that wraps to a huge budget (v6, v7; v7 asserts it cannot happen).",
        "[V8] 71046888348, 71133681015, 71331889656; [V7] get_free_buddy",
    )
    get_host_entry: GetHostEntry = _option(
        "Whether GET reports the host-wide entry 'always', first and even when it is 0, "
        "so the count is at least 1 (v7), or only when it is 'non-zero' (v8): a domain "
        "without claims then gets count 0.",
        "[V7] domain_get_claim_entries; [V8] 70956981871, 71223550050, 70940241165",
    )
    get_buffer_errno: GetBufferErrno = _option(
        "The errno of a GET buffer too small for the entries: -ERANGE (v7, v8 Gen1) or "
        "-ENOBUFS (v8, recorded as a decision).",
        "[V7] domain_get_claim_entries; [V8] 71197950480, 70940241165, 71223550050",
    )
    get_fault_copyback: bool = _option(
        "Whether a GET that cannot write its entries (-EFAULT) still writes the needed "
        "count back to nr_entries (v7, older v8 notes) or leaves nr_entries as passed "
        "(v8: the domctl is copied back only on success and -ENOBUFS).",
        "[V7] claim_memory; [V8] 71197950480, 71150029512, 71156484213",
    )
    get_state_checks: bool = _option(
        "Whether GET refuses an LLC-coloured host (-EOPNOTSUPP) and a dying domain "
        "(-ESRCH) like SET (v7), or has no state check, only the lookup's -ESRCH for a "
        "missing domain (v8; open point: the notes only imply that GET works on a dying "
        "domain, which has no claims left once domain_kill has released them).",
        "[V7] claim_memory; [V8] 71197950480, 71156484213",
    )
    legacy_selector: LegacySelector = _option(
        "Where the LEGACY selector may appear in a claim set: in any entry, giving the "
        "whole set legacy semantics (v7), or only as the single entry of a one-entry "
        "set; elsewhere it is an unknown node (-ENOENT) (v6). 'none': LEGACY is no "
        "selector, its value is a node out of range, -ENOENT (v8).",
        "[V7] domain_set_claim_entries; [V6] 9557995cda; review [J7] (Q11; v8 drops LEGACY, as "
        "asked there)",
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
        "wrap and later claims always succeed ([OFF]). v8 drops the recall (SCE-2).",
        "[V7] reserve_offlined_page; [OFF]; [UP]; [V8] 71166790165, 70939593375",
    )
    kill_release: KillRelease = _option(
        "How domain_kill releases a dying domain's claims: with the claim set {HOST, 0} "
        "through domain_set_claim_entries, its release-all path (v7), or with "
        "domain_set_outstanding_pages(d, 0) (upstream; v6 leaves domain.c as it is; v8 "
        "keeps it and makes it release node claims too). "
        "The state after it is the same; the rules that decide it differ.",
        "[V7] domain.c domain_kill; [V6] cover letter diffstat; [UP] domain.c domain_kill; "
        "[V8] 70910462532, 71330061083",
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
        "aligned buddies; also v8, whose series no longer carries v7's per-node free "
        "counter, committed upstream in August 2026, so its base has the fixes. "
        "'pre-fix' (the base of v6 and v7): a piece grows without the "
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
        "v7 claims to keep every invariant, so it raises; v8 drops the recall and "
        "accepts the over-claim (SCE-2).",
        "[OFF]; [UP] reserve_offlined_page; [V6] (no recall); [V7] reserve_offlined_page; "
        "[V8] 71166790165, 71347383981",
        default=frozenset(),
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
        known = self.known_violations
        if not isinstance(known, frozenset) or not all(isinstance(k, str) for k in known):
            raise TypeError(f"known_violations must be a frozenset of labels, not {known!r}")
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

_CLAIM_MEMORY: Final[dict[str, Any]] = {
    "memory_claims_domctls": False,
    "set_requires_pause": False,
    "claims_install": "replace",
    "entry_check_order": "fields-target-limit",
    "reserved_target_errno": "ENOENT",
    "claim_availability": "difference",
    "free_buddy_clamp": False,
    "get_host_entry": "always",
    "get_buffer_errno": "ERANGE",
    "get_fault_copyback": True,
    "get_state_checks": True,
}
"""The values of the options v8 introduced, as upstream, v6 and v7 behave (v7's
XEN_DOMCTL_claim_memory, where upstream and v6 have no GET, and their allocator)."""

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
        **_CLAIM_MEMORY,
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
        **_CLAIM_MEMORY,
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
        **_CLAIM_MEMORY,
    ),
    "v8": Design(
        name="v8",
        title="v8 (work in progress)",
        claim_memory_domctl="absent",
        memory_claims_domctls=True,
        set_requires_pause=True,
        claims_install="once",
        entry_check_order="fields-target-limit",
        reserved_target_errno="EINVAL",
        claim_availability="sums",
        free_buddy_clamp=True,
        get_host_entry="non-zero",
        get_buffer_errno="ENOBUFS",
        get_fault_copyback=False,
        get_state_checks=False,
        legacy_selector="none",
        node_sum_overflow_check=False,
        release_shortcut=False,
        host_check="upstream",
        offline_recall=False,
        kill_release="legacy",
        set_release_order="nodes-first",
        offline_reassembly="fixed",
        known_violations=frozenset({"inv-global", "inv-node", "inv-host-satisfiable"}),
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
