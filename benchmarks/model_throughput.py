"""Model throughput: a mixed workload on hosts of 2-64 nodes, 4 GiB-4 TiB, 10-1000 domains.

Each host runs the same pre-generated sequence of calls (claim sets, legacy claims, zero
SETs, allocations of order 0 to 9 with and without a node and an exact node, frees, GET),
with the per-call invariant check on (``check_invariants=True``, scoped to what the call
touched) and off. Every configuration runs in its own subprocess, so that its peak memory
(``tracemalloc`` of the host and the workload, and the process's max RSS) is its own.

Ratios: the 4 TiB host against the 4 GiB host with the same nodes and domains (the cost
must not grow with memory), checks on against checks off. The single-call costs (a claim
set install and an order-0 allocation on an 8-node host with 100 domains) are also shown
against a GET (``get_claims``), a read-only public call, measured in the same process.
"""

from __future__ import annotations

import gc
import json
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from typing import Any

from _common import PYTHON, ROOT, Row, median, parser, print_table, save

sys.path.insert(0, str(ROOT))

GIB = 1 << 18  # 4 KiB pages in a GiB
SIZES = {"4 GiB": 4 * GIB, "64 GiB": 64 * GIB, "4 TiB": 4096 * GIB}
NODES = (2, 8, 64)
DOMAINS = (10, 100, 1000)

Op = tuple[Any, ...]


def workload(nodes: int, domains: int, steps: int, seed: int = 7) -> list[Op]:
    """The mixed calls, as data: the same list for every host size."""
    rng = random.Random(seed * 1_000_003 + nodes * 1009 + domains)
    ops: list[Op] = []
    for _ in range(steps):
        d = rng.randrange(domains)
        r = rng.random()
        if r < 0.12:  # claim set: a node claim and a host-wide one
            ops.append(("set", d, rng.randrange(nodes), rng.randint(1, 64), rng.randint(0, 64)))
        elif r < 0.15:
            ops.append(("zero-set", d))
        elif r < 0.20:
            ops.append(("legacy", d, rng.randint(0, 256)))
        elif r < 0.56:
            order = rng.randrange(10)
            how = rng.random()
            node = rng.randrange(nodes) if how < 0.5 else None
            ops.append(("alloc", d, order, node, node is not None and how < 0.25))
        elif r < 0.92:
            ops.append(("free", rng.random()))
        else:
            ops.append(("get", d))
    return ops


def make_host(nodes: int, pages: int, domains: int, checks: bool | str) -> Any:
    from spec import Host

    host = Host([pages // nodes] * nodes, "v7", check_invariants=checks)  # type: ignore[arg-type]
    doms = [host.create_domain() for _ in range(domains)]
    return host, doms


def run(host: Any, doms: list[Any], ops: list[Op]) -> float:
    """Run *ops*; return the seconds it took."""
    from spec import HOST, ClaimEntry

    held: list[Any] = []
    claim, legacy, alloc = host.claim_memory, host.claim_pages, host.alloc_domheap_pages
    free, get = host.free_domheap_pages, host.get_claims
    zero = [ClaimEntry(0, HOST)]
    start = time.perf_counter()
    for op in ops:
        kind = op[0]
        if kind == "alloc":
            page = alloc(doms[op[1]], op[2], node=op[3], exact_node=op[4])
            if page is not None:
                held.append(page)
        elif kind == "free":
            if held:
                i = int(op[1] * len(held))
                held[i], held[-1] = held[-1], held[i]
                free(held.pop())
            else:
                get(doms[0], 4)
        elif kind == "set":
            claim(doms[op[1]], [ClaimEntry(op[3], op[2]), ClaimEntry(op[4], HOST)])
        elif kind == "zero-set":
            claim(doms[op[1]], zero)
        elif kind == "legacy":
            legacy(doms[op[1]], op[2])
        else:
            get(doms[op[1]], 4)
    return time.perf_counter() - start


def single_calls(runs: int, count: int) -> dict[str, Any]:
    """Cost of one claim-set install and one order-0 allocation: 8 nodes, 100 domains."""
    from spec import HOST, ClaimEntry

    result: dict[str, Any] = {}
    for checks in (False, True):
        host, doms = make_host(8, 4 * GIB, 100, checks)
        sets = [[ClaimEntry(1 + i % 50, i % 8), ClaimEntry(i % 7, HOST)] for i in range(count)]
        per: dict[str, list[float]] = {"set": [], "alloc": [], "get": []}
        for _ in range(runs):
            start = time.perf_counter()
            for i in range(count):
                host.claim_memory(doms[i % 100], sets[i])
            per["set"].append((time.perf_counter() - start) / count)
            start = time.perf_counter()
            pages = [host.alloc_domheap_pages(doms[i % 100], 0) for i in range(count)]
            per["alloc"].append((time.perf_counter() - start) / count)
            for page in pages:
                host.free_domheap_pages(page)
            start = time.perf_counter()
            for i in range(count):
                host.get_claims(doms[i % 100], 4)
            per["get"].append((time.perf_counter() - start) / count)
        result["on" if checks else "off"] = {k: median(v) * 1e6 for k, v in per.items()}
    return result


def memory(nodes: int, pages: int, domains: int, ops: list[Op]) -> dict[str, Any]:
    """Traced peak of building the host and running the workload once, checks on."""
    gc.collect()
    tracemalloc.start()
    host, doms = make_host(nodes, pages, domains, True)
    built = tracemalloc.get_traced_memory()[0]
    run(host, doms, ops)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "peak_mb": peak / 1e6,
        "host_mb": built / 1e6,
        "free_entries": sum(len(h.order_of) for h in host.heaps if h is not None),
        "free_pages": host.total_avail_pages,
    }


def worker(nodes: int, domains: int, sizes: list[str], steps: int, runs: int) -> dict[str, Any]:
    """All host sizes of one (nodes, domains) pair, their runs interleaved."""
    ops = workload(nodes, domains, steps)
    out: dict[str, Any] = {}
    # The largest host first, so that the process's max RSS is that host's.
    for size in sorted(sizes, key=lambda s: -SIZES[s]):
        out[size] = memory(nodes, SIZES[size], domains, ops)
        out[size]["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times: dict[tuple[str, bool], list[float]] = {}
    for _ in range(runs):
        for size in sizes:
            for checks in (False, True):
                host, doms = make_host(nodes, SIZES[size], domains, checks)
                gc.collect()
                times.setdefault((size, checks), []).append(run(host, doms, ops))
                del host, doms
    for (size, checks), seconds in times.items():
        out[size]["on" if checks else "off"] = len(ops) / median(seconds)
        out[size].update(nodes=nodes, size=size, domains=domains, ops=len(ops))
    return out


def spawn(*argv: str) -> dict[str, Any]:
    proc = subprocess.run(
        [PYTHON, __file__, "--worker", *argv], capture_output=True, text=True, check=False
    )
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"worker failed: {argv}")
    result: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return result


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--worker", nargs="*", help=argparse_hidden())
    p.add_argument("--steps", type=int, default=20000, help="calls per workload run")
    args = p.parse_args()
    if args.worker is not None:
        if args.worker[0] == "single":
            print(json.dumps(single_calls(int(args.worker[1]), int(args.worker[2]))))
        else:
            nodes, domains, sizes, steps, runs = args.worker
            print(
                json.dumps(
                    worker(int(nodes), int(domains), sizes.split(","), int(steps), int(runs))
                )
            )
        return
    runs = 1 if args.quick else max(args.runs, 5)
    steps = 3000 if args.quick else args.steps
    sizes = ("4 GiB", "4 TiB") if args.quick else tuple(SIZES)
    results = {}
    for nodes in NODES:
        for domains in DOMAINS:
            found = spawn(str(nodes), str(domains), ",".join(sizes), str(steps), str(runs))
            for size in sizes:
                results[nodes, domains, size] = found[size]
    rows: list[Row] = []
    big, small = "4 TiB", "4 GiB"
    for nodes in NODES:
        for domains in DOMAINS:
            base = results[nodes, domains, small]
            for size in sizes:
                r = results[nodes, domains, size]
                ratio = r["off"] / base["off"]
                ratio_on = r["on"] / base["on"]
                is_big = size == big
                rows.append(
                    Row(
                        "model",
                        f"{nodes:>2} nodes {domains:>4} domains {size:>6}: checks off",
                        r["off"],
                        "ops/s",
                        small,
                        ratio,
                        target=">= 0.8 x 4 GiB" if is_big else "",
                        ok=min(ratio, ratio_on) >= 0.8 if is_big else None,
                        note=""
                        if not is_big
                        else (
                            f"checks on {r['on']:,.0f} ops/s = {ratio_on:.2f} x 4 GiB; peak "
                            f"{r['peak_mb']:.1f} MB traced ({r['host_mb']:.2f} MB the host), "
                            "max RSS "
                            f"{r['maxrss_mb']:.0f} MB; {r['free_entries']} free-list entries for "
                            f"{r['free_pages']:,} free pages"
                        ),
                    )
                )
                rows.append(
                    Row(
                        "model",
                        f"{nodes:>2} nodes {domains:>4} domains {size:>6}: checks on",
                        r["on"],
                        "ops/s",
                        "checks off",
                        r["on"] / r["off"],
                    )
                )
    worst = max(results.values(), key=lambda r: r["peak_mb"] if r["size"] == big else 0)
    rows.append(
        Row(
            "model",
            "peak memory, worst 4 TiB host (traced)",
            worst["peak_mb"],
            "MB",
            target="< 100 MB",
            ok=worst["peak_mb"] < 100,
            note=f"{worst['nodes']} nodes, {worst['domains']} domains; process max RSS "
            f"{worst['maxrss_mb']:.0f} MB (interpreter included)",
        )
    )
    per_page = max(r["free_entries"] / r["free_pages"] for r in results.values())
    rows.append(
        Row(
            "model",
            "free-list entries per free page (max over hosts)",
            per_page,
            "",
            target="no per-page objects",
            ok=per_page < 0.01,
            note="free memory is one dict entry per free buddy, never one object per page",
        )
    )
    single = spawn("single", str(max(runs, 3)), "500" if args.quick else "2000")
    off, on = single["off"], single["on"]
    for what, label in (("set", "claim-set install"), ("alloc", "order-0 allocation")):
        rows.append(
            Row(
                "model",
                f"{label}, 8 nodes 100 domains, checks off",
                off[what],
                "us",
                "GET",
                off[what] / off["get"],
                target="< 20 µs",
                ok=off[what] < 20,
            )
        )
        rows.append(
            Row(
                "model",
                f"{label}, 8 nodes 100 domains, checks on",
                on[what],
                "us",
                "checks off",
                on[what] / off[what],
                target="< 10 x checks off",
                ok=on[what] < 10 * off[what],
            )
        )
    rows.append(
        Row(
            "model",
            "GET (get_claims), 8 nodes 100 domains, checks off",
            off["get"],
            "us",
            note=f"checks on {on['get']:.1f} µs",
        )
    )
    print_table(rows, f"Model throughput (4): {steps} mixed calls per run, v7")
    save(rows, args.json)


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
