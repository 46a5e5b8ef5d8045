"""What a reader of a page sees, as figures: diagram text size, dark-mode brightness, height.

Used by :mod:`check_site` (``nox -s browser``), which prints the figures of every page and
fails a page whose figure misses its target:

* **smallest diagram text**: the font size, in CSS px, of the smallest text of every
  diagram a reader sees on the page (Graphviz diagrams, inline SVG pictures and SVG
  ``<object>`` documents), as drawn, after any scaling of the picture; at 1280 px and at
  390 px wide (a phone: the diagram scrolls in its frame instead of shrinking);
* **dark luminance**: in dark mode, the mean relative luminance (WCAG, 0 black to 1
  white) of the pixels of each diagram as the browser paints it, the brightest diagram
  of the page; a white box on a dark page is near 1;
* **height**: the page's height in CSS px at 1280 px wide.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Final

MIN_TEXT_PX: Final = 12.0
"""No diagram text smaller than this, in CSS px, at either width."""
MAX_DARK_LUMINANCE: Final = 0.2
"""In dark mode a diagram is dark: its mean luminance is at most this."""
MAX_HEIGHT_PX: Final = {
    "hypercalls/XEN_DOMCTL_claim_memory.html": 10_000,
    "implementation.html": 20_000,
}
"""Pages that must fit in this many CSS px at 1280 px wide."""
PHONE_WIDTH: Final = 390

PICTURES_JS: Final = """() => {
  // every diagram of the article: inline SVG pictures and SVG <object> documents,
  // marked with data-claims-figure so that Python can take a screenshot of each
  const out = [];
  let index = 0;
  const visible = (el) => el.getClientRects().length > 0;
  const mark = (el) => {
    el.dataset.claimsFigure = String(index++);
    return el.dataset.claimsFigure;
  };
  const roots = [];
  for (const el of document.querySelectorAll('article svg')) {
    if (el.closest('a.headerlink, button, .icon, .theme-toggle')) continue;
    if (el.parentElement && el.parentElement.closest('svg')) continue;
    if (!el.querySelector('text')) continue;
    roots.push([el, el]);
  }
  for (const el of document.querySelectorAll('article object')) {
    const root = el.contentDocument && el.contentDocument.documentElement;
    if (root && root.localName === 'svg') roots.push([el, root]);
  }
  for (const [frame, svg] of roots) {
    if (!visible(frame)) continue;
    let smallest = null, text = '';
    for (const t of svg.querySelectorAll('text')) {
      if (!t.textContent.trim() || !visible(t)) continue;
      const m = t.getScreenCTM();
      if (!m) continue;
      const style = t.ownerDocument.defaultView.getComputedStyle(t);
      const px = parseFloat(style.fontSize) * Math.hypot(m.a, m.b);
      if (smallest === null || px < smallest) { smallest = px; text = t.textContent.trim(); }
    }
    const name = frame.getAttribute('aria-label') || frame.getAttribute('data') ||
                 frame.getAttribute('class') || 'svg';
    out.push({id: mark(frame), name: name.slice(0, 60), smallest, text: text.slice(0, 40)});
  }
  return out;
}"""

OPEN_DETAILS_JS: Final = """() => {
  // what a click away holds (claims:more) is measured as a reader who opens it sees it
  for (const d of document.querySelectorAll('article details')) d.open = true;
}"""

LUMINANCE_JS: Final = """async (png) => {
  // mean WCAG relative luminance of a PNG screenshot, decoded by the browser
  const bytes = Uint8Array.from(atob(png), c => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes], {type: 'image/png'}));
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  const lin = (c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const table = Array.from({length: 256}, (_, c) => lin(c));
  let sum = 0;
  for (let i = 0; i < data.length; i += 4)
    sum += 0.2126 * table[data[i]] + 0.7152 * table[data[i + 1]] + 0.0722 * table[data[i + 2]];
  return sum / (data.length / 4);
}"""

NO_HORIZONTAL_SCROLL_JS: Final = (
    "() => document.documentElement.scrollWidth <= window.innerWidth + 1"
)


@dataclass
class PageFigures:
    """The figures of one page; ``None`` where the page has nothing to measure."""

    name: str
    height: int = 0
    text_px: float | None = None
    text_where: str = ""
    phone_text_px: float | None = None
    phone_where: str = ""
    phone_fits: bool = True
    dark_luminance: float | None = None
    dark_where: str = ""
    diagrams: int = 0

    def line(self) -> str:
        def px(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f} px"

        dark = "-" if self.dark_luminance is None else f"{self.dark_luminance:.3f}"
        return (
            f"{self.name}: {self.diagrams} diagrams, smallest text {px(self.text_px)} "
            f"at 1280 / {px(self.phone_text_px)} at {PHONE_WIDTH}, "
            f"dark luminance {dark}, height {self.height} px"
        )

    def misses(self) -> list[tuple[str, str]]:
        """``(target, detail)`` for every target this page misses."""
        found = []
        for width, value, where in (
            (1280, self.text_px, self.text_where),
            (PHONE_WIDTH, self.phone_text_px, self.phone_where),
        ):
            if value is not None and value < MIN_TEXT_PX - 0.05:
                target = f"diagram text >= {MIN_TEXT_PX:g} px at {width} px"
                found.append((target, f"{value:.1f} px: {where}"))
        if not self.phone_fits:
            found.append((f"no sideways scrolling of the page at {PHONE_WIDTH} px", "it scrolls"))
        if self.dark_luminance is not None and self.dark_luminance > MAX_DARK_LUMINANCE:
            found.append(
                (
                    f"diagrams dark in dark mode (luminance <= {MAX_DARK_LUMINANCE})",
                    f"{self.dark_luminance:.3f}: {self.dark_where}",
                )
            )
        limit = MAX_HEIGHT_PX.get(self.name)
        if limit is not None and self.height > limit:
            found.append((f"height <= {limit} px at 1280 px", f"{self.height} px"))
        return found


@dataclass
class Figures:
    """The figures of every page measured."""

    pages: list[PageFigures] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [page.line() for page in self.pages]


def _smallest(pictures: list[dict[str, Any]]) -> tuple[float | None, str]:
    sized = [p for p in pictures if p["smallest"] is not None]
    if not sized:
        return None, ""
    worst = min(sized, key=lambda p: p["smallest"])
    return worst["smallest"], f"{worst['text']!r} in {worst['name']}"


def measure_light(page: Any, figures: PageFigures) -> list[dict[str, Any]]:
    """Height and diagram text of the page open at 1280 px; returns its diagrams."""
    figures.height = int(page.evaluate("() => document.documentElement.scrollHeight"))
    page.evaluate(OPEN_DETAILS_JS)
    pictures: list[dict[str, Any]] = page.evaluate(PICTURES_JS)
    figures.diagrams = len(pictures)
    figures.text_px, figures.text_where = _smallest(pictures)
    return pictures


def measure_phone(page: Any, figures: PageFigures) -> None:
    """Diagram text and sideways scrolling of the page, open at the phone's width."""
    page.evaluate(OPEN_DETAILS_JS)
    figures.phone_text_px, figures.phone_where = _smallest(page.evaluate(PICTURES_JS))
    figures.phone_fits = bool(page.evaluate(NO_HORIZONTAL_SCROLL_JS))


def measure_dark(page: Any, figures: PageFigures) -> None:
    """The brightest diagram of the page, open in dark mode."""
    page.evaluate(OPEN_DETAILS_JS)
    pictures = page.evaluate(PICTURES_JS)
    brightest: tuple[float, str] | None = None
    for picture in pictures:
        handle = page.query_selector(f'[data-claims-figure="{picture["id"]}"]')
        if handle is None:
            continue
        png = base64.b64encode(handle.screenshot(animations="disabled")).decode()
        value = float(page.evaluate(LUMINANCE_JS, png))
        if brightest is None or value > brightest[0]:
            brightest = (value, picture["name"])
    if brightest is not None:
        figures.dark_luminance, figures.dark_where = brightest
