"""Doc examples: the Sybil run of every example of the site, in total and per example.

Runs ``pytest docs`` (the site's ``conftest.py`` collects every example with Sybil) in a
copy of the project, with a JUnit XML report that times each example. The baseline is the
same pytest run collecting only (``--collect-only``): what is left is running the examples.
"""

from __future__ import annotations

import shutil
import sys
import xml.etree.ElementTree as ET

from _common import PYTHON, Row, copy_project, median, parser, print_table, run_timed, save, tempdir


def main() -> None:
    args = parser(__doc__).parse_args()
    runs = 1 if args.quick else args.runs
    tmp = tempdir("sybil")
    src = copy_project(tmp / "src")
    base = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "docs"]
    collect, full = [], []
    per_example: dict[str, list[float]] = {}
    counted = 0
    for i in range(runs):
        collect.append(run_timed([*base, "--collect-only"], cwd=src, check=False).wall)
        report = tmp / f"junit-{i}.xml"
        t = run_timed([*base, f"--junitxml={report}"], cwd=src)
        full.append(t.wall)
        cases = ET.parse(report).getroot().iter("testcase")
        counted = 0
        for case in cases:
            counted += 1
            name = f"{case.get('classname', '')}::{case.get('name', '')}"
            per_example.setdefault(name, []).append(float(case.get("time", "0")))
    total, collected = median(full), median(collect)
    examples = {name: median(times) for name, times in per_example.items()}
    summed = sum(examples.values())
    rows = [
        Row(
            "sybil",
            f"pytest docs: all {counted} examples",
            total,
            "s",
            runs=full,
            note=f"collection only: {collected:.2f} s; sum of the examples' own times "
            f"{summed:.2f} s",
        ),
        Row(
            "sybil",
            "running the examples (total - collection)",
            total - collected,
            "s",
            "total",
            (total - collected) / total,
        ),
    ]
    for name, seconds in sorted(examples.items(), key=lambda kv: -kv[1])[:8]:
        short = name.replace("docs.", "").replace("docs/", "")
        rows.append(
            Row(
                "sybil",
                f"  {short}",
                seconds * 1000,
                "ms",
                "sum of examples",
                seconds / summed if summed else 0.0,
            )
        )
    print_table(rows, f"Doc examples (3): {counted} Sybil examples, slowest first")
    save(rows, args.json)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
