"""The README's examples, run as a reader runs them: its ``python`` doctests (Sybil, in
conftest.py at the root) and here its ``console`` blocks, each ``$ python -m spec ...``
line against the output the README shows (``...`` matches anything)."""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def console_examples() -> list[tuple[str, str]]:
    """``(command, expected output)`` of each ``$ python -m spec`` line of the README."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(), re.S):
        command, output = None, []
        for line in [*block.splitlines(), "$ "]:
            if line.startswith("$ "):
                if command is not None:
                    found.append((command, "\n".join(output) + "\n" if output else ""))
                command = line[2:] if line.startswith("$ python -m spec") else None
                output = []
            elif command is not None:
                output.append(line)
    return found


def test_the_readme_has_console_examples_of_each_command() -> None:
    commands = {command.split()[3] for command, _ in console_examples()}
    assert {"cite", "replay"} <= commands


@pytest.mark.parametrize(("command", "expected"), console_examples())
def test_a_console_example_prints_what_the_readme_shows(command: str, expected: str) -> None:
    run = subprocess.run(
        command.replace("python", sys.executable, 1),
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        check=False,
    )
    checker = doctest.OutputChecker()
    assert checker.check_output(expected, run.stdout, doctest.ELLIPSIS), run.stdout + run.stderr
