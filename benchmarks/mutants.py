"""Mutation testing of the claims code with mutmut 3; writes benchmarks/MUTANTS.md.

Run it as ``nox -s mutants`` (or ``python benchmarks/mutants.py`` in a venv with mutmut).

mutmut 3 does not mutate decorated functions (its trampolines would run the decorator
twice), and most functions of the model carry ``@c_function(...)``, which only records the
function in the C-name registry and returns it unchanged. So the run happens in a sandbox
copy of the project in which each ``@c_function(...)`` above a ``def`` is moved below it as
``name = c_function(...)(name)``: the same registration, the same function, and mutmut
sees the body. The working tree is never changed. Configuration (which files, which tests)
is ``[tool.mutmut]`` of pyproject.toml.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import os
import platform
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SANDBOX = ROOT / "build" / "mutants-sandbox"
REPORT = ROOT / "benchmarks" / "MUTANTS.md"


def undecorate(source: str) -> str:
    """Move each ``@c_function(...)`` decorator of a top-level function below it."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []  # (first line, last line, replacement), 0-based
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or len(node.decorator_list) != 1:
            continue
        decorator = node.decorator_list[0]
        if not (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Name)
            and decorator.func.id == "c_function"
        ):
            continue
        assert decorator.end_lineno is not None and node.end_lineno is not None
        call = "".join(lines[decorator.lineno - 1 : decorator.end_lineno])
        call = call.strip()[1:]  # drop the "@"
        body = "".join(lines[decorator.end_lineno : node.end_lineno])
        edits.append(
            (
                decorator.lineno - 1,
                node.end_lineno - 1,
                f"{body}{node.name} = {call}({node.name})\n",
            )
        )
    for first, last, text in reversed(edits):
        lines[first : last + 1] = [text]
    result = "".join(lines)
    ast.parse(result)
    return result


def make_sandbox() -> list[str]:
    """Copy the project into the sandbox, undecorate the files to mutate; return them."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    shutil.rmtree(SANDBOX, ignore_errors=True)
    SANDBOX.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "_build", "*.pyc")
    for name in ("spec", "tests"):
        shutil.copytree(ROOT / name, SANDBOX / name, ignore=ignore)
    for name in ("pyproject.toml", "conftest.py"):
        shutil.copy(ROOT / name, SANDBOX / name)
    targets: list[str] = config["only_mutate"]
    for target in targets:
        path = SANDBOX / target
        path.write_text(undecorate(path.read_text()))
    return targets


def run_mutmut(children: int) -> None:
    subprocess.run(
        [sys.executable, "-m", "mutmut", "run", "--max-children", str(children)],
        cwd=SANDBOX,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def results() -> dict[str, str]:
    """``mutant name -> status`` from ``mutmut results --all true``."""
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=SANDBOX,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = {}
    for line in out.splitlines():
        match = re.match(r"\s*(\S+__mutmut_\d+): (.+)$", line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def show(name: str) -> str:
    """The mutant's diff: changed lines and their context, without the headers."""
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", name],
        cwd=SANDBOX,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    skip = ("+++", "---", "@@", "#")
    return "\n".join(line for line in out.splitlines() if line and not line.startswith(skip))


def changed(diff: str) -> str:
    """Only the removed and added lines of *diff* (what the report shows)."""
    return "\n".join(line for line in diff.splitlines() if line.startswith(("+", "-")))


# Survivors read and judged by hand, keyed by (function, a piece of the mutant's diff) so that
# renumbering does not stale them. "equivalent": no input can tell the mutant from the model;
# "gap": a test could kill it (write the test, then drop the entry).
VERDICTS: dict[tuple[str, str], str] = {
    ("domain_set_claim_entries", "host_request_seen = legacy_semantics = None"): "equivalent: "
    "the flags are only tested for truth, and None and False are both false",
    ("domain_set_claim_entries", "node > h.max_numnodes or"): "equivalent: a host lists at "
    "most MAX_NUMNODES nodes, so node == MAX_NUMNODES also fails node >= len(node_online)",
    ("domain_set_claim_entries", "entry.target <= h.max_numnodes"): "equivalent: the only "
    "target it treats differently, MAX_NUMNODES itself, was refused in phase 1 (-ENOENT)",
    ("domain_set_claim_entries", "host_requests > max_pages and node_requests"): "equivalent: "
    "it only weakens the first two max_pages checks, and the third (claims plus "
    "domain_tot_pages > max_pages) rejects all they reject; they exist in C only against "
    "uint64 wrap, which Python ints cannot do",
    ("domain_set_claim_entries", "node_requests > max_pages + host_requests"): "equivalent: it "
    "only weakens the second max_pages check, and the third (claims plus domain_tot_pages > "
    "max_pages) rejects all it rejects; no uint64 wrap in Python",
    ("domain_get_claim_entries", "if needed <= max_entries:"): "equivalent: the extra entry "
    "is only written when needed reaches max_entries, and then GET returns -ERANGE without "
    "entries",
    ("domain_recall_node_claims", "released == recall and not d.node_claims"): "equivalent: "
    "once it would have stopped, each further call asks for recall - released = 0 pages or "
    "finds no node claim, and releases nothing",
    ("recall_claims", "domain_release_node_claims(h, d, node, overclaim)"): "equivalent: "
    "skipping the host recall after a node recall loses nothing, since one offlined free "
    "frame overclaims node and host by 1 page at most, so the node recall ends both, and "
    "freeing a marked page adds at least as many free pages as it offlines",
    ("recall_claims", "domain_release_host_claims(h, d, overclaim)"): "equivalent: this "
    "loop is the function's last statement, so break and return both end it",
}


def verdict(name: str, diff: str) -> str:
    function = name.split(".x_")[-1].split("__mutmut_")[0]
    for (where, needle), text in VERDICTS.items():
        if where == function and needle in diff:
            return text
    return "not judged yet"


def report(found: dict[str, str], targets: list[str], seconds: float) -> str:
    killed = sum(status == "killed" for status in found.values())
    timeouts = sum(status == "timeout" for status in found.values())
    survived = sorted(name for name, status in found.items() if status == "survived")
    other = sorted(
        (name, status)
        for name, status in found.items()
        if status not in ("killed", "survived", "timeout")
    )
    tested = killed + timeouts + len(survived)
    score = 100 * (killed + timeouts) / tested if tested else 0.0
    diffs = {name: show(name) for name in survived}
    judged = [verdict(name, diff) for name, diff in diffs.items()]
    equivalent = sum(v.startswith("equivalent") for v in judged)
    by_module: dict[str, list[int]] = {}
    for name, status in found.items():
        module = name.split(".x_")[0]
        counts = by_module.setdefault(module, [0, 0, 0])
        counts[0] += status == "killed"
        counts[1] += status == "timeout"
        counts[2] += status == "survived"
    lines = [
        "# Mutation testing of the claims code",
        "",
        f"Measured {datetime.date.today()} on {platform.node() or 'this machine'} "
        f"({os.cpu_count()} CPUs, Python {platform.python_version()}) by `nox -s mutants` "
        f"(mutmut 3, `benchmarks/mutants.py`), {seconds:.0f} s.",
        "",
        f"Mutated: {', '.join(f'`{t}`' for t in targets)}. Tests: `[tool.mutmut]` of "
        "pyproject.toml (the model, checker and bad-input tests; not the site's).",
        "",
        f"**Score: {score:.1f}% killed** ({killed} killed and {timeouts} stopped by the "
        f"timeout, an endless loop the tests caught, of {tested} mutants). Of the "
        f"{len(survived)} survivors, {equivalent} are equivalent mutants (below, judged by "
        "hand); without them the score is "
        f"{100 * (killed + timeouts) / max(tested - equivalent, 1):.1f}%.",
        "",
        "| module | killed | timeout | survived |",
        "|---|---:|---:|---:|",
        *(f"| `{m}` | {k} | {t} | {s} |" for m, (k, t, s) in sorted(by_module.items())),
        "",
    ]
    if other:
        lines += ["## Not counted", "", *(f"- `{n}`: {s}" for n, s in other), ""]
    lines += ["## Surviving mutants", ""]
    if not survived:
        lines.append("None.")
    for name in survived:
        diff = diffs[name]
        lines += [f"### `{name}`", "", f"Verdict: {verdict(name, diff)}.", ""]
        lines += ["```diff", changed(diff), "```", ""]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--report-only", action="store_true", help="rewrite MUTANTS.md only")
    args = parser.parse_args()
    start = datetime.datetime.now()
    timing = SANDBOX / "run-seconds"
    if args.report_only:
        config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
        targets = config["only_mutate"]
    else:
        targets = make_sandbox()
        run_mutmut(args.children)
        timing.write_text(str((datetime.datetime.now() - start).total_seconds()))
    seconds = float(timing.read_text()) if timing.exists() else 0.0
    found = results()
    REPORT.write_text(report(found, targets, seconds))
    print(REPORT.read_text().split("## Surviving")[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
