"""Call sequences: which modelled C functions a call passes through, with the locks held.

Inside ``with tracing() as trace:`` every call of a model function that the C-name
registry names (the :func:`~spec.registry.c_function` decorated functions and the
:class:`~spec.host.Host` methods that stand for libxenctrl calls) is recorded as a
:class:`Call`, nested as the calls nest, with the locks the registry says it holds
(:attr:`~spec.registry.CName.locks`), the phases it passes (a ``# Phase N: ...``
comment of the model's source) and the rules it fires. Outside it nothing is recorded
and the model runs exactly as without this module: tracing installs a
:func:`sys.setprofile` hook only for the duration of the block.

>>> from spec import Host, ClaimEntry, HOST
>>> host = Host(nodes=[8, 8])
>>> d = host.create_domain()
>>> with tracing() as trace:
...     host.claim_memory(d, [ClaimEntry(2, 0), ClaimEntry(1, HOST)])
0
>>> for line in trace.lines():
...     print(line)
xc_domain_claim_memory = 0
  claim_memory [domctl_lock] = (0, 2, [])
    domain_set_claim_entries [domctl_lock, d->page_alloc_lock, heap_lock] = 0
      Phase 1: each entry, in array order.
      Phase 2: the set as a whole.
      domain_tot_pages [domctl_lock, d->page_alloc_lock, heap_lock] = 0
      Phase 3: release the old claims.
      Phase 4: totals.
      Phase 5: per node.
      rule release-node-first
      domain_recall_node_claims [domctl_lock, d->page_alloc_lock, heap_lock] = 0
      domain_release_host_claims [domctl_lock, d->page_alloc_lock, heap_lock] = 0
      rule set-install
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import CodeType, FrameType
from typing import Any, Final

from .registry import C_NAMES, LOCKS, CName, in_series

_PHASE: Final = re.compile(r"^\s*#\s*(Phase \d+\b.*)$")


@dataclass
class Phase:
    """A ``# Phase N: ...`` comment of the running model function was reached."""

    text: str


@dataclass
class Fired:
    """The model fired the rule *rule* here."""

    rule: str


@dataclass
class Call:
    """One call of a registered C function.

    :param entry: its registry entry.
    :param held: the locks held while it runs (its own and its callers'), in
        :data:`~spec.registry.LOCKS` order.
    :param events: what happened inside it, in order: calls, phases, fired rules.
    :param result: ``repr`` of what it returned (None: it raised).
    :param line: the line of the caller that made the call, past the public entry
        points of :mod:`spec.host` (for an outermost call, the line of the script);
        *file* the caller's file name (``<script>`` for a replay).
    """

    entry: CName
    held: tuple[str, ...]
    events: list[Call | Phase | Fired] = field(default_factory=list)
    result: str | None = None
    line: int = 0
    file: str = ""

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def module(self) -> str:
        """The model module of the function (``spec.claims``)."""
        return (
            self.entry.model.rsplit(".", 2)[0]
            if ".Host." in self.entry.model
            else (self.entry.model.rpartition(".")[0])
        )

    @property
    def takes(self) -> tuple[str, ...]:
        """The locks held here that the caller did not hold."""
        return tuple(lock for lock in self.entry.locks if lock in self.held)


@dataclass
class Trace:
    """The calls recorded by :func:`tracing`, outermost first."""

    calls: list[Call] = field(default_factory=list)

    def lines(self) -> list[str]:
        """An indented text form (the doctests and the diagram's description)."""
        out: list[str] = []

        def walk(event: Call | Phase | Fired, depth: int) -> None:
            pad = "  " * depth
            if isinstance(event, Phase):
                out.append(pad + event.text)
            elif isinstance(event, Fired):
                out.append(f"{pad}rule {event.rule}")
            else:
                locks = f" [{', '.join(event.held)}]" if event.held else ""
                out.append(f"{pad}{event.name}{locks} = {event.result}")
                for inner in event.events:
                    walk(inner, depth + 1)

        for call in self.calls:
            walk(call, 0)
        return out


def _unwrap(value: Any) -> Any:
    while hasattr(value, "__wrapped__"):
        value = value.__wrapped__
    return value


def _resolve(dotted: str) -> Any:
    """The object at *dotted* (``spec.host.Host.claim_memory``), or None."""
    module_name, _, rest = dotted.partition(".")
    parts = rest.split(".")
    for index in range(len(parts), 0, -1):
        try:
            value: Any = importlib.import_module(".".join([module_name, *parts[: index - 1]]))
        except ImportError:
            continue
        for part in parts[index - 1 :]:
            value = getattr(value, part, None)
        return value
    return None


def _phases(code: CodeType, function: Any) -> list[tuple[int, str]]:
    """``(line, text)`` of the phase comments of *function*'s source."""
    try:
        lines, start = inspect.getsourcelines(function)
    except (OSError, TypeError):
        return []
    found = []
    for offset, line in enumerate(lines):
        match = _PHASE.match(line)
        if match:  # "# Phase 3: ... Phase 4: ..." names several phases
            for text in re.split(r"\s+(?=Phase \d+\b)", match.group(1).strip()):
                found.append((start + offset, text))
    return found


@dataclass
class _Function:
    entry: CName
    phases: list[tuple[int, str]]


def registered_code(
    design: str | None = None,
) -> tuple[dict[CodeType, _Function], set[CodeType]]:
    """The code object of each registered C function's model, with its phases, and the
    code of the wrappers around them (:func:`spec.host.public`). A model function that
    stands for several C functions (v7's and v8's libxenctrl call) is the one *design*
    has (None, or none of them: the first registered)."""
    found: dict[CodeType, _Function] = {}
    wrappers: set[CodeType] = set()
    for entry in C_NAMES.values():
        if entry.kind != "function":
            continue
        outer = _resolve(entry.model)
        function = _unwrap(outer)
        code = getattr(function, "__code__", None)
        if outer is not function and isinstance(getattr(outer, "__code__", None), CodeType):
            wrappers.add(outer.__code__)
        if not isinstance(code, CodeType):
            continue
        known = found.get(code)
        better = (
            design is not None
            and known is not None
            and (in_series(entry, design) and not in_series(known.entry, design))
        )
        if known is None or better:
            found[code] = _Function(entry, _phases(code, function))
    return found, wrappers


def _fire_code() -> CodeType:
    from .state import HostState

    return HostState.fire.__code__


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@contextlib.contextmanager
def tracing(design: str | None = None) -> Iterator[Trace]:
    """Record the registered C functions that the calls inside the block pass through,
    named as *design* names them (None: the first name registered for each).

    It uses :func:`sys.setprofile` (call and return events; coverage and debuggers use
    :func:`sys.settrace` and keep working). A phase is noted when the function is seen
    past its comment: at its next call of any function, rule or return.

    :raises RuntimeError: another profiler is installed.
    """
    functions, wrappers = registered_code(design)
    fire = _fire_code()
    entry_points = inspect.getfile(sys.modules[__package__ or "spec"].host)
    trace = Trace()
    stack: list[list[Any]] = []  # [frame, call, index of its next phase]

    def phases_until(top: list[Any], line: int) -> None:
        frame, call, index = top
        phases = functions[frame.f_code].phases
        while index < len(phases) and line > phases[index][0]:
            call.events.append(Phase(phases[index][1]))
            index += 1
        top[2] = index

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "return":
            if stack and stack[-1][0] is frame:
                done = stack.pop()
                phases_until(done, frame.f_lineno)
                done[1].result = _show(arg)
            return
        if event != "call":
            return
        top = stack[-1] if stack else None
        back = frame.f_back
        if top is not None and back is not None and back is top[0]:
            phases_until(top, back.f_lineno)
        code = frame.f_code
        if code is fire:
            if top is not None:
                applied = frame.f_locals.get("applied")
                top[1].events.append(Fired(str(getattr(applied, "id", applied))))
            return
        found = functions.get(code)
        if found is None:
            return
        outer = top[1].held if top is not None else ()
        held = tuple(lock for lock in LOCKS if lock in outer or lock in found.entry.locks)
        caller = frame.f_back
        while caller is not None and (
            caller.f_code in wrappers or caller.f_code.co_filename == entry_points
        ):
            caller = caller.f_back
        call = Call(found.entry, held)
        if caller is not None:
            call.line, call.file = caller.f_lineno, caller.f_code.co_filename
        (top[1].events if top is not None else trace.calls).append(call)
        stack.append([frame, call, 0])

    if sys.getprofile() is not None:
        raise RuntimeError("another profiler is installed")
    sys.setprofile(profile)
    try:
        yield trace
    finally:
        sys.setprofile(None)
