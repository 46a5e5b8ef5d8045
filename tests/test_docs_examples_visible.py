"""What a page shows is what runs: the hidden set-up of the site's examples holds imports
only (issue 16), and the helpers the pages use come from ``spec.shell``."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from spec import shell

DOCS = Path(__file__).resolve().parent.parent / "docs"
RST_HIDDEN = re.compile(r"^\.\. invisible-code-block: python\n\n((?:(?:   .*)?\n)+)", re.M)
MYST_HIDDEN = re.compile(r"^% invisible-code-block: python\n((?:%.*\n)+)", re.M)


def hidden_blocks() -> list[tuple[str, str]]:
    found = []
    for path in sorted(DOCS.rglob("*")):
        if "_build" in path.parts or path.suffix not in {".rst", ".md"}:
            continue
        text = path.read_text(encoding="utf-8")
        for match in RST_HIDDEN.finditer(text):
            code = "\n".join(line[3:] for line in match.group(1).splitlines())
            found.append((str(path.relative_to(DOCS)), code))
        for match in MYST_HIDDEN.finditer(text):
            code = "\n".join(line[2:] for line in match.group(1).splitlines())
            found.append((str(path.relative_to(DOCS)), code))
    return found


def test_the_pages_have_hidden_set_up_to_check() -> None:
    pages = {page for page, _ in hidden_blocks()}
    assert {"citing.rst", "differences.rst", "use-cases.md", "design.rst"} <= pages


@pytest.mark.parametrize(("page", "code"), hidden_blocks())
def test_hidden_set_up_only_imports(page: str, code: str) -> None:
    statements = ast.parse(code).body
    assert statements, page
    others = [ast.unparse(s) for s in statements if not isinstance(s, (ast.Import, ast.ImportFrom))]
    assert others == [], f"{page} defines out of sight: {others}"


def test_run_gives_status_and_output_and_rejects_what_a_shell_cannot_type() -> None:
    status, output = shell.run("rules --design v7")
    assert status == 0 and "set-duplicate-node" in output.split()
    status, output = shell.run("cite no-such-rule")
    assert status == 2 and "unknown rule or invariant ID 'no-such-rule'" in output
    with pytest.raises(TypeError, match="arguments must be a str"):
        shell.run(["rules"])  # type: ignore[arg-type]


def test_replay_runs_a_script_in_a_directory_of_its_own(capsys: pytest.CaptureFixture[str]) -> None:
    shell.replay("from spec import Host\nhost = Host(nodes=[4])\n", "one.py", "--design v7")
    out = capsys.readouterr().out
    assert "host = Host(nodes=[4])" in out and out.endswith("(exit status 0)\n")
    with pytest.raises(ValueError, match="plain file name"):
        shell.replay("", "../escape.py")


def test_code_block_reads_the_block_after_a_label() -> None:
    script = shell.code_block("differences.rst", "tcch-script")
    assert script.startswith("from spec import Host") and script.endswith("d.outstanding_pages\n")
    with pytest.raises(ValueError, match="no label 'nothing-here'"):
        shell.code_block("differences.rst", "nothing-here")
