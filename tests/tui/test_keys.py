"""The run's keys act when they reach the app, not after a trip through the focused widget's queue and
back up through the view's, the screen's and the app's; and a text field or a dialog still gets its
letters."""

from __future__ import annotations

import asyncio
import time

from textual import events
from textual.pilot import Pilot
from textual.widgets._collapsible import CollapsibleTitle

from start_tui.tui.app import StartApp
from start_tui.tui.screens.help import HelpScreen
from start_tui.tui.settings import Settings
from start_tui.tui.widgets.segments import ExecutionPanel
from tests.tui.test_conversation import long_trace, settle

SIZE = (100, 30)


class Recording(StartApp):
    """The app, with the run's actions recorded instead of carried out."""

    def __init__(self) -> None:
        super().__init__(Settings(), load_engine=False)
        self.calls: list[str] = []

    def action_pause(self) -> None:
        self.calls.append("pause")

    def action_hint(self) -> None:
        self.calls.append("hint")

    def action_branch(self) -> None:
        self.calls.append("branch")

    def action_save(self) -> None:
        self.calls.append("save")

    def action_next_match(self) -> None:
        self.calls.append("next_match")


async def until(predicate, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_run_keys_and_scroll_keys_act_while_the_views_queues_are_busy():
    app = Recording()
    async with app.run_test(size=SIZE) as pilot:
        conversation = app.conversation
        await conversation.show_trace(long_trace(30))
        await settle(pilot, conversation)
        conversation.scroll_end(animate=False, immediate=True)
        await settle(pilot, conversation)
        panel = [w for w in conversation.query(ExecutionPanel) if w.region.height][-1]
        title = panel.query_one(CollapsibleTitle)
        title.focus()
        await settle(pilot, conversation)
        assert conversation.scroll_y > 0
        # the focused title's queue and the view's are held, as a frame or a batch of the stream holds them
        release = asyncio.Event()

        async def hold() -> None:
            await release.wait()

        title.call_later(hold)
        conversation.call_later(hold)
        await asyncio.sleep(0.05)
        try:
            app.post_message(events.Key("p", "p"))
            assert await until(lambda: app.calls == ["pause"]), "p waited for the focused widget's queue"
            app.post_message(events.Key("home", None))
            assert await until(lambda: conversation.scroll_y == 0), "Home waited for the view's queue"
        finally:
            release.set()
        await settle(pilot, conversation)
        assert conversation.scroll_y == 0 and app.calls == ["pause"]


async def test_a_text_field_and_a_dialog_keep_their_letters():
    app = Recording()
    async with app.run_test(size=SIZE) as pilot:
        await conversation_with_a_trace(app, pilot)
        # the problem editor
        app.editor.focus()
        app.editor.text = ""
        await pilot.press(*"phbsn")
        assert app.editor.text == "phbsn" and app.calls == []
        # the search field
        app.conversation.focus()
        await pilot.press("slash")
        assert app.focused is app.search_bar.input
        await pilot.press(*"np")
        assert app.search_bar.input.value == "np" and app.calls == []
        await pilot.press("escape")
        assert app.focused is app.conversation
        # a dialog declines them, and its own keys work
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("p", "h", "b", "s")
        assert isinstance(app.screen, HelpScreen) and app.calls == []
        await pilot.press("q")
        assert not isinstance(app.screen, HelpScreen)
        # and on the main view again they act
        await pilot.press("p", "n")
        assert app.calls == ["pause", "next_match"]


async def conversation_with_a_trace(app: StartApp, pilot: Pilot) -> None:
    await app.conversation.show_trace(long_trace(2))
    await settle(pilot, app.conversation)


async def test_global_keys_do_not_act_under_a_dialog():
    """Ctrl+B under an open benchmark picker stacks no second picker; Ctrl+R starts no run behind it."""
    from start_tui.tui.screens.choose import ChooseScreen

    app = Recording()
    async with app.run_test(size=SIZE) as pilot:
        app.editor.text = "What is 2 + 2?"
        await pilot.press("ctrl+b")
        assert await until(lambda: isinstance(app.screen, ChooseScreen))
        depth = len(app.screen_stack)
        await pilot.press("ctrl+b", "ctrl+r", "ctrl+l", "f2", "ctrl+o")
        await pilot.pause()
        assert len(app.screen_stack) == depth and isinstance(app.screen, ChooseScreen)
        assert app.branches == [] and app._current_run() is None


async def test_settings_and_open_have_keys_that_work_from_the_problem_field():
    from start_tui.tui.screens.prompt import PromptScreen
    from start_tui.tui.screens.settings import SettingsScreen

    app = Recording()
    async with app.run_test(size=SIZE) as pilot:
        app.editor.focus()
        app.editor.text = ""
        await pilot.press("comma", "o")  # letters of the problem
        assert app.editor.text == ",o"
        await pilot.press("f2")
        assert await until(lambda: isinstance(app.screen, SettingsScreen))
        await pilot.press("escape")
        assert await until(lambda: not isinstance(app.screen, SettingsScreen))
        app.editor.focus()
        await pilot.press("ctrl+o")
        assert await until(lambda: isinstance(app.screen, PromptScreen))
        assert app.editor.text == ",o"


async def test_help_names_keys_as_they_read_and_lists_the_trace_keys():
    app = Recording()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        assert await until(lambda: isinstance(app.screen, HelpScreen))
        text = "\n".join(str(s.render()) for s in app.screen.query("Static"))
        assert "square" not in text and "]" in text and "Ctrl+R" in text and "F2 or ," in text
        assert "Home" in text and "End" in text


async def test_the_problem_field_edits_as_a_shell_line_does():
    """Ctrl+A/E go to the start and end of the line, Ctrl+U/K/W cut to the start, to the end and a
    word back; Ctrl+N selects the whole problem so typing replaces it. No app key takes these."""
    app = Recording()
    async with app.run_test(size=SIZE) as pilot:
        app.editor.focus()
        app.editor.text = ""
        await pilot.press(*"find the sum")
        await pilot.press("ctrl+a", *"Please ")
        assert app.editor.text == "Please find the sum"
        await pilot.press("ctrl+e", "ctrl+w")
        assert app.editor.text == "Please find the "
        await pilot.press("ctrl+a", "right", "right", "ctrl+k")
        assert app.editor.text == "Pl"
        await pilot.press("ctrl+u")
        assert app.editor.text == ""
        app.editor.text = "an old problem\nover two lines"
        await pilot.press("ctrl+n", *"new")
        assert app.editor.text == "new" and app.calls == []
