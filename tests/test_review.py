"""``python -m spec review``: small patches of xen/common/page_alloc.c, written for these
tests, read against the model's C-name registry and rules."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from test_cli import spec as run_cli

import spec
from spec.patch import NotAPatch, parse
from spec.review import review
from spec.rules import site_url

SITE = site_url(spec.__version__)

# A format-patch mail: the duplicate-node check returns another errno, and two names
# the registry does not know appear. The signature after the hunk is not a change.
ERRNO_DRIFT = """\
From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001
From: A Reviewer <reviewer@example.org>
Subject: [PATCH] xen/mm: refuse a duplicate node differently

---
 xen/common/page_alloc.c | 4 +++-

diff --git a/xen/common/page_alloc.c b/xen/common/page_alloc.c
--- a/xen/common/page_alloc.c
+++ b/xen/common/page_alloc.c
@@ -600,7 +600,9 @@ int domain_set_claim_entries(struct domain *d, unsigned int nr,
         if ( seen & (1UL << node) )
-            return -EINVAL;
+            return -EEXIST;
+        note_duplicate_claim(d, node);
+        d->claim_generation++;
         seen |= 1UL << node;
         claimed_pages[node] += entries[i].pages;
     }
--\x20
2.39.5
"""

# A plain diff whose header names another function: the definition in the hunk decides.
CLEAN = """\
--- a/xen/common/page_alloc.c
+++ b/xen/common/page_alloc.c
@@ -1200,6 +1200,7 @@ static void free_heap_pages(
\x20
 static int reserve_offlined_page(struct page_info *head)
 {
+    ASSERT(spin_is_locked(&heap_lock));
     unsigned int node = page_to_nid(head);
"""

# The upstream name of the claim setter, read against upstream.
FORMER = """\
--- a/xen/common/page_alloc.c
+++ b/xen/common/page_alloc.c
@@ -540,4 +540,4 @@ int domain_set_outstanding_pages(struct domain *d, unsigned long pages)
     if ( d->outstanding_pages )
     {
-        ret = -EINVAL;
+        ret = -EBUSY;
         goto out;
"""


def test_a_hunk_lists_the_function_its_model_rules_and_flags_drift() -> None:
    (hunk,) = review(parse(ERRNO_DRIFT), "v7", SITE)
    assert (hunk.path, [f.function for f in hunk.functions]) == (
        "xen/common/page_alloc.c",
        ["domain_set_claim_entries"],
    )
    found = hunk.functions[0]
    assert found.model == "spec.claims.domain_set_claim_entries"
    # the rules of the function under its current and former names, in declaration order
    names = {"domain_set_claim_entries", "domain_install_claim_set", "domain_set_outstanding_pages"}
    expected = [r.id for r in spec.RULES.values() if r.function in names and "v7" in r.designs]
    assert [r["id"] for r in found.rules] == expected
    assert {"set-duplicate-node", "set-node-nomem", "legacy-install"} <= set(expected)
    assert {
        "id": "set-duplicate-node",
        "outcome": "-EINVAL",
        "link": f"{SITE}/rule/set-duplicate-node.html",
    } in found.rules
    assert "inv-node" in found.invariants and "inv-global" in found.invariants
    assert "hypercalls/XEN_DOMCTL_claim_memory" in found.pages
    assert any(s.startswith("docs/differences.rst:") for s in found.scenarios)
    (errno,) = found.drift
    assert errno.startswith(
        "+601: -EEXIST is returned, which no rule of domain_set_claim_entries gives in v7"
    )
    assert "the removed lines return -EINVAL, as " in errno and "set-duplicate-node" in errno
    assert hunk.drift == [
        "+602: note_duplicate_claim is not in the C-name registry",
        "+603: claim_generation is not in the C-name registry",
    ]


def test_the_enclosing_definition_wins_over_the_header_and_known_names_pass() -> None:
    (hunk,) = review(parse(CLEAN), "v7", SITE)
    assert [f.function for f in hunk.functions] == ["reserve_offlined_page"]
    found = hunk.functions[0]
    assert found.model == "spec.offline.reserve_offlined_page"
    assert found.drift == [] and hunk.drift == [
        "+1203: spin_is_locked is not in the C-name registry"
    ]
    assert "inv-node" in found.invariants  # it takes frames out of node_avail_pages


def test_a_former_name_reads_as_its_registered_function_under_the_design() -> None:
    (hunk,) = review(parse(FORMER), "upstream", SITE)
    found = hunk.functions[0]
    assert found.model == "spec.claims.domain_set_claim_entries"
    assert {r["id"] for r in found.rules} >= {"legacy-existing-claim"}
    assert "set-duplicate-node" not in {r["id"] for r in found.rules}  # not in upstream
    assert found.drift[0].startswith(
        "+542: -EBUSY is returned, which no rule of domain_set_outstanding_pages"
    )


def test_the_command_prints_text_or_json_and_exits_1_on_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch = tmp_path / "0001-duplicate.patch"
    patch.write_text(ERRNO_DRIFT)
    run = run_cli("review", str(patch))
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    header = "@@ -600,7 +600,9 @@ int domain_set_claim_entries(struct domain *d, unsigned int nr,"
    assert lines[0] == f"xen/common/page_alloc.c {header}"
    assert lines[1] == "  domain_set_claim_entries: model spec.claims.domain_set_claim_entries"
    assert any(
        line.split()[:2] == ["set-duplicate-node", f"{SITE}/rule/set-duplicate-node.html"]
        for line in lines
    )
    assert lines[-1] == "1 hunk(s), 3 drift finding(s)"
    run = run_cli("review", str(patch), "--json", "--latest")
    data = json.loads(run.stdout)
    assert data[0]["functions"][0]["rules"][0]["link"].startswith(site_url("latest"))
    clean = tmp_path / "clean.diff"
    clean.write_text(CLEAN.replace("spin_is_locked(&heap_lock)", "heap_lock"))
    assert run_cli("review", str(clean)).returncode == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(FORMER))
    run = run_cli("review", "-", "--design", "upstream")
    assert run.returncode == 1 and "Rules in upstream:" in run.stdout


def test_what_is_not_a_patch_is_refused_with_status_2(tmp_path: Path) -> None:
    with pytest.raises(NotAPatch):
        parse("Hello,\n\nplease apply.\n")
    note = tmp_path / "mail.txt"
    note.write_text("Hello,\n\nplease apply.\n")
    run = run_cli("review", str(note))
    assert (run.returncode, run.stdout) == (2, "")
    assert "no hunk of a unified diff" in run.stderr
    run = run_cli("review", str(tmp_path / "missing.patch"))
    assert run.returncode == 2 and "No such file" in run.stderr
