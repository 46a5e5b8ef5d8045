"""Run a script the project was given so that it can neither hang nor end the process
that runs it, nor change that process's modules.

* :func:`time_limit` raises :class:`TimeLimit` in the running script after a number of
  seconds (``SIGALRM``; a :class:`BaseException`, so ``except Exception`` in the script
  does not swallow it).
* :func:`isolated` calls a function in a forked child process and returns its (pickled)
  result: whatever the function changes (``spec.RULES``, a module's globals) dies with
  the child, and a child that has not answered by the hard limit is killed.

``python -m spec replay`` and ``claims:scenario`` run each replay of a script this way
(:func:`spec.replay.replay_isolated`). Where there is no ``fork`` (Windows) the function
runs in the calling process, under :func:`time_limit` only.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

GRACE = 2.0
"""Seconds a child may run past its time limit before it is killed (it needs them to
record the step the limit stopped and send its result)."""


class TimeLimit(BaseException):
    """The script ran past its time limit."""


class Ended(Exception):
    """The child gave no result: it was killed at the hard limit, ended itself, or its
    function raised outside the script."""


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TimeLimit` in this thread after *seconds* (None: no limit).

    Only the main thread can take a signal; elsewhere (a server's build thread) nothing
    is armed, and :func:`isolated`'s hard limit still holds.
    """
    armed = (
        seconds is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not armed:
        yield
        return
    assert seconds is not None

    def expire(signum: int, frame: object) -> None:
        raise TimeLimit(f"the script ran past its time limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _child(function: Callable[[], object], pipe: int) -> None:  # pragma: no cover
    # Runs in the forked child, which coverage does not follow; the tests check what it
    # sends (tests/test_hostile.py).
    try:
        try:
            payload = pickle.dumps((True, function()))
        except BaseException as error:
            payload = pickle.dumps((False, f"{type(error).__name__}: {error}"))
        with os.fdopen(pipe, "wb") as out:
            out.write(payload)
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    finally:
        os._exit(0)  # no atexit handler, no finally of the parent's frames


def isolated(function: Callable[[], T], limit: float | None) -> T:
    """Return ``function()`` computed in a forked child killed after *limit* seconds.

    :raises Ended: the child was killed or gave no result (the message says which).
    """
    if not hasattr(os, "fork"):  # pragma: no cover (every system the project runs on)
        return function()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        os.close(read)
        _child(function, write)
    os.close(write)
    chunks = []
    deadline = None if limit is None else time.monotonic() + limit
    try:
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([read], [], [], wait)
            if not ready:
                raise Ended(f"its process did not finish within {limit:g} s and was ended")
            chunk = os.read(read, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    except BaseException:  # the hard limit, or the parent itself was interrupted
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    if not chunks:
        raise Ended("its process ended without giving a result")
    ok, value = pickle.loads(b"".join(chunks))
    if not ok:
        raise Ended(value)
    return value  # type: ignore[no-any-return]
