"""A widget that renders a Rich renderable once per width and serves its lines from that cache.

`Static` re-renders its content to measure its height at every layout; for highlighted code and
Markdown that cost grows with the length of the conversation. This widget uses Textual's line API:
the rendered strips are kept until the width, the content or the style changes.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget


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

    @property
    def renderable(self) -> RenderableType:
        return self._renderable

    def update(self, renderable: RenderableType) -> None:
        self._renderable = renderable
        self._width = -1
        self.refresh(layout=True)

    def render_strips(self, renderable: RenderableType, width: int) -> list[Strip]:
        console = self.app.console
        options = console.options.update(width=max(1, width), height=None, highlight=False)
        lines = console.render_lines(renderable, options, style=self.rich_style, pad=True)
        return [Strip(line, width) for line in lines]

    def _render_width(self, width: int) -> list[Strip]:
        return self.render_strips(self._renderable, width)

    def cached_strips(self, width: int) -> list[Strip] | None:
        """The lines already rendered at this width, if any."""
        return self._strips if self._width == width else None

    def adopt_cache(self, other: CachedRenderable) -> None:
        """Take the lines `other` rendered (same content): a re-mounted copy need not render again."""
        self._strips, self._width, self._style = other._strips, other._width, other._style

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
            self._strips = self._render_width(width)
            self._width = width
        return self._strips

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._strips_for(width))

    def render_line(self, y: int) -> Strip:
        strips = self._strips_for(self.size.width)
        return strips[y] if y < len(strips) else Strip.blank(self.size.width, self.rich_style)
