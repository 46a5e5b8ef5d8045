"""Docs builds: cold, no-change and model-edit rebuilds (one-shot and warm), -j, extension cost.

The model-module rebuilds (issue 7: "re-reads only the pages that render from it, in under
half the cold build time"): sphinx_claims re-reads a page when the model facts it renders
changed (sphinx_claims/facts.py), so the figure is measured for three edits of
``spec/claims.py``: (a) a touch (and a comment) that changes no fact, (b) one rule's
statement, (c) a behaviour function whose change alters a scenario's output. Each run
applies the edit, times the build, checks that the next build reads nothing, and undoes
the edit (an untimed build), so every run times the same transition.

Each no-change and model-edit rebuild is measured twice: as a one-shot ``sphinx-build`` (a new
process, which first imports Sphinx, the theme and the project: ~0.2 x a cold build by
itself, also measured) and as a warm build of ``nox -s serve`` (:mod:`sphinx_claims.warm`:
the same ``sphinx-build`` run in a child forked from a long-lived process that has those
loaded; :mod:`warm_builds` is that process here).

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

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from _common import (
    PYTHON,
    ROOT,
    Row,
    Timing,
    copy_project,
    median,
    parser,
    print_table,
    run_timed,
    save,
    tempdir,
)

BENCH = Path(__file__).resolve().parent
EDITED = "spec/claims.py"
"""The model module touched and edited for the incremental rebuilds."""
RULE_ID = "set-duplicate-node"
RULE_OLD = '"A node listed twice in one claim set is rejected.",'
RULE_NEW = '"A node listed twice in one claim set is refused (benchmark edit).",'
"""(b): the statement of the rule RULE_ID."""
BEHAVIOUR_OLD = "        or node_requests + host_requests + domain_tot_pages(d) > max_pages\n"
BEHAVIOUR_NEW = "        or node_requests + host_requests > max_pages\n"
"""(c): the max_pages check of a claim set stops counting owned pages (a counter rule of
domain_set_claim_entries); v6's zero claim set after max_pages went down now succeeds."""

READ_LINE = re.compile(r"^reading sources\.\.\. \[\s*\d+%\] (\S+)\s*$", re.MULTILINE)
DIRECTIVE = re.compile(
    r"^\s*(\.\. claims:[a-z-]+::|```+\{claims:[a-z-]+\}|:::+\{claims:)", re.MULTILINE
)


SPHINX_OPTIONS = ("-n", "--keep-going", "-b", "html")
"""As in ``nox -s docs`` (its ``-W`` aside: the edits must not stop a build)."""


def sphinx(src: Path, out: Path, *extra: str) -> list[str]:
    return [
        PYTHON,
        "-m",
        "sphinx",
        *SPHINX_OPTIONS,
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


def pages_rendering_rule(src: Path, rule_id: str) -> list[str]:
    """The docnames whose source has a ``claims:rule`` directive for *rule_id*."""
    directive = re.compile(
        rf"^\s*(\.\. claims:rule::|```+\{{claims:rule\}})\s+{re.escape(rule_id)}\s*$",
        re.MULTILINE,
    )
    docs = src / "docs"
    return [
        path.relative_to(docs).with_suffix("").as_posix()
        for path in sorted([*docs.rglob("*.rst"), *docs.rglob("*.md")])
        if "_build" not in path.parts and directive.search(path.read_text(encoding="utf-8"))
    ]


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


class WarmSession:
    """The warm builds of ``nox -s serve`` (:mod:`sphinx_claims.warm`) in one long-lived
    process (:mod:`warm_builds`) on the project *src*, writing to *out*."""

    def __init__(self, src: Path, out: Path, env: dict[str, str]) -> None:
        env = {**env, "PYTHONPATH": str(src)}  # the copy's sphinx_claims and spec
        self.proc = subprocess.Popen(
            [PYTHON, str(BENCH / "warm_builds.py"), str(src), str(out), *SPHINX_OPTIONS],
            cwd=src,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, command: str) -> object:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        answer: object = json.loads(self.proc.stdout.readline())
        return answer

    def build(self) -> Timing:
        answer = self.ask("build")
        assert isinstance(answer, dict)
        if answer["rc"]:
            sys.stderr.write(answer["output"][-4000:])
            raise SystemExit(f"warm build failed ({answer['rc']})")
        return Timing(answer["wall"], answer["cpu"], answer["rc"], answer["output"])

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


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
    # The warm builds of nox -s serve: one long-lived process forks each build once it has
    # Sphinx and the project loaded (sphinx_claims.warm); its first build is a cold one.
    warm = WarmSession(src, tmp / "warm", e)
    warm.build()
    warm_nochange = [warm.build() for _ in range(runs)]
    imports = [float(str(warm.ask("imports"))) for _ in range(runs)]
    reread_nochange = {d for t in nochange for d in READ_LINE.findall(t.output)}
    reread_warm = {d for t in warm_nochange for d in READ_LINE.findall(t.output)}
    nc_wall = median(t.wall for t in nochange)
    fl_wall = median(t.wall for t in floor)
    warm_wall = median(t.wall for t in warm_nochange)
    imports_wall = median(imports)
    rows.append(
        Row(
            "docs",
            "no-change rebuild, warm (nox -s serve: forked from the server)",
            warm_wall,
            "s",
            "cold",
            warm_wall / cold_wall,
            target="< 0.15 x cold",
            ok=warm_wall / cold_wall < 0.15 and not reread_warm,
            note=f"CPU {median(t.cpu for t in warm_nochange):.2f} s; pages re-read: "
            f"{len(reread_warm)}; the same sphinx-build run as the one-shot rebuild below, "
            "without its imports",
            runs=[t.wall for t in warm_nochange],
        )
    )
    rows.append(
        Row(
            "docs",
            "no-change rebuild, one-shot sphinx-build",
            nc_wall,
            "s",
            "cold",
            nc_wall / cold_wall,
            target="(a new process: above its imports, next row)",
            note=f"CPU {median(t.cpu for t in nochange):.2f} s "
            f"({median(t.cpu for t in nochange) / cold_cpu:.2f} x cold CPU); "
            f"pages re-read: {len(reread_nochange)}; net of the imports: "
            f"{(nc_wall - imports_wall) / cold_wall:.2f} x cold",
            runs=[t.wall for t in nochange],
        )
    )
    rows.append(
        Row(
            "docs",
            "imports alone: a new interpreter importing what the build imports",
            imports_wall,
            "s",
            "cold",
            imports_wall / cold_wall,
            note="Python, Sphinx and its built-in extensions, docutils, myst-parser, furo, "
            "the model and the extension: what every one-shot sphinx-build pays first",
            runs=imports,
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
    all_pages = sorted(
        {d for d in READ_LINE.findall(run_timed(sphinx(src, tmp / "list"), env=e).output)}
    )
    shutil.rmtree(tmp / "list", ignore_errors=True)
    edited = src / EDITED
    original = edited.read_text(encoding="utf-8")
    for old in (RULE_OLD, BEHAVIOUR_OLD):
        if original.count(old) != 1:
            raise SystemExit(f"{EDITED} changed: update the edit {old.strip()!r} in {__file__}")
    rule_pages = pages_rendering_rule(src, RULE_ID)

    def touch() -> None:
        os.utime(edited)  # now: a new mtime, the same bytes

    def write(text: str) -> Callable[[], None]:
        def change() -> None:
            edited.write_text(text, encoding="utf-8")

        return change

    def one_shot() -> Timing:
        return run_timed(sphinx(src, out), env=e)

    def measure(
        change: Callable[[], None], build: Callable[[], Timing]
    ) -> tuple[list[float], list[float], list[str], int]:
        """Walls, CPUs, the pages re-read, and how many pages the next builds re-read."""
        walls, cpus, reread, after = [], [], set(), 0
        build()  # untimed: this builder's output up to date with the sources
        for _ in range(runs):
            change()
            t = build()
            walls.append(t.wall)
            cpus.append(t.cpu)
            reread.update(READ_LINE.findall(t.output))
            after += len(READ_LINE.findall(build().output))
            if edited.read_text(encoding="utf-8") != original:  # back, untimed
                edited.write_text(original, encoding="utf-8")
                build()
        return walls, cpus, sorted(reread), after

    comments = itertools.count(1)

    def comment() -> None:  # a new one each run: the stamp checked last time is kept
        text = f"\n# benchmark comment {next(comments)}: new bytes, the same model\n"
        edited.write_text(original + text, encoding="utf-8")

    edits: list[tuple[str, Callable[[], None], list[str] | None]] = [
        ("(a) touching spec/claims.py (no change)", touch, []),
        ("(a) a comment appended to spec/claims.py", comment, []),
        (
            f"(b) one rule's statement ({RULE_ID}) in spec/claims.py",
            write(original.replace(RULE_OLD, RULE_NEW)),
            rule_pages,
        ),
        (
            "(c) a behaviour edit in spec/claims.py (max_pages check) that changes a scenario",
            write(original.replace(BEHAVIOUR_OLD, BEHAVIOUR_NEW)),
            None,  # whichever pages' scenarios change; each must render from spec/
        ),
    ]
    for (name, change, want), (how, build) in itertools.product(
        edits, [("", one_shot), (", warm", warm.build)]
    ):
        walls, cpus, reread, after = measure(change, build)
        wall = median(walls)
        exact = (
            reread == want if want is not None else bool(reread) and set(reread) <= set(expected)
        )
        rows.append(
            Row(
                "docs",
                f"rebuild after {name}{how}",
                wall,
                "s",
                "cold",
                wall / cold_wall,
                target="< 0.5 x cold, only the pages whose model facts changed",
                ok=wall / cold_wall < 0.5 and exact and after == 0,
                note=f"CPU {median(cpus):.2f} s ({median(cpus) / cold_cpu:.2f} x cold CPU); "
                + (
                    f"net of the floor {(wall - fl_wall) / (cold_wall - fl_wall):.2f} x "
                    "(cold - floor); "
                    if build is one_shot
                    else ""
                )
                + f"re-read {len(reread)} of {len(all_pages)} pages"
                + (f": {', '.join(reread)}" if reread else "")
                + (
                    f" (expected: {', '.join(want) or 'none'})"
                    if want is not None
                    else f" (each renders from spec/: {set(reread) <= set(expected)})"
                )
                + f"; the build after it re-read {after} page(s)",
                runs=walls,
            )
        )
    warm.close()
    rows.append(
        Row(
            "docs",
            "pages that render from spec/ (a claims directive)",
            len(expected),
            "",
            note=f"of {len(all_pages)}: {', '.join(expected)}; before content-based "
            "dependencies every one of them was re-read after any spec/ file changed",
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
