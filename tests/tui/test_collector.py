"""The garbage collector waits while the app answers a key, and only that long."""

from __future__ import annotations

import asyncio
import gc

from start_tui.tui import collector
from start_tui.tui.app import StartApp
from start_tui.tui.collector import CollectorHold
from start_tui.tui.settings import Settings


class Recording(StartApp):
    def __init__(self) -> None:
        super().__init__(Settings(), load_engine=False)
        self.enabled_in_action: list[bool] = []

    def action_pause(self) -> None:
        self.enabled_in_action.append(gc.isenabled())


async def test_a_key_is_answered_with_the_collector_held_and_it_runs_again_once_the_answer_is_drawn():
    app = Recording()
    async with app.run_test() as pilot:
        app.conversation.focus()  # not a text field, which keeps its letters
        await pilot.pause()
        for _ in range(3):
            await pilot.press("p")
            await pilot.pause()
            await asyncio.sleep(0.05)  # a frame or more
            await pilot.pause()
            assert gc.isenabled() and not app.collector.holding
        assert app.enabled_in_action == [False, False, False]
    assert gc.isenabled()


async def test_holds_overlap_by_token_and_none_lasts_past_the_limit(monkeypatch):
    monkeypatch.setattr(collector, "LIMIT_S", 0.2)
    app = StartApp(Settings(), load_engine=False)
    async with app.run_test() as pilot:
        hold = CollectorHold(app)
        first, second = hold.hold(), hold.hold()
        assert not gc.isenabled() and first != second
        hold.release(first)
        hold.release(first)  # a token is released once
        assert not gc.isenabled()
        hold.release(second)
        assert gc.isenabled()

        hold.hold()  # never released: the limit lets the collector run
        await asyncio.sleep(0.3)
        await pilot.pause()
        assert gc.isenabled() and not hold.holding

        token = hold.hold()
        monkeypatch.setattr(collector.time, "monotonic", lambda: 1e12)  # held since long ago
        assert hold.hold() is None and gc.isenabled()  # a hold that comes then lets it run instead
        hold.release(token)
        monkeypatch.undo()

        gc.disable()  # a collector the program turned off stays off
        try:
            assert hold.hold() is None
            hold.release_all()
            assert not gc.isenabled()
        finally:
            gc.enable()
