"""The C view: declarations and libxenctrl programs written from the model compile, follow
the model, and bad input to their directives is a located warning.

Every ``claims:scenario`` and ``claims:c-program`` of the site is translated under each
of its designs and compiled with ``gcc -fsyntax-only`` against the header written from
the same registry (:func:`sphinx_claims.cdecl.header`); no Xen header is used.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import spec
from spec.replay import replay
from sphinx_claims import cdecl, cprogram, cview, model

pytest_plugins = ["sphinx.testing.fixtures"]

DOCS = Path(__file__).parent.parent / "docs"
ROOTS = Path(__file__).parent / "roots"
GCC = shutil.which("gcc")

_DIRECTIVE = re.compile(r"^( *)\.\. claims:(scenario|c-program)::\s*$")


def site_scripts() -> Iterator[tuple[str, int, list[str], str]]:
    """``(page, line, designs, script)`` of every scenario and C program of the site."""
    for path in sorted(DOCS.rglob("*.rst")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            found = _DIRECTIVE.match(line)
            if not found:
                continue
            indent = found.group(1) + "   "  # a directive may sit inside claims:more
            block: list[str] = []
            for text in lines[index + 1 :]:
                if text and not text.startswith(indent):
                    break
                block.append(text[len(indent) :])
            options = block[: block.index("")] if "" in block else block
            designs = next(
                (
                    re.split(r"[\s,]+", o.partition(":design:")[2].strip())
                    for o in options
                    if o.startswith(":design:")
                ),
                [],
            )
            code = "\n".join(block[len(options) :]).strip("\n") + "\n"
            yield str(path.relative_to(DOCS)), index + 1, designs or ["v7"], code
    for path in DOCS.rglob("*.md"):
        assert "{claims:scenario}" not in path.read_text(encoding="utf-8"), path  # not parsed


def compile_c(tmp: Path, design: str, source: str, *flags: str) -> subprocess.CompletedProcess[str]:
    (tmp / cprogram.header_name(design)).write_text(cdecl.header(cview.view(design)))
    program = tmp / "program.c"
    program.write_text(source)
    assert GCC is not None, "gcc is needed to check the generated C"
    return subprocess.run(
        [
            GCC,
            "-fsyntax-only",
            "-std=c11",
            "-Wall",
            "-Werror",
            *flags,
            "-I",
            str(tmp),
            str(program),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def program_of(code: str, design: str) -> str:
    return cview.program(code, replay(code, design))


SCRIPTS = list(site_scripts())


def test_the_site_has_scripts() -> None:
    assert len(SCRIPTS) >= 10
    assert {"accounting.rst", "hypercalls/XEN_DOMCTL_claim_memory.rst"} <= {s[0] for s in SCRIPTS}


@pytest.mark.parametrize(("page", "line", "designs", "code"), SCRIPTS, ids=lambda v: str(v))
def test_every_script_of_the_site_compiles(
    tmp_path: Path, page: str, line: int, designs: list[str], code: str
) -> None:
    compiled = 0
    for design in designs:
        try:
            source = program_of(code, design)
        except cprogram.Untranslatable as error:
            assert "no libxenctrl function" in str(error), (page, line, design, error)
            continue
        done = compile_c(tmp_path, design, source)
        assert done.returncode == 0, (page, line, design, done.stderr, source)
        compiled += 1
    assert compiled, f"{page}:{line}: no design gives a C program"


@pytest.mark.parametrize("design", list(spec.DESIGNS))
def test_each_designs_header_and_declarations_compile(tmp_path: Path, design: str) -> None:
    view = cview.view(design)
    hypervisor, _ = cview.declarations(design, [], "hypervisor")
    interface, _ = cview.declarations(design, [], "interface")
    source = f'#include "{cprogram.header_name(design)}"\n{hypervisor}\n'
    done = compile_c(tmp_path, design, source, "-Wno-unused-function")  # static, no body
    assert done.returncode == 0, done.stderr
    # the shown interface is the header's, with comments: it compiles on the stand-ins too
    alone = f"{cdecl.STAND_INS}#define MAX_NUMNODES 64\n{interface}\n"
    done = subprocess.run(
        [str(GCC), "-fsyntax-only", "-x", "c", "-"], input=alone, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert view.entries()


def test_v6_and_v7_spell_the_interface_as_each_wrote_it() -> None:
    v6, _ = cview.declarations("v6", [], "interface")
    v7, _ = cview.declarations("v7", [], "interface")
    assert "XEN_DOMCTL_CLAIM_MEMORY_GLOBAL 0x80000000" in v6
    assert "XEN_DOMCTL_CLAIM_MEMORY_HOST 0x80000000" in v7
    assert "uint32_t nr_claims;" in v6 and "uint32_t nr_entries;" in v7
    assert "XEN_GUEST_HANDLE_64(memory_claim_t) claims;" in v6
    assert "XEN_DOMCTL_CLAIM_MEMORY_GET" not in v6 and "#define XEN_DOMCTL_CLAIM_MEMORY_GET 1" in v7
    assert "int xc_domain_claim_memory(xc_interface *xch, uint32_t domid, uint32_t mode," in v7
    upstream, _ = cview.declarations("upstream", [], "interface")
    assert upstream == ""  # the series added nothing upstream has


def test_a_macro_value_is_the_abi_constant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model.module("abi"), "XEN_DOMCTL_claim_memory", 93)
    block, _ = cview.declarations("v7", ["XEN_DOMCTL_claim_memory"], "interface")
    assert "#define XEN_DOMCTL_claim_memory 93" in block


def test_a_changed_prototype_changes_the_program(monkeypatch: pytest.MonkeyPatch) -> None:
    code = "host = Host(nodes=[8])\nd = host.create_domain()\nhost.claim_pages(d, 4)\n"
    assert "rc = xc_domain_claim_pages(xch, d, 4);" in program_of(code, "v7")
    entry = model.c_names()["xc_domain_claim_pages"]
    swapped = entry.declaration.replace(
        "uint32_t domid, unsigned long nr_pages", "unsigned long nr_pages, uint32_t domid"
    )
    changed = dataclasses.replace(entry, declaration=swapped)
    monkeypatch.setitem(model.c_names(), "xc_domain_claim_pages", changed)
    assert "rc = xc_domain_claim_pages(xch, 4, d);" in program_of(code, "v7")


def test_each_call_has_the_models_value() -> None:
    code = (
        "host = Host(nodes=[8, 8])\nd = host.create_domain()\n"
        "host.claim_memory(d, [ClaimEntry(9, 0)])\nhost.claim_memory(d, [ClaimEntry(4, 0)])\n"
    )
    source = program_of(code, "v7")
    assert "host.claim_memory(d, [ClaimEntry(9, 0)])\n     * model: -ENOMEM */" in source
    assert "host.claim_memory(d, [ClaimEntry(4, 0)])\n     * model: 0 */" in source
    assert "{ .pages = 9, .target = 0 }," in source


@pytest.mark.parametrize(
    ("code", "line", "message"),
    [
        ("host = Host(nodes=[8])\nhost.llc_coloring = True\n", 2, "only calls of the model"),
        ("host = Host(nodes=[8])\nother = Host(nodes=[8])\n", 2, "a second host"),
        ("host = Host(nodes=[8])\nd = host.create_domain()\nd.outstanding_pages\n", 3, "only"),
        ("host = Host(nodes=[8])\nhost.claim_pages(1, 4, extent_order=1)\n", 2, "extent_order"),
        ("d = 1\n", 1, "only calls"),
        ("import spec\n", 1, "creates no host"),
        ("host = Host(nodes=[8])\nhost.free_domheap_pages(page)\n", 2, "not a page"),
    ],
)
def test_what_c_cannot_say_is_refused_with_its_line(code: str, line: int, message: str) -> None:
    with pytest.raises(cprogram.Untranslatable, match=message) as caught:
        cview.program(code, replay(code, "v7"))
    assert caught.value.lineno == line


def test_a_design_without_the_libxenctrl_call_is_refused() -> None:
    code = "host = Host(nodes=[8])\nd = host.create_domain()\n"
    code += "host.claim_memory(d, [ClaimEntry(4, 0)])\n"
    with pytest.raises(cprogram.Untranslatable, match="no libxenctrl function of v6") as caught:
        program_of(code, "v6")
    assert caught.value.lineno == 3


# --- the directives in a Sphinx build ------------------------------------------------------


@pytest.fixture(scope="session")
def rootdir() -> Path:
    return ROOTS


def test_bad_input_to_the_directives_warns_at_its_line(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from test_ext_warnings import build, warnings_of

    app = build(make_app, tmp_path, "cview-bad")
    warnings = warnings_of(app)
    index = str(tmp_path / "cview-bad" / "index.rst")
    expected = [
        (4, "claims:c-declarations: unknown design 'v9'"),
        (7, "v7 has no C name 'NO_SUCH_STRUCT' in the registry"),
        (15, "no C program under v7: cannot express 'host.llc_coloring = True'"),
        (22, "no C program under v7: a second host"),
        (29, "no C program under v6: the registry has no libxenctrl function of v6"),
        (34, "no C program under any design: syntax error"),
        (36, "claims:sequence: unknown design 'v9'"),
        (41, ":from: 'domain_set_claim_entrie' is no function of the registry; did you mean"),
        (46, "nothing to draw: under v7 no step of the script calls a function"),
        (51, "claims:sequence: the script is empty"),
        (53, "claims:data-structures: unknown design 'v5'"),
        (58, "claims:data-structures: the script does not parse under v7: '(' was never"),
    ]
    for line, message in expected:
        found = [w for w in warnings if message in w]
        assert found, (message, warnings)
        assert f"{index}:{line}" in found[0], found[0]
    assert not any("Traceback" in w for w in warnings)
    assert len(warnings) == len(expected), warnings
    html = (app.outdir / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", html)
    assert "rc = xc_domain_claim_pages(xch, d, 4);" in text  # the page went on
    assert "struct xen_memory_claim {" in text  # the names that exist are declared
    assert "Phase 1: each entry" in html and "outstanding_claims" in html


def test_v8_has_its_own_interface_and_not_v7s() -> None:
    v8, _ = cview.declarations("v8", [], "interface")
    assert "#define XEN_DOMCTL_set_memory_claims 91" in v8
    assert "#define XEN_DOMCTL_get_memory_claims 92" in v8
    assert "struct xen_domctl_memory_claim {" in v8 and "uint32_t pad;" in v8
    assert "int xc_domain_set_memory_claims(" in v8
    for gone in ("XEN_DOMCTL_claim_memory", "LEGACY", "CLAIM_MEMORY_SET", "xc_domain_claim_memory"):
        assert gone not in v8, gone
    code = "host = Host(nodes=[8])\nd = host.create_domain()\nhost.claim_memory(d, [])\n"
    source = program_of(code, "v8")
    assert "rc = xc_domain_set_memory_claims(xch, d, NULL, nr_3);" in source
