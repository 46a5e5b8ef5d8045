"""Shared helpers of the benchmark scripts: timing, medians, tables, repo copies, results.

Every figure is a median of several runs, and every target is checked as a ratio against a
baseline measured in the same run (the machines are noisy). Each script prints its own table
and, with ``--json PATH``, writes its rows for :mod:`run` to gather into the summary.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
"""The repository the benchmarks measure."""

PYTHON = sys.executable
"""The interpreter of the bench environment (it has the docs and test dependencies)."""

# What a copy of the project needs to build the site and run the doc examples.
COPY_ITEMS = ("docs", "spec", "sphinx_claims", "pyproject.toml", "conftest.py", "README.md")


@dataclass
class Row:
    """One figure: its value, the baseline it is compared with, and the target."""

    section: str
    name: str
    value: float
    unit: str
    baseline: str = ""
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None
    note: str = ""
    runs: list[float] = field(default_factory=list)


@dataclass
class Timing:
    """A subprocess run: wall-clock seconds, CPU seconds of it and its children, output."""

    wall: float
    cpu: float
    rc: int
    output: str
    maxrss_kib: int = 0


def run_timed(
    cmd: Sequence[str | os.PathLike[str]],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> Timing:
    """Run *cmd*; measure its wall clock, the CPU time it and its children used, and its
    own max RSS (``wait4`` of that process: ``RUSAGE_CHILDREN`` keeps the max of all)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    rc = os.waitstatus_to_exitcode(status)
    proc.returncode = rc
    cpu = usage.ru_utime + usage.ru_stime
    if check and rc != 0:
        sys.stderr.write(output[-4000:])
        raise SystemExit(f"command failed ({rc}): {' '.join(map(str, cmd))}")
    return Timing(wall, cpu, rc, output, usage.ru_maxrss)


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "us":
        return f"{value:.1f} µs"
    if unit == "ops/s":
        return f"{value:,.0f} ops/s"
    if unit == "states/s":
        return f"{value:,.0f} states/s"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "B":
        return f"{value:,.0f} B"
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "":
        return f"{value:g}"
    return f"{value:g} {unit}"


def print_table(rows: Sequence[Row], title: str) -> None:
    """Print *rows* as an aligned table: figure, value, ratio to baseline, target."""
    header = ("figure", "value", "vs baseline", "target", "")
    lines = []
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.2f} x {r.baseline}"
        status = "" if r.ok is None else ("ok" if r.ok else "MISSED")
        lines.append((r.name, fmt(r.value, r.unit), ratio, r.target, status))
    widths = [
        max(len(h), *(len(line[i]) for line in lines)) if lines else len(h)
        for i, h in enumerate(header)
    ]
    print(f"\n== {title} ==")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))
    for r in rows:
        if r.note:
            print(f"  * {r.name}: {r.note}")
    sys.stdout.flush()


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    load = os.getloadavg()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load": [round(x, 2) for x in load],
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def parser(doc: str | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    p.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    p.add_argument("--json", type=Path, help="also write the rows to this file")
    p.add_argument("--quick", action="store_true", help="fewer, shorter runs")
    return p


def save(rows: Sequence[Row], path: Path | None, **extra: Any) -> None:
    if path is None:
        return
    path.write_text(
        json.dumps({"machine": machine(), "rows": [asdict(r) for r in rows], **extra}, indent=1)
        + "\n",
        encoding="utf-8",
    )


def copy_project(dest: Path) -> Path:
    """Copy the files a docs build and the doc examples need into *dest* (no build output)."""
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("_build", "__pycache__", "*.pyc", ".pytest_cache")
    for name in COPY_ITEMS:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


def tempdir(prefix: str) -> Path:
    """A temporary directory, removed when the script exits (even on failure) unless
    ``CLAIMS_BENCH_KEEP`` is set."""
    path = Path(tempfile.mkdtemp(prefix=f"claims-bench-{prefix}-"))
    if not os.environ.get("CLAIMS_BENCH_KEEP"):
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def repeat(n: int, fn: Callable[[int], float]) -> list[float]:
    return [fn(i) for i in range(n)]
