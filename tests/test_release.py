"""Releases (spec/release.py): the committed records hold the model, the changelog says
why a released rule changed or went, and ``python -m spec cite`` pins its link."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sphinx.testing.util import SphinxTestApp
from test_cli import spec as run_cli

import spec
import sphinx_claims
from spec import release
from spec.release import Release, Retired, problems, snapshot

pytest_plugins = ["sphinx.testing.fixtures"]
ROOTS = Path(__file__).parent / "roots"
V = spec.__version__


def test_the_model_matches_the_record_of_its_release() -> None:
    """The test a rule change without a version bump fails (see docs/releases.rst)."""
    assert problems(V) == [], "\n".join(problems(V))
    assert V in release.records()
    assert sphinx_claims.__version__ == V  # one wheel, one version


def changed_statement(model: dict[str, dict[str, object]], id: str) -> dict[str, dict[str, object]]:
    model = json.loads(json.dumps(model))
    model[id]["statement"] = "0" * 16
    return model


def test_a_changed_rule_needs_a_version_bump_and_a_note() -> None:
    recorded = {"0.1.0": snapshot()}
    model = changed_statement(snapshot(), "set-duplicate-node")
    found = problems("0.1.0", recorded, {"0.1.0": Release("0.1.0", "", "")}, model)
    assert len(found) == 1
    assert "differs from the record of release 0.1.0 (changed: set-duplicate-node)" in found[0]
    assert "python -m spec release record --replace" in found[0]
    # bumped, but no changelog entry, then no note, then a note
    assert problems("0.2.0", recorded, {}, model) == [
        "release 0.2.0 changes released rules but has no [[release]] entry in spec/changelog.toml"
    ]
    releases = {"0.2.0": Release("0.2.0", "", "")}
    assert problems("0.2.0", recorded, releases, model) == [
        "set-duplicate-node changed (statement) in 0.2.0: say why under [release.changed] "
        "in spec/changelog.toml"
    ]
    releases["0.2.0"].notes["set-duplicate-node"] = "names the node"
    assert problems("0.2.0", recorded, releases, model) == []
    # an older version than a recorded release is refused
    assert problems("0.0.9", recorded, releases, snapshot())[0].startswith("release 0.1.0 is")


def test_a_dropped_id_is_retired_with_what_replaced_it() -> None:
    recorded = {"0.1.0": snapshot()}
    model = snapshot()
    del model["set-duplicate-node"]
    releases = {"0.2.0": Release("0.2.0", "", "")}
    assert problems("0.2.0", recorded, releases, model) == [
        "set-duplicate-node is gone in 0.2.0: add it under [release.retired] with what "
        "replaced it (replaced_by)"
    ]
    retire = Retired("set-duplicate-node", "0.2.0", ("set-unknown-node",), "merged")
    releases["0.2.0"].retired["set-duplicate-node"] = retire
    assert problems("0.2.0", recorded, releases, model) == []
    releases["0.2.0"].retired["set-duplicate-node"] = Retired(
        "set-duplicate-node", "0.2.0", ("set-nowhere",), ""
    )
    assert problems("0.2.0", recorded, releases, model) == [
        "set-duplicate-node is replaced by set-nowhere, which the model does not declare"
    ]
    # an ID is never declared again
    assert problems("0.2.0", recorded, releases, snapshot())[0] == (
        "set-duplicate-node was retired in 0.2.0 and is declared again"
    )


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The records and changelog, copied: the commands write there, not in spec/."""
    shutil.copytree(release.RECORDS, tmp_path / "releases")
    toml = (release.CHANGELOG).read_text() + (
        '\n[release.retired.set-duplicate-entry]\nreplaced_by = ["set-duplicate-node"]\n'
        'note = "An example of a retired ID."\n'
    )
    (tmp_path / "changelog.toml").write_text(toml)
    monkeypatch.setattr(release, "RECORDS", tmp_path / "releases")
    monkeypatch.setattr(release, "CHANGELOG", tmp_path / "changelog.toml")
    return tmp_path


def test_the_record_command_writes_the_model_and_refuses_to_rewrite_a_release(
    scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = scratch / "releases" / f"{V}.json"
    path.unlink()
    run = run_cli("release", "record")
    assert run.returncode == 0, run.stderr
    assert release.records() == {V: snapshot()}
    assert json.loads(path.read_text())["version"] == V
    assert run_cli("release", "check").stdout.endswith(
        "matches its records and spec/changelog.toml\n"
    )
    # a released rule changed: the record is not rewritten without --replace
    monkeypatch.setattr(
        release, "snapshot", lambda: changed_statement(snapshot(), "set-duplicate-node")
    )
    run = run_cli("release", "check")
    assert run.returncode == 1 and "(changed: set-duplicate-node)" in run.stdout
    run = run_cli("release", "record")
    assert run.returncode == 2 and "--replace writes it again" in run.stderr
    assert run_cli("release", "record", "--replace").returncode == 0
    assert release.records()[V]["set-duplicate-node"]["statement"] == "0" * 16


def test_cite_pins_the_release_and_says_what_replaced_a_retired_id(scratch: Path) -> None:
    site = "https://xen-claims-spec.readthedocs.io/en"
    run = run_cli("cite", "set-duplicate-node")
    assert run.stdout.splitlines()[-1] == f"  {site}/{V}/rule/set-duplicate-node.html"
    assert run_cli("cite", "set-duplicate-node", "--latest").stdout.splitlines()[-1] == (
        f"  {site}/latest/rule/set-duplicate-node.html"
    )
    run = run_cli("cite", "set-duplicate-entry")
    assert run.returncode == 0
    assert run.stdout.splitlines() == [
        f"[set-duplicate-entry] retired in release {V}",
        "  An example of a retired ID.",
        "  Replaced by: set-duplicate-node",
        f"  {site}/{V}/rule/set-duplicate-entry.html",
        f"  {site}/{V}/rule/set-duplicate-node.html",
    ]


@pytest.fixture
def small(sphinx_test_tempdir: Path, scratch: Path) -> Iterator[SphinxTestApp]:
    srcdir = sphinx_test_tempdir / "release-small"
    shutil.rmtree(srcdir, ignore_errors=True)
    shutil.copytree(ROOTS / "test-claims-small", srcdir)
    (srcdir / "changelog.rst").write_text("Changes\n=======\n\n.. claims:changelog::\n")
    app = SphinxTestApp("html", srcdir=srcdir, freshenv=True)
    app.build()
    yield app
    app.cleanup()


def test_a_retired_id_keeps_its_page_and_the_changelog_lists_the_release(
    small: SphinxTestApp,
) -> None:
    page = (small.outdir / "rule" / "set-duplicate-entry.html").read_text()
    assert f"set-duplicate-entry: retired in release {V}" in page
    assert '<a href="set-duplicate-node.html">set-duplicate-node</a>' in page
    assert (small.outdir / "rule" / "set-duplicate-node.html").is_file()
    changes = (small.outdir / "changelog.html").read_text()
    assert f'id="release-{V.replace(".", "-")}"' in changes
    assert f"Added: {sum(1 for r in spec.RULES)} rules" in changes
