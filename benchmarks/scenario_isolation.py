"""What running each scenario of the site in a process of its own costs (issue 18).

``claims:scenario`` and ``python -m spec replay`` replay each run of a script in a forked
child (:func:`spec.replay.replay_isolated`) so that it can neither hang nor end the build
nor change later pages. This script replays every scenario of ``docs/`` under each of
its designs both ways in one process that has Sphinx and the extension loaded (what the
fork copies in a build) and prints the medians side by side: the baseline is the
in-process :func:`spec.replay.replay`.

    python benchmarks/scenario_isolation.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sphinx.application  # noqa: E402,F401 (a build's process: Sphinx loaded)

from spec.replay import replay, replay_isolated  # noqa: E402
from sphinx_claims import memory_svg  # noqa: E402

BLOCK = re.compile(r"^\.\. claims:scenario::\n((?:   .*\n|\n)+)", re.MULTILINE)


def scenarios() -> list[tuple[str, list[str | None]]]:
    """``(script, designs)`` of every scenario of the reST pages."""
    found = []
    for page in sorted((ROOT / "docs").rglob("*.rst")):
        for match in BLOCK.finditer(page.read_text(encoding="utf-8")):
            head, _, body = match.group(1).partition("\n\n")  # the options, the script
            design = re.search(r":design:(.*)", head)
            text = design.group(1) if design else ""
            names: list[str | None] = [n for n in re.split(r"[\s,]+", text) if n] or [None]
            found.append((textwrap.dedent(body), names))
    return found


def median_seconds(function: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    runs = [(code, d) for code, designs in scenarios() for d in designs]
    total_in = total_iso = 0.0
    for code, design in runs:
        total_in += median_seconds(
            lambda c=code, d=design: replay(c, d, observe_host=memory_svg.layout), args.repeat
        )
        total_iso += median_seconds(
            lambda c=code, d=design: replay_isolated(c, d, observe_host=memory_svg.layout),
            args.repeat,
        )
    print(f"{len(runs)} runs of the site's scenarios (median of {args.repeat} each)")
    print(f"{'':<22}{'in process':>12}{'forked':>12}{'extra':>12}")
    print(f"{'total, ms':<22}{total_in * 1e3:>12.1f}{total_iso * 1e3:>12.1f}", end="")
    print(f"{(total_iso - total_in) * 1e3:>12.1f}")
    extra = (total_iso - total_in) / len(runs) * 1e3
    print(f"{'per run, ms':<22}{total_in / len(runs) * 1e3:>12.2f}", end="")
    print(f"{total_iso / len(runs) * 1e3:>12.2f}{extra:>12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
