"""The live thinking segment draws as Textual's Markdown does, and leaves less for the garbage collector."""

from __future__ import annotations

from typing import Any

import pytest
import textual.widgets._markdown as textual_markdown
from textual.app import App, ComposeResult
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownParagraph

from start_tui.tui.widgets.items import ThinkingItem
from start_tui.tui.widgets.segments import ThinkingSegment

TEXT = (
    "Plain **bold**, `x = 1`, *leaning* and ~~struck~~ text.\n\n"
    "- a list item with `code` and **strong**\n\n"
    "> quoted *emphasis* and `code`\n"
)


class Side(App[None]):
    CSS = "#textual { margin: 0 1 0 1; padding: 0; }"  # the segment's box

    def compose(self) -> ComposeResult:
        yield Markdown(TEXT, id="textual", classes="thinking")
        yield ThinkingSegment(ThinkingItem(0, 0))


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
async def test_the_live_segment_draws_inline_styles_as_textuals_markdown_and_styles_no_virtual_nodes(theme: str):
    app = Side()
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = theme
        segment = app.query_one(ThinkingSegment)
        await segment.update(TEXT)
        await pilot.pause()
        mine = list(segment.query(MarkdownParagraph))
        theirs = list(app.query_one("#textual", Markdown).query(MarkdownParagraph))
        assert len(mine) == len(theirs) == 3  # the paragraph, the list item's, the quote's
        for a, b in zip(mine, theirs, strict=True):
            assert a.region.size == b.region.size
            for y in range(a.region.height):
                assert list(a.render_line(y)) == list(b.render_line(y))  # text and styles, segment by segment
            assert a._component_styles == {}  # Textual made four virtual nodes for each styling of a paragraph


async def test_the_live_segments_parse_with_one_parser(monkeypatch: pytest.MonkeyPatch):
    made = []

    class Counted(textual_markdown.MarkdownIt):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(1)
            super().__init__(*args, **kwargs)

    app = Side()
    async with app.run_test(size=(80, 24)) as pilot:
        segment = app.query_one(ThinkingSegment)
        # what Textual's Markdown makes a parser from, at each append
        monkeypatch.setattr(textual_markdown, "MarkdownIt", Counted)
        stream = Markdown.get_stream(segment)
        for word in TEXT.split(" "):
            await stream.write(word + " ")
        await stream.stop()
        monkeypatch.undo()
        await pilot.pause()
        assert "leaning" in str(segment.query(MarkdownParagraph).first()._content)
    assert made == []
