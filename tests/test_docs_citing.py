"""What docs/citing.rst promises a reviewer holds for the real site.

The site is built once (into a temporary directory, as ``nox -s docs`` builds it), then:

* the link ``python -m spec cite`` prints for every rule and every invariant is a page of
  the build that redirects to the page holding that ID's anchor;
* ``claims.json`` gives the same permanent links, holds every rule and invariant, and has
  the fields its schema (``sphinx_claims/claims.schema.json``) requires and no others;
* ``objects.inv`` lists every rule and invariant in the ``claims`` domain and as labels;
* another Sphinx project, configured with the page's own ``conf.py`` and reST snippets,
  links to the rules through intersphinx without a warning.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sphinx.util.inventory import InventoryFile

import spec
from spec.__main__ import cite_invariant, cite_rule
from spec.rules import site_url

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SCHEMA = ROOT / "sphinx_claims" / "claims.schema.json"
SITE = f"https://xen-claims-spec.readthedocs.io/en/{spec.__version__}/"


def sphinx_build(source: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "READTHEDOCS_CANONICAL_URL"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-n", "-b", "html", *extra, str(source), str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@functools.cache
def build_site(base: Path) -> Path:
    """The real site, built into *base*: once a session for this module and the modules
    that import its ``html`` fixture (each has a fixture of its own)."""
    out = base / "site" / "html"
    run = sphinx_build(DOCS, out, "-W", "--keep-going")
    assert run.returncode == 0, run.stderr
    return out


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.getbasetemp())


def cited_link(id: str) -> str:
    """The last line of ``python -m spec cite ID``: the permanent link."""
    if id in spec.RULES:
        lines, _ = cite_rule(spec.RULES[id], None, site_url(spec.__version__))
    else:
        lines = cite_invariant(spec.INVARIANTS[id], site_url(spec.__version__))
    return lines[-1].strip()


def redirect_target(page: Path) -> str:
    found = re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', page.read_text())
    assert found, page
    return found.group(1)


@pytest.mark.parametrize("id", [*spec.RULES, *spec.INVARIANTS])
def test_the_cited_link_redirects_to_the_anchor(html: Path, id: str) -> None:
    link = cited_link(id)
    assert link == f"{SITE}rule/{id}.html"
    page = html / link.removeprefix(SITE)
    assert page.is_file(), f"{link} is not a page of the site"
    target = redirect_target(page)
    path, anchor = target.split("#")
    assert anchor == id
    assert f'id="{id}"' in (page.parent / path).resolve().read_text()


def test_every_page_shows_the_release(html: Path) -> None:
    for page in ("index.html", "releases.html", "hypercalls/XENMEM_claim_pages.html"):
        assert f"Xen NUMA claims design {spec.__version__}</" in (html / page).read_text()


def test_claims_json_matches_the_citations_and_the_schema(html: Path) -> None:
    data = json.loads((html / "claims.json").read_text())
    schema = json.loads(SCHEMA.read_text())
    assert json.loads((html / "claims.schema.json").read_text()) == schema
    assert data["schema_version"] == schema["properties"]["schema_version"]["const"]
    assert data["base_url"] == SITE

    def fits(item: dict[str, Any], shape: dict[str, Any]) -> None:
        assert set(shape["required"]) <= item.keys() <= shape["properties"].keys(), item

    fits(data, schema)
    for key, id_field in (("rules", "id"), ("invariants", "label")):
        shape = schema["properties"][key]["items"]
        for item in data[key]:
            fits(item, shape)
            assert item["permalink"] == cited_link(item[id_field])
            assert item["url"] == f"{SITE}{item['page']}#{item[id_field]}"
    assert [r["id"] for r in data["rules"]] == list(spec.RULES)
    assert [i["label"] for i in data["invariants"]] == list(spec.INVARIANTS)


def test_the_inventory_lists_every_rule_and_invariant(html: Path) -> None:
    with (html / "objects.inv").open("rb") as stream:
        inventory = InventoryFile.load(stream, SITE, lambda base, uri: base + uri)
    data = {kind: dict(entries) for kind, entries in inventory.items()}
    for kind, names in (("claims:rule", spec.RULES), ("claims:invariant", spec.INVARIANTS)):
        assert set(names) <= data[kind].keys(), kind
        assert set(names) <= data["std:label"].keys()
    found = data["claims:rule"]["set-duplicate-node"]
    uri = found.uri if hasattr(found, "uri") else found[2]
    assert uri == f"{SITE}hypercalls/XEN_DOMCTL_claim_memory.html#set-duplicate-node"


def code_block(language: str, containing: str) -> str:
    """The body of the first ``.. code-block:: LANGUAGE`` of citing.rst holding a text."""
    page = (DOCS / "citing.rst").read_text()
    for part in page.split(f".. code-block:: {language}\n")[1:]:
        lines = []
        for line in part.splitlines()[1:]:
            if line and not line.startswith("   "):
                break
            lines.append(line[3:])
        body = "\n".join(lines).strip() + "\n"
        if containing in body:
            return body
    raise AssertionError(f"no {language} block with {containing!r} on citing.rst")


def test_another_project_links_with_the_pages_own_snippets(html: Path, tmp_path: Path) -> None:
    conf = code_block("python", "intersphinx_mapping")
    text = code_block("rst", ":ref:`xenclaims:")
    # the page's mapping, with the inventory of this build instead of a download
    conf = conf.replace("None)", f"{str(html / 'objects.inv')!r})")
    assert str(html) in conf
    (tmp_path / "conf.py").write_text(f"project = 'xen'\nnitpicky = True\n{conf}")
    (tmp_path / "index.rst").write_text(f"Xen\n===\n\n{text}")
    run = sphinx_build(tmp_path, tmp_path / "_build", "-W")
    assert run.returncode == 0, run.stderr
    page = (tmp_path / "_build" / "index.html").read_text()
    latest = "https://xen-claims-spec.readthedocs.io/en/latest/"  # the page's mapping
    assert f'href="{latest}hypercalls/XEN_DOMCTL_claim_memory.html#set-duplicate-node"' in page
    assert f'href="{latest}invariants.html#inv-global"' in page
