"""The footer recomposes when the keys it shows change, and only then."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets._footer import FooterKey

from start_tui.tui.widgets.footer import Footer


class Plain(Widget, can_focus=True):
    DEFAULT_CSS = "Plain { height: 1; }"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "noop", "Unseen", show=False)]


class Saver(Plain):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("s", "save", "Save")]


class Keys(App[None]):
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Plain(id="a")
        yield Plain(id="b")
        yield Saver(id="saver")
        yield Footer()


def shown(app: Keys) -> list[FooterKey]:
    return list(app.query_one(Footer).query(FooterKey))


async def test_moving_the_focus_between_widgets_that_show_the_same_keys_keeps_the_footer():
    app = Keys()
    async with app.run_test() as pilot:
        app.query_one("#a").focus()
        await pilot.pause()
        before = shown(app)
        assert [k.key for k in before] == ["ctrl+q"]
        for target in ("#b", "#a", "#b"):  # an unshown binding differs: the footer is the same
            app.query_one(target).focus()
            await pilot.pause()
            assert shown(app) == before and all(k.is_attached for k in before)

        app.query_one("#saver").focus()  # a key to show: recomposed
        await pilot.pause()
        assert sorted(k.key for k in shown(app)) == ["ctrl+q", "s"]
        app.query_one("#a").focus()
        await pilot.pause()
        assert [k.key for k in shown(app)] == ["ctrl+q"] and not any(k.is_attached for k in before)
