"""Run ``python -m spec`` as a reader runs it in a shell: the helpers of the site's examples.

The pages of the site show the model's command line at work through these few
functions, imported from here rather than defined out of sight, so that an example a
reader copies runs exactly as it ran on the page:

* :func:`python_m_spec` runs ``python -m spec ARGUMENTS`` in a process of its own and
  prints what it prints, then its exit status; :func:`run` returns them instead;
* :func:`replay` saves a script under a file name in a temporary directory and runs
  ``python -m spec replay`` on it there;
* :func:`code_block` reads a code block of a page of the site (a page checks that the
  trace it shows is the one the checker prints).

Each command gets :data:`TIMEOUT` seconds; a command that takes longer is stopped and
raises :class:`subprocess.TimeoutExpired`.

>>> python_m_spec("cite set-duplicate-node --base-url https://claims.example")
[set-duplicate-node] A node listed twice in one claim set is rejected.
...
(exit status 0)
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
"""The checkout the model is imported from: its docs/ holds the site's pages."""
TIMEOUT: Final = 600


def _arguments(arguments: str) -> list[str]:
    if not isinstance(arguments, str):
        raise TypeError(
            f"arguments must be a str, as typed in a shell, not {type(arguments).__name__}"
        )
    return shlex.split(arguments)


def run(arguments: str, cwd: Path | str | None = None) -> tuple[int, str]:
    """Run ``python -m spec ARGUMENTS`` (split as a shell would) in *cwd* (default: the
    checkout); return its exit status and what it printed, standard output first."""
    done = subprocess.run(
        [sys.executable, "-m", "spec", *_arguments(arguments)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        check=False,
        timeout=TIMEOUT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    return done.returncode, done.stdout + done.stderr


def python_m_spec(arguments: str, cwd: Path | str | None = None) -> None:
    """Run ``python -m spec ARGUMENTS``; print its output, then ``(exit status N)``."""
    status, output = run(arguments, cwd)
    print(output, end="")
    print(f"(exit status {status})")


def replay(script: str, name: str, arguments: str = "") -> None:
    """Save *script* as the file *name* in a new temporary directory and run
    ``python -m spec replay NAME ARGUMENTS`` there, printing as :func:`python_m_spec`."""
    if not isinstance(script, str) or not isinstance(name, str):
        raise TypeError("script and name must be str")
    if Path(name).name != name or not name:
        raise ValueError(f"name must be a plain file name, not {name!r}")
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, name).write_text(script)
        python_m_spec(f"replay {shlex.quote(name)} {arguments}", cwd=folder)


def code_block(page: str, label: str) -> str:
    """The text of the code block that follows ``.. _label:`` on the reST page *page*
    (a path under docs/), dedented.

    :raises ValueError: the page has no such label, or no code block after it.
    """
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    marker = f".. _{label}:"
    if marker not in text:
        raise ValueError(f"{page} has no label {label!r}")
    after = text.split(marker, 1)[1]
    if "::" not in after:
        raise ValueError(f"{page} has no code block after {label!r}")
    lines = []
    for line in after.split("::", 1)[1].splitlines()[1:]:
        if line and not line.startswith(" "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines)).strip("\n") + "\n"
