"""The model's metadata: design options and presets, rules, the C-name registry, the ABI.

The docs render comparison tables, rule lists and the rename table from these, so their
content is checked against the design sources: claims-model.md section 8 (the option
values of each preset), section 4 (ABI numbers) and [V7-0] / [D3] development.rst
(the rename table).
"""

from __future__ import annotations

import errno

import pytest

from spec import C_NAMES, DESIGNS, RULES, Design, Host, Rc, get_design, observe
from spec.abi import (
    HOST,
    LEGACY,
    XEN_DOMCTL_CLAIM_MEMORY_GET,
    XEN_DOMCTL_CLAIM_MEMORY_SET,
    ClaimEntry,
    Page,
    XEN_DOMCTL_claim_memory,
    XENMEM_claim_pages,
    c_uint,
    err,
)
from spec.registry import register, renames
from spec.rules import closest, rule

# --- designs ----------------------------------------------------------------------------


def test_presets_set_each_option_as_section_8_says() -> None:
    expected = {
        # option: (upstream, v6, v7, v8); v8 from claims-v8.md (newest notes)
        "claim_memory_domctl": ("absent", "pad", "mode", "absent"),
        "memory_claims_domctls": (False, False, False, True),  # 70871982022
        "set_requires_pause": (False, False, False, True),  # 70871982022
        "claims_install": ("replace", "replace", "replace", "once"),  # 71478241470
        "entry_check_order": ("fields-target-limit",) * 4,  # 6.4: the listed order
        "reserved_target_errno": ("ENOENT", "ENOENT", "ENOENT", "EINVAL"),  # Q16
        "claim_availability": ("difference", "difference", "difference", "sums"),  # 6.5
        "free_buddy_clamp": (False, False, False, True),  # 71046888348
        "get_host_entry": ("always", "always", "always", "non-zero"),  # 70956981871
        "get_buffer_errno": ("ERANGE", "ERANGE", "ERANGE", "ENOBUFS"),  # 71197950480
        "get_fault_copyback": (True, True, True, False),  # 71197950480
        "get_state_checks": (True, True, True, False),  # 71197950480
        "legacy_selector": ("single-entry", "single-entry", "any-entry", "none"),
        "node_sum_overflow_check": (False, True, False, False),  # Q17
        "release_shortcut": (True, False, True, False),  # v6-v7-code.md 5.1
        "host_check": ("upstream", "shortfall", "upstream", "upstream"),  # Q1
        "offline_recall": (False, False, True, False),  # Q13; v8 SCE-2
        "kill_release": ("legacy", "legacy", "claim-set", "legacy"),  # v6-v7-code.md 4
        "set_release_order": ("nodes-first", "host-first", "nodes-first", "nodes-first"),
        "mode_values": ((0, 1), (0, 1), (0, 1), (0, 1)),  # Q2: the v7 code's values
        # M1: upstream HEAD has 71c6a62317 and 5cb7ff13ee, v6 and v7 are based before
        # them, v8 after (its series no longer carries v7's node counter, 44adbac3c7)
        "offline_reassembly": ("fixed", "pre-fix", "pre-fix", "fixed"),
        "known_violations": (  # Q13: no recall in upstream, v6 and v8 ([OFF], SCE-2)
            frozenset({"inv-global", "inv-host-satisfiable"}),
            frozenset({"inv-global", "inv-node", "inv-host-satisfiable"}),
            frozenset(),
            frozenset({"inv-global", "inv-node", "inv-host-satisfiable"}),
        ),
    }
    assert list(DESIGNS) == ["upstream", "v6", "v7", "v8"]
    for option, values in expected.items():
        assert tuple(DESIGNS[name].value(option) for name in DESIGNS) == values, option
    assert [name for name, _, _ in Design.options()] == list(expected)
    assert all(doc and source for _, doc, source in Design.options())


def test_default_design_is_v7() -> None:
    assert Host(nodes=[1]).design is DESIGNS["v7"]
    assert get_design(DESIGNS["v6"]) is DESIGNS["v6"]


def test_design_lookup_and_variants() -> None:
    with pytest.raises(ValueError, match="not a design option"):
        DESIGNS["v7"].value("title")
    with pytest.raises(ValueError, match="v9"):
        get_design("v9")
    with pytest.raises(TypeError, match="preset name"):
        get_design(None)  # type: ignore[arg-type]
    v8ish = DESIGNS["v7"].variant("no-recall", offline_recall=False)
    assert (v8ish.name, v8ish.title, v8ish.offline_recall) == ("no-recall", "no-recall", False)
    assert DESIGNS["v7"].offline_recall is True


# --- rules ---------------------------------------------------------------------------------


def test_rule_ids_rc_and_outcome() -> None:
    nomem = RULES["set-node-nomem"]
    assert nomem.rc == -errno.ENOMEM and nomem.outcome == "-ENOMEM"
    install = RULES["legacy-install"]
    assert install.rc == 0 and install.outcome == install.effect
    assert RULES["domctl-absent"].designs == {"upstream", "v8"}
    assert RULES["legacy-install"].designs == {"upstream", "v6", "v7", "v8"}


def test_design_specific_rules_name_their_designs() -> None:
    """Rules of one version list only the designs whose code has them (spot checks)."""
    assert "v7" not in RULES["set-node-sum-overflow"].designs
    assert "v6" not in RULES["set-release-all"].designs
    assert "v7" not in RULES["alloc-host-shortfall"].designs


def test_rule_declaration_errors() -> None:
    with pytest.raises(ValueError, match="lower-case"):
        rule("Bad_ID", "s", function="f", source="x", errno=errno.EINVAL)
    with pytest.raises(ValueError, match="declared twice"):
        rule("legacy-install", "s", function="f", source="x", effect="e")
    with pytest.raises(ValueError, match="exactly one"):
        rule("brand-new-rule", "s", function="f", source="x")
    with pytest.raises(ValueError, match="exactly one"):
        rule("brand-new-rule", "s", function="f", source="x", errno=1, effect="e")
    assert "brand-new-rule" not in RULES


def test_observe_nests_and_counts_every_host() -> None:
    with observe() as outer:
        Host(nodes=[4]).claim_pages(99, 1)
        with observe() as inner:
            host = Host(nodes=[4])
            host.claim_pages(host.create_domain(), 2)
            host.claim_pages(98, 1)
        assert inner == {"legacy-install": 1, "legacy-unknown-domain": 1}
    assert outer == {"legacy-install": 1, "legacy-unknown-domain": 2}


def test_closest_suggests_ids() -> None:
    assert closest("set-duplicate")[0] == "set-duplicate-node"
    assert closest("zzzzzzzz") == []


# --- registry --------------------------------------------------------------------------------


def test_rename_table_of_the_v7_series() -> None:
    table = renames()
    for former, new in [
        ("domain_set_outstanding_pages", "domain_set_claim_entries"),
        ("domain_set_outstanding_pages", "domain_get_claim_entries"),
        ("deduct_global_claims", "domain_release_host_claims"),
        ("deduct_node_claims", "domain_release_node_claims"),
        ("node_outstanding_claims", "claimed_pages"),
        ("XEN_DOMCTL_CLAIM_MEMORY_GLOBAL", "XEN_DOMCTL_CLAIM_MEMORY_HOST"),
    ]:
        assert (former, new, "v7") in table


def test_registry_entries_point_at_model_objects() -> None:
    entry = C_NAMES["domain_set_claim_entries"]
    assert (entry.kind, entry.since) == ("function", "v7")
    assert entry.model == "spec.claims.domain_set_claim_entries"
    assert C_NAMES["outstanding_claims"].kind == "var"
    with pytest.raises(ValueError, match="registered twice"):
        register("outstanding_claims", "var", "x", "y", model="m", source="s")


# --- ABI ----------------------------------------------------------------------------------


def test_abi_numbers() -> None:
    assert (XENMEM_claim_pages, XEN_DOMCTL_claim_memory) == (24, 91)
    assert (HOST, LEGACY) == (0x80000000, 0x40000000)
    assert (XEN_DOMCTL_CLAIM_MEMORY_SET, XEN_DOMCTL_CLAIM_MEMORY_GET) == (0, 1)


def test_rc_reads_like_the_c_source() -> None:
    assert repr(Rc(0)) == "0" and str(err(errno.ENOMEM)) == "-ENOMEM"
    assert err(errno.ERANGE).name == "ERANGE" and Rc(0).name == "0"
    assert repr(Rc(-5)) == "-5"  # an errno the model never returns keeps its number
    assert Rc(-errno.EINVAL) == -errno.EINVAL


def test_c_widths() -> None:
    assert c_uint(2**32 - 1, "x") == 2**32 - 1
    with pytest.raises(ValueError, match=r"x=4294967296 does not fit"):
        c_uint(2**32, "x")
    with pytest.raises(TypeError, match="x must be an int, not bool"):
        c_uint(True, "x")
    assert repr(ClaimEntry(3, LEGACY, cmd=2)) == "ClaimEntry(pages=3, target=LEGACY, cmd=2)"
    assert repr(ClaimEntry(3, 5)) == "ClaimEntry(pages=3, target=5)"
    assert Page(8, 3, 0).nr_pages == 8
