"""``python -m spec check``: the command line of the checker."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ..designs import DESIGNS
from . import cluster
from .check import check
from .config import CheckConfig


def _limits(text: str) -> tuple[int | None, ...]:
    return tuple(None if v in ("", "none", "unlimited") else int(v) for v in text.split(","))


def main(argv: Sequence[str] | None = None, out: Any = None) -> int:
    """``python -m spec check``: explore and print; exit 1 on a violation."""
    out = out or sys.stdout
    parser = argparse.ArgumentParser(
        prog="python -m spec check",
        description="Bounded breadth-first model checking of the claims design.",
    )
    parser.add_argument("--design", default="v7", choices=list(DESIGNS))
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--pages", type=int, default=4, help="pages per node")
    parser.add_argument("--domains", type=int, default=2)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument(
        "--max-pages",
        type=_limits,
        default=None,
        help="max_pages of each domain, comma-separated ('unlimited' or empty: no limit); "
        "default: the first unlimited, the others pages-1",
    )
    parser.add_argument("--max-states", type=int, default=0, help="stop after N states")
    parser.add_argument(
        "--profile",
        choices=["full", "lean"],
        default="full",
        help="full: every value of the alphabet; lean: fewer values of the calls that "
        "succeed, for deep bounds (see spec.checker.alphabet)",
    )
    parser.add_argument(
        "--no-reduction",
        dest="reduction",
        action="store_false",
        help="explore every state, not one of each class of equivalent states (dead "
        "domains' dead fields, symmetric domains: spec.checker.reduction)",
    )
    parser.add_argument(
        "--exact",
        action="store_true",
        help="compare states by their whole keys and keep them all, instead of 128-bit "
        "fingerprints (no chance of a collision; several times the memory)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes of a local Dask cluster that expand a large level "
        "(default: one per CPU if dask.distributed is installed, else 1; 1: no cluster); "
        "the result is the same",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="expand large levels on the workers of this Dask scheduler "
        "(tcp://host:8786) instead of a local cluster",
    )
    parser.add_argument(
        "--expect",
        type=lambda text: sorted(filter(None, text.split(","))),
        default=None,
        metavar="ID[,ID...]",
        help="a design with known bugs: exit 0 only if exactly these invariants or "
        "properties are violated",
    )
    args = parser.parse_args(argv)
    try:
        config = CheckConfig(
            args.design,
            nodes=args.nodes,
            pages=args.pages,
            domains=args.domains,
            depth=args.depth,
            max_pages=args.max_pages,
            max_states=args.max_states,
            profile=args.profile,
            reduction=args.reduction,
            exact=args.exact,
        )
    except ValueError as error:
        parser.error(str(error))
    if (args.scheduler or (args.workers or 1) > 1) and not cluster.available():
        parser.error(cluster.MISSING)
    result = check(config, workers=args.workers, scheduler=args.scheduler)
    print(result.report(), file=out)
    if args.expect is not None:
        found = sorted(f.property for f in result.findings)
        if found != args.expect:
            print(f"expected violations {args.expect}, found {found}", file=out)
            return 1
        print(f"found exactly the expected violations: {', '.join(found)}", file=out)
        return 0
    return 0 if result.ok else 1
