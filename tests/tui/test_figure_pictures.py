"""A figure is drawn in its execution panel where the terminal speaks an image protocol; elsewhere the
panel shows its line and the PNG's path, and nothing is drawn."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from textual.widget import Widget

from start_tui.engine.events import CodeClosed, CodeFinished, CodeOpened, CodeStarted, Started, TextDelta
from start_tui.tui import graphics
from start_tui.tui.app import StartApp
from start_tui.tui.settings import Settings
from start_tui.tui.widgets.segments import ExecutionPanel
from tests.tui.test_keys import until


def png(path: Path, size: tuple[int, int] = (64, 48)) -> Path:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def events(path: Path) -> list:
    text = "\n```output\n[figure 1: 64x48, saved]\n```\n"
    figure = {"number": 1, "width": 64, "height": 48, "path": str(path)}
    return [
        Started("t", "p", []),
        CodeOpened("```python\n"),
        TextDelta("plt.plot([1, 2])\n", "code"),
        CodeClosed(),
        CodeStarted(1, "plt.plot([1, 2])\n"),
        CodeFinished(
            index=1, ok=True, stdout="", error=None, timed_out=False, duration_s=0.1, output_text=text, figures=[figure]
        ),
    ]


def pictures(app: StartApp) -> list[Widget]:
    return list(app.conversation.query(".exec-figure"))


@pytest.fixture
def protocol():
    yield graphics.use
    graphics.use(None)


async def test_a_figure_is_drawn_in_its_panel_where_the_terminal_can(tmp_path: Path, protocol):
    protocol("sixel")
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=(100, 40)):
        await app.conversation.show(events(png(tmp_path / "fig-1.png")))
        assert await until(lambda: len(pictures(app)) == 1)
        [picture] = pictures(app)
        assert isinstance(picture.parent.parent, ExecutionPanel)  # in the panel's body
        assert await until(lambda: picture.outer_size.height == graphics.FIGURE_ROWS)
        assert 0 < picture.outer_size.width < 100  # as wide as its aspect ratio makes it
        panel = app.conversation.query_one(ExecutionPanel)
        assert str(tmp_path / "fig-1.png") in panel.item.output  # the path stays beside the picture


async def test_a_figure_is_its_line_and_path_where_the_terminal_cannot(tmp_path: Path, protocol):
    protocol(None)
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=(100, 40)):
        await app.conversation.show(events(png(tmp_path / "fig-1.png")))
        assert await until(lambda: bool(app.conversation.query(ExecutionPanel)))
        assert pictures(app) == []
        panel = app.conversation.query_one(ExecutionPanel)
        assert panel.item.output == f"[figure 1: 64x48, saved] {tmp_path / 'fig-1.png'}"


@pytest.mark.parametrize("case", ["deleted", "not a png", "too many pixels"])
async def test_a_figure_that_is_gone_or_no_png_or_huge_is_not_drawn(tmp_path: Path, protocol, case: str):
    """The PNG's bytes came from model code: the app decodes none past a sane size."""
    protocol("tgp")
    path = tmp_path / "fig-1.png"
    if case == "not a png":
        path.write_bytes(b"GIF89a" + bytes(100))
    elif case == "too many pixels":
        png(path, (4096, 4097))  # a small file of a single colour, a large image once decoded
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test(size=(100, 40)):
        await app.conversation.show(events(path))
        assert await until(lambda: bool(app.conversation.query(ExecutionPanel)))
        assert pictures(app) == []


def test_no_pictures_are_asked_for_off_a_terminal(monkeypatch):
    monkeypatch.delenv("START_TUI_GRAPHICS", raising=False)
    assert graphics.detect() is None  # pytest's stdout is no terminal: nothing is written to ask
    monkeypatch.setenv("START_TUI_GRAPHICS", "off")
    assert graphics.detect() is None
