"""Model checker: states per second and memory per state at the bounds of ``nox -s check``.

The bounds are read from the ``check`` session of ``noxfile.py`` (each
``session.run(*run, ...)`` is one bound), so the figures follow the session. Each bound runs
as ``python -m spec check ...`` in a subprocess; ``--max-states`` caps the long ones so the
suite stays short (the rate is measured over the first states of the same search, which is
the same search the session runs). Memory per state is the process's max RSS above that
of the same command at depth 0 (the interpreter and the model), over the states found.
``--scale`` adds the figures of issue 20, side by side in one run: the complete v7 search
at depth 5 with and without the state-space reduction (``--no-reduction``, the baseline),
and the rate of its first ``--scale-states`` states on 1 and on 2 workers (``--workers 1``
is the baseline; 2 runs on a local Dask cluster). Each is a complete run of minutes, so
they are not part of ``nox -s bench``.

The baseline of the rate is the 20,000 states/s the issue asks for on the 2x4 host, counted as
TLC counts its throughput ("states generated (N s/min)"): every call tried. The distinct
states found per second are printed beside it.
"""

from __future__ import annotations

import ast
import re
import sys

from _common import PYTHON, ROOT, Row, median, parser, print_table, run_timed, save

TARGET = 20_000
SUMMARY = re.compile(
    r"([\d,]+) states generated, ([\d,]+) distinct states found.*?([\d.]+) s: "
    r"([\d,]+) states/s, ([\d,]+) distinct states/s"
)
DEFAULT_BOUNDS = [
    ["--nodes", "2", "--pages", "4", "--domains", "2", "--design", "upstream", "--depth", "4"],
    ["--nodes", "2", "--pages", "4", "--domains", "2", "--design", "v7", "--depth", "5"],
]


def session_bounds() -> list[list[str]]:
    """The ``python -m spec check`` arguments of each run of ``nox -s check``."""
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef) and fn.name == "check":
            break
    else:
        return DEFAULT_BOUNDS
    common: list[str] = []
    bounds = []
    for node in ast.walk(fn):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Tuple)
            and all(isinstance(e, ast.Constant) for e in node.value.elts)
        ):
            values = [str(e.value) for e in node.value.elts]  # type: ignore[attr-defined]
            if values[:4] == ["python", "-m", "spec", "check"]:
                common = values[4:]
    for node in ast.walk(fn):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "run"
            and node.args
            and isinstance(node.args[0], ast.Starred)
        ):
            args = [str(a.value) for a in node.args[1:] if isinstance(a, ast.Constant)]
            if "--expect" in args:  # a known-bug run: its exit status is the check
                i = args.index("--expect")
                del args[i : i + 2]
            bounds.append(common + args)
    return bounds or DEFAULT_BOUNDS


V7_DEPTH5 = ["--nodes", "2", "--pages", "4", "--domains", "2", "--design", "v7", "--depth", "5"]


def summary(cmd: list[str]) -> tuple[re.Match[str], float]:
    """The summary line of one ``python -m spec check`` run and its CPU seconds."""
    t = run_timed([PYTHON, "-m", "spec", "check", *cmd], cwd=ROOT, check=False)
    found = SUMMARY.search(t.output)
    if not found:
        sys.stderr.write(t.output[-2000:])
        raise SystemExit(f"no summary from {' '.join(cmd)}")
    return found, t.cpu


def scale_rows(states: int) -> list[Row]:
    """Distinct states with and without the reduction; states/s on 1 and 2 workers."""
    rows = []
    full, full_cpu = summary([*V7_DEPTH5, "--no-reduction", "--workers", "1"])
    reduced, reduced_cpu = summary([*V7_DEPTH5, "--workers", "1"])
    unreduced = int(full.group(2).replace(",", ""))
    distinct = int(reduced.group(2).replace(",", ""))
    rows.append(
        Row(
            "checker",
            "v7 depth 5, distinct states (reduced)",
            distinct,
            "states",
            f"{unreduced:,} unreduced",
            distinct / unreduced,
            note=f"generated {reduced.group(1)} against {full.group(1)}; CPU "
            f"{reduced_cpu:.0f} s against {full_cpu:.0f} s",
        )
    )
    rates, cpus = {}, {}
    for workers in (1, 2):
        found, cpu = summary([*V7_DEPTH5, "--max-states", str(states), "--workers", str(workers)])
        rates[workers], cpus[workers] = float(found.group(4).replace(",", "")), cpu
    rows.append(
        Row(
            "checker",
            f"v7 depth 5, first {states:,} states, states/s on 2 workers",
            rates[2],
            "states/s",
            f"{rates[1]:,.0f} on 1",
            rates[2] / rates[1],
            note=f"CPU {cpus[2]:.0f} s (the workers' included) against {cpus[1]:.0f} s",
        )
    )
    return rows


def main() -> None:
    p = parser(__doc__)
    p.add_argument(
        "--max-states", type=int, default=100_000, help="cap per bound (0: the whole search)"
    )
    p.add_argument("--scale", action="store_true", help="add the figures of issue 20")
    p.add_argument("--scale-states", type=int, default=300_000, help="cap of the workers runs")
    args = p.parse_args()
    runs = 1 if args.quick else args.runs
    cap = 20_000 if args.quick else args.max_states
    rows: list[Row] = []
    for bound in session_bounds():
        after = zip(["", *bound[:-1]], bound, strict=True)
        depth0 = [a if prev != "--depth" else "0" for prev, a in after]
        base = run_timed([PYTHON, "-m", "spec", "check", *depth0], cwd=ROOT, check=False)
        generated, distinct, per_state = [], [], []
        states = 0
        capped = False
        for _ in range(runs):
            cmd = [PYTHON, "-m", "spec", "check", *bound]
            if cap:
                cmd += ["--max-states", str(cap)]
            t = run_timed(cmd, cwd=ROOT, check=False)
            found = SUMMARY.search(t.output)
            if not found:
                sys.stderr.write(t.output[-2000:])
                raise SystemExit(f"no summary from {' '.join(cmd)}")
            states = int(found.group(2).replace(",", ""))
            generated.append(float(found.group(4).replace(",", "")))
            distinct.append(float(found.group(5).replace(",", "")))
            per_state.append(max(0, t.maxrss_kib - base.maxrss_kib) * 1024 / states)
            capped = "stopped at --max-states" in t.output
        rate = median(generated)
        label = " ".join(bound)
        label = label.replace("--nodes 2 --pages 4 --domains 2 ", "2x4, 2 domains, ")
        rows.append(
            Row(
                "checker",
                f"{label}",
                rate,
                "states/s",
                "20,000 states/s",
                rate / TARGET,
                target=">= 20,000 states/s",
                ok=rate >= TARGET,
                runs=generated,
                note=f"{states:,} distinct states"
                f"{' (capped by --max-states)' if capped else ' (complete)'}; "
                f"{rate / median(distinct):.1f} states generated per distinct state",
            )
        )
        rows.append(Row("checker", f"  distinct states/s ({label})", median(distinct), "states/s"))
        rows.append(
            Row("checker", f"  memory per distinct state ({label})", median(per_state), "B")
        )
    if args.scale:
        rows += scale_rows(args.scale_states)
    print_table(rows, "Model checker (5): at the bounds of nox -s check")
    save(rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
