"""Branching explains itself: the segment list starts where the reader is and shows each segment's text,
and the hint dialog says what the branch inherits."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Label, OptionList

from start_tui.tui.app import StartApp
from start_tui.tui.screens.choose import ChooseScreen
from start_tui.tui.screens.hint import HintScreen
from tests.tui.test_keys import until
from tests.tui.test_session import REPLIES, SETTINGS
from tests.tui.test_status_line import load_scripted

LONG = (
    "We add squares.\n\n" + "".join(f"Step {i}: keep going.\n\n" for i in range(40)) + REPLIES[0].split("\n", 1)[1],
    REPLIES[1],
)


async def test_the_segment_list_starts_in_view_shows_text_and_the_hint_dialog_says_what_is_kept(sessions: Path):
    app = StartApp(SETTINGS, load_engine=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await load_scripted(app, *LONG)
        app.editor.text = "Sum of the squares of 1 to 3?"
        await pilot.press("ctrl+r")
        assert await until(lambda: app._current_run() is not None and app._current_run().finished, 30)
        assert await until(lambda: not app._driving)
        segments = app.conversation.segments

        await pilot.press("b")  # following the run: the last segment
        assert await until(lambda: isinstance(app.screen, ChooseScreen))
        choices = app.screen.query_one(OptionList)
        assert choices.highlighted == len(segments) - 1
        texts = [str(choices.get_option_at_index(i).prompt) for i in range(choices.option_count)]
        assert texts[0].startswith("  1. thinking · …") and texts[0].endswith("Step 39: keep going.")
        assert any("python · run 1 · ok" in t and "print(sum(i * i for i in range(1, 4)))" in t for t in texts)
        await pilot.press("escape")

        app.conversation.focus()
        await pilot.press("home")
        assert await until(lambda: app.conversation.segment_in_view() == 0)
        await pilot.press("b")
        assert await until(lambda: isinstance(app.screen, ChooseScreen))
        assert app.screen.query_one(OptionList).highlighted == 0
        await pilot.press("enter")
        assert await until(lambda: isinstance(app.screen, HintScreen))
        note = str(app.screen.query_one("#note", Label).render())
        assert "fresh budget: 6 tool calls" in note and "0 call(s) rerun" in note
