"""Replay a script of model calls under a design, one top-level statement at a time.

A script is Python, the calls of the site's examples, in a namespace that holds the
public names of :mod:`spec`; a host it creates without ``design=`` takes the design of
the replay. Each top-level statement is a step: the step records the value it gave, the
rules the model fired, whether it changed a host, and an observation of every host after
it (by default :meth:`~spec.state.HostState.snapshot`; the site's scenario pictures
observe the memory layout). A statement that raises, or after which a hard invariant
does not hold on a host, stops the replay; a broken soft invariant is only noted, and
so is a hard one that a documented bug of the host's design breaks (its option
``known_violations``, such as upstream's offlining without a recall): the calls go on
as in Xen. ``import`` statements run but are not shown.

>>> script = '''
... host = Host(nodes=[8, 8])
... d = host.create_domain()
... host.claim_memory(d, [ClaimEntry(4, 0), ClaimEntry(2, HOST)])
... host.claim_pages(d, 0)
... '''
>>> for step in replay(script, "v6").steps[2:]:
...     print(step.value, step.rules, step.changed)
0 ('release-host-first', 'set-install') True
0 ('release-node-first', 'legacy-release') True

``python -m spec replay FILE --design v6 --design v7`` prints the runs side by side
(:func:`main`).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from .cli import UsageError, read_script, seconds
from .designs import DESIGNS
from .host import Host
from .invariants import violations
from .rules import observe
from .sandbox import GRACE, Ended, isolated, time_limit
from .state import Domain

DEFAULT_TIMEOUT = 10.0
"""Seconds a replayed script may run by default (``--timeout``)."""

Observe = Callable[[Host], Any]
"""What a replay records of a host after each step."""


@dataclass
class Step:
    """One top-level statement of a script and what replaying it gave.

    :param lineno: its first line in the script, counted from 1.
    :param source: its text.
    :param shown: whether it is shown (``import`` statements are not).
    :param value: how the value it gave is shown (None: a statement without one).
    :param rules: the rule IDs the model fired while it ran, each once, in the order
        they first fired.
    :param error: ``"ValueError: ..."`` when it raised or broke a hard invariant.
    :param soft: the soft invariants that did not hold after it, as ``label: message``.
    :param known: the hard invariants that did not hold after it but that a documented
        bug of the host's design breaks, as ``label: message``; the replay goes on.
    :param hosts: ``(variable, observation)`` of every host after it.
    :param changed: whether the observation of a host differs from before it.
    :param ran: whether it ran (the steps after one that stopped the replay did not).
    :param same_as: what a side-by-side comparison looks at: the value, or ``"host"``
        for a host (any two hosts compare equal).
    """

    lineno: int
    source: str
    shown: bool = True
    value: str | None = None
    rules: tuple[str, ...] = ()
    error: str | None = None
    soft: list[str] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    hosts: list[tuple[str, Any]] = field(default_factory=list)
    changed: bool = False
    ran: bool = False
    same_as: str | None = None


@dataclass
class Run:
    """The steps of one replay of a script under one design (None: the default).

    :param failure: why the replay as a whole gave no steps (its process was killed at
        the hard time limit or ended itself: :func:`replay_isolated`); then no step ran.
    """

    design: str | None
    steps: list[Step]
    failure: str | None = None

    @property
    def stopped(self) -> Step | None:
        """The step that stopped the replay, if one did."""
        return next((s for s in self.steps if s.error is not None), None)


def _tree(code: str, filename: str) -> ast.Module:
    """Parse *code*; a NUL byte is a :class:`SyntaxError` too (Python 3.11 raises
    ValueError for it)."""
    try:
        return ast.parse(code, filename, "exec")
    except ValueError as error:
        raise SyntaxError(str(error), (filename, None, None, None)) from None


def parse(code: str) -> list[Step]:
    """Split *code* into its top-level statements (raises :class:`SyntaxError`)."""
    tree = _tree(code, "<script>")
    steps = []
    for stmt in tree.body:
        source = ast.get_source_segment(code, stmt) or ""
        shown = not isinstance(stmt, (ast.Import, ast.ImportFrom))
        steps.append(Step(stmt.lineno, source, shown))
    return steps


def show(value: object) -> str:
    """How a step shows the value it gave."""
    if isinstance(value, Domain):
        return f"domain {value.domid}"
    if isinstance(value, Host):
        return f"host ({value.design.name})"
    return repr(value)


def _host_class(design: str | None) -> type[Host]:
    """:class:`~spec.host.Host` whose design defaults to *design*."""
    if design is None:
        return Host

    def init(self: Host, nodes: Any, design_: Any = design, **kwargs: Any) -> None:
        kwargs.setdefault("design", design_)
        Host.__init__(self, nodes, **kwargs)

    return type("Host", (Host,), {"__init__": init, "__module__": Host.__module__})


def _namespace(host_class: type[Host]) -> dict[str, Any]:
    package = sys.modules[__package__ or "spec"]  # the spec package this module is part of
    namespace: dict[str, Any] = {name: getattr(package, name) for name in package.__all__}
    namespace["spec"] = package
    namespace["Host"] = host_class
    return namespace


def _hosts(namespace: dict[str, Any]) -> list[tuple[str, Host]]:
    """The hosts the script holds in variables, first assigned first, each once."""
    found: dict[int, tuple[str, Host]] = {}
    for name, value in namespace.items():
        if isinstance(value, Host) and id(value) not in found:
            found[id(value)] = (name, value)
    return list(found.values())


def describe(error: BaseException) -> str:
    """A step's error: ``"ValueError: ..."``; an exit or interrupt of the script says so."""
    if isinstance(error, SystemExit):
        code = "" if error.code is None else repr(error.code)
        return f"SystemExit: the script called exit({code}); the replay stops here"
    if isinstance(error, KeyboardInterrupt):
        return "KeyboardInterrupt: the script interrupted itself; the replay stops here"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _execute(stmt: ast.stmt, namespace: dict[str, Any], filename: str) -> tuple[bool, object]:
    """Run one statement; return whether it has a value, and the value."""
    if isinstance(stmt, ast.Expr):
        expression = ast.Expression(stmt.value)
        return True, eval(compile(expression, filename, "eval"), namespace)
    if isinstance(stmt, ast.Assign):
        value = eval(compile(ast.Expression(stmt.value), filename, "eval"), namespace)
        namespace["__replay_value__"] = value
        try:
            bind = ast.Assign(stmt.targets, ast.Name("__replay_value__", ast.Load()))
            ast.fix_missing_locations(ast.copy_location(bind, stmt))
            exec(compile(ast.Module([bind], []), filename, "exec"), namespace)
        finally:
            del namespace["__replay_value__"]
        return True, value
    exec(compile(ast.Module([stmt], []), filename, "exec"), namespace)
    return False, None


def replay(
    code: str,
    design: str | None = None,
    filename: str = "<script>",
    observe_host: Observe = Host.snapshot,
    timeout: float | None = None,
) -> Run:
    """Replay the script *code* under *design* (None: the default design); stop at the
    first statement that raises (``SystemExit`` and ``KeyboardInterrupt`` included) or
    breaks a hard invariant.

    :param filename: the name tracebacks and syntax errors give the script.
    :param observe_host: what each step records of each host (and compares to tell
        whether the step changed it).
    :param timeout: seconds the script may run; the statement running then stops the
        replay with a :class:`~spec.sandbox.TimeLimit` error (None: no limit).
    :raises SyntaxError: the script does not parse (nothing runs).
    """
    _check_design(design)
    tree = _tree(code, filename)
    result = Run(design, parse(code))
    with time_limit(timeout):
        _replay(tree, result, design, filename, observe_host)
    return result


def _check_design(design: str | None) -> None:
    if design is not None and design not in DESIGNS:
        raise ValueError(f"design={design!r} is not a preset; choose one of {', '.join(DESIGNS)}")


def replay_isolated(
    code: str,
    design: str | None = None,
    filename: str = "<script>",
    observe_host: Observe = Host.snapshot,
    timeout: float = DEFAULT_TIMEOUT,
) -> Run:
    """:func:`replay` in a forked child process (:func:`spec.sandbox.isolated`): what the
    script changes outside its own namespace (the model's tables, a module's state) dies
    with the child, so the runs of one script under several designs, or of several
    scripts, cannot change each other. A child that does not finish within *timeout*
    plus :data:`~spec.sandbox.GRACE` seconds is killed: the run then has a ``failure``.

    :raises SyntaxError: the script does not parse (checked here, before any fork).
    """
    _check_design(design)
    _tree(code, filename)
    try:
        return isolated(
            lambda: replay(code, design, filename, observe_host, timeout), timeout + GRACE
        )
    except Ended as error:
        return Run(design, parse(code), failure=f"the script gave no result: {error}")


def _replay(
    tree: ast.Module, result: Run, design: str | None, filename: str, observe_host: Observe
) -> None:
    host_class = _host_class(design)
    namespace = _namespace(host_class)
    for stmt, step in zip(tree.body, result.steps, strict=True):
        before = {id(h): observe_host(h) for _, h in _hosts(namespace)}
        step.ran = True
        with observe() as fired:
            try:
                has_value, value = _execute(stmt, namespace, filename)
                if has_value:
                    step.value = show(value)
                    step.same_as = "host" if isinstance(value, Host) else step.value
            except BaseException as error:  # the script's own error or exit: record it, stop
                step.error = describe(error)
        step.rules = tuple(fired)
        for name, value in list(namespace.items()):
            if value is Host and host_class is not Host:
                namespace[name] = host_class  # `from spec import Host` keeps the design
        for name, host in _hosts(namespace):
            if step.error is None:
                broken = violations(host)
                known = host.design.known_violations
                if any(label not in known for label, _ in broken):
                    labels = "; ".join(f"{label}: {message}" for label, message in broken)
                    step.error = f"invariant does not hold: {labels}"
                else:
                    step.known += [f"{label}: {message}" for label, message in broken]
            step.soft += [f"{label}: {message}" for label, message in host.violations(soft=True)]
            seen = observe_host(host)
            step.hosts.append((name, seen))
            step.changed = step.changed or before.get(id(host)) != seen
        if step.error is not None:
            break


# --- python -m spec replay ----------------------------------------------------------------


RESULT_DIFFERS = "*"
RULES_DIFFER = "~"
LEGEND = (
    f"{RESULT_DIFFERS} the result differs; {RULES_DIFFER} the same result, decided by other rules"
)


def results_differ(steps: Sequence[Step]) -> bool:
    """Whether the designs' runs of one step give different results (value, error, or
    the known bugs noted after it), among the runs that reached it: the site's
    side-by-side scenario pictures mark the same steps (:mod:`sphinx_claims.scenario`)."""
    return len({(s.same_as, s.error, tuple(s.known)) for s in steps if s.ran}) > 1


def _cell(step: Step) -> str:
    if not step.ran:
        return "(not run)"
    if step.error is not None:
        text = step.error
    elif step.value is not None:
        text = step.value
    else:  # a statement without a value (a loop, an if): what it did
        text = "changed a host" if step.changed else "changed nothing"
    rules = ", ".join(step.rules)
    text = f"{text}  [{rules}]" if rules else text
    return f"{text}  (known bug: {'; '.join(step.known)})" if step.known else text


def _rows(runs: Sequence[Run]) -> Iterator[tuple[str, list[str], list[str]]]:
    """``(mark, statement lines, cells)`` per shown step: :data:`RESULT_DIFFERS` where the
    designs give different results, :data:`RULES_DIFFER` where only the rules differ."""
    for steps in zip(*(r.steps for r in runs), strict=True):
        if not steps[0].shown:
            continue
        if results_differ(steps):
            mark = RESULT_DIFFERS
        elif len({s.rules for s in steps if s.ran}) > 1:
            mark = RULES_DIFFER
        else:
            mark = " "
        yield mark, steps[0].source.splitlines(), [_cell(s) for s in steps]


def report(runs: Sequence[Run]) -> str:
    """The runs of one script side by side: a block per step (a compound statement with
    all its lines), a line per design, then how many steps differ and how."""
    names = [r.design or "default" for r in runs]
    width = max(len(n) for n in names)
    lines = [LEGEND] if len(runs) > 1 else []
    marks = {RESULT_DIFFERS: 0, RULES_DIFFER: 0, " ": 0}
    for mark, source, cells in _rows(runs):
        marks[mark] += 1
        lines.append(f"{mark} {source[0]}")
        lines += [f"  {more}" for more in source[1:]]
        lines += [f"    {name:<{width}}  {cell}" for name, cell in zip(names, cells, strict=True)]
    for r, name in zip(runs, names, strict=True):
        stop = r.stopped
        if stop is not None:
            lines.append(f"{name}: stopped at line {stop.lineno}: {stop.error}")
        elif r.failure is not None:
            lines.append(f"{name}: stopped: {r.failure}")
    if len(runs) > 1:
        lines.append(
            f"{marks[RESULT_DIFFERS]} step(s) with a different result, "
            f"{marks[RULES_DIFFER]} decided by other rules, between {', '.join(names)}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    """``python -m spec replay``: like ``diff``, 1 when a step's result differs between
    the designs (or the one run stopped, or a run gave no result), else 0; 2 for bad
    arguments or a script that does not parse."""
    parser = argparse.ArgumentParser(
        prog="python -m spec replay",
        description="Replay a script of model calls under one or more designs, a step per "
        "top-level statement, and show each step's result and rules side by side; "
        f"{LEGEND}. Exit status 1 when a result differs (as diff), else 0.",
    )
    parser.add_argument("script", help="a Python file of model calls ('-': standard input)")
    parser.add_argument(
        "--design",
        action="append",
        choices=list(DESIGNS),
        help="a design preset; repeat it to compare (default: v6 and v7)",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"time limit of each run (default {DEFAULT_TIMEOUT:g}); each design's run is "
        "a process of its own, so one run cannot change another",
    )
    args = parser.parse_args(argv)
    try:
        code, filename = read_script(args.script, sys.stdin)
    except UsageError as error:
        print(f"python -m spec replay: {error}", file=err)
        return 2
    try:
        runs = [
            replay_isolated(code, design, filename, timeout=args.timeout)
            for design in args.design or ["v6", "v7"]
        ]
    except SyntaxError as error:
        line = f":{error.lineno}" if error.lineno else ""
        print(f"python -m spec replay: {filename}{line}: {error.msg}", file=err)
        return 2
    print(report(runs), file=out)
    if len(runs) == 1 or any(r.failure for r in runs):  # one run, or one gave no result
        return 1 if any(r.stopped or r.failure for r in runs) else 0
    shown = zip(*(r.steps for r in runs), strict=True)
    return 1 if any(results_differ(steps) for steps in shown) else 0
