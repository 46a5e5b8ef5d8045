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
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", name],
        cwd=SANDBOX,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    diff = [line for line in out.splitlines() if line.startswith(("+", "-"))]
    return "\n".join(line for line in diff if not line.startswith(("+++", "---")))


# Survivors read and judged by hand (by mutant diff, so renumbering does not stale them).
# "equivalent": no input can tell the mutant from the model; "gap": a test could kill it.
VERDICTS: dict[str, str] = {
    "host_request_seen = legacy_semantics = None": "equivalent: None and False are both false",
    "node > h.max_numnodes or": "equivalent: node == MAX_NUMNODES is also >= len(node_online)",
    "entry.target <= h.max_numnodes": "equivalent: phase 1 already refused such a target",
    "host_requests >= max_pages": "equivalent in Python: the third max_pages check (the sum "
    "with tot_pages) covers the first two, which in C only keep the uint64 sum from wrapping",
    "node_requests >= max_pages - host_requests": "equivalent in Python (see the first check)",
    "node_requests > max_pages + host_requests": "equivalent in Python (see the first check)",
    "host_requests > max_pages and node_requests": "equivalent in Python (see the first check)",
    "if needed <= max_entries:": "equivalent: the extra entry only appears when the room is "
    "short, and then GET returns -ERANGE without entries",
    "break\n+": "equivalent where the caller ignores the count (recall, release "
    "all); in recall_claims a node recall can leave no host overclaim, because a free frame "
    "is offlined one at a time",
    "recall + released": "gap: needs step 3 to take claims from two other nodes (3 nodes)",
    "released = domain_release_node_claims": "gap: needs step 3 over two other nodes",
    "released == recall and not d.node_claims": "gap: needs step 3 over two other nodes",
    "d.extra_pages = nr": "gap: two MEMF_no_refcount allocations, then extra_pages == 2",
    "p <= page.mfn + request": "gap: a pending frame right after a freed buddy must stay pending",
    "h.offlining.discard(None)": "gap: after the free, the frame must leave host.offlining",
    "retried = ": "gap: an affinity that leaves out a node, and no node can serve the request",
    "if request < free:": "gap: v6, a request exactly equal to the unclaimed memory",
}


def verdict(diff: str) -> str:
    for needle, text in VERDICTS.items():
        if needle in diff:
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
    judged = [verdict(diff) for diff in diffs.values()]
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
        lines += [f"### `{name}`", "", f"Verdict: {verdict(diff)}.", "", "```diff", diff, "```", ""]
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
