"""What every sub-command of ``python -m spec`` does with bad input: a one-line message
on standard error and exit status 2, never a traceback.

* :func:`natural` and :func:`seconds`: ``argparse`` types for counts and time limits;
* :func:`check_bounds`: the bounds of ``python -m spec check`` that the checker's own
  parser takes as any int (``--workers``, ``--max-states``, ``--max-pages``);
* :func:`read_script`: a script file or standard input, refused when it is not text;
* :func:`run`: the process entry point: an output encoding that cannot show the output,
  a closed pipe, an interrupt.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO

from .abi import UINT_MAX

USAGE_ERROR = 2


class UsageError(Exception):
    """Bad input on the command line: its message is printed, the exit status is 2."""


def natural(low: int) -> Callable[[str], int]:
    """An ``argparse`` type: an integer of at least *low*."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {value}")
        return value

    return parse


def seconds(text: str) -> float:
    """An ``argparse`` type: a time limit, a finite number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, not {text}")
    return value


def _limit(text: str) -> int | None:
    if text in ("", "none", "unlimited"):
        return None
    value = natural(0)(text)
    if value > UINT_MAX:
        raise argparse.ArgumentTypeError(f"{value} does not fit max_pages (0..{UINT_MAX})")
    return value


def _limits(text: str) -> list[int | None]:
    return [_limit(item) for item in text.split(",")]


class _OneLine(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message}")


def check_bounds(argv: Sequence[str]) -> None:
    """Refuse bounds of ``python -m spec check`` that no run can use.

    :raises UsageError: ``--workers`` below 1, ``--max-states`` below 0, or a
        ``--max-pages`` value that is not ``unlimited`` or a C ``unsigned int``.
    """
    parser = _OneLine(prog="python -m spec check", add_help=False)
    parser.add_argument("--workers", type=natural(1))
    parser.add_argument("--max-states", type=natural(0))
    parser.add_argument("--max-pages", type=_limits)
    parser.parse_known_args(list(argv))


def read_script(path: str, stdin: TextIO | None) -> tuple[str, str]:
    """The text of the script *path* (``-``: *stdin*) and the name to show for it.

    :raises UsageError: it cannot be read, is not UTF-8 text, or holds a NUL byte.
    """
    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            if stdin is None or stdin.closed:
                raise UsageError("standard input is closed")
            data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
        else:
            with open(path, "rb") as file:
                data = file.read()
    except OSError as error:
        raise UsageError(f"{name}: {error.strerror or error}") from None
    try:
        code = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{name}: not UTF-8 text (byte {error.start}: {data[error.start]:#04x})"
        ) from None
    if "\0" in code:
        line = code.count("\n", 0, code.index("\0")) + 1
        raise UsageError(f"{name}: line {line}: a NUL byte; a script is text")
    return code, name


def run(main: Callable[[], int], err: TextIO | None = None) -> int:
    """Run *main* as the process's entry point and return its exit status."""
    err = err if err is not None else sys.stderr
    try:
        return main()
    except UsageError as error:
        _say(err, str(error))
        return USAGE_ERROR
    except UnicodeEncodeError as error:
        char = error.object[error.start : error.start + 1]
        _say(
            err,
            f"python -m spec: the output encoding {error.encoding} cannot show {char!r}; "
            "set PYTHONIOENCODING=utf-8",
        )
        return USAGE_ERROR
    except BrokenPipeError:  # the reader (e.g. `head`) stopped reading: not an error of ours
        if sys.stderr is not None:
            sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        _say(err, "python -m spec: interrupted")
        return 130


def _say(err: TextIO | None, message: str) -> None:
    if err is not None and not err.closed:
        print(message.encode("ascii", "backslashreplace").decode("ascii"), file=err)
