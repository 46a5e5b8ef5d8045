"""Docs build benchmarks: cold, no-change and one-model-module rebuilds, -j auto, extension cost.

Every build runs in a copy of the project in a temporary directory (never docs/_build),
with the same ``sphinx-build -n --keep-going -b html`` as ``nox -s docs``. The baseline of
every ratio is the serial cold build measured in the same run. Figures are medians; wall
clock is what the targets are about, CPU seconds (of sphinx and its dot children) are
printed beside it because they are much less disturbed by a busy machine.

Extension overhead: a capture build of the real site records the HTML that each ``claims``
directive rendered (:mod:`claims_capture`); a second copy of the site then loads
:mod:`claims_static` instead of ``sphinx_claims``, whose directives return that HTML as
raw nodes and whose images, ``claims.json`` and permalinks are copied as static files.
The overhead is the real cold build over the static one, minus one.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from _common import (
    PYTHON,
    ROOT,
    Row,
    copy_project,
    median,
    parser,
    print_table,
    run_timed,
    save,
    tempdir,
)

BENCH = Path(__file__).resolve().parent
TOUCHED = "spec/lifecycle.py"
"""The model module touched for the incremental rebuild (the state diagrams render from it)."""

READ_LINE = re.compile(r"^reading sources\.\.\. \[\s*\d+%\] (\S+)\s*$", re.MULTILINE)
DIRECTIVE = re.compile(
    r"^\s*(\.\. claims:[a-z-]+::|```+\{claims:[a-z-]+\}|:::+\{claims:)", re.MULTILINE
)


def sphinx(src: Path, out: Path, *extra: str) -> list[str]:
    return [
        PYTHON,
        "-m",
        "sphinx",
        "-n",
        "--keep-going",
        "-b",
        "html",
        *extra,
        str(src / "docs"),
        str(out),
    ]


def env() -> dict[str, str]:
    e = dict(os.environ)
    e.pop("SPHINXOPTS", None)
    return e


def pages_rendering_from_model(src: Path) -> list[str]:
    """The docnames whose source uses a ``claims`` directive (they render from ``spec/``)."""
    docs = src / "docs"
    found = []
    for path in sorted([*docs.rglob("*.rst"), *docs.rglob("*.md")]):
        if "_build" in path.parts:
            continue
        if DIRECTIVE.search(path.read_text(encoding="utf-8")):
            found.append(path.relative_to(docs).with_suffix("").as_posix())
    return found


ID = re.compile(r'\bid="([^"]+)"')


def site_shape(out: Path) -> tuple[list[str], set[str]]:
    """The HTML files of a built site and every page#anchor in them."""
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    ids = {
        f"{page}#{i}"
        for page in pages
        for i in ID.findall((out / page).read_text(encoding="utf-8"))
    }
    return pages, ids


def empty_site(where: Path) -> Path:
    """A one-page project with the site's theme and extensions other than sphinx_claims."""
    docs = where / "docs"
    docs.mkdir(parents=True)
    (docs / "conf.py").write_text(
        'extensions = ["sphinx.ext.graphviz", "myst_parser", "sphinx_copybutton"]\n'
        'html_theme = "furo"\nproject = "floor"\n',
        encoding="utf-8",
    )
    (docs / "index.rst").write_text("Floor\n=====\n\nOne page.\n", encoding="utf-8")
    return where


def warnings(output: str) -> int:
    return sum(1 for line in output.splitlines() if "WARNING:" in line)


def main() -> None:
    args = parser(__doc__).parse_args()
    runs = 1 if args.quick else args.runs
    tmp = tempdir("docs")
    src = copy_project(tmp / "src")
    e = env()
    rows: list[Row] = []

    def cold(i: int, tag: str, *extra: str, project: Path = src) -> tuple[float, float, str]:
        out = tmp / f"{tag}-{i}"
        t = run_timed(sphinx(project, out, *extra), env=e)
        shutil.rmtree(out, ignore_errors=True)
        return t.wall, t.cpu, t.output

    # Interleave serial and parallel cold builds so that load changes hit both alike.
    serial, parallel = [], []
    warned = 0
    for i in range(runs):
        s = cold(i, "cold")
        p = cold(i, "par", "-j", "auto")
        serial.append(s[:2])
        parallel.append(p[:2])
        warned = max(warned, warnings(s[2]))
    cold_wall = median(w for w, _ in serial)
    cold_cpu = median(c for _, c in serial)
    rows.append(
        Row(
            "docs",
            "cold build (serial)",
            cold_wall,
            "s",
            note=(f"CPU {cold_cpu:.2f} s; {warned} warning(s)"),
            runs=[w for w, _ in serial],
        )
    )
    par_wall = median(w for w, _ in parallel)
    rows.append(
        Row(
            "docs",
            "cold build -j auto",
            par_wall,
            "s",
            "cold",
            par_wall / cold_wall,
            note=f"CPU {median(c for _, c in parallel):.2f} s, {os.cpu_count()} cores",
            runs=[w for w, _ in parallel],
        )
    )

    # Incremental builds share one output directory.
    out = tmp / "incr"
    run_timed(sphinx(src, out), env=e)
    # The floor: a one-page site with the same theme and extensions (no sphinx_claims), its
    # no-change rebuild: Python, Sphinx and furo starting, the genindex and search pages.
    floor_src = empty_site(tmp / "floor")
    run_timed(sphinx(floor_src, tmp / "floor-out"), env=e)
    nochange, floor = [], []
    for _ in range(runs):
        nochange.append(run_timed(sphinx(src, out), env=e))
        floor.append(run_timed(sphinx(floor_src, tmp / "floor-out"), env=e))
    reread_nochange = {d for t in nochange for d in READ_LINE.findall(t.output)}
    nc_wall = median(t.wall for t in nochange)
    fl_wall = median(t.wall for t in floor)
    rows.append(
        Row(
            "docs",
            "no-change rebuild",
            nc_wall,
            "s",
            "cold",
            nc_wall / cold_wall,
            target="< 0.15 x cold",
            ok=nc_wall / cold_wall < 0.15 and not reread_nochange,
            note=f"CPU {median(t.cpu for t in nochange):.2f} s "
            f"({median(t.cpu for t in nochange) / cold_cpu:.2f} x cold CPU); "
            f"pages re-read: {len(reread_nochange)}; net of the floor below: "
            f"{(nc_wall - fl_wall) / (cold_wall - fl_wall):.2f} x (cold - floor)",
            runs=[t.wall for t in nochange],
        )
    )
    rows.append(
        Row(
            "docs",
            "floor: no-change rebuild of a 1-page site, same theme",
            fl_wall,
            "s",
            "cold",
            fl_wall / cold_wall,
            runs=[t.wall for t in floor],
            note=f"CPU {median(t.cpu for t in floor):.2f} s: what any sphinx-build of a furo "
            "site costs before it does anything (interpreter, Sphinx, extensions, theme, "
            "genindex and search pages)",
        )
    )

    expected = pages_rendering_from_model(src)
    touched = []
    for _ in range(runs):
        path = src / TOUCHED
        os.utime(path)  # now: later than the time the pages were read
        touched.append(run_timed(sphinx(src, out), env=e))
    reread = sorted({d for t in touched for d in READ_LINE.findall(t.output)})
    all_pages = sorted(
        {d for d in READ_LINE.findall(run_timed(sphinx(src, tmp / "list"), env=e).output)}
    )
    shutil.rmtree(tmp / "list", ignore_errors=True)
    t_wall = median(t.wall for t in touched)
    exact = reread == sorted(expected)
    rows.append(
        Row(
            "docs",
            f"rebuild after touching {TOUCHED}",
            t_wall,
            "s",
            "cold",
            t_wall / cold_wall,
            target="< 0.5 x cold, only its pages",
            ok=t_wall / cold_wall < 0.5 and exact,
            note=f"CPU {median(t.cpu for t in touched):.2f} s "
            f"({median(t.cpu for t in touched) / cold_cpu:.2f} x cold CPU); net of the floor "
            f"{(t_wall - fl_wall) / (cold_wall - fl_wall):.2f} x (cold - floor); "
            f"re-read {len(reread)} "
            f"of {len(all_pages)} pages: {', '.join(reread)}; pages with a claims directive: "
            f"{len(expected)} ({'the same set' if exact else 'DIFFERENT: ' + ', '.join(expected)})",
            runs=[t.wall for t in touched],
        )
    )
    other = src / "spec" / "claims.py"
    os.utime(other)
    reread_other = sorted(set(READ_LINE.findall(run_timed(sphinx(src, out), env=e).output)))
    rows.append(
        Row(
            "docs",
            "pages re-read after touching one model module",
            len(reread),
            "",
            note=f"of {len(all_pages)}; touching spec/claims.py instead re-reads "
            f"{len(reread_other)}, {'the same' if reread_other == reread else 'OTHER'} "
            "pages (every page that renders from spec/ depends on every spec/ file)",
            target="= pages rendering from spec/",
            ok=exact,
        )
    )

    # Extension overhead: the real site against the same site from static files.
    capture = tmp / "capture"
    cap_src = copy_project(tmp / "capture-src")
    with (cap_src / "docs" / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write(
            f"\nsys.path.insert(0, {str(BENCH)!r})\nextensions.append('claims_capture')\n"
            f"claims_capture_dir = {str(capture)!r}\n"
        )
    real_out = tmp / "capture-out"
    run_timed(sphinx(cap_src, real_out), env=e)
    shutil.copytree(ROOT / "sphinx_claims" / "static", capture / "static")
    statics = {}
    for mode in ("html", "nodes"):
        static_src = copy_project(tmp / f"static-{mode}-src")
        with (static_src / "docs" / "conf.py").open("a", encoding="utf-8") as conf:
            conf.write(
                f"\nsys.path.insert(0, {str(BENCH)!r})\n"
                "extensions = [e if e != 'sphinx_claims' else 'claims_static' "
                "for e in extensions]\n"
                f"claims_capture_dir = {str(capture)!r}\n"
                f"claims_static_mode = {mode!r}\n"
            )
        statics[mode] = static_src
    real: list[tuple[float, float]] = []
    static: dict[str, list[tuple[float, float]]] = {"html": [], "nodes": []}
    static_warned = dict.fromkeys(statics, 0)
    for i in range(runs):
        real.append(cold(i, "real")[:2])
        for mode, static_src in statics.items():
            st = cold(i, f"static-{mode}", project=static_src)
            static[mode].append(st[:2])
            static_warned[mode] = max(static_warned[mode], warnings(st[2]))
    r_wall, r_cpu = median(w for w, _ in real), median(c for _, c in real)
    real_pages, real_ids = site_shape(real_out)
    for mode, static_src in statics.items():
        # The static site must be the same site: same pages, the same anchors.
        check_out = tmp / f"static-{mode}-check"
        run_timed(sphinx(static_src, check_out), env=e)
        pages, ids = site_shape(check_out)
        s_wall = median(w for w, _ in static[mode])
        s_cpu = median(c for _, c in static[mode])
        what = "directives as raw HTML" if mode == "html" else "directives as saved resolved nodes"
        rows.append(
            Row(
                "extension",
                f"cold build, static copy ({what})",
                s_wall,
                "s",
                note=f"CPU {s_cpu:.2f} s; {static_warned[mode]} warning(s); same HTML files as "
                f"the real site: {pages == real_pages} ({len(pages)}); anchors missing: "
                f"{len(real_ids - ids)} of {len(real_ids)}",
                runs=[w for w, _ in static[mode]],
            )
        )
        overhead = r_wall / s_wall - 1
        target = mode == "nodes"
        rows.append(
            Row(
                "extension",
                f"extension overhead vs {mode} copy",
                100 * overhead,
                "%",
                f"static {mode}",
                r_wall / s_wall,
                target="< 15 %" if target else "(all the directives' cost, Sphinx's share too)",
                ok=overhead < 0.15 if target else None,
                note=f"CPU overhead {100 * (r_cpu / s_cpu - 1):.1f} %",
            )
        )
    rows.append(
        Row(
            "extension",
            "cold build with sphinx_claims",
            r_wall,
            "s",
            runs=[w for w, _ in real],
            note=f"CPU {r_cpu:.2f} s",
        )
    )
    print_table(rows, "Docs builds (1) and extension overhead (2)")
    save(rows, args.json)
    if not os.environ.get("CLAIMS_BENCH_KEEP"):
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"kept {tmp}")


if __name__ == "__main__":
    sys.exit(main())
