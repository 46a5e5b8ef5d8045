"""The v8 interface: the split claims domctls, their structures, and domain pausing.

v8 replaces ``XEN_DOMCTL_claim_memory`` by ``XEN_DOMCTL_set_memory_claims`` (91) and
``XEN_DOMCTL_get_memory_claims`` (92), which share ``struct xen_domctl_memory_claims``;
an entry is ``struct xen_domctl_memory_claim``, the layout of v7's ``xen_memory_claim``
with ``cmd`` renamed ``pad``. ``LEGACY`` is no longer a selector. v8 was not posted: the
facts come from its review notes ([V8] 70871982022, 71197950480, 71174423802, the test
71042113688). SET needs a domain paused by its controller, so the upstream pause
domctls are part of the interface the model runs ([UP] domctl.c, domain.c).
"""

from __future__ import annotations

from typing import Final

from .abi import HOST
from .registry import Former, register

XEN_DOMCTL_set_memory_claims: Final = 91
"""domctl: install a domain's claims once (v8; the number of v7's claim_memory)."""
XEN_DOMCTL_get_memory_claims: Final = 92
"""domctl: read a domain's claims back (v8)."""
XEN_DOMCTL_MEMORY_CLAIM_TARGET_HOST: Final = HOST
"""Target of a host-wide entry (v8 name; the notes open-code ``0x80000000U``)."""
XEN_DOMCTL_pausedomain: Final = 3
XEN_DOMCTL_unpausedomain: Final = 4
CONTROLLER_PAUSE_MAX: Final = 255
"""The largest ``controller_pause_count`` ([UP] domain.c: more is ``-EOVERFLOW``)."""

_V8 = "[V8] 70871982022, 71197950480, 71174423802; test 71042113688"
_V8_EARLY = "v8 (early code)"


def _register() -> None:
    """Register the v8 C names; former names give the rename table its v8 rows."""
    macros: tuple[tuple[str, int, str, str, tuple[Former, ...], str], ...] = (
        (
            "XEN_DOMCTL_set_memory_claims",
            XEN_DOMCTL_set_memory_claims,
            "domctl: install a domain's claims (once); nr_entries 0 releases them.",
            "v8",
            (Former("XEN_DOMCTL_claim_memory", "v7", "v8"),),
            _V8,
        ),
        (
            "XEN_DOMCTL_get_memory_claims",
            XEN_DOMCTL_get_memory_claims,
            "domctl: read a domain's non-zero claims back.",
            "v8",
            (),
            "[V8] 71197950480",
        ),
        (
            "XEN_DOMCTL_MEMORY_CLAIM_TARGET_HOST",
            XEN_DOMCTL_MEMORY_CLAIM_TARGET_HOST,
            "Target selector of a host-wide claim entry; the only bit-31 target defined.",
            "v8",
            (Former("XEN_DOMCTL_CLAIM_MEMORY_HOST", "v7", "v8"),),
            "[V8] test 71042113688, 71174423802, 69740046103",
        ),
        (
            "XEN_DOMCTL_pausedomain",
            XEN_DOMCTL_pausedomain,
            "domctl: pause a domain on behalf of its controller (the toolstack).",
            "upstream",
            (),
            "[UP] public/domctl.h, domctl.c",
        ),
        (
            "XEN_DOMCTL_unpausedomain",
            XEN_DOMCTL_unpausedomain,
            "domctl: drop one pause of the controller.",
            "upstream",
            (),
            "[UP] public/domctl.h, domctl.c",
        ),
    )
    for name, value, summary, since, formers, source in macros:
        register(
            name,
            "macro",
            f"{name} {value:#x}",
            summary,
            model=f"spec.abi_v8.{name}",
            source=source,
            since=since,
            formers=formers,
        )
    register(
        "xen_domctl_memory_claim",
        "struct",
        "struct xen_domctl_memory_claim",
        "One claim entry: pages, target, pad (16 bytes, no implicit padding).",
        model="spec.abi.ClaimEntry",
        source="[V8] 71174423802, 71197950480",
        since="v8",
        formers=(
            Former("xen_memory_claim", "v7", "v8"),
            Former("xen_domctl_memclaim_entry", _V8_EARLY, "v8"),
        ),
    )
    register(
        "xen_domctl_memory_claim_t",
        "type",
        "typedef struct xen_domctl_memory_claim xen_domctl_memory_claim_t",
        "The v8 claim entry type.",
        model="spec.abi.ClaimEntry",
        source="[V8] 71174423802",
        since="v8",
        formers=(Former("xen_memory_claim_t", "v7", "v8"),),
    )
    for member, decl, summary, formers in (
        ("pages", "uint64_aligned_t pages", "Pages to claim; 0 is invalid in v8.", ()),
        ("target", "uint32_t target", "A NUMA node id or the HOST selector.", ()),
        (
            "pad",
            "uint32_t pad",
            "Must be 0.",
            (Former("xen_memory_claim.cmd", "v7", "v8"),),
        ),
    ):
        register(
            f"xen_domctl_memory_claim.{member}",
            "member",
            decl,
            summary,
            model=f"spec.abi.ClaimEntry.{'cmd' if member == 'pad' else member}",
            source="[V8] 71174423802",
            since="v8",
            formers=formers,
        )
    register(
        "xen_domctl_memory_claims",
        "struct",
        "struct xen_domctl_memory_claims",
        "Payload of both v8 domctls, u.memory_claims (16 bytes).",
        model="spec.memory_claims.set_memory_claims",
        source="[V8] 71126705126, 71223550050, 70871982022",
        since="v8",
        formers=(Former("xen_domctl_claim_memory", "v7", "v8"),),
    )
    for member, decl, summary, former in (
        (
            "claim_set",
            "XEN_GUEST_HANDLE_64(xen_domctl_memory_claim_t) claim_set",
            "The guest buffer of entries (the final name is not in the notes; v7 and "
            "the early v8 code call it claim_set).",
            "",
        ),
        (
            "nr_entries",
            "uint32_t nr_entries",
            "SET: entries to read, 0 releases. GET: capacity in, entries needed out.",
            "",
        ),
        ("pad", "uint32_t pad", "Must be 0.", "mode"),
    ):
        register(
            f"xen_domctl_memory_claims.{member}",
            "member",
            decl,
            summary,
            model="spec.memory_claims.set_memory_claims",
            source="[V8] 71126705126, 69740046103; [J7] (v7's claim_set)",
            since="v8",
            formers=(Former(f"xen_domctl_claim_memory.{former}", "v7", "v8"),) if former else (),
        )
    for name, decl, summary, model in (
        (
            "xc_domain_set_memory_claims",
            "int xc_domain_set_memory_claims(xc_interface *xch, uint32_t domid, "
            "const xen_domctl_memory_claim_t *claims, uint32_t nr)",
            "libxenctrl wrapper of XEN_DOMCTL_set_memory_claims.",
            "spec.host.Host.claim_memory",
        ),
        (
            "xc_domain_get_memory_claims",
            "int xc_domain_get_memory_claims(xc_interface *xch, uint32_t domid, "
            "xen_domctl_memory_claim_t *claims, uint32_t *nr)",
            "libxenctrl wrapper of XEN_DOMCTL_get_memory_claims; *nr is updated on "
            "success and on ENOBUFS, claims only on success.",
            "spec.host.Host.get_claims",
        ),
    ):
        register(
            name,
            "function",
            decl,
            summary,
            model=model,
            source="[V8] 70959357573, 70940241165, 71150029512",
            since="v8",
        )
    for name, decl, summary, model in (
        (
            "xc_domain_pause",
            "int xc_domain_pause(xc_interface *xch, uint32_t domid)",
            "libxenctrl wrapper of XEN_DOMCTL_pausedomain.",
            "spec.host.Host.pause_domain",
        ),
        (
            "xc_domain_unpause",
            "int xc_domain_unpause(xc_interface *xch, uint32_t domid)",
            "libxenctrl wrapper of XEN_DOMCTL_unpausedomain.",
            "spec.host.Host.unpause_domain",
        ),
    ):
        register(name, "function", decl, summary, model=model, source="[UP] xc_domain.c")


_register()
