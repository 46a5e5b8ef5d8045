"""Source tags in plain text (``[V7]``, ``[UPc]``) become links to the Sources page.

The model's records cite their sources with tags (``[V7] page_alloc.c``), and the
directives render those records as text. A reST page links a tag with a citation
reference (``[V7]_``); this post-transform gives every other occurrence the same link, on
every page and in every parser (MyST pages included): the text ``[TAG]`` becomes a link
to the citation ``.. [TAG]`` of whichever page declares it. A project without such a
citation keeps the text as it is (no warning: the tags are the model's, the Sources page
is the site's). Text that is code (literals, code blocks, raw output) or already a link
is left alone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final, cast

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.nodes import make_refnode

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.domains.citation import CitationDomain
    from sphinx.util.typing import ExtensionMetadata

TAG: Final = re.compile(r"\[([A-Z][A-Z0-9]*(?:-[0-9]+)?c?)\]")
"""A source tag as the Sources page declares them: ``[D3]``, ``[V7-0]``, ``[UPc]``."""

SKIP: Final = (
    nodes.FixedTextElement,  # literal blocks, doctests
    nodes.literal,
    nodes.raw,
    nodes.comment,
    nodes.reference,
    nodes.citation,
    nodes.target,
    nodes.substitution_definition,
    addnodes.pending_xref,
    addnodes.desc_signature,
)


def _skipped(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, SKIP):
            return True
        parent = parent.parent
    return False


class SourceTags(SphinxPostTransform):
    """Link ``[TAG]`` in text to the citation that declares the tag."""

    default_priority = 20  # after the references are resolved

    def apply(self, **kwargs: Any) -> None:
        domain = cast("CitationDomain", self.env.get_domain("citation"))
        citations = domain.citations
        if not citations:
            return
        for text in list(self.document.findall(nodes.Text)):
            parent = text.parent
            if parent is None or not TAG.search(str(text)) or _skipped(text):
                continue
            replacement = self.link_tags(str(text), citations)
            if replacement is not None:
                parent.replace(text, replacement)

    def link_tags(
        self, value: str, citations: dict[str, tuple[str, str, int]]
    ) -> list[nodes.Node] | None:
        """The nodes that replace the text *value*, each declared tag a link (None: none)."""
        parts: list[nodes.Node] = []
        last = 0
        for found in TAG.finditer(value):
            target = citations.get(found.group(1))
            if target is None:
                continue
            docname, labelid, _ = target
            parts.append(nodes.Text(value[last : found.start()]))
            content = nodes.inline(found.group(0), found.group(0))
            parts.append(
                make_refnode(self.app.builder, self.env.docname, docname, labelid, content)
            )
            last = found.end()
        if not parts:
            return None
        parts.append(nodes.Text(value[last:]))
        return [p for p in parts if not isinstance(p, nodes.Text) or str(p)]


def setup(app: Sphinx) -> ExtensionMetadata:
    """Register the transform."""
    app.add_post_transform(SourceTags)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
