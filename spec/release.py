"""Releases: the version, the record of every released rule and invariant, the changelog.

A citation names a rule by its ID and links to the rule as it was in one release
(``<site>/en/<version>/rule/<id>.html``), so what a review mail cites never changes
meaning. For that, each release commits a *record* of its rules and invariants
(``spec/releases/<version>.json``: the ID, the outcome, the designs, a digest of the
statement), and :func:`problems` holds the model against it (``nox -s tests`` runs it):

* while ``spec.__version__`` is a recorded release, the model must be exactly its record;
  before the release is tagged, ``python -m spec release record --replace`` writes the
  record again (after merging rule changes), after it the version must be bumped;
* a rule or invariant that changed (statement, outcome or designs) between two releases
  needs a note in the changelog of the later one, and an ID that is gone needs a
  ``retired`` entry there saying what replaced it (``spec/changelog.toml``);
* a retired ID is never declared again, and what replaces it is declared.

The changelog page (``claims:changelog``) lists, per release, what was added, changed and
retired, computed from the records, with the notes of ``spec/changelog.toml``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

from .invariants import INVARIANTS
from .rules import RULES

HERE: Final = Path(__file__).parent
RECORDS: Final = HERE / "releases"
"""One ``<version>.json`` per release."""
CHANGELOG: Final = HERE / "changelog.toml"
_VERSION: Final = re.compile(r"^\d+\.\d+\.\d+$")

Entry = dict[str, Any]
Record = dict[str, Entry]
"""ID (rule or invariant label, which start with ``inv-``) to its recorded fields."""


def version_key(version: str) -> tuple[int, ...]:
    """``"0.10.1"`` as ``(0, 10, 1)``, to order releases.

    :raises ValueError: *version* is not ``MAJOR.MINOR.PATCH``.
    """
    if not _VERSION.match(version):
        raise ValueError(f"version={version!r} is not MAJOR.MINOR.PATCH")
    return tuple(int(part) for part in version.split("."))


def digest(text: str) -> str:
    """The digest a record keeps of a statement (its first 16 hex digits of SHA-256)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def snapshot() -> Record:
    """The record of the model as it is: every rule, then every invariant."""
    record: Record = {
        r.id: {"outcome": r.outcome, "designs": sorted(r.designs), "statement": digest(r.statement)}
        for r in RULES.values()
    }
    for inv in INVARIANTS.values():
        kind = "soft invariant" if inv.soft else "invariant"
        record[inv.label] = {
            "outcome": f"{kind}: {inv.formula}",
            "statement": digest(f"{inv.title}\n{inv.statement}"),
        }
    return record


def records(directory: Path | None = None) -> dict[str, Record]:
    """Every committed record by version, oldest first."""
    found = {}
    for path in (directory or RECORDS).glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[data["version"]] = data["objects"]
    return dict(sorted(found.items(), key=lambda item: version_key(item[0])))


def write_record(version: str, directory: Path | None = None) -> Path:
    """Write the record of the model as release *version*, one ID a line (so that a merge
    of two rule changes touches two lines); return its path."""
    version_key(version)
    path = (directory or RECORDS) / f"{version}.json"
    lines = [
        f"  {json.dumps(id)}: {json.dumps(entry, sort_keys=True, ensure_ascii=False)}"
        for id, entry in sorted(snapshot().items())
    ]
    text = f'{{"version": {json.dumps(version)}, "objects": {{\n' + ",\n".join(lines) + "\n}}\n"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass(frozen=True)
class Retired:
    """An ID that is gone: since which release, what replaced it, and why."""

    id: str
    since: str
    replaced_by: tuple[str, ...]
    note: str


@dataclass
class Release:
    """One release of the changelog: its notes, and what it added, changed and retired.

    :param version: ``MAJOR.MINOR.PATCH``.
    :param date: when it was tagged (empty: not yet).
    :param changed: the changed ID with the fields that changed and the note.
    """

    version: str
    date: str
    summary: str
    notes: dict[str, str] = field(default_factory=dict)
    retired: dict[str, Retired] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    gone: list[str] = field(default_factory=list)


def changelog(path: Path | None = None) -> dict[str, Release]:
    """The releases of ``spec/changelog.toml`` by version, as written (notes only)."""
    data = tomllib.loads((path or CHANGELOG).read_text(encoding="utf-8"))
    releases = {}
    for item in data.get("release", []):
        version = str(item["version"])
        retired = {
            id: Retired(id, version, tuple(entry.get("replaced_by", ())), entry.get("note", ""))
            for id, entry in item.get("retired", {}).items()
        }
        releases[version] = Release(
            version,
            str(item.get("date", "")),
            item.get("summary", ""),
            dict(item.get("changed", {})),
            retired,
        )
    return releases


def diff(old: Record, new: Record) -> tuple[list[str], dict[str, list[str]], list[str]]:
    """What *new* added to *old*, changed (ID to the fields), and no longer has."""
    added = [id for id in new if id not in old]
    changed = {
        id: [
            key
            for key in sorted(set(old[id]) | set(new[id]))
            if old[id].get(key) != new[id].get(key)
        ]
        for id in new
        if id in old and old[id] != new[id]
    }
    return (
        added,
        {id: keys for id, keys in changed.items() if keys},
        [id for id in old if id not in new],
    )


def retired_ids(releases: dict[str, Release] | None = None) -> dict[str, Retired]:
    """Every retired ID, from the changelog."""
    found: dict[str, Retired] = {}
    for release in (changelog() if releases is None else releases).values():
        found.update(release.retired)
    return found


def history(
    version: str, recorded: dict[str, Record], releases: dict[str, Release], model: Record
) -> list[Release]:
    """The releases up to *version*, oldest first, each with what it added, changed and
    retired against the one before; *version* itself compares the *model* when it has no
    record yet (a release in the making)."""
    steps = [(v, r) for v, r in recorded.items() if version_key(v) <= version_key(version)]
    if version not in recorded:
        steps.append((version, model))
    result = []
    previous: Record = {}
    for v, record in steps:
        release = releases.get(v) or Release(v, "", "")
        release.added, release.changed, release.gone = diff(previous, record)
        result.append(release)
        previous = record
    return result


def problems(
    version: str,
    recorded: dict[str, Record] | None = None,
    releases: dict[str, Release] | None = None,
    model: Record | None = None,
) -> list[str]:
    """What keeps *version* of the model from matching its records and changelog (none:
    a release can be cut, or the working state is consistent)."""
    recorded = records() if recorded is None else recorded
    releases = changelog() if releases is None else releases
    model = snapshot() if model is None else model
    found = []
    newest = next(reversed(recorded), None)
    if newest is not None and version_key(newest) > version_key(version):
        found.append(f"release {newest} is recorded, but the version is {version}")
    if version in recorded:
        added, changed, gone = diff(recorded[version], model)
        if added or changed or gone:
            what = "; ".join(
                f"{label}: {', '.join(ids)}"
                for label, ids in (("added", added), ("changed", list(changed)), ("gone", gone))
                if ids
            )
            found.append(
                f"the model differs from the record of release {version} ({what}). Before "
                f"{version} is tagged, write the record again: python -m spec release record "
                "--replace; once it is tagged, bump spec.__version__ and add the release "
                "to spec/changelog.toml"
            )
    for release in history(version, recorded, releases, model):
        if (release.changed or release.gone) and release.version not in releases:
            found.append(
                f"release {release.version} changes released rules but has no "
                "[[release]] entry in spec/changelog.toml"
            )
            continue
        for id, keys in release.changed.items():
            if id not in release.notes:
                found.append(
                    f"{id} changed ({', '.join(keys)}) in {release.version}: say why "
                    "under [release.changed] in spec/changelog.toml"
                )
        for id in release.gone:
            if id not in release.retired:
                found.append(
                    f"{id} is gone in {release.version}: add it under "
                    "[release.retired] with what replaced it (replaced_by)"
                )
    for retired in retired_ids(releases).values():
        if retired.id in model:
            found.append(f"{retired.id} was retired in {retired.since} and is declared again")
        unknown = [id for id in retired.replaced_by if id not in model]
        if unknown:
            found.append(
                f"{retired.id} is replaced by {', '.join(unknown)}, which the model "
                "does not declare"
            )
    return found


# --- python -m spec release --------------------------------------------------------------


def main(argv: Sequence[str], out: TextIO, err: TextIO) -> int:
    """``python -m spec release check | record [--replace]``."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="python -m spec release",
        description="Check the model against the records of its releases and the changelog "
        "(check), or write the record of this version (record). docs/releases.rst says how "
        "a release is cut.",
    )
    parser.add_argument("action", choices=["check", "record"])
    parser.add_argument(
        "--replace",
        action="store_true",
        help="record: write the record of this version again (only before it is tagged)",
    )
    args = parser.parse_args(argv)
    if args.action == "record":
        path = RECORDS / f"{__version__}.json"
        if path.exists() and not args.replace and records().get(__version__) != snapshot():
            print(
                f"python -m spec release: {path.name} records release {__version__} as it "
                "was; --replace writes it again (only before the release is tagged), else "
                "bump spec.__version__",
                file=err,
            )
            return 2
        write_record(__version__)
        print(
            f"wrote {path} ({len(snapshot())} rules and invariants)",
            file=out,
        )
    found = problems(__version__)
    for problem in found:
        print(f"- {problem}", file=err if args.action == "record" else out)
    if not found:
        print(f"{__version__}: the model matches its records and spec/changelog.toml", file=out)
    return 1 if found else 0
