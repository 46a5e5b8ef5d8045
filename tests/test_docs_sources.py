"""The Sources page (docs/sources.rst): every entry can be opened, every tag links to it.

Built once, as ``nox -s docs`` builds it (the ``html`` fixture of test_docs_citing):

* each citation of the Sources page holds a link out of the site (a list archive page, a
  Message-ID at lore.kernel.org, a repository and commit);
* a tag in plain text, such as the ``[V7]`` that starts a rule's source, is a link to its
  entry on every page, MyST pages included (sphinx_claims/citations.py);
* no page names a file that is not in the repository (the team's own notes,
  ``claims-model.md``).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

from test_docs_citing import html as html  # the built site, once a session


def entries(html: Path) -> dict[str, str]:
    """The HTML of each citation of the Sources page, by tag."""
    page = (html / "sources.html").read_text()
    found = re.findall(
        r'<div class="citation" id="([^"]+)"[^>]*>(.*?)</div>', page, flags=re.DOTALL
    )
    assert found, "no citation on sources.html"
    return {
        re.sub(r"<[^>]+>", "", body).split("]")[0].strip().strip("["): body for _, body in found
    }


def test_every_source_links_to_where_it_can_be_read(html: Path) -> None:
    found = entries(html)
    assert {"V7", "D3", "J7", "NT3", "ST7", "UPc", "XS9"} <= found.keys()
    assert len(found) == 24
    unlinked = [tag for tag, body in found.items() if 'class="reference external"' not in body]
    assert unlinked == []
    # a mail is named by its Message-ID, which the link opens in the list's archive
    assert "lore.kernel.org/xen-devel/ddcc692d642aaf6dec84dcdb17ebaf2b8c09c7b0" in found["V7"]
    assert "github.com/xen-project/xen/commit/44adbac3c7" in found["V7-1"]


def test_a_tag_in_plain_text_links_to_its_entry(html: Path) -> None:
    page = (html / "hypercalls" / "XEN_DOMCTL_claim_memory.html").read_text()
    # the source of set-duplicate-node, rendered from the model's record on the line of its
    # ID (where Sphinx wraps text in <span class="pre">)
    link = re.compile(r'<a class="reference internal" href="\.\./sources\.html#v7">(.*?)</a>')
    (line,) = re.findall(r'<dt [^>]*id="set-duplicate-node">(.*?)</dt>', page, re.S)
    assert [re.sub(r"<[^>]+>", "", text) for text in link.findall(line)] == ["[V7]"]
    md = (html / "performance.html").read_text()  # a MyST page
    assert 'href="sources.html#xs9"><span>[XS9]</span></a>' in md
    for path in html.rglob("*.html"):
        if path.name not in ("search.html", "genindex.html"):
            assert unlinked_tags(path.read_text()) == [], path.name


class _Text(HTMLParser):
    """The text of a page outside links, code, scripts and citation labels."""

    OUT: ClassVar[frozenset[str]] = frozenset({"a", "pre", "code", "script", "style", "title"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[bool] = []  # per open element: whether it hides its text
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        label = tag == "span" and "label" in (dict(attrs).get("class") or "").split()
        if tag in self.OUT or tag == "span":
            self.open.append(tag in self.OUT or label)

    def handle_endtag(self, tag: str) -> None:
        if (tag in self.OUT or tag == "span") and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if not any(self.open):
            self.text.append(data)


def unlinked_tags(page: str) -> list[str]:
    """The source tags of *page* that are not links."""
    parser = _Text()
    parser.feed(page)
    return re.findall(
        r"\[(?:V[0-9]|D[0-9]|UPc?|ST[67]|NT3|OFF|J[67]|XS9)[-0-9]*\]", "".join(parser.text)
    )


def test_no_page_cites_a_file_outside_the_repository(html: Path) -> None:
    for path in html.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".txt"):
            assert "claims-model.md" not in path.read_text(errors="replace"), path
