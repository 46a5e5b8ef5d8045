"""Newcomer: a fresh clone's first ``nox -s docs`` and a second run that reuses its environment.

Clones the current HEAD into a temporary directory and, there, times ``nox -s docs``
(creating the session's environment and installing the project and its docs extra, with
the uv backend when uv is available, then the strict ``-W -n`` build), then ``nox -R -s docs``
(reuse the environment, skip the installs) and ``nox -r -s docs`` (reuse it, re-run the
installs, which are then no-ops). The package cache is the machine's (``uv``/``pip``), as a
developer's second clone would find it; pass ``--cold-cache`` to use an empty one (the
first run then downloads every package). Several clones give the median.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from _common import PYTHON, ROOT, Row, median, parser, print_table, run_timed, save, tempdir


def clean_env(cache: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NOX") and k not in ("VIRTUAL_ENV", "CONDA_PREFIX")
    }
    if cache:
        env["UV_CACHE_DIR"] = cache
        env["PIP_CACHE_DIR"] = cache
    return env


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--cold-cache", action="store_true", help="an empty package cache")
    p.add_argument("--backend", help="force nox's venv backend (e.g. virtualenv: pip)")
    args = p.parse_args()
    runs = 1 if args.quick else min(args.runs, 2)
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        text=True,
        capture_output=True,
        check=True,
    ).stdout.strip()
    nox = [PYTHON, "-m", "nox"]
    if args.backend:
        nox += ["--force-venv-backend", args.backend]
    first, reuse, reinstall = [], [], []
    for i in range(runs):
        tmp = tempdir("clone")
        clone = tmp / "xen-claims-spec"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        env = clean_env(str(tmp / "cache") if args.cold_cache else None)
        t = run_timed([*nox, "-s", "docs"], cwd=clone, env=env)
        first.append(t.wall)
        backend = args.backend or (
            "uv" if "uv venv" in t.output or "uv pip" in t.output else "virtualenv"
        )
        reuse.append(run_timed([*nox, "-R", "-s", "docs"], cwd=clone, env=env).wall)
        reinstall.append(run_timed([*nox, "-r", "-s", "docs"], cwd=clone, env=env).wall)
        if i == 0 and not (clone / "docs" / "_build" / "html" / "index.html").exists():
            raise SystemExit("nox -s docs built no site in the clone")
        shutil.rmtree(tmp, ignore_errors=True)
    f = median(first)
    cache = "empty package cache" if args.cold_cache else "the machine's package cache"
    rows = [
        Row(
            "newcomer",
            f"fresh clone ({head}): first nox -s docs",
            f,
            "s",
            target="< 60 s",
            ok=f < 60,
            runs=first,
            note=f"{backend} backend, {cache}; env creation, installs and the -W -n build",
        ),
        Row(
            "newcomer",
            "second run: nox -R -s docs (reuse, no installs)",
            median(reuse),
            "s",
            "first",
            median(reuse) / f,
            target="< 10 s",
            ok=median(reuse) < 10,
            runs=reuse,
        ),
        Row(
            "newcomer",
            "second run: nox -r -s docs (reuse, installs re-run)",
            median(reinstall),
            "s",
            "first",
            median(reinstall) / f,
            target="< 10 s",
            ok=median(reinstall) < 10,
            runs=reinstall,
        ),
    ]
    print_table(rows, "Newcomer (6): a fresh clone's docs session")
    save(rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
