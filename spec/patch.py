"""Read a unified diff or a ``git format-patch`` mail into its hunks, for ``python -m spec
review``: per hunk the file, the lines, and the C functions whose bodies it changes.

The function of a change is the last C function definition above it in the hunk, else
the function the hunk header names (``@@ -10,7 +10,8 @@ int domain_set_claim_entries(``,
the context ``diff`` shows). Lines are counted as the header says, so a mail's signature
(``-- `` then the git version) after the last hunk is not read as a removed line.

>>> hunks = parse('''--- a/xen/common/page_alloc.c
... +++ b/xen/common/page_alloc.c
... @@ -1,3 +1,4 @@ int domain_set_claim_entries(struct domain *d,
...      int rc;
... +    rc = -EEXIST;
...      return rc;
...  }
... ''')
>>> [(h.path, h.functions, h.added) for h in hunks]
[('xen/common/page_alloc.c', ['domain_set_claim_entries'], [(2, '    rc = -EEXIST;')])]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

_HUNK: Final = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")
_CALLED: Final = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_DEFINITION: Final = re.compile(r"^[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\([^;]*$")
_NOT_A_DEFINITION: Final = frozenset(
    {"if", "for", "while", "switch", "return", "sizeof", "case", "do", "else", "goto"}
)


class NotAPatch(ValueError):
    """The text holds no hunk of a unified diff."""


@dataclass
class Hunk:
    """One hunk of a diff.

    :param path: the file it changes (the ``+++`` side, else the ``---`` side).
    :param header: the ``@@ ... @@`` line.
    :param functions: the C functions whose lines it adds or removes, in order.
    :param added: ``(line in the new file, text)`` of each added line.
    :param removed: ``(line in the old file, text)`` of each removed line.
    :param by_function: the added lines of each function.
    """

    path: str
    header: str
    functions: list[str] = field(default_factory=list)
    added: list[tuple[int, str]] = field(default_factory=list)
    removed: list[tuple[int, str]] = field(default_factory=list)
    by_function: dict[str, list[tuple[int, str]]] = field(default_factory=dict)


def header_function(context: str) -> str | None:
    """The function a hunk header's context names (``int f(int x,`` gives ``f``)."""
    found = _CALLED.search(context)
    return found.group(1) if found and _DEFINITION.match(context.strip()) else None


def definition(line: str) -> str | None:
    """The function a line starts to define (at column 0, no ``;``), if it does."""
    found = _DEFINITION.match(line)
    if found is None or found.group(1) in _NOT_A_DEFINITION or line.startswith(("#", "/")):
        return None
    return found.group(1)


def _path(line: str) -> str:
    name = line[4:].split("\t")[0].strip()
    return name[2:] if name[:2] in ("a/", "b/") else name


def parse(text: str) -> list[Hunk]:
    """The hunks of the diff *text* (mail headers and prose around it are skipped).

    :raises NotAPatch: *text* holds no hunk.
    """
    lines = text.splitlines()
    hunks: list[Hunk] = []
    path = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            new = _path(lines[i + 1])
            path = new if new != "/dev/null" else _path(line)
            i += 2
            continue
        found = _HUNK.match(line)
        if found is None or not path:
            i += 1
            continue
        old_line, new_line = int(found.group(1)), int(found.group(3))
        old_left = int(found.group(2) or 1)
        new_left = int(found.group(4) or 1)
        hunk = Hunk(path, line)
        current = header_function(found.group(5))
        i += 1
        while i < len(lines) and (old_left > 0 or new_left > 0):
            body = lines[i]
            kind, rest = body[:1], body[1:]
            if kind == "\\":  # "\ No newline at end of file"
                i += 1
                continue
            if kind not in (" ", "+", "-", ""):
                break
            if kind != "-":
                current = definition(rest) or current
            if kind in ("+", "-") and current and current not in hunk.functions:
                hunk.functions.append(current)
            if kind == "+":
                hunk.added.append((new_line, rest))
                hunk.by_function.setdefault(current or "", []).append((new_line, rest))
                new_line, new_left = new_line + 1, new_left - 1
            elif kind == "-":
                hunk.removed.append((old_line, rest))
                old_line, old_left = old_line + 1, old_left - 1
            else:
                old_line, new_line = old_line + 1, new_line + 1
                old_left, new_left = old_left - 1, new_left - 1
            i += 1
        hunks.append(hunk)
    if not hunks:
        raise NotAPatch("no hunk of a unified diff ('--- a/FILE', '+++ b/FILE', '@@ ... @@')")
    return hunks
