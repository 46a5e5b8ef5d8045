"""The base class of the directives that render from the model.

It stands above :mod:`.facts` (what a page rendered) and :mod:`.util` (warnings, nodes),
so those two never import the directives.
"""

from __future__ import annotations

from collections.abc import Iterable

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from . import facts, model
from .util import INPUT, MODEL, model_failure, warn_at


class ModelDirective(SphinxDirective):
    """A directive that renders from the model: it records the model facts it renders
    for the page (:mod:`sphinx_claims.facts`) and reports bad input as located warnings.

    :meth:`fact_key` names the facts from the directive's own text (never from the
    model, so that a failure can be recorded too). Unless :attr:`notes_own_facts`, the
    key's digest is computed before :meth:`render`; a directive that computes the data
    anyway records it itself (:func:`sphinx_claims.facts.note_data`).
    """

    notes_own_facts = False

    def fact_key(self) -> str:
        raise NotImplementedError

    def fact_payload(self) -> object:
        """What computing the key needs besides the model (None: nothing)."""
        return None

    def run(self) -> list[nodes.Node]:
        key, payload = self.fact_key(), self.fact_payload()
        try:
            model.load()
            if not self.notes_own_facts:
                facts.note(self.env, key, payload)
            return self.render()
        except Exception as exc:  # a broken model must not stop the build (autobuild)
            facts.note_failed(self.env, key, payload)  # a fixed model re-reads this page
            self.warn(model_failure(exc), MODEL)
            return []

    def render(self) -> list[nodes.Node]:
        raise NotImplementedError

    def warn(self, message: str, subtype: str = INPUT) -> None:
        """Log a warning at this directive's file and line."""
        warn_at(self, message, subtype)

    def choose(self, option: str, value: str, choices: Iterable[str]) -> bool:
        """Return whether *value* is one of *choices*; warn if it is not."""
        allowed = list(choices)
        if value in allowed:
            return True
        self.warn(f"unknown {option} {value!r}; choose one of {', '.join(allowed)}")
        return False
