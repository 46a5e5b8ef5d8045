"""Run every benchmark (``nox -s bench``) and print a summary of the figures against the targets.

Each benchmark runs as its own script (see the files beside this one); each prints its
table as it finishes. ``--only docs,model`` picks some, ``--quick`` does one short run of
each, ``--markdown FILE`` also writes the summary as a Markdown table (for RESULTS.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import PYTHON, Row, fmt, machine, parser

HERE = Path(__file__).resolve().parent
SCRIPTS = {
    "docs": "docs_build.py",  # 1 and 2
    "sybil": "doc_examples.py",  # 3
    "model": "model_throughput.py",  # 4
    "checker": "checker_bench.py",  # 5
    "newcomer": "newcomer.py",  # 6
}


def main() -> None:
    p = parser(__doc__)
    p.add_argument(
        "--only", default=",".join(SCRIPTS), help="comma-separated: " + ", ".join(SCRIPTS)
    )
    p.add_argument("--markdown", type=Path, help="write the summary table here")
    args = p.parse_args()
    chosen = [name for name in args.only.split(",") if name]
    unknown = set(chosen) - set(SCRIPTS)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    info = machine()
    print(
        f"machine: {info['platform']}, Python {info['python']}, {info['cpus']} CPUs; "
        f"load {info['load']} at {info['date']}",
        flush=True,
    )
    rows: list[Row] = []
    timings = {}
    with tempfile.TemporaryDirectory(prefix="claims-bench-") as tmp:
        for name in chosen:
            out = Path(tmp) / f"{name}.json"
            cmd = [PYTHON, str(HERE / SCRIPTS[name]), "--runs", str(args.runs), "--json", str(out)]
            if args.quick:
                cmd.append("--quick")
            start = time.perf_counter()
            proc = subprocess.run(cmd, cwd=HERE, check=False)
            timings[name] = time.perf_counter() - start
            if proc.returncode:
                raise SystemExit(f"benchmark {name} failed ({proc.returncode})")
            rows.extend(Row(**r) for r in json.loads(out.read_text(encoding="utf-8"))["rows"])
    targets = [r for r in rows if r.target and r.ok is not None]
    print("\n== Summary: every target ==")
    width = max(len(r.name) for r in targets) if targets else 10
    for r in targets:
        ratio = "" if r.ratio is None else f" ({r.ratio:.2f} x {r.baseline})"
        status = "ok" if r.ok else "MISSED"
        print(
            f"{status:6}  {r.section:9} {r.name.strip():{width}}  {fmt(r.value, r.unit)}{ratio}"
            f"  target {r.target}"
        )
    end = os.getloadavg()
    print(
        "\nbenchmark times: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
        + f"; load at the end {[round(x, 2) for x in end]}"
    )
    if args.markdown:
        lines = [
            f"Measured {info['date']} on {info['platform']}, Python {info['python']}, "
            f"{info['cpus']} CPUs, load average at the start {info['load']}.",
            "",
            "| | section | figure | value | vs baseline | target |",
            "|---|---|---|---|---|---|",
        ]
        for r in rows:
            ratio = "" if r.ratio is None else f"{r.ratio:.2f} x {r.baseline}"
            status = "" if r.ok is None else ("ok" if r.ok else "**missed**")
            lines.append(
                f"| {status} | {r.section} | {r.name.strip()} | {fmt(r.value, r.unit)} "
                f"| {ratio} | {r.target} |"
            )
        notes = [f"- {r.name.strip()}: {r.note}" for r in rows if r.note]
        args.markdown.write_text("\n".join([*lines, "", *notes]) + "\n", encoding="utf-8")
    failed = [r for r in targets if not r.ok]
    print(f"{len(targets) - len(failed)} of {len(targets)} targets met", flush=True)


if __name__ == "__main__":
    sys.exit(main())
