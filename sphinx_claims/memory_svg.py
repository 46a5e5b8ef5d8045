"""Draw a host's memory as SVG: one bar per NUMA node, split by what holds each page.

:func:`layout` reads a :class:`spec.Host` (any :class:`spec.state.HostState`) and splits
each online node's pages, left to right, into

* pages **allocated** to each domain (``Page.owner``; solid, in the domain's colour),
  anonymous allocations, frames kept by Xen at boot and offlined frames (grey);
* free pages held by each domain's **node claim** (``d.claims[n]``; striped, in the
  domain's colour);
* free pages covered by **host-wide claims** (dotted). Host-wide claims
  (``d.outstanding_pages - d.node_claims``) belong to no node; the picture spreads their
  sum over the nodes in proportion to the free pages that node claims leave on each
  (largest remainder, ties to the lower node), and says so in its description;
* **unclaimed** free pages (blank).

Claims larger than the free pages they should fit in (the model's invariants
``inv-node`` and ``inv-host-satisfiable`` forbid it; a script that breaks them shows it)
are drawn past the end of the bar with a dashed outline.

:func:`render_svg` draws a layout. Kinds differ by pattern and by a text label, never by
colour alone; domains by colour and by their ``d1``/``d2`` label. The drawing uses
``currentColor`` for everything that is not a domain colour, so it follows the page's
text colour in light and dark themes; the domain colours are the Okabe-Ito palette,
which colour-blind readers can tell apart. Every picture has a ``<title>`` and a
``<desc>`` that say in words what it shows, and every segment a ``<title>`` (a tooltip).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from spec.state import HostState

Kind = Literal["allocated", "anonymous", "xen", "offline", "node-claim", "host-claim", "free"]

KINDS: Final[tuple[Kind, ...]] = (
    "allocated",
    "anonymous",
    "xen",
    "offline",
    "node-claim",
    "host-claim",
    "free",
)
"""Segment kinds in the order a bar shows them."""

KIND_NAMES: Final[dict[Kind, str]] = {
    "allocated": "allocated",
    "anonymous": "allocated without a domain",
    "xen": "kept by Xen",
    "offline": "offlined",
    "node-claim": "node claim",
    "host-claim": "covered by host-wide claims",
    "free": "unclaimed free",
}
"""How the legend and the descriptions name each kind."""

PALETTE: Final = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
"""Okabe-Ito colours, one per domain (domid 1 takes the first), cycling."""


def domain_colour(domid: int) -> str:
    """The fill colour of domain *domid* (0: no domain, the text colour, for the legend)."""
    return "currentColor" if domid == 0 else PALETTE[(domid - 1) % len(PALETTE)]


@dataclass(frozen=True, slots=True)
class Segment:
    """*pages* pages of one *kind*, held by domain *domid* (None: no domain)."""

    kind: Kind
    pages: int
    domid: int | None = None

    @property
    def name(self) -> str:
        """``domain 1 node claim``, ``unclaimed free``, ..."""
        base = KIND_NAMES[self.kind]
        return f"domain {self.domid} {base}" if self.domid is not None else base


@dataclass(frozen=True, slots=True)
class NodeBar:
    """One node: *segments* fill its *size* pages; *over* lies beyond them.

    :param node: the node id.
    :param size: the node's pages (None: the node is not online).
    :param free: ``node_avail_pages[node]``.
    :param segments: the pages of the node, left to right; they add up to *size*.
    :param over: claims that do not fit in the node's free pages.
    """

    node: int
    size: int | None
    free: int
    segments: tuple[Segment, ...]
    over: tuple[Segment, ...] = ()

    def pages(self, kind: Kind, domid: int | None = None) -> int:
        """Pages of *kind* (held by *domid*, when given) in the bar, *over* included."""
        return sum(
            s.pages
            for s in (*self.segments, *self.over)
            if s.kind == kind and (domid is None or s.domid == domid)
        )


@dataclass(frozen=True, slots=True)
class Layout:
    """The whole picture: a bar per node and the host-wide claims.

    :param bars: one per node id, offline nodes included.
    :param host_claims: each domain's host-wide claim, by domid (zeros left out).
    :param host_excess: host-wide claims that the free pages left by node claims do not
        cover (0 while ``inv-host-satisfiable`` holds).
    :param design: the name of the host's design.
    """

    bars: tuple[NodeBar, ...]
    host_claims: dict[int, int] = field(default_factory=dict)
    host_excess: int = 0
    design: str = ""

    @property
    def domids(self) -> list[int]:
        """Every domain that holds a segment, ascending."""
        found = {s.domid for b in self.bars for s in (*b.segments, *b.over)}
        found.update(self.host_claims)
        return sorted(d for d in found if d is not None)

    @property
    def kinds(self) -> list[Kind]:
        """The kinds that occur, in :data:`KINDS` order."""
        found = {s.kind for b in self.bars for s in (*b.segments, *b.over) if s.pages}
        return [k for k in KINDS if k in found]


def spread(total: int, rooms: Sequence[int]) -> list[int]:
    """Split *total* over *rooms* in proportion to them (largest remainder method).

    Each share is at most its room; ties in the remainder go to the lower index. If
    *total* exceeds the sum of the rooms, every room is filled and the rest is left out.

    >>> spread(3, [4, 4])
    [2, 1]
    >>> spread(5, [6, 0, 2])
    [4, 0, 1]
    """
    room = sum(rooms)
    if total >= room:
        return list(rooms)
    shares = [total * r // room for r in rooms]
    left = total - sum(shares)
    order = sorted(range(len(rooms)), key=lambda i: (-(total * rooms[i] % room), i))
    for i in order[:left]:
        shares[i] += 1
    return shares


def layout(host: HostState) -> Layout:
    """Split each node of *host* into segments (see the module docstring)."""
    nodes = range(len(host.heaps))
    allocated: dict[tuple[int, int | None], int] = {}
    for page in host.allocated.values():
        key = (page.node, page.owner)
        allocated[key] = allocated.get(key, 0) + page.nr_pages
    domains = list(host.iter_domains())
    node_claimed = [
        [(d.domid, d.claims[n]) for d in domains if n < len(d.claims) and d.claims[n]]
        for n in nodes
    ]
    rooms = [max(0, host.node_avail_pages[n] - sum(c for _, c in node_claimed[n])) for n in nodes]
    host_claims = {d.domid: d.host_claims for d in domains if d.host_claims}
    host_wide = sum(host_claims.values())
    shares = spread(host_wide, rooms)
    bars = []
    for n in nodes:
        heap = host.heaps[n]
        free = host.node_avail_pages[n]
        if heap is None:
            bars.append(NodeBar(n, None, free, ()))
            continue
        size = heap.end - heap.start
        segments: list[Segment] = []
        for domid in sorted({o for (node, o) in allocated if node == n and o is not None}):
            segments.append(Segment("allocated", allocated[(n, domid)], domid))
        used = sum(s.pages for s in segments)
        anonymous = allocated.get((n, None), 0)
        xen = sum(1 for p in host.reserved if heap.start <= p < heap.end)
        offline = sum(1 for p in host.offlined if heap.start <= p < heap.end)
        # Whatever is neither free nor accounted above is shown as kept by Xen.
        xen += max(0, size - free - used - anonymous - xen - offline)
        segments += [Segment("anonymous", anonymous), Segment("xen", xen)]
        segments.append(Segment("offline", offline))
        over: list[Segment] = []
        left = free
        for domid, claim in node_claimed[n]:
            inside = min(claim, left)
            segments.append(Segment("node-claim", inside, domid))
            if claim > inside:
                over.append(Segment("node-claim", claim - inside, domid))
            left -= inside
        segments.append(Segment("host-claim", shares[n]))
        segments.append(Segment("free", left - shares[n]))
        bars.append(NodeBar(n, size, free, tuple(s for s in segments if s.pages), tuple(over)))
    return Layout(tuple(bars), host_claims, host_wide - sum(shares), host.design.name)


# --- text -------------------------------------------------------------------------------


def _amount(pages: int) -> str:
    return f"{pages} page" if pages == 1 else f"{pages} pages"


def node_summary(bar: NodeBar) -> str:
    """One line of text for a node: what each segment holds, in bar order."""
    if bar.size is None:
        return f"node {bar.node}: not online"
    parts = []
    for s in bar.segments:
        who = f"d{s.domid} " if s.domid is not None else ""
        share = " (its share of the free pages node claims leave)" if s.kind == "host-claim" else ""
        parts.append(f"{who}{KIND_NAMES[s.kind]} {s.pages}{share}")
    for s in bar.over:
        parts.append(f"d{s.domid} node claim {s.pages} beyond the free pages")
    return f"node {bar.node}, {_amount(bar.size)}: " + ", ".join(parts)


def host_summary(picture: Layout) -> str:
    """One line of text about the host-wide claims (empty when there are none)."""
    if not picture.host_claims:
        return ""
    held = ", ".join(f"d{d} {p}" for d, p in sorted(picture.host_claims.items()))
    text = f"host-wide claims: {held}"
    if picture.host_excess:
        text += f"; {picture.host_excess} beyond the free pages that node claims leave"
    return text


def describe(picture: Layout) -> str:
    """A full description in words (the SVG ``<desc>``, and the text of other builders)."""
    lines = [node_summary(b) + "." for b in picture.bars]
    host = host_summary(picture)
    if host:
        lines.append(
            host + ". Host-wide claims belong to no node: the picture spreads them over "
            "the nodes in proportion to the free pages that node claims leave."
        )
    return "\n".join(lines)


# --- SVG --------------------------------------------------------------------------------

WIDTH: Final = 600
LABEL_W: Final = 64
BAR_X: Final = LABEL_W + 4
BAR_H: Final = 26
ROW_H: Final = 56
FONT: Final = 12
CHAR_W: Final = 6.9  # the width of a character of the labels, near enough
SUMMARY_CHARS: Final = 84
SUMMARY_CHAR_W: Final = 6.6  # a character of the 12 px summaries, near enough
LINE_H: Final = 15

LABEL_STYLE: Final = 'class="claims-label" style="fill: currentColor"'
PLATE_STYLE: Final = (
    'class="claims-label-plate" rx="3" '
    'style="fill: var(--color-background-primary, #fff); fill-opacity: 0.9"'
)
"""Labels in the bars: the text colour on a plate of the page's background colour, so
they read on stripes, dots and domain colours alike, in light and dark themes."""
WHY_THERE: Final = (
    "dotted: they belong to no node; drawn over the nodes in proportion to the free pages "
    "node claims leave"
)
"""Why a node shows host-wide claims, on every picture that draws some."""


def _labels(s: Segment) -> list[str]:
    """Candidate labels of a segment, longest first."""
    who = f"d{s.domid}" if s.domid is not None else ""
    n = s.pages
    return {
        "allocated": [f"{who} allocated {n}", f"{who}: {n}", who],
        "anonymous": [f"anonymous {n}", "anon", "a"],
        "xen": [f"Xen {n}", "Xen", "X"],
        "offline": [f"offline {n}", "off", "o"],
        "node-claim": [f"{who} claim {n}", f"{who} claim", f"{who}c"],
        "host-claim": [f"host-wide {n}", "host", "h"],
        "free": [f"free {n}", "free", ""],
    }[s.kind]


def _fit(candidates: Iterable[str], width: float) -> str:
    for text in candidates:
        if text and len(text) * CHAR_W + 6 <= width:
            return text
    return ""


def _fill(s: Segment, uid: str) -> str:
    """The fill and stroke attributes of a segment."""
    outline = 'stroke="currentColor" stroke-width="1"'
    if s.kind == "allocated" and s.domid is not None:
        return f'fill="{domain_colour(s.domid)}" {outline}'
    if s.kind == "node-claim" and s.domid is not None:
        return f'fill="url(#{uid}-claim-{s.domid})" {outline}'
    if s.kind == "host-claim":
        return f'fill="url(#{uid}-host)" {outline}'
    if s.kind == "anonymous":
        return f'fill="url(#{uid}-anon)" {outline}'
    if s.kind == "offline":
        return f'fill="url(#{uid}-offline)" {outline}'
    if s.kind == "xen":
        return f'fill="url(#{uid}-xen)" {outline}'
    return f'fill="none" {outline}'


def patterns(uid: str, domids: Iterable[int]) -> list[str]:
    """The ``<pattern>`` definitions a picture with *uid* uses."""
    defs = []
    for domid in domids:
        colour = domain_colour(domid)
        defs.append(
            f'<pattern id="{uid}-claim-{domid}" width="8" height="8" '
            'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            f'<rect width="8" height="8" fill="{colour}" fill-opacity="0.25"/>'
            f'<rect width="4" height="8" fill="{colour}"/></pattern>'
        )
    defs.append(
        f'<pattern id="{uid}-host" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<circle cx="3" cy="3" r="1.3" fill="currentColor" fill-opacity="0.8"/></pattern>'
    )
    defs.append(
        f'<pattern id="{uid}-anon" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(-45)">'
        '<rect width="2" height="6" fill="currentColor" fill-opacity="0.6"/></pattern>'
    )
    defs.append(
        f'<pattern id="{uid}-xen" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<rect width="6" height="2" fill="currentColor" fill-opacity="0.6"/></pattern>'
    )
    defs.append(
        f'<pattern id="{uid}-offline" width="8" height="8" patternUnits="userSpaceOnUse">'
        '<path d="M0 0L8 8M8 0L0 8" stroke="currentColor" stroke-width="1.2"/></pattern>'
    )
    return defs


def _wrap(text: str, width: int = SUMMARY_CHARS) -> list[str]:
    """Split a summary into lines of at most *width* characters: at its commas, and a
    part longer than a line at its spaces too (a word longer than a line stays whole).
    Every line but the first is indented by two spaces."""
    lines: list[str] = []
    for part in text.split(", "):
        if lines and len(lines[-1]) + len(part) + 2 <= width:
            lines[-1] += ", " + part
        else:
            indent = "  " if lines else ""
            lines += textwrap.wrap(
                part, width, initial_indent=indent, subsequent_indent="  ", break_long_words=False
            ) or [indent + part]
    return lines


def render_svg(
    picture: Layout, uid: str, title: str, *, stopped: bool = False, width: int = WIDTH
) -> str:
    """Draw *picture* as an inline ``<svg>`` element.

    :param uid: a prefix that makes the ids of this picture unique in its page.
    :param title: the accessible name (the ``<title>``), for example the step's call.
    :param stopped: draw the frame of a step where the script stopped.
    :param width: the width in pixels (the pictures shrink to fit a narrow column).
    """
    sized = [b for b in picture.bars if b.size is not None]
    widest = max(((b.size or 0) + sum(s.pages for s in b.over) for b in sized), default=1)
    scale = (width - BAR_X - 10) / max(widest, 1)
    chars = int((width - BAR_X) / SUMMARY_CHAR_W)
    body: list[str] = []
    y = 8
    for bar in picture.bars:
        size = "" if bar.size is None else f' data-size="{bar.size}"'
        body.append(f'<g class="claims-node" data-node="{bar.node}"{size}>')
        body.append(
            f'<text x="{LABEL_W - 4}" y="{y + BAR_H / 2 + FONT / 2 - 2:.0f}" '
            f'text-anchor="end" font-weight="bold" fill="currentColor">node {bar.node}</text>'
        )
        if bar.size is None:
            body.append(
                f'<text x="{BAR_X}" y="{y + BAR_H / 2 + FONT / 2 - 2:.0f}" '
                'fill="currentColor" font-style="italic">not online</text></g>'
            )
            y += ROW_H - 20
            continue
        x = float(BAR_X)
        for s, beyond in [(s, False) for s in bar.segments] + [(s, True) for s in bar.over]:
            w = s.pages * scale
            dash = ' stroke-dasharray="4 2"' if beyond else ""
            extra = " beyond the node's free pages" if beyond else ""
            cls = f"claims-seg claims-seg-{s.kind}" + (" claims-seg-over" if beyond else "")
            data = f'data-kind="{s.kind}" data-pages="{s.pages}"'
            if s.domid is not None:
                data += f' data-domid="{s.domid}"'
            body.append(
                f'<g class="{cls}" {data}>'
                f"<title>{escape(s.name)}: {_amount(s.pages)}{extra}</title>"
                f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{BAR_H}" '
                f"{_fill(s, uid)}{dash}/>"
            )
            text = _fit(_labels(s), w)
            if text:
                plate = len(text) * CHAR_W + 4
                body.append(
                    f'<rect x="{x + (w - plate) / 2:.2f}" y="{y + (BAR_H - FONT - 4) / 2:.0f}" '
                    f'width="{plate:.2f}" height="{FONT + 4}" {PLATE_STYLE}/>'
                    f'<text x="{x + w / 2:.2f}" y="{y + BAR_H / 2 + FONT / 2 - 2:.0f}" '
                    f'text-anchor="middle" {LABEL_STYLE}>{escape(text)}</text>'
                )
            body.append("</g>")
            x += w
        summary = _wrap(node_summary(bar).split(": ", 1)[1], chars)
        for i, line in enumerate(summary):
            body.append(
                f'<text x="{BAR_X}" y="{y + BAR_H + 15 + LINE_H * i}" class="claims-summary" '
                f'fill="currentColor">{escape(line)}</text>'
            )
        body.append("</g>")
        y += ROW_H + LINE_H * (len(summary) - 1)
    host = host_summary(picture)
    if host:
        for line in _wrap(f"{host} ({WHY_THERE})", chars):
            body.append(
                f'<text x="{BAR_X}" y="{y + 4}" class="claims-summary" fill="currentColor">'
                f"{escape(line)}</text>"
            )
            y += LINE_H
        y += 6
    height = y
    if stopped:
        body.append(
            f'<rect x="1" y="1" width="{width - 2}" height="{height - 2}" fill="none" '
            'stroke="#D55E00" stroke-width="2" stroke-dasharray="6 3"/>'
        )
    defs = "".join(patterns(uid, picture.domids))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="claims-memory" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="{FONT}" '
        f'aria-labelledby="{uid}-title {uid}-desc">'
        f'<title id="{uid}-title">{escape(title)}</title>'
        f'<desc id="{uid}-desc">{escape(describe(picture))}</desc>'
        f"<defs>{defs}</defs>{''.join(body)}</svg>"
    )


def render_legend(uid: str, kinds: Sequence[Kind], domids: Sequence[int]) -> str:
    """A legend for the kinds and domains a scenario shows, as an inline ``<svg>``."""

    def item(kind: Kind) -> tuple[str, Segment]:
        if kind in _DOMAIN_KINDS:  # drawn in the text colour here, in the domain's in a bar
            how = "solid" if kind == "allocated" else "striped"
            return f"{KIND_NAMES[kind]} ({how}, in the domain's colour)", Segment(kind, 1, 0)
        return KIND_NAMES[kind], Segment(kind, 1)

    items = [item(k) for k in kinds]
    items += [(f"domain {d} (d{d})", Segment("allocated", 1, d)) for d in domids]
    body = []
    x = 4.0
    y = 4
    for text, s in items:
        width = 26 + len(text) * CHAR_W + 14
        if x + width > WIDTH and x > 4:
            x, y = 4.0, y + 22
        body.append(
            f'<rect x="{x:.1f}" y="{y}" width="22" height="16" {_fill(s, uid)}/>'
            f'<text x="{x + 27:.1f}" y="{y + 12}" fill="currentColor">{escape(text)}</text>'
        )
        x += width
    height = y + 22
    names = "; ".join(text for text, _ in items)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="claims-legend" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'font-family="sans-serif" font-size="{FONT}" aria-labelledby="{uid}-title">'
        f'<title id="{uid}-title">Legend: {escape(names)}</title>'
        f"<defs>{''.join(patterns(uid, [0, *domids]))}</defs>{''.join(body)}</svg>"
    )


_DOMAIN_KINDS: Final = frozenset({"allocated", "node-claim"})
