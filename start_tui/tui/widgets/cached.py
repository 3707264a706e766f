"""A widget that renders a Rich renderable once per width and serves its lines from that cache.

`Static` re-renders its content to measure its height at every layout; for highlighted code and
Markdown that cost grows with the length of the conversation. This widget uses Textual's line API:
the rendered strips are kept until the width, the content, the style or the highlighted text changes.
Lines may also come ready-made (`lines_for`): rendered off the UI thread without the widget's style,
which is applied here, as `Console.render_lines` would have applied it.
"""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

HIGHLIGHT = Style(reverse=True, bold=True)
"""How a search match looks in the text."""


def render_lines(console: Console, renderable: RenderableType, width: int, style: Style | None = None) -> list[Strip]:
    """The renderable's lines at `width`, padded to it; `style` under every segment (the widget's own)."""
    options = console.options.update(width=max(1, width), height=None, highlight=False)
    lines = console.render_lines(renderable, options, style=style, pad=True)
    return [Strip(line, width) for line in lines]


def highlighted(strip: Strip, term: str) -> Strip:
    """`strip` with every occurrence of `term` (case-insensitive) marked; a match across lines is not."""
    text = strip.text.lower()
    start = text.find(term)
    if start < 0:
        return strip
    parts: list[Strip] = []
    at = 0
    while start >= 0:
        end = start + len(term)
        parts += [strip.crop(at, start), strip.crop(start, end).apply_style(HIGHLIGHT)]
        at = end
        start = text.find(term, end)
    parts.append(strip.crop(at, strip.cell_length))
    return Strip.join(parts)


class CachedRenderable(Widget):
    DEFAULT_CSS = """
    CachedRenderable { height: auto; }
    """

    def __init__(self, renderable: RenderableType, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self._renderable = renderable
        self._width = -1
        self._style: Style | None = None
        self._style_checked = False
        self._strips: list[Strip] = []
        self._term = ""

    @property
    def renderable(self) -> RenderableType:
        return self._renderable

    def update(self, renderable: RenderableType) -> None:
        self._renderable = renderable
        self._width = -1
        self.refresh(layout=True)

    def set_highlight(self, term: str) -> None:
        """Mark the occurrences of `term` (lower case; empty: none)."""
        if term != self._term:
            self._term = term
            self._width = -1
            self.refresh()

    def render_strips(self, renderable: RenderableType, width: int) -> list[Strip]:
        return render_lines(self.app.console, renderable, width, self.rich_style)

    def lines_for(self, width: int) -> list[Strip] | None:
        """Lines made elsewhere for this width, without the widget's style (None: render here)."""
        return None

    def _render_width(self, width: int) -> list[Strip]:
        ready = self.lines_for(width)
        if ready is not None:
            style = self.rich_style
            return [line.apply_style(style) for line in ready]
        return self.render_strips(self._renderable, width)

    def notify_style_update(self) -> None:
        self._style_checked = False
        super().notify_style_update()

    def _strips_for(self, width: int) -> list[Strip]:
        if not self._style_checked:  # rich_style walks the ancestors: compare once per style update
            self._style_checked = True
            style = self.rich_style
            if style != self._style:
                self._style, self._width = style, -1
        if width != self._width:
            strips = self._render_width(width)
            self._strips = [highlighted(s, self._term) for s in strips] if self._term else strips
            self._width = width
        return self._strips

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._strips_for(width))

    def render_line(self, y: int) -> Strip:
        strips = self._strips_for(self.size.width)
        return strips[y] if y < len(strips) else Strip.blank(self.size.width, self.rich_style)
