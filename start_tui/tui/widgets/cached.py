"""A widget that renders a Rich renderable once per width and serves its lines from that cache.

`Static` re-renders its content to measure its height at every layout; for highlighted code and
Markdown that cost grows with the length of the conversation. This widget uses Textual's line API:
the rendered strips are kept until the width, the content or the style changes.
"""

from __future__ import annotations

from rich.console import RenderableType
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
        self._strips: list[Strip] = []

    @property
    def renderable(self) -> RenderableType:
        return self._renderable

    def update(self, renderable: RenderableType) -> None:
        self._renderable = renderable
        self._width = -1
        self.refresh(layout=True)

    def notify_style_update(self) -> None:
        self._width = -1
        super().notify_style_update()

    def _strips_for(self, width: int) -> list[Strip]:
        if width != self._width:
            console = self.app.console
            options = console.options.update(width=max(1, width), height=None, highlight=False)
            lines = console.render_lines(self._renderable, options, style=self.rich_style, pad=True)
            self._strips = [Strip(line, width) for line in lines]
            self._width = width
        return self._strips

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._strips_for(width))

    def render_line(self, y: int) -> Strip:
        strips = self._strips_for(self.size.width)
        return strips[y] if y < len(strips) else Strip.blank(self.size.width, self.rich_style)
